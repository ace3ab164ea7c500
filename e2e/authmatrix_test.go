package e2e

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/server"
	"github.com/ossd/ossd/ossdtest"
)

// The authorization matrix: every operation ossd implements, sent over the
// wire by every kind of caller (the owner, anonymous users, another
// account, bad credentials in both OSS signature versions, expired
// presigned URLs, skewed clocks) against buckets of every ACL. Each cell
// asserts OSS's answer, and a refused write must leave the server's state
// exactly as it was, which the owner checks by reading it before and after.

// amClass is what an operation needs from a caller who is not the bucket
// owner; it decides every ACL-dependent cell of the operation's row.
type amClass int

const (
	// amService: service level (ListBuckets, PutBucket): any account,
	// never anonymous; bucket ACLs do not apply.
	amService amClass = iota
	// amOwner: bucket configuration and ACLs: the owner only, whatever
	// the ACL says.
	amOwner
	// amRead: granted by public-read and public-read-write.
	amRead
	// amWrite: granted by public-read-write only.
	amWrite
)

// amKind is the bucket a cell runs against.
type amKind int

const (
	amPrivate           amKind = iota // private; Block Public Access on (the default)
	amPublicReadBlocked               // public-read, but Block Public Access still on
	amPublicRead                      // public-read, Block Public Access off
	amPublicReadWrite                 // public-read-write, Block Public Access off
)

func (k amKind) acl() string {
	switch k {
	case amPublicRead, amPublicReadBlocked:
		return "public-read"
	case amPublicReadWrite:
		return "public-read-write"
	}
	return "private"
}

func (k amKind) blocked() bool { return k == amPrivate || k == amPublicReadBlocked }

// grants reports whether the kind's ACL lets someone other than the owner
// do an operation of class c.
func (k amKind) grants(c amClass) bool {
	switch k {
	case amPublicRead:
		return c == amRead
	case amPublicReadWrite:
		return c == amRead || c == amWrite
	}
	return false
}

// amWant is an expected OSS error.
type amWant struct {
	status  int
	code    string
	ec      string // "" where OSS publishes no EC for the case
	message string // "" where OSS's wording is not known
}

