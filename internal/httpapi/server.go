// Package httpapi is ossd's HTTP layer: it turns requests into service
// calls and results into OSS responses. Every request goes through
// ServeHTTP, which opens its access-log entry, resolves bucket, key and
// operation, authenticates, dispatches to a handler that returns an error,
// writes any error as OSS XML in one place, and commits the log entry in
// one deferred call.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// Accounts resolves access keys.
type Accounts interface {
	// Lookup returns the secret and the account of an access key.
	Lookup(accessKeyID string) (secret string, acct service.Account, ok bool)
}

// LogSink receives the access-log record of every request to a bucket
// whose logging is on. Log must return only when the record is as safe as
// the log's durability mode promises (written to the journal, or synced):
// the response is completed after it returns, and an error fails the
// request. The record is the handler's; Log must not keep it.
type LogSink interface {
	Log(ctx context.Context, r *accesslog.Record) error
	// Provisional appends r before the request's outcome is known, so that
	// its sync overlaps the request's metadata commit (the always mode:
	// accesslog.Log.AppendProvisional); it returns nil, nil when the log's
	// mode has nothing to overlap. Settle then resolves it with the
	// request's final record, in place of Log, with Log's contract.
	Provisional(ctx context.Context, r *accesslog.Record) (*accesslog.Provisional, error)
	Settle(ctx context.Context, p *accesslog.Provisional, final *accesslog.Record) error
	// Healthy returns an error while the log cannot take records; requests
	// to logged buckets are then refused before anything is done.
	Healthy() error
}

// Config configures a Handler.
type Config struct {
	Service  *service.Service
	Accounts Accounts
	Region   string
	// Domains are the base domains of virtual-hosted addressing:
	// a request to <bucket>.<domain> addresses <bucket>.
	Domains []string
	Now     func() time.Time
	Logger  *slog.Logger
	LogSink LogSink
	// Admin serves /-/ossd/ admin endpoints (flush, status); nil disables.
	Admin http.Handler
	// MaxXMLBody caps XML request bodies.
	MaxXMLBody int64
	// BodyReadTimeout: a request body read fails with RequestTimeout, and
	// the connection is closed, when no byte arrives for this long. Zero
	// disables. (A whole-request timeout would cut off slow large uploads.)
	BodyReadTimeout time.Duration
	// BodyWriteTimeout: a response write fails, and the connection is
	// closed, when the client takes no byte for this long (see sendIdle
	// for how object bodies sent by sendfile are measured). Zero disables.
	BodyWriteTimeout time.Duration
	// Metrics counts every API request (operation, status, duration,
	// bytes); nil counts nothing.
	Metrics *metrics.Metrics
	// CallbackPolicy decides which addresses upload callbacks may reach
	// (nil: public addresses only).
	CallbackPolicy *CallbackPolicy
	// CallbackClient sends upload callbacks; nil means CallbackPolicy's
	// Client. Tests replace it.
	CallbackClient *http.Client
}

// Handler is the OSS API http.Handler.
type Handler struct {
	cfg      Config
	svc      *service.Service
	log      *slog.Logger
	cbPolicy *CallbackPolicy
	cbClient *http.Client
	seq      atomic.Uint64
	boot     [4]byte
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxXMLBody == 0 {
		cfg.MaxXMLBody = 1 << 20
	}
	h := &Handler{cfg: cfg, svc: cfg.Service, log: cfg.Logger, cbPolicy: cfg.CallbackPolicy, cbClient: cfg.CallbackClient}
	if h.cbPolicy == nil {
		h.cbPolicy = &CallbackPolicy{}
	}
	if h.cbClient == nil {
		h.cbClient = h.cbPolicy.Client()
	}
	rand.Read(h.boot[:])
	return h
}

