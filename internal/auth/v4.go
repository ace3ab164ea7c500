package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// OSS V4 (OSS4-HMAC-SHA256):
//
//	CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n
//	                   CanonicalHeaders \n AdditionalHeaders \n HashedPayload
//	StringToSign     = OSS4-HMAC-SHA256 \n timestamp \n scope \n hex(SHA256(CanonicalRequest))
//	scope            = yyyymmdd/region/oss/aliyun_v4_request
//	key              = HMAC chain over "aliyun_v4"+secret, yyyymmdd, region, "oss", "aliyun_v4_request"
//	Signature        = hex(HMAC-SHA256(key, StringToSign))
//
// The timestamp is x-oss-date (V2SDK always sends it) or, failing that,
// the Date header verbatim: V1SDK in V4 mode sends no x-oss-date and signs
// its Date header in RFC 1123 form.
const (
	v4Algorithm     = "OSS4-HMAC-SHA256"
	v4Terminator    = "aliyun_v4_request"
	v4Product       = "oss" // CloudBox's "oss-cloudbox" is out of scope
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

type v4Credential struct{ ak, date, region, product string }

func (c v4Credential) scope() string {
	return c.date + "/" + c.region + "/" + c.product + "/" + v4Terminator
}

// parseV4Credential parses "<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request";
// malformed is the error of the form it came in (header or query).
func parseV4Credential(s string, malformed *oss.Error) (v4Credential, *oss.Error) {
	bad := func(why string) (v4Credential, *oss.Error) {
		return v4Credential{}, malformed.WithMessage("Invalid credential %q: %s; expected <AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request.", clip(s), why)
	}
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return bad("wrong number of parts")
	}
	c := v4Credential{ak: parts[0], date: parts[1], region: parts[2], product: parts[3]}
	switch {
	case c.ak == "" || !printable(c.ak):
		return bad("invalid AccessKeyId")
	case len(c.date) != 8 || !digits(c.date):
		return bad("invalid date")
	case c.region == "" || !printable(c.region):
		return bad("invalid region")
	case c.product != v4Product:
		return bad("product must be oss")
	case parts[4] != v4Terminator:
		return bad("must end with aliyun_v4_request")
	}
	if _, err := time.Parse(dateOnly, c.date); err != nil {
		return bad("invalid date")
	}
	return c, nil
}

// v4Authorization is a parsed "OSS4-HMAC-SHA256 ..." header.
type v4Authorization struct {
	cred       v4Credential
	additional []string // lower-case, sorted, unique
	signature  string   // lower-case hex
}

// parseV4Authorization parses "Credential=..,[AdditionalHeaders=..,]Signature=..".
// Fields may come in any order and may be followed by spaces; unknown or
// repeated fields are refused rather than ignored, so nothing a client
// sends goes silently unverified.
func parseV4Authorization(creds string) (v4Authorization, *oss.Error) {
	malformed := func(why string) (v4Authorization, *oss.Error) {
		return v4Authorization{}, errV4Malformed.WithMessage("Authorization header is invalid: %s; expected \"OSS4-HMAC-SHA256 Credential=<ak>/<date>/<region>/oss/aliyun_v4_request[,AdditionalHeaders=<h1;h2>],Signature=<hex>\".", why)
	}
	fields := map[string]string{}
	for _, f := range strings.Split(creds, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return malformed("a field is not key=value")
		}
		switch k {
		case "Credential", "AdditionalHeaders", "Signature":
		default:
			return malformed("unknown field " + strconv.Quote(clip(k)))
		}
		if _, dup := fields[k]; dup {
			return malformed("repeated field " + k)
		}
		fields[k] = v
	}
	credStr, ok := fields["Credential"]
	if !ok {
		return malformed("missing Credential")
	}
	sig, ok := fields["Signature"]
	if !ok {
		return malformed("missing Signature")
	}
	if !isHexSHA256(sig) {
		return malformed("Signature must be 64 hex digits")
	}
	cred, err := parseV4Credential(credStr, errV4CredentialHeader)
	if err != nil {
		return v4Authorization{}, err
	}
	add, ok := parseAdditionalHeaders(fields["AdditionalHeaders"])
	if !ok {
		return malformed("invalid AdditionalHeaders")
	}
	return v4Authorization{cred: cred, additional: add, signature: strings.ToLower(sig)}, nil
}

