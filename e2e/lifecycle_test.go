package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	v1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/ossdtest"
)

// TestBucketLifecycleAPI: Put/Get/DeleteBucketLifecycle through the v2 SDK
// in every mode: the 404 before and after, every element OSS defines
// echoed back, a rule without an ID given one.
func TestBucketLifecycleAPI(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		b := newBucket(t, c)
		_, err := c.GetBucketLifecycle(ctx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(b)})
		if se := wantServiceError(t, err, "NoSuchLifecycle", 404, "0014-00000001"); se.Message != "No Row found in Lifecycle Table." {
			t.Errorf("GetBucketLifecycle without rules: message %q", se.Message)
		}
		in := &oss.LifecycleConfiguration{Rules: []oss.LifecycleRule{
			{ID: oss.Ptr("logs"), Prefix: oss.Ptr("log/"), Status: oss.Ptr("Enabled"),
				Expiration:           &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(90))},
				Transitions:          []oss.LifecycleRuleTransition{{Days: oss.Ptr(int32(30)), StorageClass: oss.StorageClassIA}},
				AbortMultipartUpload: &oss.LifecycleRuleAbortMultipartUpload{Days: oss.Ptr(int32(3))},
				Filter:               &oss.LifecycleRuleFilter{Nots: []oss.LifecycleRuleNot{{Prefix: oss.Ptr("log/keep/")}}}},
			{ID: oss.Ptr("tagged"), Prefix: oss.Ptr("tmp/"), Status: oss.Ptr("Disabled"),
				Tags:                        []oss.Tag{{Key: oss.Ptr("k"), Value: oss.Ptr("v")}},
				Expiration:                  &oss.LifecycleRuleExpiration{CreatedBeforeDate: oss.Ptr("2026-01-01T00:00:00.000Z")},
				NoncurrentVersionExpiration: &oss.NoncurrentVersionExpiration{NoncurrentDays: oss.Ptr(int32(5))}},
			{Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"), Expiration: &oss.LifecycleRuleExpiration{ExpiredObjectDeleteMarker: oss.Ptr(true)}},
		}}
		// Rule 2 overlaps rule 0 (both expire objects under "log/"): OSS
		// refuses that unless asked to allow it.
		_, err = c.PutBucketLifecycle(ctx, &oss.PutBucketLifecycleRequest{Bucket: oss.Ptr(b), LifecycleConfiguration: in})
		if se := wantServiceError(t, err, "InvalidArgument", 400, ""); se.Message != "Overlap for same action type Expiration" {
			t.Errorf("overlapping rules: message %q", se.Message)
		}
		res, err := c.PutBucketLifecycle(ctx, &oss.PutBucketLifecycleRequest{Bucket: oss.Ptr(b), LifecycleConfiguration: in,
			AllowSameActionOverlap: oss.Ptr("true")})
		if err != nil {
			t.Fatalf("PutBucketLifecycle: %v", err)
		}
		if res.StatusCode != 200 {
			t.Errorf("PutBucketLifecycle status %d", res.StatusCode)
		}
		got, err := c.GetBucketLifecycle(ctx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(b)})
		if err != nil {
			t.Fatal(err)
		}
		rules := got.LifecycleConfiguration.Rules
		if len(rules) != 3 {
			t.Fatalf("GetBucketLifecycle: %d rules", len(rules))
		}
		r0, r1, r2 := rules[0], rules[1], rules[2]
		if oss.ToString(r0.ID) != "logs" || oss.ToString(r0.Prefix) != "log/" || oss.ToString(r0.Status) != "Enabled" ||
			r0.Expiration == nil || i32(r0.Expiration.Days) != 90 || len(r0.Transitions) != 1 ||
			i32(r0.Transitions[0].Days) != 30 || r0.Transitions[0].StorageClass != oss.StorageClassIA ||
			r0.AbortMultipartUpload == nil || i32(r0.AbortMultipartUpload.Days) != 3 ||
			r0.Filter == nil || len(r0.Filter.Nots) != 1 || oss.ToString(r0.Filter.Nots[0].Prefix) != "log/keep/" {
			t.Errorf("rule 0 = %+v", r0)
		}
		if oss.ToString(r1.Status) != "Disabled" || len(r1.Tags) != 1 || oss.ToString(r1.Tags[0].Key) != "k" ||
			r1.Expiration == nil || oss.ToString(r1.Expiration.CreatedBeforeDate) != "2026-01-01T00:00:00.000Z" ||
			r1.NoncurrentVersionExpiration == nil || i32(r1.NoncurrentVersionExpiration.NoncurrentDays) != 5 {
			t.Errorf("rule 1 = %+v", r1)
		}
		if oss.ToString(r2.ID) == "" || r2.Expiration == nil || !oss.ToBool(r2.Expiration.ExpiredObjectDeleteMarker) {
			t.Errorf("rule 2 (no ID given) = %+v", r2)
		}
		del, err := c.DeleteBucketLifecycle(ctx, &oss.DeleteBucketLifecycleRequest{Bucket: oss.Ptr(b)})
		if err != nil || del.StatusCode != 204 {
			t.Fatalf("DeleteBucketLifecycle: %v", err)
		}
		_, err = c.GetBucketLifecycle(ctx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(b)})
		wantServiceError(t, err, "NoSuchLifecycle", 404, "0014-00000001")
		_, err = c.GetBucketLifecycle(ctx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(b + "-none")})
		wantServiceError(t, err, "NoSuchBucket", 404, "0015-00000101")
	})
}

