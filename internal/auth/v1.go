package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// OSS V1: Signature = base64(HMAC-SHA1(secret, StringToSign)) with
//
//	StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n
//	               CanonicalizedOSSHeaders CanonicalizedResource
//
// The Date line is x-oss-date when the request carries it, else Date: as
// OSS documents x-oss-date overriding Date, Python oss2's Auth signs
// x-oss-date there whenever it is set (it always sets Date too), and
// ali-oss for Node.js sends only x-oss-date. Both Go SDKs sign the Date
// header even when a caller adds x-oss-date, so a request whose two
// values differ also verifies with the Date line (x-oss-date is signed
// either way, as an x-oss-* header). In a presigned URL it is Expires.

// v1Parts is what StringToSign is built from, so signers and verifiers
// share one builder.
type v1Parts struct {
	method, contentMD5, contentType, date string
	headers                               []headerLine
	resource                              string
}

func (p v1Parts) stringToSign() string {
	var b strings.Builder
	b.WriteString(p.method + "\n" + p.contentMD5 + "\n" + p.contentType + "\n" + p.date + "\n")
	for _, h := range p.headers {
		b.WriteString(h.name + ":" + h.value + "\n")
	}
	b.WriteString(p.resource)
	return b.String()
}

// v1Resource is CanonicalizedResource: the path, then the signed
// sub-resources sorted by key, "k=v" with the decoded value or a bare "k".
// A repeated key counts once with its first value (both SDKs keep params in
// a map).
func v1Resource(bucket, key string, q []param) string {
	seen := map[string]bool{}
	var subs []param
	for _, p := range q {
		if isSubResource(p.key) && !seen[p.key] {
			seen[p.key] = true
			subs = append(subs, p)
		}
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].key < subs[j].key })
	res := resourcePath(bucket, key)
	for i, p := range subs {
		if i == 0 {
			res += "?"
		} else {
			res += "&"
		}
		res += p.key
		if p.val != "" {
			res += "=" + p.val
		}
	}
	return res
}

func v1PartsOf(method string, h http.Header, date, resource string, firstOnly bool) v1Parts {
	return v1Parts{
		method:      method,
		contentMD5:  hget(h, "Content-MD5"),
		contentType: hget(h, "Content-Type"),
		date:        date,
		headers:     canonicalHeaders(h, isOSSHeader, firstOnly),
		resource:    resource,
	}
}

