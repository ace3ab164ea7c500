package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ossd/ossd/ossdtest"
)

// scrape is one read of /-/ossd/metrics, parsed.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t *testing.T, srv *ossdtest.Server) scrape {
	t.Helper()
	resp, err := http.Get(srv.MonitorEndpoint + "/-/ossd/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape does not parse as the Prometheus text format: %v", err)
	}
	return fams
}

// value is the counter, gauge or histogram count of the series of name
// with exactly these labels; ok is false when there is none.
func (s scrape) value(name string, labels ...string) (v float64, ok bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		if len(m.Label)*2 != len(labels) {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func (s scrape) get(name string, labels ...string) float64 {
	v, _ := s.value(name, labels...)
	return v
}

// TestMetrics drives a real ossd with the Go SDK v2 and reads the metrics
// over the wire: each request counted once under its operation and
// status, with its duration and body bytes; each bucket's objects and
// bytes; the access-log journal's pending records, syncs and failed
// deliveries; lifecycle actions exported at 0.
func TestMetrics(t *testing.T) {
	srv := ossdtest.StartWith(t, ossdtest.Options{Monitor: true})
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	b := newBucket(t, c)

	tests := []struct {
		name     string
		op       string
		status   string
		do       func() error
		in, out  float64 // body bytes, checked when not negative
		wantFail bool
	}{
		{"put a", "PutObject", "200", func() error {
			_, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a"), Body: strings.NewReader("abc")})
			return err
		}, 3, 0, false},
		{"put b", "PutObject", "200", func() error {
			_, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("b"), Body: strings.NewReader("hello")})
			return err
		}, 5, 0, false},
		{"get a", "GetObject", "200", func() error {
			r, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a")})
			if err == nil {
				readAll(t, r.Body)
			}
			return err
		}, 0, 3, false},
		{"get missing", "GetObject", "404", func() error {
			_, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("nope")})
			return err
		}, 0, -1, true},
		{"head missing", "HeadObject", "404", func() error {
			_, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("nope")})
			return err
		}, 0, -1, true},
		{"delete b", "DeleteObject", "204", func() error {
			_, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("b")})
			return err
		}, 0, 0, false},
		{"bucket stat of a missing bucket", "GetBucketStat", "404", func() error {
			_, err := c.GetBucketStat(ctx, &oss.GetBucketStatRequest{Bucket: oss.Ptr(b + "-missing")})
			return err
		}, 0, -1, true},
	}
	for _, tc := range tests {
		before := scrapeMetrics(t, srv)
		if err := tc.do(); (err != nil) != tc.wantFail {
			t.Fatalf("%s: err %v, want failure %v", tc.name, err, tc.wantFail)
		}
		after := scrapeMetrics(t, srv)
		delta := func(name string, labels ...string) float64 {
			return after.get(name, labels...) - before.get(name, labels...)
		}
		if d := delta("ossd_requests_total", "operation", tc.op, "status", tc.status); d != 1 {
			t.Errorf("%s: ossd_requests_total{%s,%s} grew by %v, want 1", tc.name, tc.op, tc.status, d)
		}
		if d := delta("ossd_request_duration_seconds", "operation", tc.op); d != 1 {
			t.Errorf("%s: ossd_request_duration_seconds{%s} count grew by %v, want 1", tc.name, tc.op, d)
		}
		if d := delta("ossd_request_body_bytes_total", "operation", tc.op); tc.in >= 0 && d != tc.in {
			t.Errorf("%s: request bytes grew by %v, want %v", tc.name, d, tc.in)
		}
		if d := delta("ossd_response_body_bytes_total", "operation", tc.op); tc.out >= 0 && d != tc.out {
			t.Errorf("%s: response bytes grew by %v, want %v", tc.name, d, tc.out)
		}
	}

	s := scrapeMetrics(t, srv)
	if o, by := s.get("ossd_bucket_objects", "bucket", b), s.get("ossd_bucket_bytes", "bucket", b); o != 1 || by != 3 {
		t.Errorf("bucket %s: %v objects, %v bytes; want 1, 3", b, o, by)
	}
	// The same figures as GetBucketStat's scan.
	stat, err := c.GetBucketStat(ctx, &oss.GetBucketStatRequest{Bucket: oss.Ptr(b)})
	if err != nil {
		t.Fatal(err)
	}
	if o, by := s.get("ossd_bucket_objects", "bucket", b), s.get("ossd_bucket_bytes", "bucket", b); o != float64(stat.ObjectCount) || by != float64(stat.Storage) {
		t.Errorf("metrics say %v objects, %v bytes; GetBucketStat %d, %d", o, by, stat.ObjectCount, stat.Storage)
	}
	if v, ok := s.value("ossd_lifecycle_actions_total", "action", "expiration"); !ok || v != 0 {
		t.Errorf("ossd_lifecycle_actions_total{expiration} = %v (present %v), want 0", v, ok)
	}

	// Access logging: records pending until delivered; delivery syncs.
	if _, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(b), BucketLoggingStatus: &oss.BucketLoggingStatus{
		LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(b), TargetPrefix: oss.Ptr("log/")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a")}); err != nil {
		t.Fatal(err)
	}
	// A record counts as pending once synced (the syncer runs every
	// --log-sync, 1s); until then it is among the unsynced.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s = scrapeMetrics(t, srv)
		if s.get("ossd_accesslog_records_pending", "bucket", b) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ossd_accesslog_records_pending{%s} still 0 after a logged request (unsynced: %v)", b, s.get("ossd_accesslog_unsynced_records"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := s.value("ossd_accesslog_oldest_pending_age_seconds", "bucket", b); !ok {
		t.Errorf("no ossd_accesslog_oldest_pending_age_seconds{%s}", b)
	}
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	s = scrapeMetrics(t, srv)
	if p := s.get("ossd_accesslog_records_pending", "bucket", b); p != 0 {
		t.Errorf("ossd_accesslog_records_pending{%s} = %v after a flush, want 0", b, p)
	}
	if n := s.get("ossd_accesslog_sync_duration_seconds"); n < 1 {
		t.Errorf("ossd_accesslog_sync_duration_seconds count %v after a flush, want ≥ 1", n)
	}
	if o := s.get("ossd_bucket_objects", "bucket", b); o != 2 {
		t.Errorf("bucket %s: %v objects after its log object was delivered, want 2", b, o)
	}

	// A delivery to a target bucket that is gone fails, counted by target.
	src, tgt := newBucket(t, c), newBucket(t, c)
	if _, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(src), BucketLoggingStatus: &oss.BucketLoggingStatus{
		LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(tgt), TargetPrefix: oss.Ptr("log/")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &oss.DeleteBucketRequest{Bucket: oss.Ptr(tgt)}); err != nil {
		t.Fatal(err)
	}
	c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr("x")})
	if err := srv.FlushLogs(); err == nil {
		t.Fatal("flush to a deleted target bucket succeeded")
	}
	if n := scrapeMetrics(t, srv).get("ossd_accesslog_delivery_failures_total", "target", tgt); n < 1 {
		t.Errorf("ossd_accesslog_delivery_failures_total{target=%s} = %v, want ≥ 1", tgt, n)
	}
}