// TestBucketLifecycleValidation: configurations OSS refuses, each with
// its code, status and EC, and nothing stored.
func TestBucketLifecycleValidation(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	b := newBucket(t, c)
	days := func(n int32) *int32 { return &n }
	rule := func(f func(r *oss.LifecycleRule)) []oss.LifecycleRule {
		r := oss.LifecycleRule{ID: oss.Ptr("r"), Prefix: oss.Ptr("p/"), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{Days: days(10)}}
		f(&r)
		return []oss.LifecycleRule{r}
	}
	many := make([]oss.LifecycleRule, 1001)
	for i := range many {
		many[i] = rule(func(r *oss.LifecycleRule) { r.ID = oss.Ptr(randName("r")) })[0]
	}
	tests := []struct {
		name   string
		rules  []oss.LifecycleRule
		code   string
		status int
		ec     string
	}{
		{"no rule", nil, "MalformedXML", 400, "0014-00000011"},
		{"1001 rules", many, "InvalidArgument", 400, "0014-00000014"},
		{"ID of 256 characters", rule(func(r *oss.LifecycleRule) { r.ID = oss.Ptr(strings.Repeat("i", 256)) }), "InvalidArgument", 400, "0014-00000019"},
		{"no action", rule(func(r *oss.LifecycleRule) { r.Expiration = nil }), "InvalidArgument", 400, "0014-00000026"},
		{"empty Expiration", rule(func(r *oss.LifecycleRule) { r.Expiration = &oss.LifecycleRuleExpiration{} }), "InvalidArgument", 400, "0014-00000060"},
		{"four transitions", rule(func(r *oss.LifecycleRule) {
			r.Expiration.Days = days(100)
			for i := 1; i <= 4; i++ {
				r.Transitions = append(r.Transitions, oss.LifecycleRuleTransition{Days: days(int32(i * 10)), StorageClass: oss.StorageClassIA})
			}
		}), "InvalidArgument", 400, "0014-00000043"},
		{"Days mixed with CreatedBeforeDate", rule(func(r *oss.LifecycleRule) {
			r.Transitions = []oss.LifecycleRuleTransition{{CreatedBeforeDate: oss.Ptr("2026-01-01T00:00:00.000Z"), StorageClass: oss.StorageClassIA}}
		}), "InvalidRequest", 400, "0014-00000080"},
		{"Days 0", rule(func(r *oss.LifecycleRule) { r.Expiration.Days = days(0) }), "InvalidArgument", 400, "0014-00000020"},
		{"Days and CreatedBeforeDate", rule(func(r *oss.LifecycleRule) {
			r.Expiration.CreatedBeforeDate = oss.Ptr("2026-01-01T00:00:00.000Z")
		}), "InvalidArgument", 400, "0014-00000020"},
		{"date not at midnight", rule(func(r *oss.LifecycleRule) {
			r.Expiration = &oss.LifecycleRuleExpiration{CreatedBeforeDate: oss.Ptr("2026-01-01T08:00:00.000Z")}
		}), "InvalidArgument", 400, "0014-00000020"},
		{"ExpiredObjectDeleteMarker with Days", rule(func(r *oss.LifecycleRule) { r.Expiration.ExpiredObjectDeleteMarker = oss.Ptr(true) }), "InvalidArgument", 400, "0014-00000020"},
		{"bad Status", rule(func(r *oss.LifecycleRule) { r.Status = oss.Ptr("On") }), "MalformedXML", 400, "0014-00000011"},
		{"tags with AbortMultipartUpload", rule(func(r *oss.LifecycleRule) {
			r.Tags = []oss.Tag{{Key: oss.Ptr("k"), Value: oss.Ptr("v")}}
			r.AbortMultipartUpload = &oss.LifecycleRuleAbortMultipartUpload{Days: days(1)}
		}), "InvalidArgument", 400, "0014-00000020"},
		{"transition to a bad class", rule(func(r *oss.LifecycleRule) {
			r.Transitions = []oss.LifecycleRuleTransition{{Days: days(1), StorageClass: "Hot"}}
		}), "InvalidArgument", 400, "0014-00000020"},
		{"expiration not after transition", rule(func(r *oss.LifecycleRule) {
			r.Transitions = []oss.LifecycleRuleTransition{{Days: days(10), StorageClass: oss.StorageClassIA}}
		}), "InvalidArgument", 400, "0014-00000020"},
		{"Not prefix outside the rule's", rule(func(r *oss.LifecycleRule) {
			r.Filter = &oss.LifecycleRuleFilter{Nots: []oss.LifecycleRuleNot{{Prefix: oss.Ptr("q/")}}}
		}), "InvalidArgument", 400, "0014-00000020"},
		{"Archive before IA", rule(func(r *oss.LifecycleRule) {
			r.Expiration.Days = days(100)
			r.Transitions = []oss.LifecycleRuleTransition{{Days: days(50), StorageClass: oss.StorageClassIA}, {Days: days(20), StorageClass: oss.StorageClassArchive}}
		}), "InvalidArgument", 400, "0014-00000020"},
		{"tag key with %", rule(func(r *oss.LifecycleRule) { r.Tags = []oss.Tag{{Key: oss.Ptr("%&"), Value: oss.Ptr("v")}} }), "InvalidArgument", 400, "0014-00000020"},
		{"tag value with %", rule(func(r *oss.LifecycleRule) { r.Tags = []oss.Tag{{Key: oss.Ptr("k"), Value: oss.Ptr(")%")}} }), "InvalidArgument", 400, "0014-00000020"},
		{"overlapping prefixes, same action", append(rule(func(*oss.LifecycleRule) {}), rule(func(r *oss.LifecycleRule) {
			r.ID, r.Prefix = oss.Ptr("r2"), oss.Ptr("p/2")
		})...), "InvalidArgument", 400, "0014-00000022"},
		{"duplicate IDs", append(rule(func(*oss.LifecycleRule) {}), rule(func(*oss.LifecycleRule) {})...), "InvalidArgument", 400, "0014-00000021"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutBucketLifecycle(ctx, &oss.PutBucketLifecycleRequest{Bucket: oss.Ptr(b),
				LifecycleConfiguration: &oss.LifecycleConfiguration{Rules: tc.rules}})
			wantServiceError(t, err, tc.code, tc.status, tc.ec)
			_, err = c.GetBucketLifecycle(ctx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(b)})
			wantServiceError(t, err, "NoSuchLifecycle", 404, "0014-00000001")
		})
	}
	// A body that is not XML.
	_, err := c.InvokeOperation(ctx, &oss.OperationInput{OpName: "PutBucketLifecycle", Method: "PUT", Bucket: oss.Ptr(b),
		Parameters: map[string]string{"lifecycle": ""}, Body: strings.NewReader("<LifecycleConfiguration><Rule>")})
	wantServiceError(t, err, "MalformedXML", 400, "0014-00000011")
	// A root child other than Rule.
	_, err = c.InvokeOperation(ctx, &oss.OperationInput{OpName: "PutBucketLifecycle", Method: "PUT", Bucket: oss.Ptr(b),
		Parameters: map[string]string{"lifecycle": ""}, Body: strings.NewReader("<LifecycleConfiguration><Rule><ID>r</ID><Prefix>p/</Prefix>" +
			"<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><UnknownNode>abc</UnknownNode></LifecycleConfiguration>")})
	wantServiceError(t, err, "MalformedXML", 400, "0014-00000015")
}

