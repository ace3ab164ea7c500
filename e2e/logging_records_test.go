package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/ossdtest"
	"github.com/ossd/ossd/osslog"
)

func enableLogging(t *testing.T, c *oss.Client, src, dst, prefix string) {
	t.Helper()
	_, err := c.PutBucketLogging(context.Background(), &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(src),
		BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr(prefix)}}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoggedRequestKinds: failures, anonymous, presigned, HEAD and each
// multipart part produce a line; deliveries into the source bucket itself
// produce none.
func TestLoggedRequestKinds(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	b := newBucket(t, c)
	enableLogging(t, c, b, b, "self-log/") // the source is its own target
	c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), Body: strings.NewReader("v")})

	// Anonymous: AccessDenied (public access is blocked).
	resp, err := http.Get(srv.Endpoint + "/" + b + "/k")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Wrong secret: SignatureDoesNotMatch.
	bad := *srv
	bad.AccessKeySecret = "nope"
	_, err = v2Client(&bad, modes[0]).GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k")})
	wantServiceError(t, err, "SignatureDoesNotMatch", 403, "")
	// Presigned GET.
	pr, _ := c.Presign(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k")})
	resp, err = http.Get(pr.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// HEAD of a missing key.
	c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("absent")})
	// Three parts.
	if err := multipartPut(ctx, c, b, "mp", bytes.Repeat([]byte("m"), 250<<10)); err != nil {
		t.Fatal(err)
	}
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	lines := readLogLines(t, c, b, "self-log/", b)
	count := map[string]int{}
	var sawAnon, sawSig, sawPresign, sawHead bool
	for _, l := range lines {
		count[l.Operation]++
		switch {
		case l.ErrorCode == "AccessDenied" && l.RequesterID == "" && l.HTTPStatus == 403:
			sawAnon = true
		case l.ErrorCode == "SignatureDoesNotMatch" && l.HTTPStatus == 403:
			sawSig = true
		case strings.Contains(l.RequestURI, "x-oss-signature=") && l.HTTPStatus == 200:
			sawPresign = l.AccessKeyID == srv.AccessKeyID
		case l.Operation == "HeadObject" && l.HTTPStatus == 404 && l.ErrorCode == "NoSuchKey":
			sawHead = true
		}
	}
	if !sawAnon || !sawSig || !sawPresign || !sawHead {
		t.Errorf("anonymous %v, bad signature %v, presigned %v, HEAD 404 %v; lines: %d", sawAnon, sawSig, sawPresign, sawHead, len(lines))
	}
	if count["UploadPart"] != 3 || count["InitiateMultipartUpload"] != 1 || count["CompleteMultipartUpload"] != 1 {
		t.Errorf("multipart lines = %v", count)
	}
	// Deliveries into the bucket are not logged: a second flush adds no
	// PutObject line for the log object written by the first.
	puts := count["PutObject"]
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range readLogLines(t, c, b, "self-log/", b) {
		if l.Operation == "PutObject" {
			n++
		}
	}
	if n != puts {
		t.Errorf("PutObject lines went from %d to %d after delivering into the source bucket", puts, n)
	}
}

