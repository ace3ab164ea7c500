package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/osslog"
)

// A request's access-log record is one accesslog.Record from the edge to
// the journal: ServeHTTP opens it (newRecord) with what the request line
// and headers say, handlers add what only they know, and finish completes
// it (completeRecord) and hands it to the LogSink. Where each of the OSS
// line's columns comes from:
//
//	 1 RemoteIP        TCP peer address, without port
//	 4 Time            when the request arrived (headers parsed)
//	 5 RequestURI      method, request-target as sent, protocol
//	 6 HTTPStatus      status code written
//	 7 SentBytes       body bytes written (the held-back last byte included)
//	 8 RequestTime     arrival to handler return, ms
//	 9 Referer, 10 UserAgent, 11 Host: the request's headers
//	12 RequestID       x-oss-request-id
//	14 RequesterID     account id of the signer; "" when anonymous
//	15 Operation       OSS operation name (routing)
//	16 Bucket, 17 Key  addressed (the key raw; the line encoder escapes it)
//	18 ObjectSize      set by handlers: size of the object read or written
//	19 ServerCostTime  set by handlers (rq.serverCost): time in the service call
//	20 ErrorCode       set by the error writer
//	21 RequestLength   request line + headers + body bytes read
//	22 UserID          bucket owner's account id
//	23 DeltaDataSize   set by handlers (logDelta): change of bucket size
//	25 StorageClass, 26 TargetStorageClass: set by handlers, lower-cased here
//	28 AccessKeyID     access key id of the signer (set after auth)
//
// SourceBucket, TargetBucket and TargetPrefix route the record: the
// bucket's logging rule at the time of the request. UserDefined is the
// user-defined log fields' value (the real-time view).
func newRecord(rq *request, now time.Time) *accesslog.Record {
	r := rq.r
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	return &accesslog.Record{Line: osslog.Line{
		RemoteIP: ip, Reserved1: "-", Reserved2: "-", Time: now,
		Referer: r.Referer(), UserAgent: r.UserAgent(), Host: r.Host, RequestID: rq.id,
		LoggingFlag: "true", ObjectSize: osslog.Absent, DeltaDataSize: osslog.AbsentDelta,
	}}
}

// logDelta is the DeltaDataSize column for a change of d bytes: OSS writes
// "-" when the bucket's size did not change.
func logDelta(d int64) int64 {
	if d == 0 {
		return osslog.AbsentDelta
	}
	return d
}

// completeRecord fills what is known only at the end.
func completeRecord(rq *request, now time.Time) {
	status := rq.w.status
	if status == 0 {
		status = http.StatusOK
	}
	// The held-back last byte is sent right after the append.
	fillRecord(rq, rq.entry, status, rq.w.n+int64(len(rq.w.held)), now)
}

// fillRecord fills e as completeRecord does, for a response with status and
// sent body bytes, finished at now.
func fillRecord(rq *request, e *accesslog.Record, status int, sent int64, now time.Time) {
	r := rq.r
	e.RequestURI = r.Method + " " + r.RequestURI + " " + r.Proto
	e.HTTPStatus = status
	e.SentBytes = sent
	total := now.Sub(e.Time)
	e.RequestTime = total.Milliseconds()
	cost := rq.serverCost
	if cost == 0 {
		cost = total
	}
	e.ServerCostTime = cost.Milliseconds()
	e.Operation = string(rq.op)
	e.Bucket, e.SourceBucket = rq.bucket, rq.bucket
	e.Key = rq.key
	e.UserID = rq.b.Owner
	e.RequestLength = requestHeaderLen(rq.r) + rq.bodyRead()
	// OSS writes storage classes lower-case in this column ("standard").
	e.StorageClass = strings.ToLower(e.StorageClass)
	e.TargetStorageClass = strings.ToLower(e.TargetStorageClass)
	e.TargetBucket = rq.b.Logging.TargetBucket
	e.TargetPrefix = rq.b.Logging.TargetPrefix
	if lf := rq.b.LogFields; lf != nil && len(lf.Headers)+len(lf.Params) > 0 {
		e.UserDefined = userDefinedFields(rq.r, lf.Headers, lf.Params)
	}
}

// logWritten sets the columns a successful write fills.
func logWritten(e *accesslog.Record, w *service.Written) {
	e.ObjectSize = w.Version.Size
	e.DeltaDataSize = logDelta(w.Delta)
	e.StorageClass = w.Version.StorageClass
}

// overlapLog returns, for a write whose record may be appended before its
// metadata commit is durable (the always mode: LogSink.Provisional), the
// hook the service calls when the commit's transaction has accepted the
// write (PutInput.Accepted). It appends the record the request will log if
// it succeeds as the commit says, now, so that its sync runs alongside the
// commit's; finish settles it with the record the request actually ends
// with. It returns nil when the request is not logged, or when its
// success response is not known ahead (an upload callback decides it).
func (h *Handler) overlapLog(rq *request) func(*service.Written) {
	if h.cfg.LogSink == nil || rq.b == nil || rq.b.Logging == nil || rq.internal() || rq.unlogged ||
		rq.r.Header.Get("x-oss-callback") != "" {
		return nil
	}
	return func(w *service.Written) {
		if rq.prov != nil {
			return // a rerun of the transaction: finish compares and settles
		}
		e := *rq.entry
		e.Extra = slices.Clone(e.Extra)
		logWritten(&e, w)
		fillRecord(rq, &e, http.StatusOK, 0, h.cfg.Now())
		p, err := h.cfg.LogSink.Provisional(context.WithoutCancel(rq.ctx), &e)
		if err != nil {
			// finish appends the record as usual, and fails the request if
			// that fails too.
			h.log.Warn("access log: provisional append failed", "request_id", rq.id, "err", err)
			return
		}
		rq.prov = p
	}
}

// requestHeaderLen estimates the bytes of the request line and headers as
// sent (net/http does not keep the raw header block).
func requestHeaderLen(r *http.Request) int64 {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return int64(n + 2)
}

// maxUserDefined is OSS's cap on the keys and values of the user-defined
// log fields, in bytes.
const maxUserDefined = 1024

// userDefinedFields builds user_defined_log_fields: base64 of
// {"truncated":bool,"headers":{…},"querys":{…}} with the configured headers
// and query parameters that the request carried. Values are cut, and
// truncated set, once keys and values reach 1024 bytes.
func userDefinedFields(r *http.Request, hdrs, params []string) string {
	budget := maxUserDefined
	truncated := false
	take := func(k, v string) (string, bool) {
		if budget <= 0 {
			truncated = true
			return "", false
		}
		budget -= len(k)
		if budget < 0 {
			truncated = true
			return "", false
		}
		if len(v) > budget {
			v = v[:budget]
			truncated = true
		}
		budget -= len(v)
		return v, true
	}
	headers, querys := map[string]string{}, map[string]string{}
	for _, h := range hdrs {
		if v := r.Header.Get(h); v != "" {
			if v, ok := take(h, v); ok {
				headers[h] = v
			}
		}
	}
	q := r.URL.Query()
	for _, p := range params {
		if vs, ok := q[p]; ok && len(vs) > 0 {
			if v, ok := take(p, vs[0]); ok {
				querys[p] = v
			}
		}
	}
	raw, _ := json.Marshal(struct {
		Truncated bool              `json:"truncated"`
		Headers   map[string]string `json:"headers"`
		Querys    map[string]string `json:"querys"`
	}{truncated, headers, querys})
	return base64.StdEncoding.EncodeToString(raw)
}
