package httpapi

import (
	"net"
	"net/http"
	"time"
)

// Entry is what the access log needs to know of one request. The HTTP
// layer fills it; accesslog turns it into an OSS log line. Each field's
// source is noted; the numbers are the OSS log line's columns.
type Entry struct {
	Time         time.Time     // 4: when the request arrived (first byte of headers parsed)
	RemoteIP     string        // 1: TCP peer address, without port
	Method       string        // 5: request line method
	URI          string        // 5: request-target as sent (path and query)
	Proto        string        // 5: HTTP version
	Status       int           // 6: status code written
	SentBytes    int64         // 7: body bytes written
	RequestTime  time.Duration // 8: arrival to handler return
	Referer      string        // 9: Referer header
	UserAgent    string        // 10: User-Agent header
	Host         string        // 11: Host header
	RequestID    string        // 12: x-oss-request-id
	Requester    string        // 14: account id of the signer; "" when anonymous
	Operation    string        // 15: OSS operation name
	Bucket       string        // 16: bucket addressed
	Key          string        // 17: object key addressed (raw; encoded by the line encoder)
	ObjectSize   int64         // 18: size of the object read or written; -1 for none
	ServerCost   time.Duration // 19: time spent in the service call
	ErrorCode    string        // 20: OSS error code; "" on success
	RequestLen   int64         // 21: request line + headers + body bytes read
	Owner        string        // 22: bucket owner's account id
	Delta        int64         // 23: change of bucket size; 0 means none ("-")
	HasDelta     bool
	StorageClass string // 25: object's storage class
	TargetClass  string // 26: target storage class (copy with class change)
	AccessKeyID  string // 28: access key id of the signer
	// Headers and Query feed the user-defined log fields (real-time view).
	Headers http.Header
	Query   map[string][]string
	// TargetBucket and TargetPrefix: the bucket's logging rule at the time
	// of the request.
	TargetBucket, TargetPrefix      string
	LogFieldHeaders, LogFieldParams []string
}

func newEntry(rq *request, now time.Time) *Entry {
	r := rq.r
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	return &Entry{
		Time: now, RemoteIP: ip, Method: r.Method, URI: r.RequestURI, Proto: r.Proto,
		Referer: r.Referer(), UserAgent: r.UserAgent(), Host: r.Host, RequestID: rq.id,
		ObjectSize: -1,
	}
}

// complete fills what is known only at the end.
func (e *Entry) complete(rq *request, now time.Time) {
	e.Status = rq.w.status
	if e.Status == 0 {
		e.Status = http.StatusOK
	}
	e.SentBytes = rq.w.n
	e.RequestTime = now.Sub(e.Time)
	if e.ServerCost == 0 {
		e.ServerCost = e.RequestTime
	}
	e.Operation = string(rq.op)
	e.Bucket = rq.bucket
	e.Key = rq.key
	e.Owner = rq.b.Owner
	e.RequestLen = requestHeaderLen(rq.r) + rq.bodyRead()
	e.TargetBucket = rq.b.Logging.TargetBucket
	e.TargetPrefix = rq.b.Logging.TargetPrefix
	if rq.b.LogFields != nil {
		e.Headers = rq.r.Header
		e.Query = rq.r.URL.Query()
		e.LogFieldHeaders = rq.b.LogFields.Headers
		e.LogFieldParams = rq.b.LogFields.Params
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
