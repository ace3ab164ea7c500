// Package auth verifies the signatures of OSS requests: OSS V1 (HMAC-SHA1),
// OSS V2 (OSS2, HMAC-SHA256) and OSS V4 (OSS4-HMAC-SHA256), each in the
// Authorization header or in a presigned URL, and of S3 requests: AWS SigV2 and SigV4 likewise, with
// SigV4's aws-chunked streaming bodies (aws_*.go). It takes a canonical
// view of the request and a credential lookup and returns who signed it or
// an *oss.Error; it never touches the ResponseWriter, so it can be
// table-tested and fuzzed on its own.
//
// The canonical forms follow what the official SDKs actually send
// (aliyun-oss-go-sdk v3 "V1SDK" and alibabacloud-oss-go-sdk-v2 "V2SDK"),
// because a request signed by an unmodified SDK must verify. Where the two
// SDKs disagree, the choice is documented next to the code that makes it.
package auth

import (
	"net/http"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// Input is the canonical view of a request the HTTP layer hands to Verify.
type Input struct {
	Method   string
	Bucket   string // "" for service-level requests (decoded)
	Key      string // "" for bucket-level requests (decoded, raw UTF-8)
	RawQuery string // r.URL.RawQuery exactly as received
	Header   http.Header
	Now      time.Time // server clock (injected)
	Region   string    // server region, e.g. "cn-hangzhou"

	// Host is r.Host. net/http moves Host out of r.Header, yet a V4 client
	// may list "host" in AdditionalHeaders (AWS SigV4 always signs it);
	// Verify uses Host then, unless Header carries a Host entry itself.
	Host string

	// Path is r.URL.EscapedPath(), the path as sent. AWS signs the path
	// (SigV4) or its bucket-prefixed form (SigV2), which for a
	// virtual-hosted request lacks the bucket; OSS signs Bucket and Key and
	// ignores Path. "" means the path-style "/bucket/key". When Bucket is
	// set, Path must decode to "/bucket/key" or, virtual-hosted, to "/key",
	// else an AWS-signed request is refused as InvalidURI.
	Path string
}

// Result says who signed a request that Verify accepted.
type Result struct {
	AccessKeyID   string // "" when anonymous
	Version       string // VersionAnonymous, VersionV1, VersionV2, VersionV4, VersionAWS2 or VersionAWS4
	Presigned     bool
	SecurityToken string // STS token the client sent (signed); not validated here

	// PayloadSHA256 is the lower-case hex SHA-256 the V4 client declared in
	// x-oss-content-sha256 (OSS) or x-amz-content-sha256 (AWS) and signed.
	// The body has not been read yet, so the HTTP layer must hash the body
	// and, on a mismatch, return PayloadMismatch(res, computed). "" when the
	// payload is unsigned (UNSIGNED-PAYLOAD, V1, SigV2) or streamed.
	PayloadSHA256 string

	// Streaming is set when an AWS SigV4 request sends its body
	// aws-chunked (x-amz-content-sha256 STREAMING-*): the HTTP layer must
	// read the body through Streaming.NewReader, which decodes it, checks
	// each chunk's signature and exposes the trailers. nil otherwise.
	Streaming *Streaming
}

// Versions reported in Result.Version; the access log and the ACL checks
// switch on them.
const (
	VersionAnonymous = "anonymous"
	VersionV1        = "v1"
	VersionV2        = "v2" // OSS2 (HMAC-SHA256), oss2's AuthV2
	VersionV4        = "v4"
	VersionAWS2      = "aws2" // AWS Signature Version 2 (S3): answer S3-style
	VersionAWS4      = "aws4" // AWS Signature Version 4 (S3): answer S3-style
)

// MaxSkew is how far a header-signed request's date may be from the server
// clock. OSS allows 15 minutes, and V2SDK corrects its clock from the Date
// header of a RequestTimeTooSkewed response, so the HTTP layer must send the
// injected server time as Date.
const MaxSkew = 15 * time.Minute

// MaxPresignV4Expires is the longest x-oss-expires OSS accepts (7 days).
const MaxPresignV4Expires = 7 * 24 * time.Hour

// Lookup returns the secret for an access key id.
type Lookup func(accessKeyID string) (secret string, ok bool)

// request is one Verify call: the input plus its query, parsed once.
type request struct {
	in    Input
	query []param
}

// headerVerifier checks an Authorization header whose scheme selected it;
// creds is everything after the scheme and its space.
type headerVerifier func(r *request, creds string, lookup Lookup) (Result, *oss.Error)

// queryVerifier checks a presigned URL.
type queryVerifier func(r *request, lookup Lookup) (Result, *oss.Error)

// headerSchemes is the one place an Authorization scheme picks its
// verifier. A nil entry is a scheme ossd recognises but does not support.
var headerSchemes = map[string]headerVerifier{
	"OSS":         verifyV1Header,
	v2Scheme:      verifyV2Header,
	v4Algorithm:   verifyV4Header,
	aws2Scheme:    verifyAWS2Header,
	aws4Algorithm: verifyAWS4Header,
}

// presignScheme is the query-string counterpart of headerSchemes: it picks
// the verifier for a presigned URL, or returns nil, nil when the query
// carries no signature at all (an anonymous request).
func presignScheme(q []param) (queryVerifier, *oss.Error) {
	if v, err, ok := awsPresignScheme(q); ok {
		return v, err
	}
	if v, ok := first(q, "x-oss-signature-version"); ok {
		switch v {
		case v4Algorithm:
			return verifyV4Query, nil
		case v2Scheme:
			return verifyV2Query, nil
		}
		return nil, errUnsupportedSigVersion.WithMessage("Signature version %q is not supported.", clip(v))
	}
	if has(q, "x-oss-signature") || has(q, "x-oss-credential") {
		return nil, errQueryAuthMissing.WithMessage("x-oss-signature-version is required in a V4 presigned URL.")
	}
	if has(q, "Signature") || has(q, "OSSAccessKeyId") {
		return verifyV1Query, nil
	}
	return nil, nil
}

// Verify checks the signature of a request. The error is always an
// *oss.Error (nil interface on success), ready for the HTTP layer's error
// writer. Verify does not read the body: for V4 with a declared payload
// hash the caller checks Result.PayloadSHA256 while streaming it, and an
// AWS streaming body is read through Result.Streaming.
//
// Checks run from the most to the least fundamental problem — form of the
// credentials, region, access key, time (skew or expiry), signature — so a
// client sees the error it can act on: a skewed V2SDK client gets
// RequestTimeTooSkewed (which it corrects), not SignatureDoesNotMatch.
func Verify(in Input, lookup Lookup) (Result, error) {
	res, err := verify(in, lookup)
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func verify(in Input, lookup Lookup) (Result, *oss.Error) {
	r := &request{in: in, query: parseQuery(in.RawQuery)}
	authz := hvalues(in.Header, "Authorization")
	qv, qerr := presignScheme(r.query)
	switch {
	case len(authz) > 1:
		return Result{}, oss.ErrInvalidAuthorization.WithMessage("More than one Authorization header.")
	case len(authz) == 1 && (qv != nil || qerr != nil):
		// Two signatures would let one of them go unchecked.
		return Result{}, errTwoAuthMechanisms
	case len(authz) == 1:
		scheme, creds, _ := strings.Cut(authz[0], " ")
		v, known := headerSchemes[scheme]
		if !known {
			return Result{}, oss.ErrInvalidAuthorization.WithMessage("Authorization header scheme %q is not supported; expected \"OSS\", \"OSS2\", \"OSS4-HMAC-SHA256\", \"AWS\" or \"AWS4-HMAC-SHA256\".", clip(scheme))
		}
		if v == nil {
			return Result{}, errUnsupportedSigVersion.WithMessage("Authorization header scheme %q is not supported.", scheme)
		}
		return v(r, strings.TrimLeft(creds, " "), lookup)
	case qerr != nil:
		return Result{}, qerr
	case qv != nil:
		return qv(r, lookup)
	}
	return Result{Version: VersionAnonymous}, nil
}

// secretFor resolves an access key id, so that every version reports an
// unknown key the same way.
func secretFor(lookup Lookup, ak string) (string, *oss.Error) {
	if lookup != nil {
		if secret, ok := lookup(ak); ok {
			return secret, nil
		}
	}
	return "", oss.ErrInvalidAccessKeyID.With("OSSAccessKeyId", ak)
}

// clip bounds attacker-controlled text echoed into error messages.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