// lifecycleServer starts a server whose lifecycle clock stands days
// ahead of the wall clock (objects are written at wall-clock time, so
// their age is the offset) and whose scheduled runs never fall during the
// test: the test runs the rules itself, synchronously.
func lifecycleServer(t *testing.T, ahead time.Duration) (*ossdtest.Server, *oss.Client, *stepClock) {
	clk := newStepClock(time.Now().Add(ahead))
	srv := ossdtest.StartWith(t, ossdtest.Options{LifecycleClock: clk, LifecycleInterval: 1000 * time.Hour})
	return srv, v2Client(srv, modes[0]), clk
}

func runLifecycle(t *testing.T, srv *ossdtest.Server) ossdtest.LifecycleStats {
	t.Helper()
	st, err := srv.RunLifecycle(context.Background())
	if err != nil {
		t.Fatalf("lifecycle run: %v", err)
	}
	return st
}

// putLifecycle sets rules, allowing overlapping ones (OSS's
// x-oss-allow-same-action-overlap).
func putLifecycle(t *testing.T, c *oss.Client, b string, rules ...oss.LifecycleRule) {
	t.Helper()
	if _, err := c.PutBucketLifecycle(context.Background(), &oss.PutBucketLifecycleRequest{Bucket: oss.Ptr(b),
		LifecycleConfiguration: &oss.LifecycleConfiguration{Rules: rules}, AllowSameActionOverlap: oss.Ptr("true")}); err != nil {
		t.Fatalf("PutBucketLifecycle: %v", err)
	}
}