// parseAdditionalHeaders parses "h1;h2". Both SDKs send the names
// lower-cased and sorted; normalising keeps a hand-written list working.
func parseAdditionalHeaders(s string) ([]string, bool) {
	if s == "" {
		return nil, true
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range strings.Split(s, ";") {
		if n == "" || !token(n) {
			return nil, false
		}
		n = strings.ToLower(n)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, true
}

// v4Parts is what the canonical request is built from.
type v4Parts struct {
	method, uri, query string
	headers            []headerLine
	additional         []string
	payload            string
}

func (p v4Parts) canonicalRequest() string {
	var b strings.Builder
	b.WriteString(p.method + "\n" + p.uri + "\n" + p.query + "\n")
	for _, h := range p.headers {
		b.WriteString(h.name + ":" + h.value + "\n")
	}
	b.WriteString("\n" + strings.Join(p.additional, ";") + "\n" + p.payload)
	return b.String()
}

// v4Query is the canonical query: every parameter (not only
// sub-resources), canonically encoded, sorted by encoded key then value,
// "k=v" or a bare "k" when the value is empty. A presigned URL leaves out
// its own x-oss-signature.
func v4Query(q []param, presigned bool) string {
	items := make([]param, 0, len(q))
	for _, p := range q {
		if presigned && p.key == "x-oss-signature" {
			continue
		}
		items = append(items, p)
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].encKey != items[j].encKey {
			return items[i].encKey < items[j].encKey
		}
		return items[i].encVal < items[j].encVal
	})
	var b strings.Builder
	for i, p := range items {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.encKey)
		if p.encVal != "" {
			b.WriteString("=" + p.encVal)
		}
	}
	return b.String()
}