// TestHourlyDelivery drives delivery with a fake clock: records of 10:59
// and of 11:00 (+0800) land in different objects, each delivered at the
// top of the following hour without any flush.
func TestHourlyDelivery(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	clock := accesslog.NewFakeClock(time.Date(2026, 11, 24, 10, 59, 58, 0, cst))
	srv := ossdtest.StartWith(t, ossdtest.Options{Now: clock.Now, LogClock: clock})
	do := func(method, bucket, key, query string, body string) int {
		u := srv.Endpoint + "/" + bucket + "/" + key
		if query != "" {
			u += "?" + query
		}
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		auth.SignV1(req, bucket, key, srv.AccessKeyID, srv.AccessKeySecret, clock.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, b := range []string{"src-bkt", "log-bkt"} {
		if s := do("PUT", b, "", "", ""); s != 200 {
			t.Fatalf("create %s: %d", b, s)
		}
	}
	body := "<BucketLoggingStatus><LoggingEnabled><TargetBucket>log-bkt</TargetBucket><TargetPrefix>h/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>"
	if s := do("PUT", "src-bkt", "", "logging", body); s != 200 {
		t.Fatalf("PutBucketLogging: %d", s)
	}
	do("PUT", "src-bkt", "before", "", "1") // 10:59:58
	list := func() []string {
		req, _ := http.NewRequest("GET", srv.Endpoint+"/log-bkt/?prefix=h/", nil)
		auth.SignV1(req, "log-bkt", "", srv.AccessKeyID, srv.AccessKeySecret, clock.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Keys []string `xml:"Contents>Key"`
		}
		raw, _ := io.ReadAll(resp.Body)
		xmlUnmarshal(t, raw, &r)
		return r.Keys
	}
	waitFor := func(n int) []string {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if keys := list(); len(keys) >= n || time.Now().After(deadline) {
				return keys
			}
			time.Sleep(20 * time.Millisecond) // delivery runs on its own goroutine
		}
	}
	if keys := list(); len(keys) != 0 {
		t.Fatalf("delivered before the hour: %v", keys)
	}
	clock.Set(time.Date(2026, 11, 24, 11, 0, 0, 0, cst))
	keys := waitFor(1)
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "h/src-bkt2026-11-24-1") {
		t.Fatalf("after 11:00: %v, want one object for the 10:00 hour", keys)
	}
	do("PUT", "src-bkt", "after", "", "2") // 11:00:00
	clock.Set(time.Date(2026, 11, 24, 12, 0, 0, 0, cst))
	keys = waitFor(2)
	if len(keys) != 2 {
		t.Fatalf("after 12:00: %v, want two objects", keys)
	}
	hours := map[string]bool{}
	for _, k := range keys {
		hours[k[len("h/src-bkt"):len("h/src-bkt")+13]] = true
	}
	if !hours["2026-11-24-10"] || !hours["2026-11-24-11"] {
		t.Errorf("object hours = %v, want 10 and 11", hours)
	}
}

// TestLogTail: the real-time view streams committed records, with the
// user-defined log fields in JSON form.
func TestLogTail(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	b := newBucket(t, c)
	enableLogging(t, c, b, b, "")
	_, err := c.PutUserDefinedLogFieldsConfig(ctx, &oss.PutUserDefinedLogFieldsConfigRequest{Bucket: oss.Ptr(b),
		UserDefinedLogFieldsConfiguration: &oss.UserDefinedLogFieldsConfiguration{
			HeaderSet: &oss.LoggingHeaderSet{Headers: []string{"x-trace"}}, ParamSet: &oss.LoggingParamSet{Parameters: []string{"tag"}}}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.Endpoint+"/-/ossd/logs/tail?format=json&bucket="+b, nil)
	auth.SignV1(req, "", "", srv.AccessKeyID, srv.AccessKeySecret, time.Now())
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req = req.WithContext(tctx)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("tail: %v %v", resp, err)
	}
	defer resp.Body.Close()
	greq, _ := http.NewRequest("GET", srv.Endpoint+"/"+b+"/nokey?tag=blue&x-other=1", nil)
	greq.Header.Set("X-Trace", "abc123")
	auth.SignV1(greq, b, "nokey", srv.AccessKeyID, srv.AccessKeySecret, time.Now())
	gr, err := http.DefaultClient.Do(greq)
	if err != nil {
		t.Fatal(err)
	}
	gr.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() {
		t.Fatalf("tail ended: %v", sc.Err())
	}
	var rec map[string]any
	if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
		t.Fatalf("tail line is not JSON: %s", sc.Text())
	}
	if rec["operation"] != "GetObject" || rec["error_code"] != "NoSuchKey" || rec["http_status"] != float64(404) {
		t.Errorf("tail record = %v", rec)
	}
	raw, err := base64.StdEncoding.DecodeString(fmt.Sprint(rec["user_defined_log_fields"]))
	if err != nil {
		t.Fatalf("user_defined_log_fields not base64: %v", rec["user_defined_log_fields"])
	}
	var udf struct {
		Truncated bool              `json:"truncated"`
		Headers   map[string]string `json:"headers"`
		Querys    map[string]string `json:"querys"`
	}
	if err := json.Unmarshal(raw, &udf); err != nil || udf.Headers["x-trace"] != "abc123" || udf.Querys["tag"] != "blue" || udf.Truncated {
		t.Errorf("user_defined_log_fields = %s (%v)", raw, err)
	}
	// The hourly line keeps exactly 28 fields.
	cancel()
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	for _, l := range readLogLines(t, c, b, "", b) {
		if len(l.Extra) != 0 {
			t.Errorf("delivered line has %d extra fields", len(l.Extra))
		}
	}
}