func putText(t *testing.T, c *oss.Client, b, key, tagging string) {
	t.Helper()
	req := &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), Body: strings.NewReader("data of " + key)}
	if tagging != "" {
		req.Tagging = oss.Ptr(tagging)
	}
	if _, err := c.PutObject(context.Background(), req); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

func exists(t *testing.T, c *oss.Client, b, key string) bool {
	t.Helper()
	_, err := c.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key)})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.StatusCode == 404 {
		return false
	}
	if err != nil {
		t.Fatalf("HeadObject %s: %v", key, err)
	}
	return true
}

// TestLifecycleExpiry: Expiration by Days counts from the midnight UTC
// after the last modification; prefix, tags, Not and disabled rules
// select; CreatedBeforeDate takes what is older than the date.
func TestLifecycleExpiry(t *testing.T) {
	// One day ahead: Days 1 is not yet due (the count starts at the next
	// midnight UTC); three days ahead it is.
	for _, tc := range []struct {
		ahead   time.Duration
		expired bool
	}{{24 * time.Hour, false}, {3 * 24 * time.Hour, true}} {
		srv, c, _ := lifecycleServer(t, tc.ahead)
		b := newBucket(t, c)
		for _, k := range []string{"log/a", "log/keep/b", "other/c"} {
			putText(t, c, b, k, "")
		}
		putText(t, c, b, "log/t", "class=tmp")
		putText(t, c, b, "tmp/x", "class=tmp")
		putText(t, c, b, "tmp/y", "class=keep")
		putText(t, c, b, "off/z", "")
		putLifecycle(t, c, b,
			oss.LifecycleRule{ID: oss.Ptr("logs"), Prefix: oss.Ptr("log/"), Status: oss.Ptr("Enabled"),
				Expiration: &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))},
				Filter:     &oss.LifecycleRuleFilter{Nots: []oss.LifecycleRuleNot{{Prefix: oss.Ptr("log/keep/")}}}},
			oss.LifecycleRule{ID: oss.Ptr("tagged"), Prefix: oss.Ptr("tmp/"), Status: oss.Ptr("Enabled"),
				Tags:       []oss.Tag{{Key: oss.Ptr("class"), Value: oss.Ptr("tmp")}},
				Expiration: &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))}},
			oss.LifecycleRule{ID: oss.Ptr("off"), Prefix: oss.Ptr("off/"), Status: oss.Ptr("Disabled"),
				Expiration: &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))}},
		)
		st := runLifecycle(t, srv)
		want := map[string]bool{"log/a": !tc.expired, "log/t": !tc.expired, "tmp/x": !tc.expired,
			"log/keep/b": true, "other/c": true, "tmp/y": true, "off/z": true}
		for k, kept := range want {
			if got := exists(t, c, b, k); got != kept {
				t.Errorf("%v ahead: %s exists=%v, want %v", tc.ahead, k, got, kept)
			}
		}
		if wantN := map[bool]int{true: 3, false: 0}[tc.expired]; st.Expired != wantN {
			t.Errorf("%v ahead: run expired %d, want %d", tc.ahead, st.Expired, wantN)
		}
		// A second run finds nothing more to do.
		if st := runLifecycle(t, srv); st.Expired+st.Versions+st.Aborted != 0 {
			t.Errorf("second run did %+v", st)
		}
	}

	// CreatedBeforeDate: everything modified before tomorrow.
	srv, c, _ := lifecycleServer(t, 0)
	b := newBucket(t, c)
	putText(t, c, b, "a", "")
	tomorrow := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour).Format("2006-01-02T15:04:05.000Z")
	putLifecycle(t, c, b, oss.LifecycleRule{ID: oss.Ptr("date"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
		Expiration: &oss.LifecycleRuleExpiration{CreatedBeforeDate: oss.Ptr(tomorrow)}})
	runLifecycle(t, srv)
	if exists(t, c, b, "a") {
		t.Error("CreatedBeforeDate tomorrow: object modified today not expired")
	}

	// S3's Date: from that day on every selected object expires, however
	// young (an object written after the date included); before it, none.
	for _, tc := range []struct {
		date    time.Time
		expired bool
	}{
		{time.Now().UTC().Truncate(24 * time.Hour), true},
		{time.Now().UTC().Truncate(24 * time.Hour).Add(48 * time.Hour), false},
	} {
		srv, c, _ := lifecycleServer(t, 0)
		b := newBucket(t, c)
		putText(t, c, b, "s3/x", "")
		if _, err := s3Client(srv, false).PutBucketLifecycleConfiguration(context.Background(), &s3.PutBucketLifecycleConfigurationInput{
			Bucket: aws.String(b), LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
				ID: aws.String("on-date"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("s3/")},
				Expiration: &s3types.LifecycleExpiration{Date: aws.Time(tc.date)}}}}}); err != nil {
			t.Fatalf("S3 rule with Date: %v", err)
		}
		got, err := c.GetBucketLifecycle(context.Background(), &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(b)})
		if err != nil || oss.ToString(got.LifecycleConfiguration.Rules[0].Expiration.Date) != tc.date.Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("S3 Date read through OSS: %v %+v", err, got)
		}
		runLifecycle(t, srv)
		if gone := !exists(t, c, b, "s3/x"); gone != tc.expired {
			t.Errorf("Date %v: expired=%v, want %v", tc.date, gone, tc.expired)
		}
	}
}