// The answers whose wire form OSS documents (EC pages at
// help.aliyun.com/.../<EC>; messages as OSS sends them).
var (
	amDeniedByACL = amWant{http.StatusForbidden, "AccessDenied", "0003-00000001", "You have no right to access this object because of bucket acl."}
	// A public ACL the bucket's Block Public Access overrides: OSS lists
	// this cause under 0003-00000001 but publishes no wording.
	amDeniedBlocked = amWant{http.StatusForbidden, "AccessDenied", "0003-00000001", ""}
	// Setting a public ACL while the block is on (OSS's wording and EC, as
	// its responses show them).
	amPublicObjectACLBlocked = amWant{http.StatusForbidden, "AccessDenied", "0016-00000901", "Put public object acl is not allowed"}
	amPublicBucketACLBlocked = amWant{http.StatusForbidden, "AccessDenied", "", "Put public bucket acl is not allowed"}
	// Owner-only operations and service-level refusals: OSS's EC and
	// wording for these are not published (but see amOp.deniedEC);
	// code and status are.
	amDenied     = amWant{http.StatusForbidden, "AccessDenied", "", ""}
	amNoSuchKey  = amWant{http.StatusNotFound, "NoSuchKey", "0026-00000001", "The specified key does not exist."}
	amUnknownKey = amWant{http.StatusForbidden, "InvalidAccessKeyId", "0002-00000902", "The OSS Access Key Id you provided does not exist in our records."}
	amBadSigV1   = amWant{http.StatusForbidden, "SignatureDoesNotMatch", "0002-00000040", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	amBadSigV4   = amWant{http.StatusForbidden, "SignatureDoesNotMatch", "0002-00000201", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	amSkewed     = amWant{http.StatusForbidden, "RequestTimeTooSkewed", "0002-00000504", "The difference between the request time and the current time is too large."}
	amExpiredV1  = amWant{http.StatusForbidden, "AccessDenied", "0002-00000069", "Request has expired."}
	amExpiredV4  = amWant{http.StatusForbidden, "AccessDenied", "0002-00000236", "Request has expired."}
)

// amNobodyKeyID is an access key id no account has.
const amNobodyKeyID = "LTAInobody0000000000"

// amWho is the identity behind a caller.
type amWho int

const (
	amIsOwner amWho = iota
	amIsAnonymous
	amIsOther
	amIsNobody // credentials that are refused before any ACL is looked at
)

// amCaller is one column of the matrix.
type amCaller struct {
	name string
	who  amWho
	kind amKind
	// sign authenticates r (bucket and key decoded); nil sends it anonymous.
	sign func(e *amEnv, r *http.Request, bucket, key string)
	// bad is the answer to credentials that are refused whatever the
	// operation; nil when the caller authenticates.
	bad *amWant
}

// amReq is the request of one cell and what proves its effect.
type amReq struct {
	method, bucket, key, query string
	hdr                        map[string]string
	body                       string
	ok                         int // status on success
	// okErr, if set, is the answer to a caller who may do the operation
	// (a read of a key that does not exist); ok is then unused.
	okErr *amWant
	// probes are what the owner reads to see the operation's effect: a
	// refused request leaves them unchanged, a successful write changes
	// them.
	probes []amProbe
	// check, if set, inspects a successful response.
	check func(t *testing.T, r rawResp, c amCaller)
}

type amProbe struct{ bucket, key, query string }

// amOp is one row of the matrix.
type amOp struct {
	name  string
	class amClass
	// writes: success changes state the probes can see.
	writes bool
	// fresh: the operation changes the bucket itself, so every cell gets
	// a bucket of its own instead of the shared one of its kind.
	fresh bool
	prep  func(e *amEnv, t *testing.T, b string, k amKind) amReq
	// deniedEC is the EC OSS documents for refusing this operation, where
	// it has one of its own.
	deniedEC string
	// deny, if set, decides the cells of authenticated and anonymous
	// callers other than the owner instead of the class.
	deny func(c amCaller) *amWant
}

// amEnv is the one server every cell runs against.
type amEnv struct {
	srv    *ossdtest.Server
	other  server.User
	shared map[amKind]string
	seq    atomic.Int64
}

func (e *amEnv) name(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, e.seq.Add(1))
}

// send makes a path-style request, signs it with sign (nil: anonymous)
// and returns the answer.
func (e *amEnv) send(t *testing.T, method, bucket, key, query string, hdr map[string]string, body string, sign func(r *http.Request)) rawResp {
	t.Helper()
	u := e.srv.Endpoint + "/"
	if bucket != "" {
		u += bucket + "/" + (&urlPath{key}).String()
	}
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if sign != nil {
		sign(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, u, err)
	}
	return rawResp{resp.StatusCode, resp.Header, string(b)}
}

// owner sends a request signed (OSS V4) by the bucket owner.
func (e *amEnv) owner(t *testing.T, method, bucket, key, query string, hdr map[string]string, body string) rawResp {
	t.Helper()
	return e.send(t, method, bucket, key, query, hdr, body, func(r *http.Request) {
		auth.SignV4(r, bucket, key, e.srv.AccessKeyID, e.srv.AccessKeySecret, e.srv.Region, time.Now())
	})
}

// must is owner for setup steps, which must succeed.
func (e *amEnv) must(t *testing.T, method, bucket, key, query string, hdr map[string]string, body string) rawResp {
	t.Helper()
	r := e.owner(t, method, bucket, key, query, hdr, body)
	if r.status >= 300 {
		t.Fatalf("setup %s /%s/%s?%s: %d %s", method, bucket, key, query, r.status, r.body)
	}
	return r
}

// newBucket creates a bucket of kind k owned by the owner.
func (e *amEnv) newBucket(t *testing.T, k amKind) string {
	t.Helper()
	b := e.name("am")
	e.must(t, http.MethodPut, b, "", "", nil, "")
	if k.acl() != "private" {
		// OSS refuses a public ACL while the block is on, and new buckets
		// start blocked: lift it, set the ACL, and put it back if wanted.
		e.setBlock(t, b, false)
		e.must(t, http.MethodPut, b, "", "acl", map[string]string{"x-oss-acl": k.acl()}, "")
	}
	e.setBlock(t, b, k.blocked())
	return b
}

func (e *amEnv) setBlock(t *testing.T, b string, on bool) {
	t.Helper()
	e.must(t, http.MethodPut, b, "", "publicAccessBlock", nil,
		fmt.Sprintf("<PublicAccessBlockConfiguration><BlockPublicAccess>%t</BlockPublicAccess></PublicAccessBlockConfiguration>", on))
}

func (e *amEnv) putObject(t *testing.T, b, k, data string, hdr map[string]string) {
	t.Helper()
	e.must(t, http.MethodPut, b, k, "", hdr, data)
}

var amUploadID = regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`)

func (e *amEnv) initiate(t *testing.T, b, k string) string {
	t.Helper()
	r := e.must(t, http.MethodPost, b, k, "uploads", nil, "")
	m := amUploadID.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("InitiateMultipartUpload: no UploadId in %s", r.body)
	}
	return m[1]
}

// snapshot is the state the probes see, as the owner reads it: the body
// of a success, the status and code of an error (whose body carries a
// fresh request id).
func (e *amEnv) snapshot(t *testing.T, probes []amProbe) string {
	t.Helper()
	var b strings.Builder
	for _, p := range probes {
		r := e.owner(t, http.MethodGet, p.bucket, p.key, p.query, nil, "")
		if r.status < 300 {
			fmt.Fprintf(&b, "%s/%s?%s: %d %s\n", p.bucket, p.key, p.query, r.status, r.body)
		} else {
			fmt.Fprintf(&b, "%s/%s?%s: %d %s\n", p.bucket, p.key, p.query, r.status, amParseError(t, r, false).Code)
		}
	}
	return b.String()
}

// amError is OSS's error body.
type amError struct {
	Code, Message, RequestId, HostId, EC string
}

// amParseError decodes an error body; for HEAD, OSS sends it base64 in
// x-oss-err because the response has no body.
func amParseError(t *testing.T, r rawResp, head bool) amError {
	t.Helper()
	raw := []byte(r.body)
	if head {
		if r.body != "" {
			t.Errorf("HEAD error with a body: %q", r.body)
		}
		var err error
		if raw, err = base64.StdEncoding.DecodeString(r.hdr.Get("x-oss-err")); err != nil || len(raw) == 0 {
			t.Fatalf("HEAD error %d: x-oss-err %q is not a base64 error body (%v)", r.status, r.hdr.Get("x-oss-err"), err)
		}
	}
	var e amError
	if err := xml.Unmarshal(raw, &e); err != nil {
		t.Fatalf("status %d: error body is not OSS XML: %v: %q", r.status, err, raw)
	}
	return e
}

// amCheckError asserts that r is the OSS error w, complete: status, Code,
// EC in body and header, RequestId matching the header, HostId.
func amCheckError(t *testing.T, r rawResp, head bool, w amWant) {
	t.Helper()
	if r.status != w.status {
		t.Fatalf("status %d, want %d %s: %s", r.status, w.status, w.code, r.body)
	}
	e := amParseError(t, r, head)
	if e.Code != w.code {
		t.Errorf("Code %q, want %q (message %q)", e.Code, w.code, e.Message)
	}
	if e.EC == "" || e.EC != r.hdr.Get("x-oss-ec") {
		t.Errorf("EC %q, x-oss-ec %q: want both, equal", e.EC, r.hdr.Get("x-oss-ec"))
	}
	if w.ec != "" && e.EC != w.ec {
		t.Errorf("EC %q, want %q", e.EC, w.ec)
	}
	if w.message != "" && e.Message != w.message {
		t.Errorf("Message %q, want %q", e.Message, w.message)
	}
	if e.RequestId == "" || e.RequestId != r.hdr.Get("x-oss-request-id") {
		t.Errorf("RequestId %q, x-oss-request-id %q", e.RequestId, r.hdr.Get("x-oss-request-id"))
	}
	if e.HostId == "" {
		t.Errorf("no HostId")
	}
}

// amExpect is the answer of cell (op, caller): nil for success.
func amExpect(op amOp, c amCaller) *amWant {
	switch {
	case c.bad != nil:
		return c.bad
	case c.who == amIsOwner:
		return nil
	case op.deny != nil:
		return op.deny(c)
	case op.class == amService:
		if c.who == amIsAnonymous {
			return &amDenied
		}
		return nil // any account lists its own buckets and creates new ones
	case c.kind.grants(op.class):
		return nil
	case op.class == amOwner && op.deniedEC != "":
		return &amWant{http.StatusForbidden, "AccessDenied", op.deniedEC, ""}
	case op.class == amOwner:
		return &amDenied
	case c.kind == amPublicReadBlocked && amPublicRead.grants(op.class):
		// The ACL would grant it; the block refuses.
		return &amDeniedBlocked
	}
	return &amDeniedByACL
}

func amCallers() []amCaller {
	ownerV4 := func(e *amEnv, r *http.Request, b, k string) {
		auth.SignV4(r, b, k, e.srv.AccessKeyID, e.srv.AccessKeySecret, e.srv.Region, time.Now())
	}
	otherV4 := func(e *amEnv, r *http.Request, b, k string) {
		auth.SignV4(r, b, k, e.other.AccessKeyID, e.other.AccessKeySecret, e.srv.Region, time.Now())
	}
	// Beyond auth.MaxSkew either way.
	skew := auth.MaxSkew + 5*time.Minute
	return []amCaller{
		{name: "owner-v4", who: amIsOwner, sign: ownerV4},
		{name: "owner-v1", who: amIsOwner, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.SignV1(r, b, k, e.srv.AccessKeyID, e.srv.AccessKeySecret, time.Now())
		}},
		{name: "anonymous", who: amIsAnonymous},
		{name: "other-account", who: amIsOther, sign: otherV4},
		{name: "wrong-key-v1", who: amIsNobody, bad: &amUnknownKey, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.SignV1(r, b, k, amNobodyKeyID, e.srv.AccessKeySecret, time.Now())
		}},
		{name: "wrong-key-v4", who: amIsNobody, bad: &amUnknownKey, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.SignV4(r, b, k, amNobodyKeyID, e.srv.AccessKeySecret, e.srv.Region, time.Now())
		}},
		{name: "wrong-secret-v1", who: amIsNobody, bad: &amBadSigV1, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.SignV1(r, b, k, e.srv.AccessKeyID, "wrong-secret", time.Now())
		}},
		{name: "wrong-secret-v4", who: amIsNobody, bad: &amBadSigV4, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.SignV4(r, b, k, e.srv.AccessKeyID, "wrong-secret", e.srv.Region, time.Now())
		}},
		{name: "skewed-behind-v1", who: amIsNobody, bad: &amSkewed, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.SignV1(r, b, k, e.srv.AccessKeyID, e.srv.AccessKeySecret, time.Now().Add(-skew))
		}},
		{name: "skewed-ahead-v4", who: amIsNobody, bad: &amSkewed, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.SignV4(r, b, k, e.srv.AccessKeyID, e.srv.AccessKeySecret, e.srv.Region, time.Now().Add(skew))
		}},
		{name: "expired-presign-v1", who: amIsNobody, bad: &amExpiredV1, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.PresignV1(r, b, k, e.srv.AccessKeyID, e.srv.AccessKeySecret, time.Now().Add(-time.Minute))
		}},
		{name: "expired-presign-v4", who: amIsNobody, bad: &amExpiredV4, sign: func(e *amEnv, r *http.Request, b, k string) {
			auth.PresignV4(r, b, k, e.srv.AccessKeyID, e.srv.AccessKeySecret, e.srv.Region, time.Now().Add(-time.Hour), time.Minute)
		}},
		{name: "anonymous-public-read-blocked", who: amIsAnonymous, kind: amPublicReadBlocked},
		{name: "other-account-public-read-blocked", who: amIsOther, kind: amPublicReadBlocked, sign: otherV4},
		{name: "anonymous-public-read", who: amIsAnonymous, kind: amPublicRead},
		{name: "other-account-public-read", who: amIsOther, kind: amPublicRead, sign: otherV4},
		{name: "anonymous-public-read-write", who: amIsAnonymous, kind: amPublicReadWrite},
		{name: "other-account-public-read-write", who: amIsOther, kind: amPublicReadWrite, sign: otherV4},
	}
}

const (
	amTagging        = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"
	amLogFields      = "<UserDefinedLogFieldsConfiguration><HeaderSet><header>x-am</header></HeaderSet><ParamSet><parameter>am</parameter></ParamSet></UserDefinedLogFieldsConfiguration>"
	amCORS           = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"
	amLifecycle      = "<LifecycleConfiguration><Rule><ID>am</ID><Prefix>log/</Prefix><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>"
	amLifecycleOther = "<LifecycleConfiguration><Rule><ID>other</ID><Prefix>tmp/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"
	amCORSOther      = "<CORSConfiguration><CORSRule><AllowedOrigin>http://am.test</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>"
)

func amLogging(target string) string {
	return "<BucketLoggingStatus><LoggingEnabled><TargetBucket>" + target +
		"</TargetBucket><TargetPrefix>log/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>"
}

// amLive is a LiveChannel configuration; amNoTsFile is OSS's answer to a
// VOD playlist over a span with no recorded fragments.
const amLive = "<LiveChannelConfiguration><Target><Type>HLS</Type></Target></LiveChannelConfiguration>"

var amNoTsFile = amWant{http.StatusBadRequest, "InvalidArgument", "", "No ts file found in specified time span."}

func amContentMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// amPolicy is a bucket policy for b letting the other account read it.
func amPolicy(e *amEnv, b string) string {
	return `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["` + e.other.ID +
		`"],"Resource":["acs:oss:*:*:` + b + `/*"]}]}`
}

// amOps is every operation ossd implements (README "Operations"), each
// with the request of one cell and the probes that show its effect.
func amOps() []amOp {
	const get, put, post, del, head = http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodHead
	bucketProbe := func(b, q string) []amProbe { return []amProbe{{b, "", q}} }
	simple := func(name string, class amClass, method, query string) amOp {
		return amOp{name: name, class: class, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			return amReq{method: method, bucket: b, query: query, ok: http.StatusOK}
		}}
	}
	// withObject: an operation on an object the owner wrote first.
	withObject := func(name string, class amClass, writes bool, method, query string, hdr map[string]string, body string, ok int) amOp {
		return amOp{name: name, class: class, writes: writes, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("obj")
			e.putObject(t, b, k, "data", map[string]string{"x-oss-tagging": "t=1"})
			return amReq{method: method, bucket: b, key: k, query: query, hdr: hdr, body: body, ok: ok,
				probes: []amProbe{{b, k, ""}, {b, k, "tagging"}, {b, k, "acl"}}}
		}}
	}
	// config: a bucket configuration write on a bucket of its own, after
	// setup (nil for none).
	config := func(name, method, query string, setup func(e *amEnv, t *testing.T, b string, k amKind) (hdr map[string]string, body string), ok int) amOp {
		return amOp{name: name, class: amOwner, writes: true, fresh: true, prep: func(e *amEnv, t *testing.T, b string, k amKind) amReq {
			hdr, body := setup(e, t, b, k)
			return amReq{method: method, bucket: b, query: query, hdr: hdr, body: body, ok: ok, probes: bucketProbe(b, query)}
		}}
	}
	// withPolicy: an operation on a bucket of its own that has a policy.
	withPolicy := func(name string, writes bool, method, query string, ok int) amOp {
		return amOp{name: name, class: amOwner, writes: writes, fresh: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			e.must(t, put, b, "", "policy", nil, amPolicy(e, b))
			return amReq{method: method, bucket: b, query: query, ok: ok, probes: bucketProbe(b, "policy")}
		}}
	}
	withEC := func(ec string, op amOp) amOp { op.deniedEC = ec; return op }
	// withChannel: an operation on a LiveChannel the owner created first.
	withChannel := func(name string, writes bool, method, query string, ok int, okErr *amWant) amOp {
		return amOp{name: name, class: amOwner, writes: writes, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			ch := e.name("ch")
			e.must(t, put, b, ch, "live", nil, amLive)
			return amReq{method: method, bucket: b, key: ch, query: query, ok: ok, okErr: okErr,
				probes: []amProbe{{b, ch, "live"}}}
		}}
	}
	// missing: a read of a key nobody wrote. Whoever may read the bucket
	// learns it does not exist; nobody else may learn even that.
	missing := func(name, method, query string) amOp {
		return amOp{name: name, class: amRead, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			return amReq{method: method, bucket: b, key: e.name("missing"), query: query, okErr: &amNoSuchKey}
		}}
	}
	// fromPrivate: a copy whose source is in the owner's private bucket,
	// which nobody but the owner may read, whatever the destination's ACL;
	// nor may anyone else learn whether a missing source exists.
	fromPrivate := func(name string, multipart, missing bool) amOp {
		return amOp{name: name, class: amWrite, writes: !missing,
			deny: func(amCaller) *amWant { return &amDeniedByACL },
			prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
				src, k := e.name("privsrc"), e.name("dst")
				rq := amReq{method: put, bucket: b, key: k, ok: http.StatusOK,
					hdr: map[string]string{"x-oss-copy-source": "/" + e.shared[amPrivate] + "/" + src}, probes: []amProbe{{b, k, ""}}}
				if multipart {
					id := e.initiate(t, b, k)
					rq.query = "partNumber=1&uploadId=" + id
					rq.probes = []amProbe{{b, k, "uploadId=" + id}}
				}
				if missing {
					rq.okErr = &amNoSuchKey
				} else {
					e.putObject(t, e.shared[amPrivate], src, "data", nil)
				}
				return rq
			}}
	}
	return []amOp{
		// Service.
		{name: "ListBuckets", class: amService, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			return amReq{method: get, ok: http.StatusOK, check: func(t *testing.T, r rawResp, c amCaller) {
				// Each account sees its own buckets only.
				mine := strings.Contains(r.body, "<Name>"+e.shared[amPrivate]+"</Name>")
				if mine != (c.who == amIsOwner) {
					t.Errorf("%s: owner's bucket listed = %v", c.name, mine)
				}
			}}
		}},
		{name: "PutBucket", class: amService, writes: true, prep: func(e *amEnv, t *testing.T, _ string, _ amKind) amReq {
			nb := e.name("am-new")
			return amReq{method: put, bucket: nb, ok: http.StatusOK, probes: bucketProbe(nb, "bucketInfo")}
		}},

		// Bucket.
		{name: "DeleteBucket", class: amOwner, writes: true, fresh: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			return amReq{method: del, bucket: b, ok: http.StatusNoContent, probes: bucketProbe(b, "bucketInfo")}
		}},
		simple("HeadBucket", amRead, head, ""),
		simple("GetBucketInfo", amOwner, get, "bucketInfo"),
		simple("GetBucketLocation", amOwner, get, "location"),
		simple("GetBucketStat", amOwner, get, "stat"),
		simple("GetBucketAcl", amOwner, get, "acl"),
		config("PutBucketAcl", put, "acl", func(e *amEnv, t *testing.T, b string, k amKind) (map[string]string, string) {
			acl := "private"
			if k == amPrivate {
				// A public ACL is only the owner's to set once the
				// block is lifted.
				e.setBlock(t, b, false)
				acl = "public-read"
			}
			return map[string]string{"x-oss-acl": acl}, ""
		}, http.StatusOK),
		simple("GetBucketTags", amOwner, get, "tagging"),
		config("PutBucketTags", put, "tagging", func(*amEnv, *testing.T, string, amKind) (map[string]string, string) {
			return nil, amTagging
		}, http.StatusOK),
		config("DeleteBucketTags", del, "tagging", func(e *amEnv, t *testing.T, b string, _ amKind) (map[string]string, string) {
			e.must(t, put, b, "", "tagging", nil, amTagging)
			return nil, ""
		}, http.StatusNoContent),
		simple("GetBucketVersioning", amOwner, get, "versioning"),
		config("PutBucketVersioning", put, "versioning", func(*amEnv, *testing.T, string, amKind) (map[string]string, string) {
			return nil, "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
		}, http.StatusOK),
		simple("ListObjects", amRead, get, ""),
		simple("ListObjectsV2", amRead, get, "list-type=2"),
		simple("ListObjectVersions", amRead, get, "versions"),
		simple("ListMultipartUploads", amRead, get, "uploads"),

		// Logging.
		config("PutBucketLogging", put, "logging", func(_ *amEnv, _ *testing.T, b string, _ amKind) (map[string]string, string) {
			return nil, amLogging(b)
		}, http.StatusOK),
		simple("GetBucketLogging", amOwner, get, "logging"),
		config("DeleteBucketLogging", del, "logging", func(e *amEnv, t *testing.T, b string, _ amKind) (map[string]string, string) {
			e.must(t, put, b, "", "logging", nil, amLogging(b))
			return nil, ""
		}, http.StatusNoContent),
		config("PutUserDefinedLogFieldsConfig", put, "userDefinedLogFieldsConfig", func(*amEnv, *testing.T, string, amKind) (map[string]string, string) {
			return nil, amLogFields
		}, http.StatusOK),
		simple("GetUserDefinedLogFieldsConfig", amOwner, get, "userDefinedLogFieldsConfig"),
		config("DeleteUserDefinedLogFieldsConfig", del, "userDefinedLogFieldsConfig", func(e *amEnv, t *testing.T, b string, _ amKind) (map[string]string, string) {
			e.must(t, put, b, "", "userDefinedLogFieldsConfig", nil, amLogFields)
			return nil, ""
		}, http.StatusNoContent),

		// Block Public Access.
		config("PutBucketPublicAccessBlock", put, "publicAccessBlock", func(_ *amEnv, _ *testing.T, _ string, k amKind) (map[string]string, string) {
			return nil, fmt.Sprintf("<PublicAccessBlockConfiguration><BlockPublicAccess>%t</BlockPublicAccess></PublicAccessBlockConfiguration>", !k.blocked())
		}, http.StatusOK),
		simple("GetBucketPublicAccessBlock", amOwner, get, "publicAccessBlock"),
		config("DeleteBucketPublicAccessBlock", del, "publicAccessBlock", func(e *amEnv, t *testing.T, b string, k amKind) (map[string]string, string) {
			if !k.blocked() {
				// Deleting removes the block (nothing blocked): turn it
				// on first so the owner's delete is visible.
				e.setBlock(t, b, true)
			}
			return nil, ""
		}, http.StatusNoContent),

		// CORS.
		config("PutBucketCors", put, "cors", func(*amEnv, *testing.T, string, amKind) (map[string]string, string) {
			return nil, amCORSOther
		}, http.StatusOK),
		simple("GetBucketCors", amOwner, get, "cors"),
		config("DeleteBucketCors", del, "cors", func(e *amEnv, t *testing.T, b string, _ amKind) (map[string]string, string) {
			e.must(t, put, b, "", "cors", nil, amCORS)
			return nil, ""
		}, http.StatusNoContent),

		// Bucket policies (a policy naming the other account: not public, so
		// Block Public Access lets it be set).
		config("PutBucketPolicy", put, "policy", func(e *amEnv, _ *testing.T, b string, _ amKind) (map[string]string, string) {
			return nil, amPolicy(e, b)
		}, http.StatusOK),
		withPolicy("GetBucketPolicy", false, get, "policy", http.StatusOK),
		withPolicy("GetBucketPolicyStatus", false, get, "policyStatus", http.StatusOK),
		withPolicy("DeleteBucketPolicy", true, del, "policy", http.StatusNoContent),

		// Lifecycle.
		config("PutBucketLifecycle", put, "lifecycle", func(*amEnv, *testing.T, string, amKind) (map[string]string, string) {
			return nil, amLifecycleOther
		}, http.StatusOK),
		simple("GetBucketLifecycle", amOwner, get, "lifecycle"),
		config("DeleteBucketLifecycle", del, "lifecycle", func(e *amEnv, t *testing.T, b string, _ amKind) (map[string]string, string) {
			e.must(t, put, b, "", "lifecycle", nil, amLifecycle)
			return nil, ""
		}, http.StatusNoContent),

		// LiveChannel: bucket configuration, the owner's only.
		{name: "PutLiveChannel", class: amOwner, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			ch := e.name("ch")
			return amReq{method: put, bucket: b, key: ch, query: "live", body: amLive, ok: http.StatusOK,
				probes: []amProbe{{b, ch, "live"}}}
		}},
		simple("ListLiveChannel", amOwner, get, "live"),
		withChannel("GetLiveChannelInfo", false, get, "live", http.StatusOK, nil),
		withChannel("GetLiveChannelStat", false, get, "live&comp=stat", http.StatusOK, nil),
		withChannel("GetLiveChannelHistory", false, get, "live&comp=history", http.StatusOK, nil),
		withChannel("PutLiveChannelStatus", true, put, "live&status=disabled", http.StatusOK, nil),
		withChannel("DeleteLiveChannel", true, del, "live", http.StatusNoContent, nil),
		// No fragments are ever recorded, so the owner gets OSS's answer
		// for an empty span; everyone else is refused first.
		withChannel("GetVodPlaylist", false, get, "vod&startTime=1700000000&endTime=1700003600", 0, &amNoTsFile),
		{name: "PostVodPlaylist", class: amOwner, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			ch := e.name("ch")
			e.must(t, put, b, ch, "live", nil, amLive)
			return amReq{method: post, bucket: b, key: ch + "/vod.m3u8", query: "vod&startTime=1700000000&endTime=1700003600",
				okErr: &amNoTsFile, probes: []amProbe{{b, ch, "live"}}}
		}},

		// Object.
		{name: "PutObject", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("put")
			return amReq{method: put, bucket: b, key: k, body: "new", ok: http.StatusOK, probes: []amProbe{{b, k, ""}}}
		}},
		{name: "GetObject", class: amRead, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("get")
			e.putObject(t, b, k, "data", nil)
			return amReq{method: get, bucket: b, key: k, ok: http.StatusOK, check: func(t *testing.T, r rawResp, _ amCaller) {
				if r.body != "data" {
					t.Errorf("body %q, want %q", r.body, "data")
				}
			}}
		}},
		withObject("HeadObject", amRead, false, head, "", nil, "", http.StatusOK),
		withObject("GetObjectMeta", amRead, false, head, "objectMeta", nil, "", http.StatusOK),
		withObject("DeleteObject", amWrite, true, del, "", nil, "", http.StatusNoContent),
		{name: "DeleteMultipleObjects", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("multi")
			e.putObject(t, b, k, "data", nil)
			body := "<Delete><Quiet>true</Quiet><Object><Key>" + k + "</Key></Object></Delete>"
			return amReq{method: post, bucket: b, query: "delete", body: body, ok: http.StatusOK,
				hdr: map[string]string{"Content-MD5": amContentMD5(body)}, probes: []amProbe{{b, k, ""}}}
		}},
		{name: "CopyObject", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			src, dst := e.name("src"), e.name("dst")
			e.putObject(t, b, src, "data", nil)
			return amReq{method: put, bucket: b, key: dst, ok: http.StatusOK,
				hdr: map[string]string{"x-oss-copy-source": "/" + b + "/" + src}, probes: []amProbe{{b, dst, ""}}}
		}},
		{name: "AppendObject", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("append")
			return amReq{method: post, bucket: b, key: k, query: "append&position=0", body: "new", ok: http.StatusOK, probes: []amProbe{{b, k, ""}}}
		}},
		withEC("0003-00000008", withObject("PutObjectAcl", amOwner, true, put, "acl", map[string]string{"x-oss-object-acl": "private"}, "", http.StatusOK)),
		withEC("0003-00000007", withObject("GetObjectAcl", amOwner, false, get, "acl", nil, "", http.StatusOK)),
		withObject("PutObjectTagging", amWrite, true, put, "tagging", nil, amTagging, http.StatusOK),
		withObject("GetObjectTagging", amRead, false, get, "tagging", nil, "", http.StatusOK),
		withObject("DeleteObjectTagging", amWrite, true, del, "tagging", nil, "", http.StatusNoContent),
		{name: "PutSymlink", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			target, k := e.name("target"), e.name("link")
			e.putObject(t, b, target, "data", nil)
			return amReq{method: put, bucket: b, key: k, query: "symlink", ok: http.StatusOK,
				hdr: map[string]string{"x-oss-symlink-target": target}, probes: []amProbe{{b, k, "symlink"}}}
		}},
		{name: "GetSymlink", class: amRead, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			target, k := e.name("target"), e.name("link")
			e.putObject(t, b, target, "data", nil)
			e.must(t, put, b, k, "symlink", map[string]string{"x-oss-symlink-target": target}, "")
			return amReq{method: get, bucket: b, key: k, query: "symlink", ok: http.StatusOK}
		}},

		missing("GetObjectMissingKey", get, ""),
		missing("HeadObjectMissingKey", head, ""),
		missing("GetObjectMetaMissingKey", head, "objectMeta"),
		missing("GetSymlinkMissingKey", get, "symlink"),
		{name: "CopyObjectMissingSource", class: amWrite, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("dst")
			return amReq{method: put, bucket: b, key: k, okErr: &amNoSuchKey,
				hdr: map[string]string{"x-oss-copy-source": "/" + b + "/" + e.name("missing")}, probes: []amProbe{{b, k, ""}}}
		}},
		fromPrivate("CopyObjectPrivateSource", false, false),
		fromPrivate("CopyObjectMissingPrivateSource", false, true),

		// Multipart.
		{name: "InitiateMultipartUpload", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("mpu")
			return amReq{method: post, bucket: b, key: k, query: "uploads", ok: http.StatusOK, probes: []amProbe{{b, "", "uploads&prefix=" + k}}}
		}},
		{name: "UploadPart", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("mpu")
			id := e.initiate(t, b, k)
			return amReq{method: put, bucket: b, key: k, query: "partNumber=1&uploadId=" + id, body: "part", ok: http.StatusOK,
				probes: []amProbe{{b, k, "uploadId=" + id}}}
		}},
		{name: "UploadPartCopy", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			src, k := e.name("src"), e.name("mpu")
			e.putObject(t, b, src, "data", nil)
			id := e.initiate(t, b, k)
			return amReq{method: put, bucket: b, key: k, query: "partNumber=1&uploadId=" + id, ok: http.StatusOK,
				hdr: map[string]string{"x-oss-copy-source": "/" + b + "/" + src}, probes: []amProbe{{b, k, "uploadId=" + id}}}
		}},
		{name: "CompleteMultipartUpload", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("mpu")
			id := e.initiate(t, b, k)
			etag := e.must(t, put, b, k, "partNumber=1&uploadId="+id, nil, "part").hdr.Get("ETag")
			body := "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + etag + "</ETag></Part></CompleteMultipartUpload>"
			return amReq{method: post, bucket: b, key: k, query: "uploadId=" + id, body: body, ok: http.StatusOK,
				probes: []amProbe{{b, k, ""}, {b, k, "uploadId=" + id}}}
		}},
		{name: "AbortMultipartUpload", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("mpu")
			id := e.initiate(t, b, k)
			return amReq{method: del, bucket: b, key: k, query: "uploadId=" + id, ok: http.StatusNoContent,
				probes: []amProbe{{b, k, "uploadId=" + id}}}
		}},
		fromPrivate("UploadPartCopyPrivateSource", true, false),
		fromPrivate("UploadPartCopyMissingPrivateSource", true, true),
		{name: "ListParts", class: amRead, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("mpu")
			id := e.initiate(t, b, k)
			return amReq{method: get, bucket: b, key: k, query: "uploadId=" + id, ok: http.StatusOK}
		}},
	}
}