// TestMissingTarget: when the target bucket is gone, records are kept,
// flush reports why, status shows it, and once the target exists again
// the records are delivered once.
func TestMissingTarget(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	src, dst := newBucket(t, c), newBucket(t, c)
	enableLogging(t, c, src, dst, "")
	if _, err := c.DeleteBucket(ctx, &oss.DeleteBucketRequest{Bucket: oss.Ptr(dst)}); err != nil {
		t.Fatal(err)
	}
	c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr("k"), Body: strings.NewReader("v")})
	if err := srv.FlushLogs(); err == nil || !strings.Contains(err.Error(), dst) {
		t.Fatalf("flush with the target missing: %v, want an error naming %s", err, dst)
	}
	req, _ := http.NewRequest("GET", srv.Endpoint+"/-/ossd/logs/status", nil)
	auth.SignV1(req, "", "", srv.AccessKeyID, srv.AccessKeySecret, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Sync    string `json:"sync"`
		Buckets []struct {
			Bucket    string `json:"bucket"`
			Pending   int64  `json:"pending"`
			LastError string `json:"lastError"`
		} `json:"buckets"`
	}
	json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if status.Sync != "1s" {
		t.Errorf("status sync = %q, want the default mode 1s", status.Sync)
	}
	st := status.Buckets
	if len(st) != 1 || st[0].Bucket != src || st[0].Pending < 1 || st[0].LastError == "" {
		t.Fatalf("status = %+v, want %s pending with an error", st, src)
	}
	if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(dst)}); err != nil {
		t.Fatal(err)
	}
	if err := srv.FlushLogs(); err != nil {
		t.Fatalf("flush after the target came back: %v", err)
	}
	n := 0
	for _, l := range readLogLines(t, c, dst, "", src) {
		if l.Operation == "PutObject" && l.Key == "k" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("PutObject k delivered %d times, want once", n)
	}
}

// TestLoggedPutOutcomes: in both access-log durability modes a PutObject's
// line says what its client was told: the size and the change of bucket
// size of a new object and of an overwrite, the error of a refused one.
// Then concurrent writes of one key, some refused (a refused write makes
// the metadata store run its batch's other writes again): their lines'
// deltas add up to the object's final size, so each delta is the commit's.
// In the always mode the successful writes' records were appended ahead
// of their commits and stood (ossd_accesslog_provisional_records_total).
func TestLoggedPutOutcomes(t *testing.T) {
	for _, mode := range []struct {
		name string
		sync time.Duration
	}{{"default", 0}, {"always", ossdtest.LogSyncAlways}} {
		t.Run(mode.name, func(t *testing.T) { loggedPutOutcomes(t, mode.sync) })
	}
}

