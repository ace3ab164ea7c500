package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/httpapi"
	"github.com/ossd/ossd/osslog"
)

// The admin endpoints, under httpapi.AdminPrefix. Only the root account
// may call them, signed like any OSS request for the service ("/")
// resource (OSS V1 or V4):
//
//	POST /-/ossd/logs/flush   deliver every pending record now; 200 when the
//	                          log objects are stored, 503 with the reasons
//	                          when a target could not take them
//	GET  /-/ossd/logs/status  per source bucket: pending records, oldest,
//	                          last error, last object (JSON)
//	GET  /-/ossd/logs/tail    stream records as they are committed; query
//	                          bucket=<source> to filter, format=json for
//	                          JSON lines (every field and user_defined_log_fields)
//	GET  /-/ossd/metrics      Prometheus metrics (monitor.go)
//
// /-/ossd/health and /-/ossd/ready answer without a signature (monitor.go).
func (s *Server) adminHandler(accts *accounts) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+httpapi.AdminPrefix+"logs/flush", s.adminFlush)
	mux.HandleFunc("GET "+httpapi.AdminPrefix+"logs/status", s.adminStatus)
	mux.HandleFunc("GET "+httpapi.AdminPrefix+"logs/tail", s.adminTail)
	mux.Handle("GET "+httpapi.AdminPrefix+"metrics", s.Metrics.Handler())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Liveness and readiness answer unsigned probes (monitor.go).
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			switch r.URL.Path {
			case httpapi.AdminPrefix + "health":
				s.health(w, r)
				return
			case httpapi.AdminPrefix + "ready":
				s.ready(w, r)
				return
			}
		}
		res, err := auth.Verify(auth.Input{
			Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header,
			Now: s.cfg.Now(), Region: s.cfg.Region,
		}, func(ak string) (string, bool) {
			sec, _, ok := accts.Lookup(ak)
			return sec, ok
		})
		if err != nil || res.AccessKeyID != s.root.AccessKeyID {
			msg := "admin endpoints need a request signed by the root access key"
			if err != nil {
				msg += ": " + err.Error()
			}
			http.Error(w, msg, http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type statusJSON struct {
	Bucket        string     `json:"bucket"`
	Pending       int64      `json:"pending"`
	OldestPending *time.Time `json:"oldestPending,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	LastErrorTime *time.Time `json:"lastErrorTime,omitempty"`
	LastObject    string     `json:"lastObject,omitempty"`
	LastDelivered *time.Time `json:"lastDelivered,omitempty"`
	NextAttempt   *time.Time `json:"nextAttempt,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// StatusJSON renders the delivery status for the admin API and the CLI.
func statusOf(st []accesslog.BucketStatus) []statusJSON {
	out := make([]statusJSON, 0, len(st))
	for _, b := range st {
		j := statusJSON{Bucket: b.Bucket, Pending: b.Pending, OldestPending: timePtr(b.OldestPending),
			LastErrorTime: timePtr(b.LastErrorTime), LastObject: b.LastObject, LastDelivered: timePtr(b.LastDelivered),
			NextAttempt: timePtr(b.NextAttempt)}
		if b.LastError != nil {
			j.LastError = b.LastError.Error()
		}
		out = append(out, j)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (s *Server) adminFlush(w http.ResponseWriter, r *http.Request) {
	if s.node != nil {
		// Without its lease a node delivers nothing (and, reclaiming its
		// journal, has none open): say why rather than "log closed".
		if why := leaseTrouble[s.node.OwnState()]; why != "" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": statusOf(s.Log().Status()), "error": "access-log journal: " + why})
			return
		}
	}
	err := s.Log().Flush(r.Context())
	body := map[string]any{"status": statusOf(s.Log().Status())}
	if err != nil {
		body["error"] = err.Error()
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// logStatusJSON is GET /-/ossd/logs/status: the journal's durability mode
// and state, then each source bucket's delivery.
type logStatusJSON struct {
	// Sync is the durability mode: "always", or the longest a written
	// record waits for its fdatasync ("1s").
	Sync string `json:"sync"`
	// Written and Durable are the IDs of the last record written and the
	// last synced; Unsynced = Written - Durable (what a power cut now loses).
	Written  uint64 `json:"written"`
	Durable  uint64 `json:"durable"`
	Unsynced uint64 `json:"unsynced"`
	// JournalError says why requests to logged buckets are refused, if
	// they are; SyncFailures counts failed syncs since start.
	JournalError string       `json:"journalError,omitempty"`
	SyncFailures int64        `json:"syncFailures"`
	Buckets      []statusJSON `json:"buckets"`
	// Node is this node's id; LeaseEpoch the epoch of its journal's lease
	// and Lease how the node stands with it (with a shared --log-dir: held,
	// unrenewed, reclaiming or reopening, see accesslog.OwnState; absent
	// without). TakenOver lists the journals of dead nodes this node is
	// delivering.
	Node       string      `json:"node"`
	LeaseEpoch uint64      `json:"leaseEpoch,omitempty"`
	Lease      string      `json:"lease,omitempty"`
	TakenOver  []takenJSON `json:"takenOver,omitempty"`
}

type takenJSON struct {
	Node    string    `json:"node"`
	Epoch   uint64    `json:"epoch"`
	Since   time.Time `json:"since"`
	Pending int64     `json:"pending"`
}

// SyncMode names an access-log durability mode as the flag, the banner and
// the status say it.
func SyncMode(syncInterval time.Duration) string {
	if syncInterval == 0 {
		return "always"
	}
	return syncInterval.String()
}

func (s *Server) adminStatus(w http.ResponseWriter, r *http.Request) {
	js := s.Log().JournalStatus()
	st := logStatusJSON{Sync: SyncMode(js.SyncInterval), Written: js.Written, Durable: js.Durable,
		SyncFailures: js.SyncFailures, Buckets: statusOf(s.Log().Status()), Node: s.cfg.NodeID}
	if s.node != nil {
		st.LeaseEpoch, st.Lease = s.node.Lease().Epoch(), s.node.OwnState().String()
		for _, t := range s.node.Taken() {
			st.TakenOver = append(st.TakenOver, takenJSON(t))
		}
	}
	if js.Written > js.Durable {
		st.Unsynced = js.Written - js.Durable
	}
	if js.Failed != nil {
		st.JournalError = js.Failed.Error()
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) adminTail(w http.ResponseWriter, r *http.Request) {
	bucket := r.URL.Query().Get("bucket")
	asJSON := r.URL.Query().Get("format") == "json"
	cur := s.Log()
	recs := cur.Subscribe(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	loc := s.logLocation()
	var buf []byte
	for {
		if !s.tailRecords(w, rc, recs, bucket, asJSON, loc, &buf) {
			return
		}
		// The Log closed. On shutdown the tail ends; when the node closed
		// it to reclaim its journal from another node, the tail follows
		// the journal it re-opens (records in between are not shown, as
		// with any subscriber that falls behind).
		if cur = s.nextLog(r.Context(), cur); cur == nil {
			return
		}
		recs = cur.Subscribe(r.Context())
	}
}

// nextLog waits, while the node reclaims its journal, for the Log that
// replaces old, and returns it; nil when there is none to wait for (the
// server is closing) or ctx ends.
func (s *Server) nextLog(ctx context.Context, old *accesslog.Log) *accesslog.Log {
	for s.node != nil {
		if l := s.Log(); l != old {
			return l
		}
		switch s.node.OwnState() {
		case accesslog.OwnReclaiming, accesslog.OwnReopening:
		default:
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// tailRecords writes recs as log lines until the channel closes (true) or
// the client goes away (false).
func (s *Server) tailRecords(w http.ResponseWriter, rc *http.ResponseController, recs <-chan *accesslog.Record, bucket string, asJSON bool, loc *time.Location, bufp *[]byte) bool {
	buf := *bufp
	defer func() { *bufp = buf }()
	for rec := range recs {
		if bucket != "" && rec.SourceBucket != bucket {
			continue
		}
		line := rec.Line
		line.Time = line.Time.In(loc)
		buf = buf[:0]
		if asJSON {
			raw, _ := json.Marshal(recordJSON(&line, rec.UserDefined))
			buf = append(buf, raw...)
		} else {
			buf = line.Append(buf)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return false
		}
		rc.Flush()
	}
	return true
}

func (s *Server) logLocation() *time.Location {
	if s.cfg.LogLocation != nil {
		return s.cfg.LogLocation
	}
	return time.FixedZone("UTC+8", 8*3600)
}

// recordJSON is the real-time view of a record: every field under its
// documented name, plus user_defined_log_fields.
func recordJSON(l *osslog.Line, userDefined string) map[string]any {
	num := func(n int64) any {
		if n == osslog.Absent || n == osslog.AbsentDelta {
			return "-"
		}
		return n
	}
	str := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	m := map[string]any{
		"remote_ip": str(l.RemoteIP), "time": l.Time.Format("02/Jan/2006:15:04:05 -0700"),
		"request_uri": l.RequestURI, "http_status": l.HTTPStatus, "sent_bytes": num(l.SentBytes),
		"request_time": num(l.RequestTime), "referer": str(l.Referer), "user_agent": str(l.UserAgent),
		"host": str(l.Host), "request_id": l.RequestID, "logging_flag": l.LoggingFlag,
		"requester_aliyun_id": str(l.RequesterID), "operation": l.Operation, "bucket": l.Bucket,
		"key": str(l.Key), "object_size": num(l.ObjectSize), "server_cost_time": num(l.ServerCostTime),
		"error_code": str(l.ErrorCode), "request_length": num(l.RequestLength), "user_id": str(l.UserID),
		"delta_data_size": num(l.DeltaDataSize), "sync_request": str(l.SyncRequest),
		"storage_class": str(l.StorageClass), "target_storage_class": str(l.TargetStorageClass),
		"transmission_acceleration_access_point": str(l.AccessPoint), "accesskey_id": str(l.AccessKeyID),
		"user_defined_log_fields": str(userDefined),
	}
	return m
}
