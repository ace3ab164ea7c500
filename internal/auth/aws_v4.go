package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// AWS Signature Version 4 as S3 uses it:
//
//	CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n
//	                   CanonicalHeaders \n SignedHeaders \n HashedPayload
//	StringToSign     = AWS4-HMAC-SHA256 \n timestamp \n scope \n hex(SHA256(CanonicalRequest))
//	scope            = yyyymmdd/region/s3/aws4_request
//	key              = HMAC chain over "AWS4"+secret, yyyymmdd, region, "s3", "aws4_request"
//	Signature        = hex(HMAC-SHA256(key, StringToSign))
//
// S3 differs from the generic SigV4 in two ways that matter here: the
// canonical URI is the path URI-encoded once (not twice), and the hashed
// payload is whatever x-amz-content-sha256 says (a hex hash,
// UNSIGNED-PAYLOAD or a STREAMING-* mode, see aws_chunked.go).
//
// Where clients may have signed one of several equivalent forms, Verify
// tries each (at most a handful of HMACs): the path as sent and its
// canonical re-encoding, the query sorted by encoded or by decoded key
// (the current SDK sorts encoded; older signers sort decoded), and, for a
// presigned URL, the payload hashes a client may have meant.
const (
	aws4Algorithm  = "AWS4-HMAC-SHA256"
	aws4Terminator = "aws4_request"
	aws4Service    = "s3"

	// AWSDefaultRegion is accepted in a credential scope besides
	// Input.Region. SDKs and tools without a configured region (aws-sdk
	// "us-east-1" fallback, s3cmd, mc, rclone's default) sign with it, and
	// ossd serves one region, so the alias widens nothing a signature can
	// reach: the key, host and time still have to match. Any other region
	// is refused with the server's region in the error's Region element,
	// which the SDKs use to re-sign.
	AWSDefaultRegion = "us-east-1"
)

// Values of x-amz-content-sha256 besides a hex SHA-256.
const (
	AWSUnsignedPayload          = "UNSIGNED-PAYLOAD"
	AWSStreamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	AWSStreamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	AWSStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

const aws4CredentialForm = `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`

type aws4Credential struct{ ak, date, region, service string }

func (c aws4Credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + aws4Terminator
}

// credMalformed words a credential problem the way S3 does for the header
// and for X-Amz-Credential.
func credMalformed(query bool, reason string, args ...any) *oss.Error {
	if query {
		return awsMalformed(true, "Error parsing the X-Amz-Credential parameter; "+reason, args...)
	}
	return awsMalformed(false, reason, args...)
}

// parseAWS4Credential parses "<ak>/<yyyymmdd>/<region>/s3/aws4_request".
func parseAWS4Credential(s string, query bool) (aws4Credential, *oss.Error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return aws4Credential{}, credMalformed(query, aws4CredentialForm)
	}
	c := aws4Credential{ak: parts[0], date: parts[1], region: parts[2], service: parts[3]}
	if c.ak == "" || !printable(c.ak) || c.region == "" || !printable(c.region) ||
		len(c.date) != 8 || !digits(c.date) {
		return aws4Credential{}, credMalformed(query, aws4CredentialForm)
	}
	if _, err := time.Parse(dateOnly, c.date); err != nil {
		return aws4Credential{}, credMalformed(query, aws4CredentialForm)
	}
	if c.service != aws4Service {
		return aws4Credential{}, credMalformed(query, "incorrect service %q. This endpoint belongs to %q.", clip(c.service), aws4Service)
	}
	if parts[4] != aws4Terminator {
		return aws4Credential{}, credMalformed(query, "incorrect terminal %q. This endpoint uses %q.", clip(parts[4]), aws4Terminator)
	}
	return c, nil
}

// checkAWSRegion accepts the server's region and AWSDefaultRegion.
func checkAWSRegion(c aws4Credential, serverRegion string, query bool) *oss.Error {
	if c.region == serverRegion || c.region == AWSDefaultRegion {
		return nil
	}
	return credMalformed(query, "the region '%s' is wrong; expecting '%s'", clip(c.region), serverRegion).
		With("Region", serverRegion)
}