func loggedPutOutcomes(t *testing.T, logSync time.Duration) {
	srv := ossdtest.StartWith(t, ossdtest.Options{LogSync: logSync, Monitor: true})
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	src, dst := newBucket(t, c), newBucket(t, c)
	enableLogging(t, c, src, dst, "log/")
	before := scrapeMetrics(t, srv)
	put := func(key, body string, forbid bool) (string, error) {
		req := &oss.PutObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr(key), Body: strings.NewReader(body)}
		if forbid {
			req.ForbidOverwrite = oss.Ptr("true")
		}
		res, err := c.PutObject(ctx, req)
		if err != nil {
			var se *oss.ServiceError
			if errors.As(err, &se) {
				return se.RequestID, err
			}
			return "", err
		}
		return res.Headers.Get("x-oss-request-id"), nil
	}
	created, err := put("k", "hello", false)
	if err != nil {
		t.Fatal(err)
	}
	overwrote, err := put("k", "hello, world", false)
	if err != nil {
		t.Fatal(err)
	}
	refused, err := put("k", "x", true)
	wantServiceError(t, err, "FileAlreadyExists", 409, "")

	// Concurrent writes of one key, a third of them refused.
	type result struct {
		id     string
		status int
	}
	results := make([]result, 24)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			id, err := put("c", strings.Repeat("z", 100+i*37), i%3 == 0 && i > 0)
			results[i] = result{id, 200}
			if err != nil {
				var se *oss.ServiceError
				if !errors.As(err, &se) || se.Code != "FileAlreadyExists" {
					t.Errorf("concurrent put %d: %v", i, err)
				}
				results[i].status = se.StatusCode
			}
		})
	}
	wg.Wait()
	head, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr("c")})
	if err != nil {
		t.Fatal(err)
	}

	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	byID := map[string][]osslog.Line{}
	for _, l := range readLogLines(t, c, dst, "log/", src) {
		byID[l.RequestID] = append(byID[l.RequestID], l)
	}
	line := func(id string) osslog.Line {
		t.Helper()
		if len(byID[id]) != 1 {
			t.Fatalf("request %s has %d lines, want 1", id, len(byID[id]))
		}
		return byID[id][0]
	}
	for _, tc := range []struct {
		id          string
		status      int
		code        string
		size, delta int64
	}{
		{created, 200, "", 5, 5},
		{overwrote, 200, "", 12, 7},
		{refused, 409, "FileAlreadyExists", osslog.Absent, osslog.AbsentDelta},
	} {
		l := line(tc.id)
		if l.HTTPStatus != tc.status || l.ErrorCode != tc.code || l.ObjectSize != tc.size || l.DeltaDataSize != tc.delta {
			t.Errorf("request %s logged status %d %q, object_size %d, delta %d; want %d %q, %d, %d",
				tc.id, l.HTTPStatus, l.ErrorCode, l.ObjectSize, l.DeltaDataSize, tc.status, tc.code, tc.size, tc.delta)
		}
	}
	var sum int64
	succeeded := 0
	for _, r := range results {
		l := line(r.id)
		if l.HTTPStatus != r.status {
			t.Errorf("concurrent put %s answered %d, logged %d", r.id, r.status, l.HTTPStatus)
		}
		if r.status == 200 {
			succeeded++
			if l.DeltaDataSize != osslog.AbsentDelta {
				sum += l.DeltaDataSize
			}
		}
	}
	if sum != head.ContentLength {
		t.Errorf("the %d successful writes' deltas add up to %d; the object has %d bytes", succeeded, sum, head.ContentLength)
	}

	after := scrapeMetrics(t, srv)
	stood := after.get("ossd_accesslog_provisional_records_total", "outcome", "stood") - before.get("ossd_accesslog_provisional_records_total", "outcome", "stood")
	replaced := after.get("ossd_accesslog_provisional_records_total", "outcome", "replaced") - before.get("ossd_accesslog_provisional_records_total", "outcome", "replaced")
	want := float64(2 + succeeded)
	if logSync == 0 {
		want = 0 // nothing to overlap: each record is written as the request ends
	}
	if stood != want || replaced != 0 {
		t.Errorf("provisional records: %v stood, %v replaced; want %v, 0", stood, replaced, want)
	}
}
