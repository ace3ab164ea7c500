package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestObserveRequestAllocs: once an operation and status have been seen,
// counting a request allocates nothing (the per-request cost is a read
// lock and a few atomic adds).
func TestObserveRequestAllocs(t *testing.T) {
	m := New()
	m.ObserveRequest("GetObject", 200, time.Millisecond, 0, 10)
	if n := testing.AllocsPerRun(1000, func() { m.ObserveRequest("GetObject", 200, time.Millisecond, 0, 10) }); n != 0 {
		t.Errorf("ObserveRequest allocates %v times per call, want 0", n)
	}
}

// TestNilMetrics: a nil *Metrics is a valid "count nothing".
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("GetObject", 200, time.Millisecond, 1, 1)
	m.ObserveSync(time.Millisecond, nil)
	m.DeliveryFailed("b")
	m.LifecycleAction(LifecycleExpire)
	m.ProvisionalSettled(true)
	if err := m.Register(nil); err != nil {
		t.Fatal(err)
	}
}

// TestExposition: the handler writes the text format with the series
// observed, each lifecycle action at 0 from the start.
func TestExposition(t *testing.T) {
	m := New()
	m.ObserveRequest("PutObject", 200, 2*time.Millisecond, 100, 0)
	m.ObserveRequest("PutObject", 200, 2*time.Millisecond, 50, 0)
	m.ObserveRequest("GetObject", 404, time.Millisecond, 0, 300)
	m.ObserveSync(3*time.Millisecond, nil)
	m.DeliveryFailed("logs")
	m.LifecycleAction(LifecycleAbortMultipart)
	m.ProvisionalSettled(true)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/-/ossd/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`ossd_requests_total{operation="PutObject",status="200"} 2`,
		`ossd_requests_total{operation="GetObject",status="404"} 1`,
		`ossd_request_duration_seconds_count{operation="PutObject"} 2`,
		`ossd_request_body_bytes_total{operation="PutObject"} 150`,
		`ossd_response_body_bytes_total{operation="GetObject"} 300`,
		`ossd_accesslog_sync_duration_seconds_count 1`,
		`ossd_accesslog_sync_failures_total 0`,
		`ossd_accesslog_delivery_failures_total{target="logs"} 1`,
		`ossd_lifecycle_actions_total{action="abort_multipart_upload"} 1`,
		`ossd_lifecycle_actions_total{action="expiration"} 0`,
		`ossd_accesslog_provisional_records_total{outcome="replaced"} 1`,
		`ossd_accesslog_provisional_records_total{outcome="stood"} 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

// BenchmarkObserveRequest is the per-request cost of the metrics
// (go test ./internal/metrics -run '^$' -bench ObserveRequest).
func BenchmarkObserveRequest(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("GetObject", 200, time.Millisecond, 0, 4096)
		}
	})
}
