// Package metrics holds ossd's Prometheus metrics: the counters and
// histograms the request path, the access-log journal and background work
// update, and the registry /-/ossd/metrics serves. It sits beside oss at
// the bottom of the import graph, so every layer that has something to
// count (httpapi per request, service for lifecycle actions, server for
// the journal) can take a *Metrics without importing another layer.
//
// Every method is safe on a nil *Metrics and then does nothing, so code
// paths built without metrics (unit tests, tools) need no checks.
//
// Per-request cost is kept to a few atomic adds: the series of each
// operation and status are resolved once and cached (label values come
// from a fixed set, the operation names of internal/oss and HTTP status
// codes), so observing a request takes a read lock and no allocation.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Lifecycle actions, the values of ossd_lifecycle_actions_total's action
// label. Lifecycle code counts each object or upload it acts on with
// (*Metrics).LifecycleAction.
const (
	LifecycleExpire              = "expiration"                    // a current version deleted (or a delete marker put on it)
	LifecycleExpireDeleteMarker  = "expired_object_delete_marker"  // a delete marker with no older versions removed
	LifecycleExpireNoncurrent    = "noncurrent_version_expiration" // a noncurrent version deleted
	LifecycleAbortMultipart      = "abort_multipart_upload"        // an unfinished multipart upload aborted
	LifecycleTransition          = "transition"                    // a storage-class transition (not executed by ossd yet)
	LifecycleTransitionNoncurent = "noncurrent_version_transition" // likewise for noncurrent versions
)

var lifecycleActions = []string{LifecycleExpire, LifecycleExpireDeleteMarker, LifecycleExpireNoncurrent,
	LifecycleAbortMultipart, LifecycleTransition, LifecycleTransitionNoncurent}

// Metrics is one server's metrics and their registry.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec   // operation, status
	duration *prometheus.HistogramVec // operation
	bytesIn  *prometheus.CounterVec   // operation
	bytesOut *prometheus.CounterVec   // operation

	syncDuration prometheus.Histogram
	syncFailures prometheus.Counter
	deliveryFail *prometheus.CounterVec // target
	provisional  *prometheus.CounterVec // outcome
	lifecycle    *prometheus.CounterVec // action

	mu     sync.RWMutex
	ops    map[string]*opSeries
	status map[opStatus]prometheus.Counter
}

type opSeries struct {
	duration          prometheus.Observer
	bytesIn, bytesOut prometheus.Counter
}

type opStatus struct {
	op     string
	status int
}

// New returns a Metrics with every ossd metric registered, plus the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossd_requests_total",
			Help: "API requests answered, by operation (OSS's action names, as in the access log) and HTTP status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ossd_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its handler, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossd_request_body_bytes_total",
			Help: "Request body bytes read, by operation.",
		}, []string{"operation"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossd_response_body_bytes_total",
			Help: "Response body bytes sent, by operation.",
		}, []string{"operation"}),
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ossd_accesslog_sync_duration_seconds",
			Help:    "Duration of the access-log journal's fdatasyncs of records (the background syncer's, or each group commit's with --log-sync always).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		syncFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ossd_accesslog_sync_failures_total",
			Help: "Failed fdatasyncs of access-log records.",
		}),
		deliveryFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossd_accesslog_delivery_failures_total",
			Help: "Failed deliveries of log objects, by target bucket (the records are kept and retried).",
		}, []string{"target"}),
		provisional: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossd_accesslog_provisional_records_total",
			Help: "Access-log records appended ahead of their request's metadata commit (--log-sync always), by outcome: stood (the request ended as the record said) or replaced (it ended otherwise; the record was withdrawn and the final one logged).",
		}, []string{"outcome"}),
		lifecycle: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossd_lifecycle_actions_total",
			Help: "Objects and uploads acted on by bucket lifecycle rules, by action.",
		}, []string{"action"}),
		ops:    map[string]*opSeries{},
		status: map[opStatus]prometheus.Counter{},
	}
	for _, a := range lifecycleActions {
		m.lifecycle.WithLabelValues(a) // exported at 0 before the first action
	}
	m.provisional.WithLabelValues("stood")
	m.provisional.WithLabelValues("replaced")
	m.reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut, m.syncDuration, m.syncFailures, m.deliveryFail, m.provisional, m.lifecycle,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds a collector (gauges read at scrape time, such as the
// journal's state) to the registry.
func (m *Metrics) Register(c prometheus.Collector) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(c)
}

// Handler serves the registry in the Prometheus text format (or protobuf,
// as the scraper negotiates).
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "metrics are off", http.StatusNotFound)
		})
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveRequest counts one answered API request. op is an operation name
// from internal/oss (a fixed set), status its HTTP status.
func (m *Metrics) ObserveRequest(op string, status int, d time.Duration, in, out int64) {
	if m == nil {
		return
	}
	k := opStatus{op, status}
	m.mu.RLock()
	os, c := m.ops[op], m.status[k]
	m.mu.RUnlock()
	if os == nil || c == nil {
		os, c = m.resolve(k)
	}
	c.Inc()
	os.duration.Observe(d.Seconds())
	if in > 0 {
		os.bytesIn.Add(float64(in))
	}
	if out > 0 {
		os.bytesOut.Add(float64(out))
	}
}

// resolve creates and caches the series of an operation and status seen
// for the first time.
func (m *Metrics) resolve(k opStatus) (*opSeries, prometheus.Counter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	os := m.ops[k.op]
	if os == nil {
		os = &opSeries{duration: m.duration.WithLabelValues(k.op), bytesIn: m.bytesIn.WithLabelValues(k.op), bytesOut: m.bytesOut.WithLabelValues(k.op)}
		m.ops[k.op] = os
	}
	c := m.status[k]
	if c == nil {
		c = m.requests.WithLabelValues(k.op, strconv.Itoa(k.status))
		m.status[k] = c
	}
	return os, c
}

// ObserveSync records one fdatasync of access-log records: how long it
// took, and whether it failed.
func (m *Metrics) ObserveSync(d time.Duration, err error) {
	if m == nil {
		return
	}
	m.syncDuration.Observe(d.Seconds())
	if err != nil {
		m.syncFailures.Inc()
	}
}

// DeliveryFailed counts a failed delivery of log objects to target.
func (m *Metrics) DeliveryFailed(target string) {
	if m == nil {
		return
	}
	m.deliveryFail.WithLabelValues(target).Inc()
}

// ProvisionalSettled counts a provisional access-log record by how it was
// settled (accesslog.Config.OnSettle).
func (m *Metrics) ProvisionalSettled(replaced bool) {
	if m == nil {
		return
	}
	outcome := "stood"
	if replaced {
		outcome = "replaced"
	}
	m.provisional.WithLabelValues(outcome).Inc()
}

// LifecycleAction counts one object or upload a lifecycle rule acted on;
// action is one of the Lifecycle* constants.
func (m *Metrics) LifecycleAction(action string) {
	if m == nil {
		return
	}
	m.lifecycle.WithLabelValues(action).Inc()
}