// startAuthMatrix starts the server with a second account and the shared
// buckets, one per kind, configured so that every owner-only read has
// something to return.
func startAuthMatrix(t *testing.T) *amEnv {
	other := server.User{ID: "2000000000000077", DisplayName: "other", AccessKeyID: "LTAIamother", AccessKeySecret: "amothersecret"}
	e := &amEnv{srv: ossdtest.StartWith(t, ossdtest.Options{Users: []server.User{other}}), other: other, shared: map[amKind]string{}}
	for _, k := range []amKind{amPrivate, amPublicReadBlocked, amPublicRead, amPublicReadWrite} {
		b := e.newBucket(t, k)
		e.must(t, http.MethodPut, b, "", "tagging", nil, amTagging)
		e.must(t, http.MethodPut, b, "", "userDefinedLogFieldsConfig", nil, amLogFields)
		e.must(t, http.MethodPut, b, "", "cors", nil, amCORS)
		e.must(t, http.MethodPut, b, "", "lifecycle", nil, amLifecycle)
		e.shared[k] = b
	}
	return e
}

// TestAuthMatrix runs every operation for every caller (see amCallers)
// against one server and asserts OSS's answer in each cell; refused writes
// must change nothing the owner can see, and successful writes must.
func TestAuthMatrix(t *testing.T) {
	e := startAuthMatrix(t)
	for _, op := range amOps() {
		t.Run(op.name, func(t *testing.T) {
			// Rows share nothing but the server and the shared buckets'
			// listings, which no cell asserts on.
			t.Parallel()
			for _, c := range amCallers() {
				if op.class == amService && c.kind != amPrivate {
					continue // bucket ACLs do not apply to service-level operations
				}
				t.Run(c.name, func(t *testing.T) {
					b := e.shared[c.kind]
					if op.fresh {
						b = e.newBucket(t, c.kind)
					}
					rq := op.prep(e, t, b, c.kind)
					before := e.snapshot(t, rq.probes)
					var sign func(*http.Request)
					if c.sign != nil {
						sign = func(r *http.Request) { c.sign(e, r, rq.bucket, rq.key) }
					}
					r := e.send(t, rq.method, rq.bucket, rq.key, rq.query, rq.hdr, rq.body, sign)
					after := e.snapshot(t, rq.probes)
					want := amExpect(op, c)
					if want != nil {
						if before != after {
							t.Errorf("refused request changed state:\nbefore %s\nafter  %s", before, after)
						}
						amCheckError(t, r, rq.method == http.MethodHead, *want)
						return
					}
					if rq.okErr != nil {
						if before != after {
							t.Errorf("request changed state:\nbefore %s\nafter  %s", before, after)
						}
						amCheckError(t, r, rq.method == http.MethodHead, *rq.okErr)
						return
					}
					if r.status != rq.ok {
						t.Fatalf("status %d, want %d: %s", r.status, rq.ok, r.body)
					}
					if op.writes && before == after {
						t.Errorf("successful write changed nothing: %s", after)
					}
					if rq.check != nil {
						rq.check(t, r, c)
					}
				})
			}
		})
	}
}

