package auth

import (
	"crypto/hmac"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// AWS Signature Version 2 (S3's "AWS" scheme), the OSS V1 scheme's
// ancestor: Signature = base64(HMAC-SHA1(secret, StringToSign)) with
//
//	StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n
//	               CanonicalizedAmzHeaders CanonicalizedResource
//
// CanonicalizedAmzHeaders are the x-amz-* headers, lower-cased, sorted,
// "name:v1,v2\n". The Date line is empty when x-amz-date is present (it is
// then signed among the amz headers); in a presigned URL it is Expires.
// CanonicalizedResource is "/bucket" + the path (for a virtual-hosted
// request too) + the sub-resources.
//
// Clients disagree on details S3 never pinned down, so, as for SigV4,
// Verify tries the few equivalent forms (a handful of HMAC-SHA1s): the
// path as sent (S3's own examples keep lower-case %c3 escapes) and
// re-encoded; "k=" as sent and bare "k" for an empty value.

const aws2Scheme = "AWS"

// aws2SubResources are the query keys SigV2 signs: the S3
// documentation's list (with the response-* overrides and delete) and what
// the SDKs that still sign SigV2 add (botocore's HmacV1Auth, minio-go).
// Each key selects an operation, so each must be signed: otherwise a
// captured or presigned PUT of an object could be replayed as, say,
// ?retention. The price is that a client that leaves one of them unsigned
// (botocore ?encryption, minio-go ?object-lock) gets SignatureDoesNotMatch
// for that operation; SigV4, which signs every parameter, has no such gap.
var aws2SubResources = setOf(`acl delete lifecycle location logging notification partNumber policy
	requestPayment tagging torrent uploadId uploads versionId versioning versions website
	response-content-type response-content-language response-expires response-cache-control
	response-content-disposition response-content-encoding
	accelerate analytics cors defaultObjectAcl encryption inventory legal-hold metrics
	object-lock replication restore retention select select-type storageClass`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func isAmzHeader(lower string) bool { return strings.HasPrefix(lower, "x-amz-") }

// parseAWS2Authorization splits "ak:signature" (after "AWS "). The
// signature must be what an HMAC-SHA1 encodes to, so a header that cannot
// possibly verify is reported as malformed, as S3 reports a header
// without its colon.
func parseAWS2Authorization(creds string) (ak, sig string, err *oss.Error) {
	ak, sig, ok := strings.Cut(creds, ":")
	if ok && ak != "" && printable(ak) && len(sig) == 28 {
		if b, derr := base64.StdEncoding.DecodeString(sig); derr == nil && len(b) == 20 {
			return ak, sig, nil
		}
	}
	return "", "", errAWS2Malformed.With("ArgumentName", "Authorization").With("ArgumentValue", clip(aws2Scheme+" "+creds))
}

// aws2Sub is one sub-resource parameter as sent.
type aws2Sub struct {
	key, val string // decoded
	eq       bool   // sent as "k=" or "k=v" rather than "k"
}

// aws2Subs returns the parameters of raw whose key is in set, stably
// sorted by key (repeated keys keep their order).
func aws2Subs(raw string, set map[string]bool) []aws2Sub {
	var subs []aws2Sub
	for _, seg := range strings.Split(raw, "&") {
		if seg == "" {
			continue
		}
		k, v, eq := strings.Cut(seg, "=")
		dk, _ := decodeQueryPart(k)
		if !set[dk] {
			continue
		}
		dv, _ := decodeQueryPart(v)
		subs = append(subs, aws2Sub{dk, dv, eq})
	}
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].key < subs[j].key })
	return subs
}

func aws2Resource(path string, subs []aws2Sub, keepEq bool) string {
	var b strings.Builder
	b.WriteString(path)
	for i, s := range subs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(s.key)
		if s.val != "" || (keepEq && s.eq) {
			b.WriteString("=" + s.val)
		}
	}
	return b.String()
}

// aws2Paths are the "/bucket/key" forms a client may have signed: encoded
// the S3 way, and as sent (with "/bucket" prepended to a virtual-hosted
// path).
func aws2Paths(in Input) []string {
	canonical := escape(resourcePath(in.Bucket, in.Key), false)
	out := []string{canonical}
	if in.Path == "" {
		return out
	}
	asSent := in.Path
	if in.Bucket != "" {
		d, err := url.PathUnescape(in.Path)
		pathStyle := err == nil && (d == resourcePath(in.Bucket, in.Key) || (in.Key == "" && d == "/"+in.Bucket))
		if !pathStyle {
			asSent = "/" + in.Bucket + in.Path
		}
	}
	if asSent != canonical {
		out = append(out, asSent)
	}
	return out
}

// aws2Resources lists the distinct CanonicalizedResource candidates.
func aws2Resources(in Input) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range aws2Paths(in) {
		subs := aws2Subs(in.RawQuery, aws2SubResources)
		for _, keepEq := range []bool{false, true} {
			if res := aws2Resource(p, subs, keepEq); !seen[res] {
				seen[res] = true
				out = append(out, res)
			}
		}
	}
	return out
}

// firstFold is first with a case-insensitive key.
func firstFold(q []param, key string) (string, bool) {
	for _, p := range q {
		if strings.EqualFold(p.key, key) {
			return p.val, true
		}
	}
	return "", false
}

