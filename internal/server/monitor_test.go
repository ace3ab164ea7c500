package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/faultfs"
	"github.com/ossd/ossd/internal/meta"
)

// monitorEnv is a server with both listeners: the API port and the
// monitoring one (--metrics-addr).
type monitorEnv struct {
	srv      *Server
	api, mon *httptest.Server
}

func newMonitorEnv(t *testing.T, cfg Config) *monitorEnv {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.Root = User{ID: "1000000000000001", DisplayName: "root", AccessKeyID: "ak", AccessKeySecret: "sk"}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &monitorEnv{srv: srv, api: httptest.NewServer(srv.Handler()), mon: httptest.NewServer(srv.MonitorHandler())}
	t.Cleanup(func() { e.api.Close(); e.mon.Close(); srv.Close() })
	return e
}

// send sends a request to base+path, signed by the root key for
// bucket/key when signed; status 0 means the connection was cut.
func send(t *testing.T, method, base, path, bucket, key, body string, signed bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if signed {
		auth.SignV1(req, bucket, key, "ak", "sk", time.Now())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, base, path string, signed bool) (int, string) {
	t.Helper()
	return send(t, http.MethodGet, base, path, "", "", "", signed)
}

// do sends a signed API request.
func (e *monitorEnv) do(t *testing.T, method, bucket, key, query, body string) int {
	t.Helper()
	p := "/" + bucket + "/" + key
	if query != "" {
		p += "?" + query
	}
	code, _ := send(t, method, e.api.URL, p, bucket, key, body, true)
	return code
}

// TestMonitorAccess: health and ready answer anyone on both listeners;
// metrics answer anyone on the monitoring listener and only the root key on
// the API port.
func TestMonitorAccess(t *testing.T) {
	e := newMonitorEnv(t, Config{})
	tests := []struct {
		listener string
		path     string
		signed   bool
		want     int
		body     string
	}{
		{"api", "/-/ossd/health", false, 200, "ok"},
		{"api", "/-/ossd/ready", false, 200, "ready"},
		{"api", "/-/ossd/metrics", false, 403, "root access key"},
		{"api", "/-/ossd/metrics", true, 200, "ossd_requests_total"},
		{"mon", "/-/ossd/health", false, 200, "ok"},
		{"mon", "/-/ossd/ready", false, 200, "ready"},
		{"mon", "/-/ossd/metrics", false, 200, "ossd_lifecycle_actions_total"},
		{"mon", "/-/ossd/logs/status", false, 404, ""}, // the admin API is not on the monitoring listener
	}
	// Only GET and HEAD probe without a signature.
	if c, body := send(t, http.MethodPost, e.api.URL, "/-/ossd/ready", "", "", "", false); c != 403 {
		t.Errorf("unsigned POST /-/ossd/ready on the API port: %d %q, want 403", c, body)
	}
	e.do(t, http.MethodPut, "bkt", "", "", "") // one request, so ossd_requests_total has a series
	for _, tc := range tests {
		base := e.api.URL
		if tc.listener == "mon" {
			base = e.mon.URL
		}
		code, body := get(t, base, tc.path, tc.signed)
		if code != tc.want || !strings.Contains(body, tc.body) {
			t.Errorf("%s %s (signed %v): %d %q, want %d containing %q", tc.listener, tc.path, tc.signed, code, body, tc.want, tc.body)
		}
	}
}

// TestReadyFaults: /-/ossd/ready answers 503 with the reason while
// metadata commits fail, while the blob directory takes no file, and while
// the access-log journal refuses records; 200 again once they recover.
// /-/ossd/health stays 200 throughout.
func TestReadyFaults(t *testing.T) {
	var metaFaults *faultfs.Meta
	blobFS := faultfs.New()
	var full atomic.Bool
	e := newMonitorEnv(t, Config{
		WrapMeta: func(m meta.Store) meta.Store { metaFaults = faultfs.NewMeta(m); return metaFaults },
		BlobFS:   blobFS,
		LogFS:    fullFS{full: &full},
	})
	wantReady := func(t *testing.T, code int, reason string) {
		t.Helper()
		for _, base := range []string{e.api.URL, e.mon.URL} {
			if c, body := get(t, base, "/-/ossd/ready", false); c != code || !strings.Contains(body, reason) {
				t.Errorf("%s ready: %d %q, want %d with %q", base, c, body, code, reason)
			}
			if c, _ := get(t, base, "/-/ossd/health", false); c != 200 {
				t.Errorf("%s health: %d, want 200", base, c)
			}
		}
	}
	// Logging on, so that a request can hit the journal.
	if c := e.do(t, http.MethodPut, "src", "", "", ""); c != 200 {
		t.Fatalf("PutBucket: %d", c)
	}
	if c := e.do(t, http.MethodPut, "src", "", "logging", `<BucketLoggingStatus><LoggingEnabled><TargetBucket>src</TargetBucket><TargetPrefix>log/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>`); c != 200 {
		t.Fatalf("PutBucketLogging: %d", c)
	}
	wantReady(t, 200, "ready")

	tests := []struct {
		name   string
		inject func()
		clear  func()
		reason string
	}{
		{"metadata commits fail", func() { metaFaults.Inject(faultfs.MetaFault{}) }, metaFaults.Clear, "metadata store"},
		{"blob directory takes no file", func() { blobFS.Inject(faultfs.Fault{Op: faultfs.OpCreate, Path: filepath.Join("blobs")}) }, blobFS.Clear, "blob store"},
		{"access-log journal failed", func() {
			full.Store(true)
			e.do(t, http.MethodPut, "src", "k", "", "data") // its append fails: the journal refuses records
		}, func() {
			full.Store(false)
			e.srv.Log().Sync() // the syncer's recovery, without waiting for its tick
		}, "access-log journal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.inject()
			wantReady(t, 503, tc.reason)
			tc.clear()
			// The journal is trusted again a second after its last
			// failure (journalSink.Healthy): poll, with no time asserted.
			deadline := time.Now().Add(30 * time.Second)
			for {
				c, body := get(t, e.mon.URL, "/-/ossd/ready", false)
				if c == 200 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("ready after recovery: %d %q", c, body)
				}
				time.Sleep(50 * time.Millisecond)
			}
			wantReady(t, 200, "ready")
		})
	}
}

// TestNoMetrics: with the metrics off (Config.NoMetrics, for benchmarks)
// requests are served, /-/ossd/metrics answers 404 and health and ready
// still work.
func TestNoMetrics(t *testing.T) {
	e := newMonitorEnv(t, Config{NoMetrics: true})
	if c := e.do(t, http.MethodPut, "bkt", "", "", ""); c != 200 {
		t.Fatalf("PutBucket: %d", c)
	}
	for _, tc := range []struct {
		base, path string
		signed     bool
		want       int
	}{
		{e.mon.URL, "/-/ossd/metrics", false, 404}, {e.api.URL, "/-/ossd/metrics", true, 404},
		{e.mon.URL, "/-/ossd/ready", false, 200}, {e.api.URL, "/-/ossd/health", false, 200},
	} {
		if c, body := get(t, tc.base, tc.path, tc.signed); c != tc.want {
			t.Errorf("%s%s: %d %q, want %d", tc.base, tc.path, c, body, tc.want)
		}
	}
}
