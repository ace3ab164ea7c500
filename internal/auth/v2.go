package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// OSS V2 ("OSS2"): the HMAC-SHA256 signature of Python oss2's AuthV2 and
// V1SDK's AuthV2. Signature = base64(HMAC-SHA256(secret, StringToSign)) with
//
//	StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n
//	               CanonicalizedOSSHeaders AdditionalHeaders \n
//	               CanonicalizedResource
//
// where CanonicalizedOSSHeaders are the x-oss-* headers and the headers
// AdditionalHeaders lists ("name:value\n" each, sorted), AdditionalHeaders
// is that list lower-cased, sorted and joined with ';', and
// CanonicalizedResource is "/bucket/key" percent-encoded as a whole ('/'
// too) followed by every query parameter, not only sub-resources, encoded
// and sorted like V4's canonical query. The header form reads
//
//	Authorization: OSS2 AccessKeyId:<ak>[,AdditionalHeaders:<h1;h2>],Signature:<sig>
//
// and the URL form carries x-oss-signature-version=OSS2,
// x-oss-access-key-id, x-oss-expires (absolute Unix seconds, signed in place
// of Date), optionally x-oss-additional-headers, and x-oss-signature, which
// is the only parameter left out of the signed query.
const v2Scheme = "OSS2"

// V2 errors, with the ECs of OSS's troubleshooting pages for the V2
// signature. OSS's pages give the EC and the cause but not the code, so
// the code follows the catalogue's malformed-Authorization entry
// (InvalidArgument 400), as for V1 and V4.
var (
	// An Authorization key other than AccessKeyId, AdditionalHeaders and
	// Signature, or a pair that is not "key:value" (0002-00000104).
	errV2Malformed = oss.ErrInvalidAuthorization.WithEC("0002-00000104")
	// AccessKeyId missing (0002-00000105), empty (0002-00000106), or with
	// characters an access key cannot hold (0002-00000107).
	errV2NoAccessKey      = oss.ErrInvalidAuthorization.WithEC("0002-00000105")
	errV2EmptyAccessKey   = oss.ErrInvalidAuthorization.WithEC("0002-00000106")
	errV2InvalidAccessKey = oss.ErrInvalidAuthorization.WithEC("0002-00000107")
	// AdditionalHeaders names a header the request does not carry, or a
	// name with '_' (0002-00000112).
	errV2AdditionalHeader = oss.ErrInvalidArgument.WithEC("0002-00000112")
	// URL form: x-oss-expires missing (0002-00000113) or empty
	// (0002-00000114), x-oss-access-key-id missing (0002-00000115).
	errV2NoExpires    = errQueryAuthMissing.WithEC("0002-00000113")
	errV2EmptyExpires = errQueryAuthMissing.WithEC("0002-00000114")
	errV2NoAccessKeyQ = errQueryAuthMissing.WithEC("0002-00000115")
)

// v2Auth is a parsed V2 Authorization header or URL.
type v2Auth struct {
	ak, signature string
	additional    []string // lower-case, sorted, unique
}

// parseV2Authorization splits what follows "OSS2 ": comma-separated
// key:value pairs. The signature is base64, so neither ',' nor ':' can
// occur inside a value.
func parseV2Authorization(creds string) (v2Auth, *oss.Error) {
	var a v2Auth
	seen := map[string]bool{}
	for _, pair := range strings.Split(creds, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || seen[k] {
			return v2Auth{}, errV2Malformed.WithMessage("Authorization header is invalid: expected \"OSS2 AccessKeyId:<id>[,AdditionalHeaders:<names>],Signature:<signature>\".")
		}
		seen[k] = true
		switch k {
		case "AccessKeyId":
			a.ak = v
		case "Signature":
			a.signature = v
		case "AdditionalHeaders":
			list, err := parseV2Additional(v)
			if err != nil {
				return v2Auth{}, err
			}
			a.additional = list
		default:
			return v2Auth{}, errV2Malformed.WithMessage("Authorization header has an unknown field %q; only AccessKeyId, AdditionalHeaders and Signature are allowed.", clip(k))
		}
	}
	switch {
	case !seen["AccessKeyId"]:
		return v2Auth{}, errV2NoAccessKey.WithMessage("AccessKeyId is missing in the Authorization header.")
	case a.ak == "":
		return v2Auth{}, errV2EmptyAccessKey.WithMessage("AccessKeyId in the Authorization header is empty.")
	case !printable(a.ak):
		return v2Auth{}, errV2InvalidAccessKey.WithMessage("AccessKeyId in the Authorization header is invalid.")
	case a.signature == "":
		return v2Auth{}, errV2Malformed.WithMessage("Signature is missing in the Authorization header.")
	}
	return a, nil
}