// TestAuthMatrixObjectACL: an object's own ACL overrides its bucket's for
// reads, in both directions, and Block Public Access overrides both.
func TestAuthMatrixObjectACL(t *testing.T) {
	e := startAuthMatrix(t)
	for _, tc := range []struct {
		kind      amKind
		objectACL string
		want      *amWant // nil: granted
	}{
		{amPrivate, "default", &amDeniedByACL},
		{amPrivate, "public-read", &amDeniedBlocked}, // granted by the ACL, refused by the block
		{amPublicRead, "default", nil},
		{amPublicRead, "private", &amDeniedByACL},
		{amPublicReadWrite, "private", &amDeniedByACL},
		{amPublicReadWrite, "public-read", nil},
	} {
		t.Run(tc.kind.acl()+"-blocked="+fmt.Sprint(tc.kind.blocked())+"/object-"+tc.objectACL, func(t *testing.T) {
			k := e.name("oacl")
			b, hdr := e.shared[tc.kind], map[string]string{"x-oss-object-acl": tc.objectACL}
			if tc.kind.blocked() && (tc.objectACL == "public-read" || tc.objectACL == "public-read-write") {
				// Refused while the block is on; set with it lifted, so
				// the reads below meet a public ACL the block overrides.
				amCheckError(t, e.owner(t, http.MethodPut, b, k, "", hdr, "data"), false, amPublicObjectACLBlocked)
				e.setBlock(t, b, false)
				e.putObject(t, b, k, "data", hdr)
				e.setBlock(t, b, true)
			} else {
				e.putObject(t, b, k, "data", hdr)
			}
			for _, rd := range []struct{ method, query string }{{http.MethodGet, ""}, {http.MethodHead, ""}, {http.MethodHead, "objectMeta"}} {
				r := e.send(t, rd.method, e.shared[tc.kind], k, rd.query, nil, "", nil)
				if tc.want != nil {
					amCheckError(t, r, rd.method == http.MethodHead, *tc.want)
				} else if r.status != http.StatusOK {
					t.Errorf("anonymous %s ?%s: %d, want 200", rd.method, rd.query, r.status)
				}
			}
		})
	}
	// A private bucket with the block lifted: the object's public-read and
	// public-read-write ACLs grant reads to anyone.
	b := e.newBucket(t, amPrivate)
	e.setBlock(t, b, false)
	for _, acl := range []string{"public-read", "public-read-write"} {
		k := e.name("oacl")
		e.putObject(t, b, k, "data", map[string]string{"x-oss-object-acl": acl})
		if r := e.send(t, http.MethodGet, b, k, "", nil, "", nil); r.status != http.StatusOK || r.body != "data" {
			t.Errorf("private bucket, %s object: anonymous GET = %d %q", acl, r.status, r.body)
		}
	}
}