// TestLifecycleVersions: in a versioned bucket an expired current version
// gets a delete marker (as DeleteObject would), noncurrent versions go
// NoncurrentDays after they were replaced, and a delete marker left alone
// goes with ExpiredObjectDeleteMarker.
func TestLifecycleVersions(t *testing.T) {
	ctx := context.Background()
	srv, c, _ := lifecycleServer(t, 3*24*time.Hour)
	b := newBucket(t, c)
	if _, err := c.PutBucketVersioning(ctx, &oss.PutBucketVersioningRequest{Bucket: oss.Ptr(b),
		VersioningConfiguration: &oss.VersioningConfiguration{Status: oss.VersionEnabled}}); err != nil {
		t.Fatal(err)
	}
	putText(t, c, b, "k", "")
	putText(t, c, b, "k", "")
	putLifecycle(t, c, b,
		oss.LifecycleRule{ID: oss.Ptr("expire"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
			Expiration:                  &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))},
			NoncurrentVersionExpiration: &oss.NoncurrentVersionExpiration{NoncurrentDays: oss.Ptr(int32(1))}},
		oss.LifecycleRule{ID: oss.Ptr("markers"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{ExpiredObjectDeleteMarker: oss.Ptr(true)}},
	)
	versions := func() (objs, markers int) {
		res, err := c.ListObjectVersions(ctx, &oss.ListObjectVersionsRequest{Bucket: oss.Ptr(b)})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.ObjectVersions), len(res.ObjectDeleteMarkers)
	}
	// Run 1: the current version is hidden by a marker; the older one,
	// replaced days ago on the lifecycle clock, is deleted.
	st := runLifecycle(t, srv)
	if o, m := versions(); o != 1 || m != 1 || st.Expired != 1 || st.Versions != 1 {
		t.Fatalf("after run 1: %d versions, %d markers; stats %+v", o, m, st)
	}
	if exists(t, c, b, "k") {
		t.Error("expired object still readable")
	}
	// Run 2: the version the marker replaced is now noncurrent long enough.
	runLifecycle(t, srv)
	if o, m := versions(); o != 0 || m != 1 {
		t.Fatalf("after run 2: %d versions, %d markers", o, m)
	}
	// Run 3: the marker, alone now, goes.
	runLifecycle(t, srv)
	if o, m := versions(); o != 0 || m != 0 {
		t.Fatalf("after run 3: %d versions, %d markers", o, m)
	}
}