// TestMetricsLifecycle: each action of a lifecycle run is counted under
// its kind: an expired current version, noncurrent versions, a lone delete
// marker, an aborted upload.
func TestMetricsLifecycle(t *testing.T) {
	ctx := context.Background()
	srv := ossdtest.StartWith(t, ossdtest.Options{Monitor: true, LifecycleClock: newStepClock(time.Now().Add(3 * 24 * time.Hour)),
		LifecycleInterval: 1000 * time.Hour})
	c := v2Client(srv, modes[0])
	b := newBucket(t, c)
	if _, err := c.PutBucketVersioning(ctx, &oss.PutBucketVersioningRequest{Bucket: oss.Ptr(b),
		VersioningConfiguration: &oss.VersioningConfiguration{Status: oss.VersionEnabled}}); err != nil {
		t.Fatal(err)
	}
	putText(t, c, b, "k", "")
	putText(t, c, b, "k", "")
	if _, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("up")}); err != nil {
		t.Fatal(err)
	}
	putLifecycle(t, c, b,
		oss.LifecycleRule{ID: oss.Ptr("expire"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
			Expiration:                  &oss.LifecycleRuleExpiration{Days: oss.Ptr(int32(1))},
			NoncurrentVersionExpiration: &oss.NoncurrentVersionExpiration{NoncurrentDays: oss.Ptr(int32(1))},
			AbortMultipartUpload:        &oss.LifecycleRuleAbortMultipartUpload{Days: oss.Ptr(int32(1))}},
		oss.LifecycleRule{ID: oss.Ptr("markers"), Prefix: oss.Ptr(""), Status: oss.Ptr("Enabled"),
			Expiration: &oss.LifecycleRuleExpiration{ExpiredObjectDeleteMarker: oss.Ptr(true)}},
	)
	before := scrapeMetrics(t, srv)
	for range 3 { // marker + older version; the replaced one; the lone marker
		runLifecycle(t, srv)
	}
	after := scrapeMetrics(t, srv)
	for action, want := range map[string]float64{"expiration": 1, "noncurrent_version_expiration": 2,
		"expired_object_delete_marker": 1, "abort_multipart_upload": 1, "transition": 0} {
		if d := after.get("ossd_lifecycle_actions_total", "action", action) - before.get("ossd_lifecycle_actions_total", "action", action); d != want {
			t.Errorf("ossd_lifecycle_actions_total{action=%q} grew by %v, want %v", action, d, want)
		}
	}
	if o, ok := after.value("ossd_bucket_objects", "bucket", b); !ok || o != 0 {
		t.Errorf("bucket %s: %v objects (present %v) after every version expired, want 0", b, o, ok)
	}
}