// TestAuthMatrixS3 is the matrix, smaller, in the S3 dialect: a read, a
// bucket listing, a write and a bucket configuration read, each signed
// with AWS SigV4 by every kind of S3 caller, answered with S3's codes and
// S3's error body (no EC).
func TestAuthMatrixS3(t *testing.T) {
	e := startAuthMatrix(t)
	ctx := context.Background()
	owner := aws.Credentials{AccessKeyID: e.srv.AccessKeyID, SecretAccessKey: e.srv.AccessKeySecret}
	other := aws.Credentials{AccessKeyID: e.other.AccessKeyID, SecretAccessKey: e.other.AccessKeySecret}
	sign := func(creds aws.Credentials, at time.Time) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
			if err := v4.NewSigner().SignHTTP(ctx, creds, r, "UNSIGNED-PAYLOAD", "s3", e.srv.Region, at); err != nil {
				t.Fatalf("SigV4: %v", err)
			}
		}
	}
	// presign turns r into a SigV4 presigned URL that expired a minute
	// ago (signed an hour ago, valid for 59 minutes).
	presignExpired := func(r *http.Request) {
		q := r.URL.Query()
		q.Set("X-Amz-Expires", "3540")
		r.URL.RawQuery = q.Encode()
		u, hdr, err := v4.NewSigner().PresignHTTP(ctx, owner, r, "UNSIGNED-PAYLOAD", "s3", e.srv.Region, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatalf("SigV4 presign: %v", err)
		}
		if r.URL, err = url.Parse(u); err != nil {
			t.Fatal(err)
		}
		for k, vs := range hdr {
			r.Header[k] = vs
		}
	}
	s3Denied := amWant{http.StatusForbidden, "AccessDenied", "", ""}
	callers := []struct {
		name string
		kind amKind
		sign func(*http.Request)
		bad  *amWant
		// owner: the caller owns the buckets; otherwise the ACL decides.
		owner bool
	}{
		{name: "owner", sign: sign(owner, time.Now()), owner: true},
		{name: "other-account", sign: sign(other, time.Now())},
		{name: "wrong-key", sign: sign(aws.Credentials{AccessKeyID: amNobodyKeyID, SecretAccessKey: owner.SecretAccessKey}, time.Now()),
			bad: &amWant{http.StatusForbidden, "InvalidAccessKeyId", "", "The AWS Access Key Id you provided does not exist in our records."}},
		{name: "wrong-secret", sign: sign(aws.Credentials{AccessKeyID: owner.AccessKeyID, SecretAccessKey: "wrong-secret"}, time.Now()),
			bad: &amWant{http.StatusForbidden, "SignatureDoesNotMatch", "", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}},
		{name: "skewed", sign: sign(owner, time.Now().Add(-auth.MaxSkew-5*time.Minute)),
			bad: &amWant{http.StatusForbidden, "RequestTimeTooSkewed", "", "The difference between the request time and the current time is too large."}},
		{name: "expired-presign", sign: presignExpired,
			bad: &amWant{http.StatusForbidden, "AccessDenied", "", "Request has expired"}},
		{name: "other-account-public-read-blocked", kind: amPublicReadBlocked, sign: sign(other, time.Now())},
		{name: "other-account-public-read", kind: amPublicRead, sign: sign(other, time.Now())},
		{name: "other-account-public-read-write", kind: amPublicReadWrite, sign: sign(other, time.Now())},
	}
	ops := []amOp{
		{name: "GetObject", class: amRead, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("s3get")
			e.putObject(t, b, k, "data", nil)
			return amReq{method: http.MethodGet, bucket: b, key: k, ok: http.StatusOK}
		}},
		{name: "ListObjectsV2", class: amRead, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			return amReq{method: http.MethodGet, bucket: b, query: "list-type=2", ok: http.StatusOK}
		}},
		{name: "PutObject", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("s3put")
			return amReq{method: http.MethodPut, bucket: b, key: k, body: "new", ok: http.StatusOK, probes: []amProbe{{b, k, ""}}}
		}},
		{name: "DeleteObject", class: amWrite, writes: true, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			k := e.name("s3del")
			e.putObject(t, b, k, "data", nil)
			return amReq{method: http.MethodDelete, bucket: b, key: k, ok: http.StatusNoContent, probes: []amProbe{{b, k, ""}}}
		}},
		{name: "GetBucketAcl", class: amOwner, prep: func(e *amEnv, t *testing.T, b string, _ amKind) amReq {
			return amReq{method: http.MethodGet, bucket: b, query: "acl", ok: http.StatusOK}
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			for _, c := range callers {
				t.Run(c.name, func(t *testing.T) {
					rq := op.prep(e, t, e.shared[c.kind], c.kind)
					before := e.snapshot(t, rq.probes)
					r := e.send(t, rq.method, rq.bucket, rq.key, rq.query, rq.hdr, rq.body, c.sign)
					after := e.snapshot(t, rq.probes)
					var want *amWant
					switch {
					case c.bad != nil:
						want = c.bad
					case c.owner, c.kind.grants(op.class):
					default:
						want = &s3Denied
					}
					if want == nil {
						if r.status != rq.ok {
							t.Fatalf("status %d, want %d: %s", r.status, rq.ok, r.body)
						}
						if op.writes && before == after {
							t.Errorf("successful write changed nothing: %s", after)
						}
						return
					}
					if before != after {
						t.Errorf("refused request changed state:\nbefore %s\nafter  %s", before, after)
					}
					if r.status != want.status {
						t.Fatalf("status %d, want %d %s: %s", r.status, want.status, want.code, r.body)
					}
					if rq.method == http.MethodHead {
						return
					}
					var body struct{ Code, Message, RequestId, EC string }
					if err := xml.Unmarshal([]byte(r.body), &body); err != nil {
						t.Fatalf("error body is not XML: %v: %q", err, r.body)
					}
					if body.Code != want.code || (want.message != "" && body.Message != want.message) {
						t.Errorf("Code %q Message %q, want %q %q", body.Code, body.Message, want.code, want.message)
					}
					if body.RequestId == "" || body.RequestId != r.hdr.Get("x-amz-request-id") {
						t.Errorf("RequestId %q, x-amz-request-id %q", body.RequestId, r.hdr.Get("x-amz-request-id"))
					}
					if body.EC != "" || strings.Contains(r.body, "RecommendDoc") {
						t.Errorf("S3 error body carries OSS-only elements: %s", r.body)
					}
				})
			}
		})
	}
}

