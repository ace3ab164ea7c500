package auth

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// Errors the catalogue in internal/oss lacks. ECs come from OSS's
// troubleshooting pages (help.aliyun.com/.../0002-xxxxxxxx); where a page
// gives the EC but not the code or status, the code follows the nearest
// catalogue entry (InvalidArgument 400 for a malformed credential,
// AccessDenied 403 for a refused one).
var (
	// OSS V1 header without "ak:signature" (EC page 0002-00000062).
	errV1Malformed = oss.ErrInvalidAuthorization.WithEC("0002-00000062")
	// V4 Authorization header not "Credential=..,[AdditionalHeaders=..,]Signature=.." (0002-00000202).
	errV4Malformed = oss.ErrInvalidAuthorization.WithEC("0002-00000202")
	// V4 Credential not "<ak>/<yyyymmdd>/<region>/oss/aliyun_v4_request" (header 0002-00000213, query 0002-00000224).
	errV4CredentialHeader = oss.ErrInvalidAuthorization.WithEC("0002-00000213")
	errV4CredentialQuery  = oss.ErrInvalidAuthorization.WithEC("0002-00000224")
	// Credential date not the request's date (0002-00000223 for the query form).
	errV4CredentialDate = oss.ErrInvalidAuthorization.WithEC("0002-00000223")
	// Credential region not the server's (header 0002-00000228, query 0002-00000226);
	// message and elements as OSS returns them for PostObject (0002-00000715).
	errSigningRegionHeader = &oss.Error{Code: "InvalidArgument", Status: http.StatusBadRequest, EC: "0002-00000228", Message: "The signing region in credential is invalid."}
	errSigningRegionQuery  = &oss.Error{Code: "InvalidArgument", Status: http.StatusBadRequest, EC: "0002-00000226", Message: "The signing region in credential is invalid."}
	// Date or x-oss-date present but not in its format (0002-00000502).
	errInvalidDate = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden, EC: "0002-00000502", Message: "OSS authentication requires a valid Date."}
	// A presigned URL missing one of its parameters (0002-00000068 for an empty Expires).
	errQueryAuthMissing = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden, EC: "0002-00000068", Message: "Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters."}
	// Expires / x-oss-expires not a usable number (0002-00000070).
	errInvalidExpires = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden, EC: "0002-00000070", Message: "Invalid expiration time in the signed URL."}
	// A V4 presigned URL used more than 15 minutes before its x-oss-date (0002-00000235).
	errNotYetValid = &oss.Error{Code: "AccessDenied", Status: http.StatusForbidden, EC: "0002-00000235", Message: "Request is not valid yet."}
	// V4 signature mismatch (0002-00000201); V1 keeps the catalogue's 0002-00000040.
	errV4SignatureDoesNotMatch = oss.ErrSignatureDoesNotMatch.WithEC("0002-00000201")
	// Both a header and a query signature: refused, so that neither goes unchecked.
	errTwoAuthMechanisms = oss.ErrInvalidArgument.WithMessage("Only one auth mechanism allowed; only the Authorization header or the signature query parameters should be specified.")
	// A signature version ossd does not know (x-oss-signature-version other
	// than OSS2 and OSS4-HMAC-SHA256).
	errUnsupportedSigVersion = oss.ErrInvalidArgument.WithMessage("The signature version is not supported.")
	// x-oss-content-sha256 neither UNSIGNED-PAYLOAD nor a hex SHA-256.
	errInvalidContentSHA256 = oss.ErrInvalidArgument.WithMessage("x-oss-content-sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 of the body.")
)

// errSkewed carries the elements S3 and OSS put in RequestTimeTooSkewed;
// V2SDK itself corrects its clock from the response's Date header.
func errSkewed(reqTime, now time.Time) *oss.Error {
	return oss.ErrRequestTimeTooSkewed.
		With("RequestTime", isoTime(reqTime)).
		With("ServerTime", isoTime(now)).
		With("MaxAllowedSkewMilliseconds", strconv.FormatInt(MaxSkew.Milliseconds(), 10))
}

// errExpired is OSS's "Request has expired." with Expires and ServerTime in
// the ISO form OSS uses (e.g. 2012-12-25T09:47:52.000Z).
func errExpired(expires, now time.Time) *oss.Error {
	return oss.ErrRequestExpired.With("Expires", isoTime(expires)).With("ServerTime", isoTime(now))
}

// errMismatch carries what a client needs to debug its signer: OSS echoes
// the server's StringToSign (and its bytes, since it contains newlines)
// next to the signature provided. V4 adds the CanonicalRequest.
func errMismatch(base *oss.Error, ak, provided, stringToSign, canonicalRequest string) *oss.Error {
	e := base.With("OSSAccessKeyId", ak).
		With("SignatureProvided", provided).
		With("StringToSign", stringToSign).
		With("StringToSignBytes", spacedHex(stringToSign))
	if canonicalRequest != "" {
		e = e.With("CanonicalRequest", canonicalRequest)
	}
	return e
}

// spacedHex renders bytes as "50 55 54", OSS's StringToSignBytes form.
func spacedHex(s string) string {
	if s == "" {
		return ""
	}
	b := make([]byte, 0, len(s)*3)
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = hex.AppendEncode(b, []byte{s[i]})
	}
	return string(b)
}

// checkSkew enforces MaxSkew for header-signed requests.
func checkSkew(reqTime, now time.Time) *oss.Error {
	d := now.Sub(reqTime)
	if d > MaxSkew || d < -MaxSkew {
		return errSkewed(reqTime, now)
	}
	return nil
}