// parseV2Additional reads "h1;h2": names are case-insensitive and the
// string to sign lists them sorted (oss2 sends them in set order).
func parseV2Additional(v string) ([]string, *oss.Error) {
	seen := map[string]bool{}
	var list []string
	for _, name := range strings.Split(v, ";") {
		low := strings.ToLower(strings.TrimSpace(name))
		if low == "" {
			return nil, errV2Malformed.WithMessage("AdditionalHeaders holds an empty header name.")
		}
		if !token(low) || strings.Contains(low, "_") {
			return nil, errV2AdditionalHeader.WithMessage("AdditionalHeaders holds an invalid header name %q.", clip(name))
		}
		if !seen[low] {
			seen[low] = true
			list = append(list, low)
		}
	}
	sort.Strings(list)
	return list, nil
}

// v2Parts is what StringToSign is built from.
type v2Parts struct {
	method, contentMD5, contentType, date string
	headers                               []headerLine
	additional                            []string
	resource                              string
}

func (p v2Parts) stringToSign() string {
	var b strings.Builder
	b.WriteString(p.method + "\n" + p.contentMD5 + "\n" + p.contentType + "\n" + p.date + "\n")
	for _, h := range p.headers {
		b.WriteString(h.name + ":" + h.value + "\n")
	}
	b.WriteString(strings.Join(p.additional, ";") + "\n" + p.resource)
	return b.String()
}

// v2Resource is the percent-encoded "/bucket/key" ("/" alone at the
// service level) and the canonical query of every parameter.
func v2Resource(bucket, key string, q []param, presigned bool) string {
	res := escape(resourcePath(bucket, key), true)
	if query := v4Query(q, presigned); query != "" {
		res += "?" + query
	}
	return res
}

// v2Signed selects the x-oss-* headers and the additional ones.
func v2Signed(additional []string) func(string) bool {
	return func(low string) bool {
		if isOSSHeader(low) {
			return true
		}
		for _, a := range additional {
			if a == low {
				return true
			}
		}
		return false
	}
}

func v2PartsOf(in Input, h http.Header, date string, additional []string, resource string, firstOnly bool) v2Parts {
	return v2Parts{
		method:      in.Method,
		contentMD5:  hget(h, "Content-MD5"),
		contentType: hget(h, "Content-Type"),
		date:        date,
		headers:     canonicalHeaders(h, v2Signed(additional), firstOnly),
		additional:  additional,
		resource:    resource,
	}
}