// TestPublicACLRefusedWhileBlocked: with Block Public Access on (new
// buckets' default, as OSS's), every way of setting a public ACL is
// refused with OSS's answer and changes nothing; private and default ACLs
// still go through; once the block is lifted, the same requests succeed.
func TestPublicACLRefusedWhileBlocked(t *testing.T) {
	e := startAuthMatrix(t)
	put, post := http.MethodPut, http.MethodPost
	// A new bucket starts blocked, so it cannot be created public.
	for _, acl := range []string{"public-read", "public-read-write"} {
		b := e.name("pubnew")
		amCheckError(t, e.owner(t, put, b, "", "", map[string]string{"x-oss-acl": acl}, ""), false, amPublicBucketACLBlocked)
		if r := e.owner(t, http.MethodGet, b, "", "bucketInfo", nil, ""); r.status != http.StatusNotFound {
			t.Errorf("refused PutBucket (%s) created the bucket: GetBucketInfo %d", acl, r.status)
		}
	}
	b := e.newBucket(t, amPrivate)
	src := e.name("src")
	e.putObject(t, b, src, "source", nil)
	type attempt struct {
		name               string
		method, key, query string
		hdr                map[string]string
		body               string
		want               amWant
		probe              amProbe // unchanged by the refusal
	}
	objACL := func(acl string) map[string]string { return map[string]string{"x-oss-object-acl": acl} }
	attempts := func(acl string) []attempt {
		k := func(op string) string { return e.name("pub-" + op) }
		mpu := k("mpu")
		id := e.initiate(t, b, mpu)
		part := e.owner(t, put, b, mpu, "partNumber=1&uploadId="+id, nil, "part")
		complete := fmt.Sprintf("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>", part.hdr.Get("ETag"))
		cp := objACL(acl)
		cp["x-oss-copy-source"] = "/" + b + "/" + src
		sym := objACL(acl)
		sym["x-oss-symlink-target"] = src
		kPut, kCopy, kAppend, kSym, kInit := k("put"), k("copy"), k("append"), k("symlink"), k("init")
		return []attempt{
			{"PutBucketAcl", put, "", "acl", map[string]string{"x-oss-acl": acl}, "", amPublicBucketACLBlocked, amProbe{b, "", "acl"}},
			{"PutObject", put, kPut, "", objACL(acl), "data", amPublicObjectACLBlocked, amProbe{b, kPut, ""}},
			{"PutObjectAcl", put, src, "acl", objACL(acl), "", amPublicObjectACLBlocked, amProbe{b, src, "acl"}},
			{"CopyObject", put, kCopy, "", cp, "", amPublicObjectACLBlocked, amProbe{b, kCopy, ""}},
			{"AppendObject", post, kAppend, "append&position=0", objACL(acl), "data", amPublicObjectACLBlocked, amProbe{b, kAppend, ""}},
			{"PutSymlink", put, kSym, "symlink", sym, "", amPublicObjectACLBlocked, amProbe{b, kSym, ""}},
			{"InitiateMultipartUpload", post, kInit, "uploads", objACL(acl), "", amPublicObjectACLBlocked, amProbe{b, "", "uploads"}},
			{"CompleteMultipartUpload", post, mpu, "uploadId=" + id, objACL(acl), complete, amPublicObjectACLBlocked, amProbe{b, mpu, ""}},
		}
	}
	for _, acl := range []string{"public-read", "public-read-write"} {
		for _, a := range attempts(acl) {
			t.Run(acl+"/"+a.name, func(t *testing.T) {
				before := e.snapshot(t, []amProbe{a.probe})
				amCheckError(t, e.owner(t, a.method, b, a.key, a.query, a.hdr, a.body), false, a.want)
				if after := e.snapshot(t, []amProbe{a.probe}); after != before {
					t.Errorf("refused request changed state:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	}
	// Private and default ACLs are not public: allowed while blocked.
	e.must(t, put, b, "", "acl", map[string]string{"x-oss-acl": "private"}, "")
	e.must(t, put, b, src, "acl", objACL("default"), "")
	e.putObject(t, b, e.name("priv"), "data", objACL("private"))
	// Lifted: every attempt goes through.
	e.setBlock(t, b, false)
	for _, a := range attempts("public-read") {
		if r := e.owner(t, a.method, b, a.key, a.query, a.hdr, a.body); r.status != http.StatusOK {
			t.Errorf("%s with the block lifted: %d %s", a.name, r.status, r.body)
		}
	}
}