// request is the state of one request as it moves through the layer.
type request struct {
	r      *http.Request
	w      *respWriter
	id     string
	start  time.Time
	op     oss.Op
	bucket string
	key    string
	q      query
	auth   auth.Result
	p      service.Principal
	b      *service.Bucket   // loaded for bucket- and object-level requests
	entry  *accesslog.Record // the access-log record (entry.go)
	// prov is the record appended ahead of the metadata commit (overlapLog);
	// finish settles it.
	prov *accesslog.Provisional
	// serverCost: time spent in the service call (0: the whole request).
	serverCost time.Duration
	// srcVersioned: the copy source's bucket has versioning, so its
	// version id is reported even when it is "null".
	srcVersioned bool
	// s3: the request speaks the S3 dialect (see s3.go).
	s3 bool
	// unlogged: refused because the access log is unavailable; nothing
	// was done, and there is nowhere to log it.
	unlogged bool
	// callbackVars: a form upload's custom callback variables (its "x:"
	// fields, as named); nil: x-oss-callback-var carries them.
	callbackVars map[string]string
	ctx          context.Context
}

// newRequestID returns 24 upper-case hex digits, as OSS's request ids:
// seconds since the epoch, a per-process random part and a counter, so
// ids are unique and roughly ordered.
func (h *Handler) newRequestID(now time.Time) string {
	var b [12]byte
	s := uint32(now.Unix())
	b[0], b[1], b[2], b[3] = byte(s>>24), byte(s>>16), byte(s>>8), byte(s)
	copy(b[4:8], h.boot[:])
	n := h.seq.Add(1)
	b[8], b[9], b[10], b[11] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Admin != nil && strings.HasPrefix(r.URL.Path, AdminPrefix) && h.hostBucket(r.Host) == "" {
		h.cfg.Admin.ServeHTTP(w, r)
		return
	}
	now := h.cfg.Now()
	rq := &request{r: r, id: h.newRequestID(now), start: now, ctx: r.Context()}
	rq.w = newRespWriter(w)
	if rq.s3 = isS3(r); rq.s3 {
		rq.w.onHeader = func(hdr http.Header) { translateS3Response(rq, hdr) }
	}
	var rc *http.ResponseController
	if h.cfg.BodyReadTimeout > 0 || h.cfg.BodyWriteTimeout > 0 {
		rc = http.NewResponseController(w)
		rq.w.wdl = newIdleDeadline(rc.SetWriteDeadline, h.cfg.BodyWriteTimeout)
	}
	if r.Body != nil && r.Body != http.NoBody {
		cb := &countingBody{ReadCloser: r.Body, declared: r.ContentLength}
		rq.w.body = cb
		if dl := newIdleDeadline(func(t time.Time) error { return rc.SetReadDeadline(t) }, h.cfg.BodyReadTimeout); dl != nil {
			cb.idle = &readIdle{dl: dl, hdr: w.Header()}
			rq.w.ridle = cb.idle
		}
		// The wrapped body goes on a shallow copy: net/http keeps its own
		// request, whose body tells it how much of the body is unread when
		// the response goes out (it closes the connection rather than
		// wait for more than 256 KiB nobody will read; with a wrapper in
		// its place it waits for up to that much first, forever if the
		// client sends none).
		r = r.WithContext(r.Context())
		r.Body = cb
		rq.r = r
	}
	rq.entry = newRecord(rq, now)
	hdr := w.Header()
	hdr.Set("Server", "AliyunOSS")
	hdr.Set("Date", now.UTC().Format(http.TimeFormat))
	hdr.Set("x-oss-request-id", rq.id)
	defer h.finish(rq)

	if err := h.serve(rq); err != nil {
		h.writeError(rq, err)
	}
}