// TestMonitorBinary: the built ossd with --metrics-addr serves health,
// ready and metrics without a signature on that listener (the banner names
// it), metrics on the API port only to the root key, and --callback-allow
// lets a callback reach a loopback server.
func TestMonitorBinary(t *testing.T) {
	var cbHits atomic.Int32
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cbHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer cb.Close()
	cmd := exec.Command(ossdBinary(t), "--addr", "127.0.0.1:0", "--data", t.TempDir(),
		"--metrics-addr", "127.0.0.1:0", "--callback-allow", "10.0.0.0/8, 127.0.0.1")
	cmd.Env = append(os.Environ(), "OSS_ACCESS_KEY_ID="+crashKeyID, "OSS_ACCESS_KEY_SECRET="+crashSecret)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd}
	defer p.kill()
	var mon string
	lines := bufio.NewScanner(stdout)
	kill := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	for lines.Scan() && mon == "" {
		if ep, ok := strings.CutPrefix(lines.Text(), "ossd listening on "); ok {
			p.endpoint = ep
		}
		if rest, ok := strings.CutPrefix(lines.Text(), "  monitoring: "); ok {
			mon, _, _ = strings.Cut(rest, "/-/ossd/metrics")
		}
	}
	kill.Stop()
	go io.Copy(io.Discard, stdout)
	if p.endpoint == "" || mon == "" {
		t.Fatalf("banner: endpoint %q, monitoring %q", p.endpoint, mon)
	}
	for _, tc := range []struct {
		base, path string
		want       int
	}{
		{mon, "/-/ossd/health", 200}, {mon, "/-/ossd/ready", 200}, {mon, "/-/ossd/metrics", 200},
		{p.endpoint, "/-/ossd/health", 200}, {p.endpoint, "/-/ossd/ready", 200}, {p.endpoint, "/-/ossd/metrics", 403},
	} {
		resp, err := http.Get(tc.base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s%s unsigned: %d, want %d", tc.base, tc.path, resp.StatusCode, tc.want)
		}
	}
	c := p.client()
	b := newBucket(t, c)
	spec, _ := json.Marshal(map[string]string{"callbackUrl": cb.URL, "callbackBody": "object=${object}"})
	if _, err := c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"),
		Body: strings.NewReader("x"), Callback: oss.Ptr(base64.StdEncoding.EncodeToString(spec))}); err != nil || cbHits.Load() != 1 {
		t.Errorf("callback to an allowed loopback address: err %v, %d hits", err, cbHits.Load())
	}
}