func checkAWSCredentialDate(c aws4Credential, t time.Time, query bool) *oss.Error {
	if t.UTC().Format(dateOnly) != c.date {
		return credMalformed(query, "Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	return nil
}

// aws4Authorization is a parsed "AWS4-HMAC-SHA256 ..." header.
type aws4Authorization struct {
	cred      aws4Credential
	signed    []string // lower-case, sorted, unique
	signature string   // lower-case hex
}

// parseAWS4Authorization parses "Credential=.., SignedHeaders=.., Signature=..".
// AWS separates the parts with ", "; the space is optional and the parts
// may come in any order, but unknown or repeated parts are refused rather
// than ignored, so nothing a client sends goes silently unverified.
func parseAWS4Authorization(creds string) (aws4Authorization, *oss.Error) {
	const three = "the authorization header requires three components: Credential, SignedHeaders, and Signature."
	if strings.TrimSpace(creds) == "" {
		return aws4Authorization{}, awsMalformed(false, three)
	}
	fields := map[string]string{}
	for _, f := range strings.Split(creds, ",") {
		f = strings.TrimSpace(f)
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			return aws4Authorization{}, awsMalformed(false, "the authorization component %q is malformed.", clip(f))
		case k != "Credential" && k != "SignedHeaders" && k != "Signature":
			return aws4Authorization{}, awsMalformed(false, "the authorization component %q is not supported.", clip(f))
		}
		if _, dup := fields[k]; dup {
			return aws4Authorization{}, awsMalformed(false, "the authorization component %q is repeated.", k)
		}
		fields[k] = v
	}
	if len(fields) != 3 {
		return aws4Authorization{}, awsMalformed(false, three)
	}
	cred, err := parseAWS4Credential(fields["Credential"], false)
	if err != nil {
		return aws4Authorization{}, err
	}
	signed, ok := parseSignedHeaders(fields["SignedHeaders"])
	if !ok {
		return aws4Authorization{}, awsMalformed(false, "the SignedHeaders component %q is malformed.", clip(fields["SignedHeaders"]))
	}
	sig := fields["Signature"]
	if !isHexSHA256(sig) {
		return aws4Authorization{}, awsMalformed(false, "the Signature component must be 64 hex digits.")
	}
	return aws4Authorization{cred: cred, signed: signed, signature: strings.ToLower(sig)}, nil
}

// parseSignedHeaders parses "h1;h2". Clients send the names lower-cased
// and sorted; normalising keeps a hand-written list working.
func parseSignedHeaders(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	return parseAdditionalHeaders(s)
}

// trimAll is SigV4's value normalisation: surrounding space trimmed and
// runs of spaces collapsed to one.
func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// aws4CanonicalHeaders renders exactly the signed headers, in order, each
// "name:v1,v2\n". "host" comes from Input.Host when Header lacks it, as it
// does for every request net/http parses.
func aws4CanonicalHeaders(in Input, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		vs := hvalues(in.Header, name)
		if name == "host" && len(vs) == 0 && in.Host != "" {
			vs = []string{in.Host}
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimAll(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// checkSignedHeaders enforces what S3 requires of SignedHeaders: host is
// signed, and so is every x-amz-* header present (exempt names aside), so
// no header that changes what a request does rides along unsigned.
func checkSignedHeaders(h http.Header, signed []string, exempt string) *oss.Error {
	in := map[string]bool{}
	for _, s := range signed {
		in[s] = true
	}
	var missing []string
	if !in["host"] {
		missing = append(missing, "host")
	}
	seen := map[string]bool{}
	for k := range h {
		low := strings.ToLower(k)
		if strings.HasPrefix(low, "x-amz-") && !in[low] && low != exempt && !seen[low] {
			seen[low] = true
			missing = append(missing, low)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return errAWSHeadersNotSigned.With("HeadersNotSigned", clip(strings.Join(missing, ", ")))
}

// checkAWSPath refuses an Input whose Bucket and Key are not what Path
// addresses: AWS signs the path, so a Bucket or Key the HTTP layer derived
// some other way would escape the signature.
func checkAWSPath(in Input) *oss.Error {
	if in.Path == "" || in.Bucket == "" {
		return nil
	}
	if d, err := url.PathUnescape(in.Path); err == nil {
		if d == resourcePath(in.Bucket, in.Key) || d == "/"+in.Key || (in.Key == "" && d == "/"+in.Bucket) {
			return nil
		}
	}
	return errAWSInvalidURI
}

// aws4URIs are the canonical URIs a client may have signed: the path
// re-encoded the S3 way (every byte outside the unreserved set and '/'
// percent-encoded, once), then the path exactly as sent if that differs.
func aws4URIs(in Input) []string {
	if in.Path == "" {
		return []string{escape(resourcePath(in.Bucket, in.Key), false)}
	}
	var out []string
	if d, err := url.PathUnescape(in.Path); err == nil {
		out = append(out, escape(d, false))
	}
	if len(out) == 0 || out[0] != in.Path {
		out = append(out, in.Path)
	}
	return out
}

// aws4Queries is the canonical query: every parameter, RFC 3986-encoded,
// "k=v" (with '=' even for an empty value), sorted by encoded key then
// value; a presigned URL leaves out X-Amz-Signature. When sorting by the
// decoded key gives another order, that form is tried too.
func aws4Queries(q []param, presigned bool) []string {
	items := make([]param, 0, len(q))
	for _, p := range q {
		if presigned && p.key == "X-Amz-Signature" {
			continue
		}
		items = append(items, p)
	}
	join := func() string {
		var b strings.Builder
		for i, p := range items {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(p.encKey + "=" + p.encVal)
		}
		return b.String()
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].encKey != items[j].encKey {
			return items[i].encKey < items[j].encKey
		}
		return items[i].encVal < items[j].encVal
	})
	out := []string{join()}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].key != items[j].key {
			return items[i].key < items[j].key
		}
		return items[i].val < items[j].val
	})
	if alt := join(); alt != out[0] {
		out = append(out, alt)
	}
	return out
}

func aws4SigningKey(secret string, c aws4Credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.date)
	k = hmacSHA256(k, c.region)
	k = hmacSHA256(k, c.service)
	return hmacSHA256(k, aws4Terminator)
}