func (h *Handler) serve(rq *request) error {
	if err := h.parse(rq); err != nil {
		return err
	}
	// OSS answers NoSuchBucket before it looks at the signature: a missing
	// bucket is reported as such whatever key signed the request (SDKs'
	// IsBucketExist relies on it).
	if rq.bucket != "" && rq.op != oss.OpPutBucket {
		b, err := h.svc.Bucket(rq.ctx, rq.bucket)
		if err != nil {
			return err
		}
		rq.b = b
		corsHeaders(rq)
		if b.Logging != nil && h.cfg.LogSink != nil {
			if err := h.cfg.LogSink.Healthy(); err != nil {
				h.log.Error("access log unavailable: refusing request to logged bucket", "bucket", rq.bucket, "err", err)
				rq.unlogged = true
				return oss.ErrInsufficientStorage
			}
		}
	}
	if rq.op == oss.OpOptionObject && rq.r.Header.Get("Authorization") == "" {
		// A CORS preflight is answered from the bucket's rules alone, and
		// browsers send it without credentials. Its URL may still be a
		// presigned one, whose signature covers the method of the request
		// to come, not OPTIONS: that signature is not checked (S3 does not
		// either). A preflight with an Authorization header is verified
		// like any request.
		return h.optionObject(rq)
	}
	if len(rq.r.TransferEncoding) > 0 && rq.r.Header.Get("Transfer-Encoding") == "" {
		// net/http moves Transfer-Encoding out of the header map; a client
		// that signed it (boto3 signs every header it sets) must find it
		// where the signature's canonical headers are read from.
		rq.r.Header.Set("Transfer-Encoding", strings.Join(rq.r.TransferEncoding, ", "))
	}
	res, err := auth.Verify(auth.Input{
		Method: rq.r.Method, Host: rq.r.Host, Path: rq.r.URL.EscapedPath(), Bucket: rq.bucket, Key: rq.key, RawQuery: rq.r.URL.RawQuery,
		Header: rq.r.Header, Now: h.cfg.Now(), Region: h.cfg.Region,
	}, h.lookupSecret)
	rq.auth = res
	rq.entry.AccessKeyID = res.AccessKeyID
	if err != nil {
		return err
	}
	if rq.s3 {
		translateS3Request(rq)
	}
	if res.PayloadSHA256 != "" && rq.r.Body != nil {
		// The client signed a hash of the body: the service checks it
		// once the body is read, before anything becomes visible.
		rq.r.Body = newPayloadVerifier(rq.r.Body, res)
	}
	if ce := rq.r.Header.Get("Content-Encoding"); rq.s3 && strings.Contains(strings.ToLower(ce), "aws-chunked") {
		// aws-chunked describes the request's framing, not the object:
		// S3 never stores it, whether or not the body was framed so.
		if ce = auth.TrimAWSChunked(ce); ce != "" {
			rq.r.Header.Set("Content-Encoding", ce)
		} else {
			rq.r.Header.Del("Content-Encoding")
		}
	}
	if rq.s3 && rq.r.Body != nil {
		var trailer func(string) string
		if st := res.Streaming; st != nil {
			// aws-chunked: the object is the decoded body; chunk and
			// trailer signatures are checked as it is read.
			cr := st.NewReader(rq.r.Body)
			rq.r.Body = cr
			rq.r.ContentLength = st.DecodedLength
			trailer = func(name string) string { return cr.Trailer().Get(name) }
		}
		if err := wrapChecksum(rq, trailer); err != nil {
			return err
		}
	}
	if res.AccessKeyID != "" {
		_, acct, _ := h.cfg.Accounts.Lookup(res.AccessKeyID)
		rq.p = service.Principal{Account: acct, AccessKeyID: res.AccessKeyID}
		rq.entry.RequesterID = acct.ID
	}
	if rq.op == oss.OpNotImplemented {
		return oss.ErrNotImplemented
	}
	if want := rq.r.Header.Get("x-amz-expected-bucket-owner"); rq.s3 && want != "" && rq.b != nil && want != rq.b.Owner {
		// S3's guard against writing to or reading from a bucket that
		// changed hands: the caller names the owner it expects.
		return oss.ErrAccessDenied.WithMessage("Access Denied")
	}
	switch rq.op {
	case oss.OpListBuckets:
		return h.listBuckets(rq)
	case oss.OpDescribeRegions:
		return h.describeRegions(rq)
	case oss.OpPutAccountPublicAccessBlock, oss.OpGetAccountPublicAccessBlock, oss.OpDelAccountPublicAccessBlock:
		return h.accountPublicAccessBlock(rq)
	case oss.OpPutBucket:
		rq.b, _ = h.svc.Bucket(rq.ctx, rq.bucket)
		return h.putBucket(rq)
	}
	b := rq.b
	rq.ctx = service.WithRequest(rq.ctx, policyRequest(rq)) // what a bucket policy sees
	hd := handlers[rq.op]
	if hd.fn == nil {
		return oss.ErrNotImplemented
	}
	if hd.access == service.AccessOwner || rq.key == "" || hd.objectACL == false {
		ctx := h.svc.WithExistingObjectTags(rq.ctx, b, rq.key, rq.q.get("versionId"))
		if err := h.svc.Authorize(ctx, rq.p, hd.access, b, ""); err != nil {
			return h.deniedFor(rq, err)
		}
	}
	return hd.fn(h, rq)
}