// TestLifecycleSuspended: in a bucket whose versioning is suspended, a
// current version expired in the same run as an older "null" version
// ends hidden by the new "null" delete marker: the marker that replaces
// the null version is not taken for it.
func TestLifecycleSuspended(t *testing.T) {
	ctx := context.Background()
	srv, c, _ := lifecycleServer(t, 3*24*time.Hour)
	b := newBucket(t, c)
	putText(t, c, b, "k", "") // the "null" version, written before versioning
	versioning := func(s oss.VersioningStatusType) {
		if _, err := c.PutBucketVersioning(ctx, &oss.PutBucketVersioningRequest{Bucket: oss.Ptr(b),
			VersioningConfiguration: &oss.VersioningConfiguration{Status: s}}); err != nil {
			t.Fatal(err)
		}
	}
	versioning(oss.VersionEnabled)
	putText(t, c, b, "k", "") // a versioned one, current
	versioning(oss.VersionSuspended)
	putLifecycle(t, c, b, oss.LifecycleRule{ID: oss.Ptr("all"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
		Expiration:                  &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))},
		NoncurrentVersionExpiration: &oss.NoncurrentVersionExpiration{NoncurrentDays: oss.Ptr(int32(1))}})
	if st := runLifecycle(t, srv); st.Expired != 1 || st.Versions != 1 {
		t.Errorf("run: %+v, want 1 expired and 1 noncurrent version deleted", st)
	}
	if exists(t, c, b, "k") {
		t.Error("expired object readable again: its delete marker was deleted as the old null version")
	}
	res, err := c.ListObjectVersions(ctx, &oss.ListObjectVersionsRequest{Bucket: oss.Ptr(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ObjectVersions) != 1 || len(res.ObjectDeleteMarkers) != 1 || oss.ToString(res.ObjectDeleteMarkers[0].VersionId) != "null" {
		t.Errorf("versions %d, markers %+v; want the versioned one under a null marker", len(res.ObjectVersions), res.ObjectDeleteMarkers)
	}
}

// TestLifecycleAbortUploads: AbortMultipartUpload removes uploads
// initiated Days before (and their parts), under the rule's prefix only.
func TestLifecycleAbortUploads(t *testing.T) {
	ctx := context.Background()
	srv, c, _ := lifecycleServer(t, 3*24*time.Hour)
	b := newBucket(t, c)
	ids := map[string]string{}
	for _, k := range []string{"tmp/big", "keep/big"} {
		res, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(k)})
		if err != nil {
			t.Fatal(err)
		}
		ids[k] = oss.ToString(res.UploadId)
		if _, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(k), UploadId: res.UploadId,
			PartNumber: 1, Body: strings.NewReader("part one")}); err != nil {
			t.Fatal(err)
		}
	}
	putLifecycle(t, c, b, oss.LifecycleRule{ID: oss.Ptr("abort"), Prefix: oss.Ptr("tmp/"), Status: oss.Ptr("Enabled"),
		AbortMultipartUpload: &oss.LifecycleRuleAbortMultipartUpload{Days: oss.Ptr(int32(1))}})
	if st := runLifecycle(t, srv); st.Aborted != 1 {
		t.Errorf("aborted %d uploads, want 1", st.Aborted)
	}
	_, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("tmp/big"), UploadId: oss.Ptr(ids["tmp/big"])})
	wantServiceError(t, err, "NoSuchUpload", 404, "")
	if _, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("keep/big"), UploadId: oss.Ptr(ids["keep/big"])}); err != nil {
		t.Errorf("upload outside the prefix: %v", err)
	}
}

// TestLifecycleAccessLog: lifecycle deletions in a logged bucket appear in
// its access log, with the operation ExpireObject and the user agent
// ossd-lifecycle, and no requester.
func TestLifecycleAccessLog(t *testing.T) {
	ctx := context.Background()
	srv, c, _ := lifecycleServer(t, 3*24*time.Hour)
	b := newBucket(t, c)
	target := newBucket(t, c)
	if _, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(b), BucketLoggingStatus: &oss.BucketLoggingStatus{
		LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(target), TargetPrefix: oss.Ptr("log/")}}}); err != nil {
		t.Fatal(err)
	}
	putText(t, c, b, "old/a b.txt", "")
	putLifecycle(t, c, b, oss.LifecycleRule{ID: oss.Ptr("all"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
		Expiration: &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))}})
	runLifecycle(t, srv)
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, l := range readLogLines(t, c, target, "log/", b) {
		if l.Operation != "ExpireObject" {
			continue
		}
		found = true
		if l.Key != "old/a b.txt" || l.UserAgent != "ossd-lifecycle" || l.HTTPStatus != 204 || l.RequesterID != "" ||
			l.RequestURI != "DELETE /"+b+"/old/a%20b.txt HTTP/1.1" || l.UserID != srv.AccountID ||
			l.DeltaDataSize != -int64(len("data of old/a b.txt")) || l.ObjectSize != int64(len("data of old/a b.txt")) {
			t.Errorf("lifecycle line: %+v", l)
		}
	}
	if !found {
		t.Error("no ExpireObject line in the access log")
	}
}