func signV1(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkV1 compares the provided signature with the V2SDK form (multiple
// header values joined with ','); when a signed header is repeated it also
// accepts the V1SDK form (first value only). The later values are then not
// covered by the signature, so handlers must read x-oss-* headers with
// Header.Get, never Values. The error shows the V2SDK form.
func checkV1(r *request, ak, secret, provided, date string) *oss.Error {
	in := r.in
	resource := v1Resource(in.Bucket, in.Key, r.query)
	sts := v1PartsOf(in.Method, in.Header, date, resource, false).stringToSign()
	if hmac.Equal([]byte(provided), []byte(signV1(secret, sts))) {
		return nil
	}
	if multiValued(in.Header, isOSSHeader) {
		alt := v1PartsOf(in.Method, in.Header, date, resource, true).stringToSign()
		if hmac.Equal([]byte(provided), []byte(signV1(secret, alt))) {
			return nil
		}
	}
	return errMismatch(oss.ErrSignatureDoesNotMatch, ak, provided, sts, "")
}

// parseV1Authorization splits "ak:signature" (after "OSS ").
func parseV1Authorization(creds string) (ak, sig string, err *oss.Error) {
	ak, sig, ok := strings.Cut(creds, ":")
	if !ok || ak == "" || sig == "" || strings.ContainsAny(ak, " \t") || strings.ContainsAny(sig, " \t:") {
		return "", "", errV1Malformed.WithMessage("Authorization header is invalid: expected \"OSS <AccessKeyId>:<Signature>\".")
	}
	return ak, sig, nil
}

// requestTimeV1 is the time a V1 header-signed request claims: x-oss-date
// wins over Date, as OSS documents. V1 clients send x-oss-date in either
// the HTTP or the V4 form (spec vector 1 uses the HTTP form).
func requestTimeV1(h http.Header) (time.Time, *oss.Error) {
	if v := hget(h, "x-oss-date"); v != "" {
		if t, ok := parseHTTPDate(v); ok {
			return t, nil
		}
		if t, ok := parseISO8601(v); ok {
			return t, nil
		}
		return time.Time{}, errInvalidDate
	}
	if v := hget(h, "Date"); v != "" {
		if t, ok := parseHTTPDate(v); ok {
			return t, nil
		}
		return time.Time{}, errInvalidDate
	}
	return time.Time{}, oss.ErrMissingDateHeader
}

func verifyV1Header(r *request, creds string, lookup Lookup) (Result, *oss.Error) {
	ak, sig, err := parseV1Authorization(creds)
	if err != nil {
		return Result{}, err
	}
	secret, err := secretFor(lookup, ak)
	if err != nil {
		return Result{}, err
	}
	t, err := requestTimeV1(r.in.Header)
	if err != nil {
		return Result{}, err
	}
	if err := checkSkew(t, r.in.Now); err != nil {
		return Result{}, err
	}
	date, alt := hget(r.in.Header, "x-oss-date"), hget(r.in.Header, "Date")
	if date == "" {
		date, alt = alt, ""
	}
	if err := checkV1(r, ak, secret, sig, date); err != nil {
		if alt == "" || alt == date || checkV1(r, ak, secret, sig, alt) != nil {
			return Result{}, err
		}
	}
	return Result{
		AccessKeyID:   ak,
		Version:       VersionV1,
		SecurityToken: hget(r.in.Header, "x-oss-security-token"),
	}, nil
}

// verifyV1Query checks ?OSSAccessKeyId=&Expires=&Signature=. Expires is
// absolute (Unix seconds) and is signed in place of the date; the STS token
// rides as the security-token sub-resource.
func verifyV1Query(r *request, lookup Lookup) (Result, *oss.Error) {
	q := r.query
	for _, name := range []string{"OSSAccessKeyId", "Expires", "Signature"} {
		v, _ := first(q, name)
		if v == "" {
			return Result{}, errQueryAuthMissing.With("ParameterName", name)
		}
		if count(q, name) > 1 {
			return Result{}, errQueryAuthMissing.WithMessage("Parameter %s appears more than once.", name)
		}
	}
	ak, _ := first(q, "OSSAccessKeyId")
	exp, _ := first(q, "Expires")
	sig, _ := first(q, "Signature")
	expires, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil || expires < 0 {
		return Result{}, errInvalidExpires.With("Expires", clip(exp))
	}
	secret, err := secretFor(lookup, ak)
	if err != nil {
		return Result{}, err
	}
	if r.in.Now.Unix() > expires {
		return Result{}, errExpired(time.Unix(expires, 0), r.in.Now)
	}
	if err := checkV1(r, ak, secret, sig, exp); err != nil {
		return Result{}, err
	}
	token, _ := first(q, "security-token")
	return Result{AccessKeyID: ak, Version: VersionV1, Presigned: true, SecurityToken: token}, nil
}

// SignV1 signs r with OSS V1 in the Authorization header, as V2SDK does: it
// sets Date to now and signs r's method, Content-MD5, Content-Type, x-oss-*
// headers and sub-resources. bucket and key are decoded names ("" for
// service or bucket requests). For STS, set x-oss-security-token on r first.
func SignV1(r *http.Request, bucket, key, ak, sk string, now time.Time) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	date := now.UTC().Format(http.TimeFormat)
	r.Header.Set("Date", date)
	resource := v1Resource(bucket, key, parseQuery(r.URL.RawQuery))
	sts := v1PartsOf(r.Method, r.Header, date, resource, false).stringToSign()
	r.Header.Set("Authorization", "OSS "+ak+":"+signV1(sk, sts))
}

// PresignV1 turns r into a V1 presigned URL valid until expires: it
// appends Expires, OSSAccessKeyId and Signature to r.URL.RawQuery (earlier
// values of those three are dropped; other parameters keep their
// encoding). Headers on r that V1 signs (Content-Type, Content-MD5,
// x-oss-*) must be sent unchanged with the URL. For STS, add
// security-token to the query first.
func PresignV1(r *http.Request, bucket, key, ak, sk string, expires time.Time) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	raw := dropParams(r.URL.RawQuery, "Expires", "OSSAccessKeyId", "Signature")
	exp := strconv.FormatInt(expires.Unix(), 10)
	resource := v1Resource(bucket, key, parseQuery(raw))
	sts := v1PartsOf(r.Method, r.Header, exp, resource, false).stringToSign()
	r.URL.RawQuery = appendParams(raw,
		"Expires", exp,
		"OSSAccessKeyId", ak,
		"Signature", signV1(sk, sts))
}

// dropParams removes every parameter whose decoded key is in names.
func dropParams(raw string, names ...string) string {
	var keep []string
	for _, seg := range strings.Split(raw, "&") {
		if seg == "" {
			continue
		}
		k, _, _ := strings.Cut(seg, "=")
		dk, _ := decodeQueryPart(k)
		drop := false
		for _, n := range names {
			drop = drop || dk == n
		}
		if !drop {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, "&")
}

// appendParams adds key/value pairs, encoded as both SDKs encode them.
func appendParams(raw string, kv ...string) string {
	var b strings.Builder
	b.WriteString(raw)
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escape(kv[i], true))
		if kv[i+1] != "" {
			b.WriteString("=" + escape(kv[i+1], true))
		}
	}
	return b.String()
}
