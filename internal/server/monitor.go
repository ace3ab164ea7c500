package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/httpapi"
)

// The monitoring endpoints, under httpapi.AdminPrefix:
//
//	GET /-/ossd/health   200 "ok" while the process serves (liveness)
//	GET /-/ossd/ready    200 "ready" when the storage and the access-log
//	                     journal take writes, else 503 with the reason
//	GET /-/ossd/metrics  Prometheus metrics
//
// On the API port, health and ready answer anyone (they reveal nothing
// but whether the server works, and load balancers and orchestrators
// probe without credentials) while metrics, which name buckets, need a
// request signed by the root access key like the other admin endpoints.
// MonitorHandler serves all three unauthenticated for a separate listener
// (--metrics-addr), which the operator binds where only trusted scrapers
// reach it.

// MonitorHandler serves /-/ossd/metrics, /-/ossd/health and /-/ossd/ready
// without authentication, for --metrics-addr.
func (s *Server) MonitorHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+httpapi.AdminPrefix+"metrics", s.Metrics.Handler())
	mux.HandleFunc("GET "+httpapi.AdminPrefix+"health", s.health)
	mux.HandleFunc("GET "+httpapi.AdminPrefix+"ready", s.ready)
	return mux
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	plain(w, http.StatusOK, "ok")
}

// ready checks what a write needs: the metadata store commits, the blob
// directory takes a file, and the access-log journal is not refusing
// records (a failed write or fdatasync it has not recovered from).
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.Service.Ready(ctx); err != nil {
		plain(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	if js := s.Log().JournalStatus(); js.Failed != nil {
		plain(w, http.StatusServiceUnavailable, "not ready: access-log journal: "+js.Failed.Error())
		return
	}
	if err := s.sink.Healthy(); err != nil {
		plain(w, http.StatusServiceUnavailable, "not ready: access-log journal: "+err.Error())
		return
	}
	if s.node != nil {
		if why := leaseTrouble[s.node.OwnState()]; why != "" {
			plain(w, http.StatusServiceUnavailable, "not ready: access-log journal: "+why)
			return
		}
	}
	plain(w, http.StatusOK, "ready")
}

// leaseTrouble says why requests to logged buckets are refused, by the
// state of the node's own journal (with --log-dir).
var leaseTrouble = map[accesslog.OwnState]string{
	accesslog.OwnUnrenewed:  "its lease was not renewed in time (metadata store unreachable, or this process paused)",
	accesslog.OwnReclaiming: "taken over by another node while this one was paused or cut off; asking for it back",
	accesslog.OwnReopening:  "got back from the node that took it over; replaying it",
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// stateCollector exports, at scrape time, gauges read from state the
// server already keeps: the access-log journal's and each bucket's usage
// records (no scan of the objects).
type stateCollector struct{ s *Server }

var (
	descPending = prometheus.NewDesc("ossd_accesslog_records_pending",
		"Access-log records in the journal not yet delivered, by source bucket.", []string{"bucket"}, nil)
	descOldest = prometheus.NewDesc("ossd_accesslog_oldest_pending_age_seconds",
		"Age of the oldest undelivered access-log record (by its request time), by source bucket.", []string{"bucket"}, nil)
	descUnsynced = prometheus.NewDesc("ossd_accesslog_unsynced_records",
		"Access-log records written but not yet fdatasynced (what a power cut now would lose; 0 with --log-sync always).", nil, nil)
	descFailed = prometheus.NewDesc("ossd_accesslog_journal_failed",
		"1 while the access-log journal refuses records (requests to logged buckets get 503), else 0.", nil, nil)
	descTaken = prometheus.NewDesc("ossd_accesslog_taken_over_records_pending",
		"With --log-dir: records left to deliver in the journal of a dead node this node took over, by that node's id.", []string{"node"}, nil)
	descObjects = prometheus.NewDesc("ossd_bucket_objects",
		"Object versions stored in a bucket (delete markers not counted).", []string{"bucket"}, nil)
	descBytes = prometheus.NewDesc("ossd_bucket_bytes",
		"Bytes of the object versions stored in a bucket (multipart parts not yet completed not counted).", []string{"bucket"}, nil)
)

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPending, descOldest, descUnsynced, descFailed, descTaken, descObjects, descBytes} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for _, b := range c.s.Log().Status() {
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(b.Pending), b.Bucket)
		age := 0.0
		if b.Pending > 0 && !b.OldestPending.IsZero() {
			age = max(now.Sub(b.OldestPending).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age, b.Bucket)
	}
	ch <- prometheus.MustNewConstMetric(descUnsynced, prometheus.GaugeValue, float64(c.s.Log().Unsynced()))
	failed := 0.0
	if c.s.Log().JournalStatus().Failed != nil || c.s.sink.Healthy() != nil || c.s.node != nil && c.s.node.OwnState() != accesslog.OwnHeld {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(descFailed, prometheus.GaugeValue, failed)
	if c.s.node != nil {
		for _, t := range c.s.node.Taken() {
			ch <- prometheus.MustNewConstMetric(descTaken, prometheus.GaugeValue, float64(t.Pending), t.Node)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	usage, err := c.s.Service.BucketUsage(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descObjects, err)
		return
	}
	for b, u := range usage {
		ch <- prometheus.MustNewConstMetric(descObjects, prometheus.GaugeValue, float64(u.Objects), b)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(u.Bytes), b)
	}
}