func aws4StringToSign(timestamp string, c aws4Credential, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return aws4Algorithm + "\n" + timestamp + "\n" + c.scope() + "\n" + hex.EncodeToString(sum[:])
}

// aws4Check is one SigV4 signature to verify.
type aws4Check struct {
	cred      aws4Credential
	key       []byte // aws4SigningKey
	timestamp string // as signed
	signed    []string
	signature string // lower-case hex
	presigned bool
}

// check tries the canonical forms (see aws4URIs, aws4Queries) with each
// candidate payload hash and returns the payload hash that verified. The
// error shows the first (canonical) form.
func (c aws4Check) check(r *request, payloads []string) (string, *oss.Error) {
	headers := aws4CanonicalHeaders(r.in, c.signed)
	signedList := strings.Join(c.signed, ";")
	var firstCR, firstSTS string
	for _, uri := range aws4URIs(r.in) {
		for _, q := range aws4Queries(r.query, c.presigned) {
			for _, p := range payloads {
				cr := r.in.Method + "\n" + uri + "\n" + q + "\n" + headers + "\n" + signedList + "\n" + p
				sts := aws4StringToSign(c.timestamp, c.cred, cr)
				if firstCR == "" {
					firstCR, firstSTS = cr, sts
				}
				if hmac.Equal([]byte(c.signature), []byte(hex.EncodeToString(hmacSHA256(c.key, sts)))) {
					return p, nil
				}
			}
		}
	}
	return "", errAWSMismatch(c.cred.ak, c.signature, firstSTS, firstCR)
}

// requestTimeAWS4 returns the signed timestamp and its time: x-amz-date
// (ISO 8601 basic) or, failing that, the Date header, signed in ISO 8601
// basic form.
func requestTimeAWS4(h http.Header) (string, time.Time, *oss.Error) {
	if v := hget(h, "x-amz-date"); v != "" {
		t, ok := parseISO8601(v)
		if !ok {
			return "", time.Time{}, errAWSMissingDate
		}
		return v, t, nil
	}
	if v := hget(h, "Date"); v != "" {
		t, ok := parseAWSDate(v)
		if !ok {
			return "", time.Time{}, errAWSMissingDate
		}
		return t.UTC().Format(iso8601Basic), t, nil
	}
	return "", time.Time{}, errAWSMissingDate
}

