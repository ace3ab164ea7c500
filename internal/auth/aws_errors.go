package auth

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// Errors of the AWS signature versions. They are *oss.Error like every
// other error of this package, but carry S3's codes, messages and context
// elements (S3 clients and tools match on them; the SDKs read Region from
// AuthorizationHeaderMalformed to retry in the right region) and no EC,
// which S3 does not define. Where S3 publishes no wording, the message
// follows the nearest S3 error.
var (
	errAWSSignatureDoesNotMatch = &oss.Error{Code: "SignatureDoesNotMatch", Status: http.StatusForbidden,
		Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	errAWSInvalidAccessKeyID = &oss.Error{Code: "InvalidAccessKeyId", Status: http.StatusForbidden,
		Message: "The AWS Access Key Id you provided does not exist in our records."}
	errAWSRequestTimeTooSkewed = &oss.Error{Code: "RequestTimeTooSkewed", Status: http.StatusForbidden,
		Message: "The difference between the request time and the current time is too large."}
	// SigV4 Authorization header not in its form; the message gets the
	// reason appended ("The authorization header is malformed; ...").
	errAWSHeaderMalformed = &oss.Error{Code: "AuthorizationHeaderMalformed", Status: http.StatusBadRequest,
		Message: "The authorization header is malformed."}
	// SigV4 presigned URL parameters missing or not in their form.
	errAWSQueryMalformed = &oss.Error{Code: "AuthorizationQueryParametersError", Status: http.StatusBadRequest,
		Message: "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}
	errAWSExpired = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Request has expired"}
	// A SigV4 presigned URL used more than MaxSkew before its X-Amz-Date.
	errAWSNotYetValid = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Request is not valid yet"}
	errAWSMissingDate = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden,
		Message: "AWS authentication requires a valid Date or x-amz-date header"}
	// An x-amz-* header the signature does not cover (S3 lists them in
	// HeadersNotSigned): without this check a presigned PUT could gain an
	// x-amz-acl or x-amz-meta-* header its signer never saw.
	errAWSHeadersNotSigned = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden,
		Message: "There were headers present in the request which were not signed"}
	errAWSMissingContentSHA256 = &oss.Error{Code: "InvalidRequest", Status: http.StatusBadRequest,
		Message: "Missing required header for this request: x-amz-content-sha256"}
	errAWSInvalidContentSHA256 = &oss.Error{Code: "InvalidArgument", Status: http.StatusBadRequest,
		Message: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value."}
	// The body does not hash to the x-amz-content-sha256 the client signed.
	errAWSContentSHA256Mismatch = &oss.Error{Code: "XAmzContentSHA256Mismatch", Status: http.StatusBadRequest,
		Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	// A streaming upload without x-amz-decoded-content-length.
	errAWSMissingDecodedLength = &oss.Error{Code: "MissingContentLength", Status: http.StatusLengthRequired,
		Message: "You must provide the Content-Length HTTP header."}
	// An aws-chunked body that ends before x-amz-decoded-content-length
	// bytes, or before its final chunk.
	errAWSIncompleteBody = &oss.Error{Code: "IncompleteBody", Status: http.StatusBadRequest,
		Message: "You did not provide the number of bytes specified by the Content-Length HTTP header."}
	// An aws-chunked body whose framing is broken, or that carries more
	// than x-amz-decoded-content-length bytes.
	errAWSChunkMalformed = &oss.Error{Code: "InvalidRequest", Status: http.StatusBadRequest,
		Message: "The aws-chunked request body is malformed."}
	errAWSTrailerMalformed = &oss.Error{Code: "MalformedTrailerError", Status: http.StatusBadRequest,
		Message: "The request contained trailing data that was not well-formed or did not conform to our published schema."}
	// SigV2 Authorization header not "AWS <ak>:<base64 HMAC-SHA1>".
	errAWS2Malformed = &oss.Error{Code: "InvalidArgument", Status: http.StatusBadRequest,
		Message: "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature"}
	errAWS2QueryMissing = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden,
		Message: "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"}
	// Input.Path does not address Input.Bucket and Input.Key.
	errAWSInvalidURI = &oss.Error{Code: "InvalidURI", Status: http.StatusBadRequest, Message: "Couldn't parse the specified URI."}
	// Streaming payloads need the seed signature of an Authorization header.
	errAWSPresignStreaming = &oss.Error{Code: "InvalidRequest", Status: http.StatusBadRequest,
		Message: "Streaming (aws-chunked) payloads are not supported with query-string authentication."}
)

// awsMalformed is AuthorizationHeaderMalformed (header) or
// AuthorizationQueryParametersError (presigned URL) with S3's reason.
func awsMalformed(query bool, reason string, args ...any) *oss.Error {
	if query {
		return errAWSQueryMalformed.WithMessage(reason, args...)
	}
	return errAWSHeaderMalformed.WithMessage("The authorization header is malformed; "+reason, args...)
}

func errAWSSkewed(requestTime string, now time.Time) *oss.Error {
	return errAWSRequestTimeTooSkewed.
		With("RequestTime", clip(requestTime)).
		With("ServerTime", isoTime(now)).
		With("MaxAllowedSkewMilliseconds", strconv.FormatInt(MaxSkew.Milliseconds(), 10))
}

// errAWSMismatch carries S3's debugging elements; SigV4 adds the
// canonical request.
func errAWSMismatch(ak, provided, stringToSign, canonicalRequest string) *oss.Error {
	e := errAWSSignatureDoesNotMatch.With("AWSAccessKeyId", ak).
		With("StringToSign", stringToSign).
		With("SignatureProvided", clip(provided)).
		With("StringToSignBytes", spacedHex(stringToSign))
	if canonicalRequest != "" {
		e = e.With("CanonicalRequest", canonicalRequest).
			With("CanonicalRequestBytes", spacedHex(canonicalRequest))
	}
	return e
}

func errAWSUnknownKey(ak string) *oss.Error {
	return errAWSInvalidAccessKeyID.With("AWSAccessKeyId", clip(ak))
}

// PayloadMismatch is the error the HTTP layer returns when the body it
// read does not hash to Result.PayloadSHA256: S3's
// XAmzContentSHA256Mismatch for an AWS SigV4 request, and OSS's
// InvalidDigest for an OSS V4 one. computed is the lower-case hex SHA-256
// of the bytes read.
func PayloadMismatch(res Result, computed string) error {
	if res.Version == VersionAWS4 {
		return errAWSContentSHA256Mismatch.
			With("ClientComputedContentSHA256", res.PayloadSHA256).
			With("S3ComputedContentSHA256", computed)
	}
	return oss.ErrInvalidDigest.WithMessage("The provided 'x-oss-content-sha256' header does not match what was computed.")
}