func (h *Handler) lookupSecret(ak string) (string, bool) {
	s, _, ok := h.cfg.Accounts.Lookup(ak)
	return s, ok
}

// deniedFor gives a refusal the EC OSS documents for rq's operation.
func (h *Handler) deniedFor(rq *request, err error) error {
	var oe *oss.Error
	if ec := deniedEC[rq.op]; ec != "" && errors.As(err, &oe) {
		return oe.WithEC(ec)
	}
	return err
}

// authorizeObject checks access that depends on version v's own ACL.
func (h *Handler) authorizeObject(rq *request, access service.Access, v *service.Version) error {
	ctx := rq.ctx
	if rq.b != nil && rq.b.Policy != "" && v != nil {
		// A bucket policy may test the object's tags (ExistingObjectTag).
		ri := policyRequest(rq)
		ri.ObjectTags = service.TagMap(v.Tags)
		ctx = service.WithRequest(ctx, ri)
	}
	return h.svc.AuthorizeVersion(ctx, rq.p, access, rq.b, v)
}

// finish completes the access-log entry; it runs once per request, after
// the handler returned, from ServeHTTP's defer.
func (h *Handler) finish(rq *request) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			if rq.prov != nil {
				// The response was cut off after the commit accepted the
				// write. A provisional record must be settled, or delivery
				// would hold its stream: log what was sent.
				completeRecord(rq, h.cfg.Now())
				h.cfg.LogSink.Settle(context.WithoutCancel(rq.ctx), rq.prov, rq.entry)
			}
			panic(p)
		}
		h.log.Error("panic serving request", "request_id", rq.id, "panic", p)
		if !rq.w.wroteHeader {
			h.writeError(rq, errors.New("panic"))
		}
	}
	if h.cfg.Metrics != nil {
		defer h.observe(rq) // last: after the held-back byte went out
	}
	// The held-back last byte goes out once the record is durable (or when
	// there is nothing to log); a failed append aborts the connection
	// instead, so the client never sees the response complete.
	defer rq.w.release()
	if rq.prov == nil && (h.cfg.LogSink == nil || rq.b == nil || rq.b.Logging == nil || rq.internal() || rq.unlogged) {
		return
	}
	completeRecord(rq, h.cfg.Now())
	var err error
	if rq.prov != nil {
		err = h.cfg.LogSink.Settle(context.WithoutCancel(rq.ctx), rq.prov, rq.entry)
	} else {
		err = h.cfg.LogSink.Log(context.WithoutCancel(rq.ctx), rq.entry)
	}
	if err != nil {
		h.log.Error("access log append failed", "request_id", rq.id, "bucket", rq.bucket, "err", err)
		// Abort the connection with the last byte still held, so the
		// client never sees an acknowledged but unlogged request.
		rq.w.held = nil
		panic(http.ErrAbortHandler)
	}
}

// observe counts the request in the metrics once its response is done.
func (h *Handler) observe(rq *request) {
	op := string(rq.op)
	if op == "" {
		op = string(oss.OpUnknown)
	}
	status := rq.w.status
	if status == 0 {
		status = http.StatusOK
	}
	var in int64
	if rq.w.body != nil {
		in = rq.w.body.n
	}
	h.cfg.Metrics.ObserveRequest(op, status, h.cfg.Now().Sub(rq.start), in, rq.w.n+int64(len(rq.w.held)))
}

func (rq *request) internal() bool { return rq.p.Internal }