// TestLifecycleSchedule: with no interval the rules run daily at 00:00
// UTC on the lifecycle clock; with one, every interval.
func TestLifecycleSchedule(t *testing.T) {
	for _, interval := range []time.Duration{0, time.Hour} {
		start := time.Now()
		clk := newStepClock(start)
		runs := make(chan ossdtest.LifecycleStats, 4)
		srv := ossdtest.StartWith(t, ossdtest.Options{LifecycleClock: clk, LifecycleInterval: interval,
			LifecycleDone: func(st ossdtest.LifecycleStats, err error) {
				if err != nil {
					t.Errorf("scheduled run: %v", err)
				}
				runs <- st
			}})
		c := v2Client(srv, modes[0])
		b := newBucket(t, c)
		putText(t, c, b, "a", "")
		putLifecycle(t, c, b, oss.LifecycleRule{ID: oss.Ptr("all"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))}})
		due := clk.waiting() // the runner's next run
		want := start.Add(interval)
		if interval == 0 {
			want = start.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		}
		if !due.Equal(want) {
			t.Errorf("interval %v: next run at %v, want %v", interval, due, want)
		}
		// Three days on, the next run expires the object.
		clk.set(start.Add(3 * 24 * time.Hour))
		if st := <-runs; st.Expired != 1 {
			t.Errorf("interval %v: scheduled run expired %d", interval, st.Expired)
		}
		if exists(t, c, b, "a") {
			t.Errorf("interval %v: object not expired by the scheduled run", interval)
		}
	}
}

// stepClock is the access log's fake clock that also tells the test when
// the runner waits on it, and until when (so that no test sleeps).
type stepClock struct {
	*accesslog.FakeClock
	armed chan time.Time
}

func newStepClock(t time.Time) *stepClock {
	return &stepClock{FakeClock: accesslog.NewFakeClock(t), armed: make(chan time.Time, 16)}
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	at := c.Now().Add(d)
	ch := c.FakeClock.After(d)
	select {
	case c.armed <- at:
	default:
	}
	return ch
}

// waiting returns when the next timer is armed, with when it falls due.
func (c *stepClock) waiting() time.Time { return <-c.armed }

func (c *stepClock) set(t time.Time) { c.FakeClock.Set(t) }