func signV2(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkV2 verifies the signature; like checkV1 it also accepts V1SDK's
// first-value-only form when a signed header is repeated. Every listed
// additional header must be on the request (Host from Input.Host).
func checkV2(r *request, a v2Auth, secret, date string, presigned bool) *oss.Error {
	in := r.in
	h := v4Headers(in, a.additional)
	for _, name := range a.additional {
		if len(hvalues(h, name)) == 0 {
			return errV2AdditionalHeader.WithMessage("AdditionalHeaders lists %q, which the request does not carry.", clip(name))
		}
	}
	resource := v2Resource(in.Bucket, in.Key, r.query, presigned)
	sts := v2PartsOf(in, h, date, a.additional, resource, false).stringToSign()
	if hmac.Equal([]byte(a.signature), []byte(signV2(secret, sts))) {
		return nil
	}
	if multiValued(h, v2Signed(a.additional)) {
		alt := v2PartsOf(in, h, date, a.additional, resource, true).stringToSign()
		if hmac.Equal([]byte(a.signature), []byte(signV2(secret, alt))) {
			return nil
		}
	}
	return errMismatch(oss.ErrSignatureDoesNotMatch, a.ak, a.signature, sts, "")
}

func verifyV2Header(r *request, creds string, lookup Lookup) (Result, *oss.Error) {
	a, err := parseV2Authorization(creds)
	if err != nil {
		return Result{}, err
	}
	secret, err := secretFor(lookup, a.ak)
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
	// Both SDKs set Date and sign it; a client that sends only
	// x-oss-date signs that, as V1 allows.
	date := hget(r.in.Header, "Date")
	if date == "" {
		date = hget(r.in.Header, "x-oss-date")
	}
	if err := checkV2(r, a, secret, date, false); err != nil {
		return Result{}, err
	}
	return Result{
		AccessKeyID:   a.ak,
		Version:       VersionV2,
		SecurityToken: hget(r.in.Header, "x-oss-security-token"),
	}, nil
}

// verifyV2Query checks a V2 presigned URL. x-oss-expires is absolute and
// is signed in place of Date; the STS token rides as security-token, a
// signed parameter like every other.
func verifyV2Query(r *request, lookup Lookup) (Result, *oss.Error) {
	q := r.query
	for _, name := range []string{"x-oss-signature-version", "x-oss-access-key-id", "x-oss-expires", "x-oss-signature", "x-oss-additional-headers"} {
		if count(q, name) > 1 {
			return Result{}, errQueryAuthMissing.WithMessage("Parameter %s appears more than once.", name)
		}
	}
	ak, ok := first(q, "x-oss-access-key-id")
	if !ok {
		return Result{}, errV2NoAccessKeyQ.WithMessage("A V2 presigned URL requires x-oss-access-key-id.").With("ParameterName", "x-oss-access-key-id")
	}
	if ak == "" {
		return Result{}, errV2EmptyAccessKey.WithMessage("x-oss-access-key-id is empty.")
	}
	exp, ok := first(q, "x-oss-expires")
	if !ok {
		return Result{}, errV2NoExpires.WithMessage("A V2 presigned URL requires x-oss-expires.").With("ParameterName", "x-oss-expires")
	}
	if exp == "" {
		return Result{}, errV2EmptyExpires.WithMessage("x-oss-expires is empty.").With("ParameterName", "x-oss-expires")
	}
	sig, _ := first(q, "x-oss-signature")
	if sig == "" {
		return Result{}, errQueryAuthMissing.WithMessage("A V2 presigned URL requires x-oss-signature.").With("ParameterName", "x-oss-signature")
	}
	expires, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil || expires < 0 {
		return Result{}, errInvalidExpires.With("Expires", clip(exp))
	}
	a := v2Auth{ak: ak, signature: sig}
	if v, ok := first(q, "x-oss-additional-headers"); ok {
		list, err := parseV2Additional(v)
		if err != nil {
			return Result{}, err
		}
		a.additional = list
	}
	secret, err := secretFor(lookup, ak)
	if err != nil {
		return Result{}, err
	}
	if r.in.Now.Unix() > expires {
		return Result{}, errExpired(time.Unix(expires, 0), r.in.Now)
	}
	if err := checkV2(r, a, secret, exp, true); err != nil {
		return Result{}, err
	}
	token, _ := first(q, "security-token")
	return Result{AccessKeyID: ak, Version: VersionV2, Presigned: true, SecurityToken: token}, nil
}

// SignV2 signs r with OSS V2 in the Authorization header, as oss2's AuthV2
// does: Date set to now, the x-oss-* headers and the headers named in
// additional (when r carries them) signed with every query parameter.
func SignV2(r *http.Request, bucket, key, ak, sk string, now time.Time, additional ...string) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	list := presentHeaders(r.Header, additional)
	in := Input{Method: r.Method, Header: r.Header}
	resource := v2Resource(bucket, key, parseQuery(r.URL.RawQuery), false)
	sts := v2PartsOf(in, r.Header, r.Header.Get("Date"), list, resource, false).stringToSign()
	authz := v2Scheme + " AccessKeyId:" + ak
	if len(list) > 0 {
		authz += ",AdditionalHeaders:" + strings.Join(list, ";")
	}
	r.Header.Set("Authorization", authz+",Signature:"+signV2(sk, sts))
}

// PresignV2 turns r into a V2 presigned URL valid until expires, as
// oss2's AuthV2.sign_url does. Headers on r that V2 signs must be sent
// unchanged with the URL.
func PresignV2(r *http.Request, bucket, key, ak, sk string, expires time.Time, additional ...string) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	raw := dropParams(r.URL.RawQuery, "x-oss-signature-version", "x-oss-expires", "x-oss-access-key-id",
		"x-oss-additional-headers", "x-oss-signature")
	exp := strconv.FormatInt(expires.Unix(), 10)
	list := presentHeaders(r.Header, additional)
	kv := []string{"x-oss-signature-version", v2Scheme, "x-oss-expires", exp, "x-oss-access-key-id", ak}
	if len(list) > 0 {
		kv = append(kv, "x-oss-additional-headers", strings.Join(list, ";"))
	}
	raw = appendParams(raw, kv...)
	in := Input{Method: r.Method, Header: r.Header}
	resource := v2Resource(bucket, key, parseQuery(raw), true)
	sts := v2PartsOf(in, r.Header, exp, list, resource, false).stringToSign()
	r.URL.RawQuery = appendParams(raw, "x-oss-signature", signV2(sk, sts))
}

// presentHeaders lower-cases, sorts and dedups the names of additional
// that h carries: the SDKs list only headers the request has.
func presentHeaders(h http.Header, additional []string) []string {
	seen := map[string]bool{}
	var list []string
	for _, a := range additional {
		low := strings.ToLower(a)
		if !seen[low] && len(hvalues(h, low)) > 0 {
			seen[low] = true
			list = append(list, low)
		}
	}
	sort.Strings(list)
	return list
}
