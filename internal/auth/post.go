package auth

import (
	"crypto/hmac"
	"encoding/hex"

	"github.com/ossd/ossd/internal/oss"
)

// VerifyPost checks the signature of a browser form upload (PostObject).
// fields are the form's fields before the file, names lower-cased. What is
// signed is the policy field exactly as sent (base64 of the JSON document):
//
//	OSS V1: OSSAccessKeyId, Signature = base64(HMAC-SHA1(secret, policy))
//	OSS V4: x-oss-signature-version OSS4-HMAC-SHA256, x-oss-credential,
//	        x-oss-date, x-oss-signature = hex(HMAC-SHA256(V4 key, policy))
//	AWS V2: AWSAccessKeyId, signature = base64(HMAC-SHA1(secret, policy))
//	AWS V4: x-amz-algorithm AWS4-HMAC-SHA256, x-amz-credential, x-amz-date,
//	        x-amz-signature = hex(HMAC-SHA256(SigV4 key, policy))
//
// A form with none of these is anonymous (the bucket's ACL decides). The
// Result's Version says which form signed, so the caller answers an AWS
// form in S3's dialect. Checking the policy's conditions is the caller's.
func VerifyPost(fields map[string]string, region string, lookup Lookup) (Result, *oss.Error) {
	policy, hasPolicy := fields["policy"]
	need := func(name string) (string, *oss.Error) {
		v, ok := fields[name]
		switch {
		case !hasPolicy:
			return "", oss.ErrInvalidArgument.WithMessage("A signed POST must carry a field named 'policy'.").With("ArgumentName", "policy")
		case !ok || v == "":
			return "", oss.ErrInvalidArgument.WithMessage("A signed POST must carry a field named '%s'.", name).With("ArgumentName", name)
		}
		return v, nil
	}
	switch {
	case fields["x-amz-credential"] != "" || fields["x-amz-algorithm"] != "":
		if alg := fields["x-amz-algorithm"]; alg != aws4Algorithm {
			return Result{}, oss.ErrInvalidArgument.WithMessage("Unsupported x-amz-algorithm %q.", clip(alg)).With("ArgumentName", "x-amz-algorithm")
		}
		sig, err := need("x-amz-signature")
		if err != nil {
			return Result{}, err
		}
		c, err := parseAWS4Credential(fields["x-amz-credential"], true)
		if err != nil {
			return Result{}, err
		}
		if err := checkAWSRegion(c, region, true); err != nil {
			return Result{}, err
		}
		secret, err := secretFor(lookup, c.ak)
		if err != nil {
			return Result{}, errAWSUnknownKey(c.ak)
		}
		return postResult(c.ak, VersionAWS4, sig, hex.EncodeToString(hmacSHA256(aws4SigningKey(secret, c), policy)))
	case fields["awsaccesskeyid"] != "":
		ak := fields["awsaccesskeyid"]
		sig, err := need("signature")
		if err != nil {
			return Result{}, err
		}
		secret, err := secretFor(lookup, ak)
		if err != nil {
			return Result{}, errAWSUnknownKey(ak)
		}
		return postResult(ak, VersionAWS2, sig, signV1(secret, policy))
	case fields["x-oss-credential"] != "" || fields["x-oss-signature-version"] != "":
		if alg := fields["x-oss-signature-version"]; alg != v4Algorithm {
			return Result{}, oss.ErrInvalidArgument.WithMessage("Unsupported x-oss-signature-version %q.", clip(alg)).With("ArgumentName", "x-oss-signature-version")
		}
		sig, err := need("x-oss-signature")
		if err != nil {
			return Result{}, err
		}
		c, err := parseV4Credential(fields["x-oss-credential"], oss.ErrInvalidArgument)
		if err != nil {
			return Result{}, err
		}
		secret, err := secretFor(lookup, c.ak)
		if err != nil {
			return Result{}, err
		}
		return postResult(c.ak, VersionV4, sig, signV4(secret, c, policy))
	case fields["ossaccesskeyid"] != "":
		ak := fields["ossaccesskeyid"]
		sig, err := need("signature")
		if err != nil {
			return Result{}, err
		}
		secret, err := secretFor(lookup, ak)
		if err != nil {
			return Result{}, err
		}
		return postResult(ak, VersionV1, sig, signV1(secret, policy))
	}
	return Result{Version: VersionAnonymous}, nil
}

func postResult(ak, version, provided, want string) (Result, *oss.Error) {
	if !hmac.Equal([]byte(provided), []byte(want)) {
		return Result{}, oss.ErrSignatureDoesNotMatch.WithMessage("The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	return Result{AccessKeyID: ak, Version: version}, nil
}