// TestS3BucketLifecycle: S3's put/get/delete-bucket-lifecycle-configuration
// with Filter (Prefix, Tag, And), AbortIncompleteMultipartUpload and
// NoncurrentVersionExpiration, and S3's 404.
func TestS3BucketLifecycle(t *testing.T) {
	ctx := context.Background()
	srv, c, b := s3Bucket(t, "s3lc")
	_, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if !strings.Contains(errString(err), "NoSuchLifecycleConfiguration") {
		t.Errorf("get without rules: %v", err)
	}
	_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(b),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{
			{ID: aws.String("logs"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("log/")},
				Expiration:                     &s3types.LifecycleExpiration{Days: aws.Int32(7)},
				AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(2)}},
			{ID: aws.String("tagged"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{
				And: &s3types.LifecycleRuleAndOperator{Prefix: aws.String("tmp/"), Tags: []s3types.Tag{{Key: aws.String("class"), Value: aws.String("tmp")}}}},
				Expiration:                  &s3types.LifecycleExpiration{Days: aws.Int32(1)},
				NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(3)}},
			// S3's older form: the prefix on the rule, no Filter.
			{ID: aws.String("legacy"), Status: s3types.ExpirationStatusDisabled, Prefix: aws.String("old/"),
				Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(9)}},
		}}})
	if err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	got, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 3 {
		t.Fatalf("got %d rules", len(got.Rules))
	}
	r0, r1, r2 := got.Rules[0], got.Rules[1], got.Rules[2]
	// Each rule comes back in the form it was given (as S3 answers).
	if aws.ToString(r2.Prefix) != "old/" || r2.Filter != nil || r2.Status != s3types.ExpirationStatusDisabled {
		t.Errorf("rule 2 (rule-level Prefix) = %+v", r2)
	}
	if aws.ToString(r0.ID) != "logs" || r0.Filter == nil || aws.ToString(r0.Filter.Prefix) != "log/" || aws.ToInt32(r0.Expiration.Days) != 7 ||
		r0.AbortIncompleteMultipartUpload == nil || aws.ToInt32(r0.AbortIncompleteMultipartUpload.DaysAfterInitiation) != 2 {
		t.Errorf("rule 0 = %+v", r0)
	}
	if r1.Filter == nil || r1.Filter.And == nil || aws.ToString(r1.Filter.And.Prefix) != "tmp/" || len(r1.Filter.And.Tags) != 1 ||
		r1.NoncurrentVersionExpiration == nil || aws.ToInt32(r1.NoncurrentVersionExpiration.NoncurrentDays) != 3 {
		t.Errorf("rule 1 = %+v", r1)
	}
	// The same rules read through the OSS API.
	oc := oss.NewClient(oss.LoadDefaultConfig().WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret)).
		WithRegion(srv.Region).WithEndpoint(srv.Endpoint).WithUsePathStyle(true))
	og, err := oc.GetBucketLifecycle(ctx, &oss.GetBucketLifecycleRequest{Bucket: oss.Ptr(b)})
	if err != nil || len(og.LifecycleConfiguration.Rules) != 3 || oss.ToString(og.LifecycleConfiguration.Rules[1].Prefix) != "tmp/" ||
		i32(og.LifecycleConfiguration.Rules[0].AbortMultipartUpload.Days) != 2 {
		t.Errorf("S3 rules through OSS: %v %+v", err, og)
	}
	if _, err := c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if !strings.Contains(errString(err), "NoSuchLifecycleConfiguration") {
		t.Errorf("get after delete: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func i32(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

// TestSDKv1Lifecycle: the Go SDK v1's SetBucketLifecycle (its builders by
// days and by date, a Filter with Not, noncurrent versions), read back as
// it parses rules, deleted, and its NoSuchLifecycle, in every mode.
func TestSDKv1Lifecycle(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ossdtest.Start(t)
			c := v1Client(t, srv, m)
			b := randName("v1lc")
			if err := c.CreateBucket(b); err != nil {
				t.Fatal(err)
			}
			_, err := c.GetBucketLifecycle(b)
			wantV1Error(t, "GetBucketLifecycle before", err, "NoSuchLifecycle", 404, "0014-00000001")
			byDays := v1.BuildLifecycleRuleByDays("days", "log/", true, 30)
			byDate := v1.BuildLifecycleRuleByDate("date", "old/", false, 2026, 1, 1)
			filtered := v1.LifecycleRule{ID: "filtered", Prefix: "v/", Status: "Enabled",
				Expiration:           &v1.LifecycleExpiration{Days: 10},
				NonVersionExpiration: &v1.LifecycleVersionExpiration{NoncurrentDays: 5},
				Filter:               &v1.LifecycleFilter{Not: []v1.LifecycleFilterNot{{Prefix: "v/keep/", Tag: &v1.Tag{Key: "k", Value: "v"}}}}}
			if err := c.SetBucketLifecycle(b, []v1.LifecycleRule{byDays, byDate, filtered}); err != nil {
				t.Fatalf("SetBucketLifecycle: %v", err)
			}
			res, err := c.GetBucketLifecycle(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rules) != 3 {
				t.Fatalf("GetBucketLifecycle: %d rules", len(res.Rules))
			}
			r0, r1, r2 := res.Rules[0], res.Rules[1], res.Rules[2]
			if r0.ID != "days" || r0.Prefix != "log/" || r0.Status != "Enabled" || r0.Expiration == nil || r0.Expiration.Days != 30 {
				t.Errorf("by days = %+v", r0)
			}
			if r1.Status != "Disabled" || r1.Expiration == nil || r1.Expiration.Date != "2026-01-01T00:00:00.000Z" {
				t.Errorf("by date = %+v %+v", r1, r1.Expiration)
			}
			if r2.NonVersionExpiration == nil || r2.NonVersionExpiration.NoncurrentDays != 5 || r2.Filter == nil ||
				len(r2.Filter.Not) != 1 || r2.Filter.Not[0].Prefix != "v/keep/" || r2.Filter.Not[0].Tag == nil || r2.Filter.Not[0].Tag.Key != "k" {
				t.Errorf("filtered = %+v", r2)
			}
			if err := c.DeleteBucketLifecycle(b); err != nil {
				t.Fatal(err)
			}
			_, err = c.GetBucketLifecycle(b)
			wantV1Error(t, "GetBucketLifecycle after delete", err, "NoSuchLifecycle", 404, "0014-00000001")
		})
	}
}