func verifyAWS4Header(r *request, creds string, lookup Lookup) (Result, *oss.Error) {
	in := r.in
	a, err := parseAWS4Authorization(creds)
	if err != nil {
		return Result{}, err
	}
	if err := checkAWSRegion(a.cred, in.Region, false); err != nil {
		return Result{}, err
	}
	if err := checkAWSPath(in); err != nil {
		return Result{}, err
	}
	secret, ok := awsSecret(lookup, a.cred.ak)
	if !ok {
		return Result{}, errAWSUnknownKey(a.cred.ak)
	}
	ts, t, err := requestTimeAWS4(in.Header)
	if err != nil {
		return Result{}, err
	}
	if err := checkAWSCredentialDate(a.cred, t, false); err != nil {
		return Result{}, err
	}
	if d := in.Now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return Result{}, errAWSSkewed(ts, in.Now)
	}
	payload := hget(in.Header, "x-amz-content-sha256")
	if payload == "" {
		return Result{}, errAWSMissingContentSHA256
	}
	var stream *Streaming
	switch payload {
	case AWSUnsignedPayload:
	case AWSStreamingSigned, AWSStreamingSignedTrailer, AWSStreamingUnsignedTrailer:
		if stream, err = newStreaming(in.Header, payload); err != nil {
			return Result{}, err
		}
	default:
		if !isHexSHA256(payload) {
			return Result{}, errAWSInvalidContentSHA256.With("ArgumentName", "x-amz-content-sha256").With("ArgumentValue", clip(payload))
		}
	}
	if err := checkSignedHeaders(in.Header, a.signed, ""); err != nil {
		return Result{}, err
	}
	c := aws4Check{cred: a.cred, key: aws4SigningKey(secret, a.cred), timestamp: ts, signed: a.signed, signature: a.signature}
	if _, err := c.check(r, []string{payload}); err != nil {
		return Result{}, err
	}
	res := Result{AccessKeyID: a.cred.ak, Version: VersionAWS4, SecurityToken: hget(in.Header, "x-amz-security-token")}
	if stream != nil {
		stream.ak, stream.key, stream.seed, stream.timestamp, stream.scope = a.cred.ak, c.key, a.signature, ts, a.cred.scope()
		res.Streaming = stream
	} else if payload != AWSUnsignedPayload {
		res.PayloadSHA256 = strings.ToLower(payload)
	}
	return res, nil
}