// v4Signed selects the headers V4 signs: x-oss-*, Content-Type,
// Content-MD5 and whatever AdditionalHeaders lists.
func v4Signed(additional []string) func(string) bool {
	return func(low string) bool {
		if isOSSHeader(low) || low == "content-type" || low == "content-md5" {
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

func v4PartsOf(method, bucket, key, query string, h http.Header, additional []string, payload string, firstOnly bool) v4Parts {
	return v4Parts{
		method:     method,
		uri:        escape(resourcePath(bucket, key), false),
		query:      query,
		headers:    canonicalHeaders(h, v4Signed(additional), firstOnly),
		additional: additional,
		payload:    payload,
	}
}

func stringToSignV4(timestamp string, c v4Credential, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return v4Algorithm + "\n" + timestamp + "\n" + c.scope() + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signV4(secret string, c v4Credential, stringToSign string) string {
	k := hmacSHA256([]byte("aliyun_v4"+secret), c.date)
	k = hmacSHA256(k, c.region)
	k = hmacSHA256(k, c.product)
	k = hmacSHA256(k, v4Terminator)
	return hex.EncodeToString(hmacSHA256(k, stringToSign))
}

// payloadHash reads x-oss-content-sha256. A missing header counts as
// UNSIGNED-PAYLOAD, as in both SDKs' signers. The canonical request uses
// the value as sent; the Result gets it lower-cased.
func payloadHash(h http.Header) (canonical, declared string, err *oss.Error) {
	v := hget(h, "x-oss-content-sha256")
	switch {
	case v == "" || v == unsignedPayload:
		if v == "" {
			v = unsignedPayload
		}
		return v, "", nil
	case isHexSHA256(v):
		return v, strings.ToLower(v), nil
	}
	return "", "", errInvalidContentSHA256
}

// v4Headers returns the headers to canonicalise: Input.Header, plus Host
// from Input.Host when the client signed "host" (net/http keeps Host out of
// r.Header).
func v4Headers(in Input, additional []string) http.Header {
	h := in.Header
	for _, a := range additional {
		if a == "host" && in.Host != "" && hget(h, "Host") == "" {
			h = h.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("Host", in.Host)
		}
	}
	return h
}

// checkV4 compares the signature with the V2SDK canonical form and, when
// a signed header is repeated, the V1SDK one (first value only); see
// checkV1 for what that means for handlers.
func checkV4(r *request, cred v4Credential, secret, provided, timestamp string, additional []string, presigned bool, payload string) *oss.Error {
	in := r.in
	h := v4Headers(in, additional)
	query := v4Query(r.query, presigned)
	cr := v4PartsOf(in.Method, in.Bucket, in.Key, query, h, additional, payload, false).canonicalRequest()
	sts := stringToSignV4(timestamp, cred, cr)
	if hmac.Equal([]byte(provided), []byte(signV4(secret, cred, sts))) {
		return nil
	}
	if multiValued(h, v4Signed(additional)) {
		alt := v4PartsOf(in.Method, in.Bucket, in.Key, query, h, additional, payload, true).canonicalRequest()
		if hmac.Equal([]byte(provided), []byte(signV4(secret, cred, stringToSignV4(timestamp, cred, alt)))) {
			return nil
		}
	}
	return errMismatch(errV4SignatureDoesNotMatch, cred.ak, provided, sts, cr)
}

// requestTimeV4 returns the signed timestamp string and its time.
func requestTimeV4(h http.Header) (string, time.Time, *oss.Error) {
	if v := hget(h, "x-oss-date"); v != "" {
		t, ok := parseISO8601(v)
		if !ok {
			return "", time.Time{}, errInvalidDate.WithMessage("x-oss-date must be in ISO 8601 basic form, e.g. 20231216T162057Z.")
		}
		return v, t, nil
	}
	if v := hget(h, "Date"); v != "" {
		t, ok := parseHTTPDate(v)
		if !ok {
			return "", time.Time{}, errInvalidDate
		}
		return v, t, nil
	}
	return "", time.Time{}, oss.ErrMissingDateHeader
}

func checkCredentialDate(c v4Credential, t time.Time) *oss.Error {
	if d := t.UTC().Format(dateOnly); d != c.date {
		return errV4CredentialDate.WithMessage("The date in the credential (%s) is not the date of the request (%s).", c.date, d)
	}
	return nil
}

func verifyV4Header(r *request, creds string, lookup Lookup) (Result, *oss.Error) {
	a, err := parseV4Authorization(creds)
	if err != nil {
		return Result{}, err
	}
	if a.cred.region != r.in.Region {
		return Result{}, errSigningRegionHeader.With("ArgumentName", "Credential").With("ArgumentValue", clip(a.cred.region))
	}
	secret, err := secretFor(lookup, a.cred.ak)
	if err != nil {
		return Result{}, err
	}
	ts, t, err := requestTimeV4(r.in.Header)
	if err != nil {
		return Result{}, err
	}
	if err := checkCredentialDate(a.cred, t); err != nil {
		return Result{}, err
	}
	if err := checkSkew(t, r.in.Now); err != nil {
		return Result{}, err
	}
	payload, declared, err := payloadHash(r.in.Header)
	if err != nil {
		return Result{}, err
	}
	if err := checkV4(r, a.cred, secret, a.signature, ts, a.additional, false, payload); err != nil {
		return Result{}, err
	}
	return Result{
		AccessKeyID:   a.cred.ak,
		Version:       VersionV4,
		SecurityToken: hget(r.in.Header, "x-oss-security-token"),
		PayloadSHA256: declared,
	}, nil
}

// verifyV4Query checks a V4 presigned URL. x-oss-expires is relative to
// x-oss-date; OSS also refuses a URL used more than 15 minutes before
// x-oss-date, which bounds how far a fast client clock can stretch it.
func verifyV4Query(r *request, lookup Lookup) (Result, *oss.Error) {
	q := r.query
	for _, name := range []string{"x-oss-credential", "x-oss-date", "x-oss-expires", "x-oss-signature"} {
		v, _ := first(q, name)
		if v == "" {
			return Result{}, errQueryAuthMissing.WithMessage("A V4 presigned URL requires x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature.").With("ParameterName", name)
		}
		if count(q, name) > 1 {
			return Result{}, errQueryAuthMissing.WithMessage("Parameter %s appears more than once.", name)
		}
	}
	for _, name := range []string{"x-oss-signature-version", "x-oss-additional-headers", "x-oss-security-token"} {
		if count(q, name) > 1 {
			return Result{}, errQueryAuthMissing.WithMessage("Parameter %s appears more than once.", name)
		}
	}
	credStr, _ := first(q, "x-oss-credential")
	date, _ := first(q, "x-oss-date")
	expStr, _ := first(q, "x-oss-expires")
	sig, _ := first(q, "x-oss-signature")
	addStr, _ := first(q, "x-oss-additional-headers")

	cred, err := parseV4Credential(credStr, errV4CredentialQuery)
	if err != nil {
		return Result{}, err
	}
	if !isHexSHA256(sig) {
		return Result{}, errV4CredentialQuery.WithMessage("x-oss-signature must be 64 hex digits.")
	}
	additional, ok := parseAdditionalHeaders(addStr)
	if !ok {
		return Result{}, errV4CredentialQuery.WithMessage("x-oss-additional-headers is invalid.")
	}
	if cred.region != r.in.Region {
		return Result{}, errSigningRegionQuery.With("ArgumentName", "x-oss-credential").With("ArgumentValue", clip(credStr))
	}
	t, ok := parseISO8601(date)
	if !ok {
		return Result{}, errInvalidDate.WithMessage("x-oss-date must be in ISO 8601 basic form, e.g. 20231216T162057Z.")
	}
	exp, perr := strconv.ParseInt(expStr, 10, 64)
	if perr != nil || exp <= 0 || exp > int64(MaxPresignV4Expires/time.Second) {
		return Result{}, errInvalidExpires.WithMessage("x-oss-expires must be between 1 and %d seconds.", int64(MaxPresignV4Expires/time.Second)).With("Expires", clip(expStr))
	}
	if err := checkCredentialDate(cred, t); err != nil {
		return Result{}, err
	}
	secret, err := secretFor(lookup, cred.ak)
	if err != nil {
		return Result{}, err
	}
	now := r.in.Now
	if now.Before(t.Add(-MaxSkew)) {
		return Result{}, errNotYetValid.With("RequestTime", isoTime(t)).With("ServerTime", isoTime(now))
	}
	if end := t.Add(time.Duration(exp) * time.Second); now.After(end) {
		// OSS gives an expired V4 URL its own EC (V1's is 0002-00000069).
		return Result{}, errExpired(end, now).WithEC("0002-00000236")
	}
	payload, declared, err := payloadHash(r.in.Header)
	if err != nil {
		return Result{}, err
	}
	if err := checkV4(r, cred, secret, strings.ToLower(sig), date, additional, true, payload); err != nil {
		return Result{}, err
	}
	token, ok := first(q, "x-oss-security-token")
	if !ok {
		token = hget(r.in.Header, "x-oss-security-token")
	}
	return Result{AccessKeyID: cred.ak, Version: VersionV4, Presigned: true, SecurityToken: token, PayloadSHA256: declared}, nil
}

// clientAdditional normalises a signer's additional header list the way
// V2SDK does: lower-case, sorted, without default-signed or absent headers.
func clientAdditional(h http.Header, names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		low := strings.ToLower(n)
		if seen[low] || v4Signed(nil)(low) || hget(h, low) == "" {
			continue
		}
		seen[low] = true
		out = append(out, low)
	}
	sort.Strings(out)
	return out
}

// SignV4 signs r with OSS V4 in the Authorization header, as V2SDK does:
// it sets x-oss-date and Date to now, x-oss-content-sha256 to
// UNSIGNED-PAYLOAD unless r already declares a body hash, and signs every
// query parameter, x-oss-*, Content-Type, Content-MD5 and the
// additionalHeaders present on r. bucket and key are decoded names. For
// STS, set x-oss-security-token on r first.
func SignV4(r *http.Request, bucket, key, ak, sk, region string, now time.Time, additionalHeaders ...string) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	utc := now.UTC()
	ts := utc.Format(iso8601Basic)
	r.Header.Set("x-oss-date", ts)
	r.Header.Set("Date", utc.Format(http.TimeFormat))
	if hget(r.Header, "x-oss-content-sha256") == "" {
		r.Header.Set("x-oss-content-sha256", unsignedPayload)
	}
	cred := v4Credential{ak: ak, date: utc.Format(dateOnly), region: region, product: v4Product}
	add := clientAdditional(r.Header, additionalHeaders)
	payload := hget(r.Header, "x-oss-content-sha256")
	cr := v4PartsOf(r.Method, bucket, key, v4Query(parseQuery(r.URL.RawQuery), false), r.Header, add, payload, false).canonicalRequest()
	auth := v4Algorithm + " Credential=" + ak + "/" + cred.scope()
	if len(add) > 0 {
		auth += ",AdditionalHeaders=" + strings.Join(add, ";")
	}
	r.Header.Set("Authorization", auth+",Signature="+signV4(sk, cred, stringToSignV4(ts, cred, cr)))
}

// PresignV4 turns r into a V4 presigned URL signed at now and valid for
// ttl (whole seconds, at most MaxPresignV4Expires): it appends
// x-oss-signature-version, x-oss-date, x-oss-expires, x-oss-credential,
// x-oss-additional-headers (when any) and x-oss-signature to
// r.URL.RawQuery, replacing earlier ones. Headers on r that V4 signs must
// be sent unchanged with the URL. For STS, add x-oss-security-token to the
// query first.
func PresignV4(r *http.Request, bucket, key, ak, sk, region string, now time.Time, ttl time.Duration, additionalHeaders ...string) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	utc := now.UTC()
	ts := utc.Format(iso8601Basic)
	cred := v4Credential{ak: ak, date: utc.Format(dateOnly), region: region, product: v4Product}
	add := clientAdditional(r.Header, additionalHeaders)
	raw := dropParams(r.URL.RawQuery, "x-oss-signature-version", "x-oss-date", "x-oss-expires",
		"x-oss-credential", "x-oss-additional-headers", "x-oss-signature")
	kv := []string{
		"x-oss-signature-version", v4Algorithm,
		"x-oss-date", ts,
		"x-oss-expires", strconv.FormatInt(int64(ttl/time.Second), 10),
		"x-oss-credential", ak + "/" + cred.scope(),
	}
	if len(add) > 0 {
		kv = append(kv, "x-oss-additional-headers", strings.Join(add, ";"))
	}
	raw = appendParams(raw, kv...)
	payload, _, _ := payloadHash(r.Header)
	if payload == "" {
		payload = unsignedPayload
	}
	cr := v4PartsOf(r.Method, bucket, key, v4Query(parseQuery(raw), true), r.Header, add, payload, false).canonicalRequest()
	r.URL.RawQuery = appendParams(raw, "x-oss-signature", signV4(sk, cred, stringToSignV4(ts, cred, cr)))
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printable refuses controls and spaces, which no access key or region
// contains and which would make error bodies and logs ambiguous.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// token reports whether s is an RFC 7230 header-name token.
func token(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+^`|", rune(c)) {
			return false
		}
	}
	return s != ""
}