// checkAWS2 verifies a SigV2 signature. In a presigned URL, botocore moves
// the x-amz-* headers, Content-MD5 and Content-Type it signed into the
// query; they are read back from there.
func checkAWS2(r *request, ak, secret, provided, date string, presigned bool) *oss.Error {
	in := r.in
	h := in.Header
	md5, ctype := hget(h, "Content-MD5"), hget(h, "Content-Type")
	if presigned {
		h = h.Clone()
		if h == nil {
			h = http.Header{}
		}
		for _, p := range r.query {
			if low := strings.ToLower(p.key); isAmzHeader(low) {
				h[low] = append(h[low], p.val)
			}
		}
		if v, ok := firstFold(r.query, "Content-MD5"); ok && md5 == "" {
			md5 = v
		}
		if v, ok := firstFold(r.query, "Content-Type"); ok && ctype == "" {
			ctype = v
		}
	}
	amz := canonicalHeaders(h, isAmzHeader, false)
	var firstSTS string
	for _, res := range aws2Resources(in) {
		sts := v1Parts{method: in.Method, contentMD5: md5, contentType: ctype, date: date, headers: amz, resource: res}.stringToSign()
		if firstSTS == "" {
			firstSTS = sts
		}
		if hmac.Equal([]byte(provided), []byte(signV1(secret, sts))) {
			return nil
		}
	}
	return errAWSMismatch(ak, provided, firstSTS, "")
}

// parseAWSDate accepts what a Date or SigV2 x-amz-date header may carry:
// the HTTP forms, and RFC 1123 with a numeric zone, which the S3
// documentation's own examples use ("Tue, 27 Mar 2007 19:36:42 +0000").
func parseAWSDate(v string) (time.Time, bool) {
	if t, ok := parseHTTPDate(v); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC1123Z, v)
	return t, err == nil
}

// requestTimeAWS2 is the time a SigV2 header-signed request claims:
// x-amz-date wins over Date. amzDate reports that x-amz-date was used,
// which empties the Date line.
func requestTimeAWS2(h http.Header) (raw string, t time.Time, amzDate bool, err *oss.Error) {
	if v := hget(h, "x-amz-date"); v != "" {
		if t, ok := parseAWSDate(v); ok {
			return v, t, true, nil
		}
		if t, ok := parseISO8601(v); ok {
			return v, t, true, nil
		}
		return "", time.Time{}, false, errAWSMissingDate
	}
	if v := hget(h, "Date"); v != "" {
		if t, ok := parseAWSDate(v); ok {
			return v, t, false, nil
		}
	}
	return "", time.Time{}, false, errAWSMissingDate
}

func verifyAWS2Header(r *request, creds string, lookup Lookup) (Result, *oss.Error) {
	in := r.in
	ak, sig, err := parseAWS2Authorization(creds)
	if err != nil {
		return Result{}, err
	}
	if err := checkAWSPath(in); err != nil {
		return Result{}, err
	}
	secret, ok := awsSecret(lookup, ak)
	if !ok {
		return Result{}, errAWSUnknownKey(ak)
	}
	raw, t, amzDate, err := requestTimeAWS2(in.Header)
	if err != nil {
		return Result{}, err
	}
	if d := in.Now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return Result{}, errAWSSkewed(raw, in.Now)
	}
	date := hget(in.Header, "Date")
	if amzDate {
		date = ""
	}
	if err := checkAWS2(r, ak, secret, sig, date, false); err != nil {
		return Result{}, err
	}
	return Result{AccessKeyID: ak, Version: VersionAWS2, SecurityToken: hget(in.Header, "x-amz-security-token")}, nil
}

// verifyAWS2Query checks ?AWSAccessKeyId=&Expires=&Signature=. Expires is
// absolute (Unix seconds) and is signed in place of the date. SigV2 sets no
// upper bound on it.
func verifyAWS2Query(r *request, lookup Lookup) (Result, *oss.Error) {
	in, q := r.in, r.query
	for _, name := range []string{"AWSAccessKeyId", "Expires", "Signature"} {
		if v, _ := first(q, name); v == "" || count(q, name) > 1 {
			return Result{}, errAWS2QueryMissing
		}
	}
	ak, _ := first(q, "AWSAccessKeyId")
	exp, _ := first(q, "Expires")
	sig, _ := first(q, "Signature")
	// base64 has no spaces: a space is a '+' the client left unescaped.
	sig = strings.ReplaceAll(sig, " ", "+")
	expires, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil {
		return Result{}, errAWS2QueryMissing.WithMessage("Invalid date (should be seconds since epoch): %s", clip(exp))
	}
	if err := checkAWSPath(in); err != nil {
		return Result{}, err
	}
	secret, ok := awsSecret(lookup, ak)
	if !ok {
		return Result{}, errAWSUnknownKey(ak)
	}
	if in.Now.Unix() > expires {
		return Result{}, errAWSExpired.With("Expires", isoTime(time.Unix(expires, 0))).With("ServerTime", isoTime(in.Now))
	}
	if err := checkAWS2(r, ak, secret, sig, exp, true); err != nil {
		return Result{}, err
	}
	token, ok := firstFold(q, "x-amz-security-token")
	if !ok {
		token = hget(in.Header, "x-amz-security-token")
	}
	return Result{AccessKeyID: ak, Version: VersionAWS2, Presigned: true, SecurityToken: token}, nil
}