// verifyAWS4Query checks a SigV4 presigned URL. X-Amz-Expires is relative
// to X-Amz-Date and at most 7 days; a URL used more than MaxSkew before
// its X-Amz-Date is not valid yet.
func verifyAWS4Query(r *request, lookup Lookup) (Result, *oss.Error) {
	in, q := r.in, r.query
	required := []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"}
	for _, name := range required {
		if v, _ := first(q, name); v == "" {
			return Result{}, errAWSQueryMalformed
		}
	}
	for _, name := range append(required, "X-Amz-Security-Token", "X-Amz-Content-Sha256") {
		if count(q, name) > 1 {
			return Result{}, awsMalformed(true, "Parameter %s appears more than once.", name)
		}
	}
	alg, _ := first(q, "X-Amz-Algorithm")
	credStr, _ := first(q, "X-Amz-Credential")
	sig, _ := first(q, "X-Amz-Signature")
	date, _ := first(q, "X-Amz-Date")
	signedStr, _ := first(q, "X-Amz-SignedHeaders")
	expStr, _ := first(q, "X-Amz-Expires")

	if alg != aws4Algorithm {
		return Result{}, awsMalformed(true, `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`)
	}
	t, ok := parseISO8601(date)
	if !ok {
		return Result{}, awsMalformed(true, `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	exp, perr := strconv.ParseInt(expStr, 10, 64)
	maxExp := int64(MaxPresignV4Expires / time.Second)
	switch num := strings.TrimPrefix(expStr, "-"); {
	case num == "" || !digits(num):
		return Result{}, awsMalformed(true, "X-Amz-Expires should be a number")
	case num != expStr:
		return Result{}, awsMalformed(true, "X-Amz-Expires must be non-negative")
	case perr != nil || exp > maxExp:
		return Result{}, awsMalformed(true, "X-Amz-Expires must be less than a week (in seconds) that is; %d", maxExp)
	}
	cred, err := parseAWS4Credential(credStr, true)
	if err != nil {
		return Result{}, err
	}
	if err := checkAWSCredentialDate(cred, t, true); err != nil {
		return Result{}, err
	}
	if err := checkAWSRegion(cred, in.Region, true); err != nil {
		return Result{}, err
	}
	signed, ok := parseSignedHeaders(signedStr)
	if !ok {
		return Result{}, awsMalformed(true, "X-Amz-SignedHeaders %q is malformed.", clip(signedStr))
	}
	if !isHexSHA256(sig) {
		return Result{}, awsMalformed(true, "X-Amz-Signature must be 64 hex digits.")
	}
	if err := checkAWSPath(in); err != nil {
		return Result{}, err
	}
	secret, ok := awsSecret(lookup, cred.ak)
	if !ok {
		return Result{}, errAWSUnknownKey(cred.ak)
	}
	now := in.Now
	if now.Before(t.Add(-MaxSkew)) {
		return Result{}, errAWSNotYetValid.With("X-Amz-Date", date).With("ServerTime", isoTime(now))
	}
	if end := t.Add(time.Duration(exp) * time.Second); now.After(end) {
		return Result{}, errAWSExpired.With("X-Amz-Expires", expStr).With("Expires", isoTime(end)).With("ServerTime", isoTime(now))
	}
	// An unsigned x-amz-content-sha256 header can only narrow what the
	// URL allows: its value becomes the hashed payload, which the HTTP
	// layer then checks against the body.
	if err := checkSignedHeaders(in.Header, signed, "x-amz-content-sha256"); err != nil {
		return Result{}, err
	}
	// The payload hash of a presigned URL is UNSIGNED-PAYLOAD unless the
	// client declared one: as X-Amz-Content-Sha256 in the query, or in the
	// header. aws-sdk-go-v2 hoists a header into the query yet signs
	// UNSIGNED-PAYLOAD, so every declared value is tried, then
	// UNSIGNED-PAYLOAD.
	var payloads []string
	qv, _ := first(q, "X-Amz-Content-Sha256")
	for _, p := range []string{qv, hget(in.Header, "x-amz-content-sha256"), AWSUnsignedPayload} {
		switch {
		case p == "" || slices.Contains(payloads, p):
			continue
		case strings.HasPrefix(p, "STREAMING-"):
			return Result{}, errAWSPresignStreaming
		case p != AWSUnsignedPayload && !isHexSHA256(p):
			return Result{}, errAWSInvalidContentSHA256.With("ArgumentName", "x-amz-content-sha256").With("ArgumentValue", clip(p))
		}
		payloads = append(payloads, p)
	}
	c := aws4Check{cred: cred, key: aws4SigningKey(secret, cred), timestamp: date, signed: signed, signature: strings.ToLower(sig), presigned: true}
	payload, err := c.check(r, payloads)
	if err != nil {
		return Result{}, err
	}
	token, ok := first(q, "X-Amz-Security-Token")
	if !ok {
		token = hget(in.Header, "x-amz-security-token")
	}
	res := Result{AccessKeyID: cred.ak, Version: VersionAWS4, Presigned: true, SecurityToken: token}
	if payload != AWSUnsignedPayload {
		res.PayloadSHA256 = strings.ToLower(payload)
	}
	return res, nil
}

// awsPresignScheme picks the AWS verifier for a presigned URL; ok is false
// when the query carries no AWS signature parameter. AWS and OSS
// parameters together are refused, so neither goes unchecked.
func awsPresignScheme(q []param) (v queryVerifier, err *oss.Error, ok bool) {
	v4 := has(q, "X-Amz-Algorithm") || has(q, "X-Amz-Credential") || has(q, "X-Amz-Signature")
	v2 := has(q, "AWSAccessKeyId")
	if !v4 && !v2 {
		return nil, nil, false
	}
	ossToo := has(q, "OSSAccessKeyId") || has(q, "x-oss-signature") || has(q, "x-oss-credential") || has(q, "x-oss-signature-version")
	switch {
	case (v4 && v2) || ossToo:
		return nil, errTwoAuthMechanisms, true
	case v4:
		return verifyAWS4Query, nil, true
	}
	return verifyAWS2Query, nil, true
}

// awsSecret resolves an access key id; AWS versions report an unknown key
// with S3's InvalidAccessKeyId.
func awsSecret(lookup Lookup, ak string) (string, bool) {
	if lookup == nil {
		return "", false
	}
	return lookup(ak)
}
