// Package oss is the vocabulary every ossd layer shares: the error catalogue,
// operation names, XML wire types and the name rules of buckets and keys.
// It does no I/O, so any package may import it.
package oss

import (
	"fmt"
	"net/http"
)

// Error is an OSS service error. Code is the wire code (the value clients
// switch on), Status the HTTP status, EC the OSS "error code detail" that
// the SDKs expose and that OSS documents at RecommendDoc. Extra holds the
// context elements OSS adds to some errors (BucketName, Key, StringToSign…),
// written in the order given.
type Error struct {
	Code    string
	Status  int
	Message string
	EC      string
	Extra   []KV
}

// KV is one extra element of an error body.
type KV struct{ Name, Value string }

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// With returns a copy of e carrying one more context element.
func (e *Error) With(name, value string) *Error {
	c := *e
	c.Extra = append(append([]KV(nil), e.Extra...), KV{name, value})
	return &c
}

// WithMessage returns a copy of e with another message (OSS varies the
// message of some codes by cause, e.g. InvalidArgument).
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	if len(args) == 0 {
		c.Message = format
	} else {
		c.Message = fmt.Sprintf(format, args...)
	}
	return &c
}

// WithEC returns a copy of e with another EC.
func (e *Error) WithEC(ec string) *Error {
	c := *e
	c.EC = ec
	return &c
}

// Is lets errors.Is match two *Error values by wire code, so callers can
// test err against a catalogue entry after With/WithMessage copies.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func def(code string, status int, ec, msg string) *Error {
	return &Error{Code: code, Status: status, EC: ec, Message: msg}
}

// The catalogue. Messages are OSS's own wording where known: clients and
// users' scripts match on them (due to Hyrum's law, they cannot change).
// Where OSS publishes no EC for a cause (or the cause is ossd's own, such
// as InsufficientStorage), an entry carries ossd's best choice.
var (
	ErrAccessDenied          = def("AccessDenied", http.StatusForbidden, "0003-00000001", "You have no right to access this object because of bucket acl.")
	ErrInvalidAccessKeyID    = def("InvalidAccessKeyId", http.StatusForbidden, "0002-00000902", "The OSS Access Key Id you provided does not exist in our records.")
	ErrSignatureDoesNotMatch = def("SignatureDoesNotMatch", http.StatusForbidden, "0002-00000040", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	ErrRequestTimeTooSkewed  = def("RequestTimeTooSkewed", http.StatusForbidden, "0002-00000504", "The difference between the request time and the current time is too large.")
	ErrRequestExpired        = def("AccessDenied", http.StatusForbidden, "0002-00000069", "Request has expired.")
	ErrInvalidAuthorization  = def("InvalidArgument", http.StatusBadRequest, "0002-00000025", "Authorization header is invalid.")
	ErrMissingDateHeader     = def("AccessDenied", http.StatusForbidden, "0002-00000030", "Missing date header.")
	ErrNoSuchBucket          = def("NoSuchBucket", http.StatusNotFound, "0015-00000101", "The specified bucket does not exist.")
	ErrBucketAlreadyExists   = def("BucketAlreadyExists", http.StatusConflict, "0015-00000104", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	ErrBucketNotEmpty        = def("BucketNotEmpty", http.StatusConflict, "0015-00000301", "The bucket you tried to delete is not empty.")
	ErrInvalidBucketName     = def("InvalidBucketName", http.StatusBadRequest, "0015-00000001", "The specified bucket is not valid.")
	ErrTooManyBuckets        = def("TooManyBuckets", http.StatusBadRequest, "0015-00000002", "You have attempted to create more buckets than allowed.")
	// NoSuchRegion: DescribeRegions of a region the server does not serve
	// (the code oss2's tests expect; OSS publishes no EC for it).
	ErrNoSuchRegion      = def("NoSuchRegion", http.StatusNotFound, "0016-00000009", "The specified region does not exist.")
	ErrNoSuchKey         = def("NoSuchKey", http.StatusNotFound, "0026-00000001", "The specified key does not exist.")
	ErrInvalidObjectName = def("InvalidObjectName", http.StatusBadRequest, "0016-00000005", "The specified object is not valid.")
	ErrNoSuchUpload      = def("NoSuchUpload", http.StatusNotFound, "0042-00000002", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	ErrNoSuchVersion     = def("NoSuchVersion", http.StatusNotFound, "0026-00000003", "The specified version does not exist.")
	ErrInvalidTagKey     = def("InvalidTag", http.StatusBadRequest, "0010-00000212", "The TagKey you have provided is invalid")
	ErrInvalidTagValue   = def("InvalidTag", http.StatusBadRequest, "0010-00000217", "The TagValue you have provided is invalid")
	ErrNoSuchTagSet      = def("NoSuchTagSet", http.StatusNotFound, "0015-00000801", "There is no tag set.")
	ErrInvalidPart       = def("InvalidPart", http.StatusBadRequest, "0042-00000005", "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.")
	ErrInvalidPartOrder  = def("InvalidPartOrder", http.StatusBadRequest, "0042-00000006", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
	ErrEntityTooSmall    = def("EntityTooSmall", http.StatusBadRequest, "0042-00000007", "Your proposed upload is smaller than the minimum allowed size.")
	ErrEntityTooLarge    = def("EntityTooLarge", http.StatusBadRequest, "0016-00000201", "Your proposed upload exceeds the maximum allowed size.")
	ErrInvalidDigest     = def("InvalidDigest", http.StatusBadRequest, "0016-00000301", "The Content-MD5 you specified is not valid.")
	// ErrBadDigest is a body that does not match its Content-MD5, as S3
	// names it; OSS answers ErrContentMD5Mismatch for the same failure (the
	// HTTP layer picks by dialect).
	ErrBadDigest                = def("BadDigest", http.StatusBadRequest, "0016-00000302", "The Content-MD5 you specified did not match what we received.")
	ErrContentMD5Mismatch       = def("InvalidDigest", http.StatusBadRequest, "0017-00000503", "The Content-MD5 you specified was invalid.")
	ErrInvalidCRC64             = def("InvalidDigest", http.StatusBadRequest, "0016-00000303", "The CRC64 you specified did not match what we received.")
	ErrMalformedXML             = def("MalformedXML", http.StatusBadRequest, "0016-00000601", "The XML you provided was not well-formed or did not validate against our published schema.")
	ErrInvalidArgument          = def("InvalidArgument", http.StatusBadRequest, "0016-00000101", "Invalid argument.")
	ErrMissingArgument          = def("MissingArgument", http.StatusBadRequest, "0016-00000502", "Missing Some Required Arguments.")
	ErrMissingContentLength     = def("MissingContentLength", http.StatusLengthRequired, "0016-00000401", "You must provide the Content-Length HTTP header.")
	ErrIncompleteBody           = def("IncompleteBody", http.StatusBadRequest, "0016-00000402", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	ErrInvalidRange             = def("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "0017-00000102", "The requested range cannot be satisfied.")
	ErrPreconditionFailed       = def("PreconditionFailed", http.StatusPreconditionFailed, "0016-00000702", "At least one of the pre-conditions you specified did not hold.")
	ErrNotModified              = def("NotModified", http.StatusNotModified, "0016-00000701", "Not Modified.")
	ErrPositionNotEqualToLength = def("PositionNotEqualToLength", http.StatusConflict, "0026-00000016", "Position is not equal to file length.")
	ErrObjectNotAppendable      = def("ObjectNotAppendable", http.StatusConflict, "0026-00000015", "The object is not appendable.")
	ErrSymlinkTargetNotExist    = def("SymlinkTargetNotExist", http.StatusNotFound, "0026-00000020", "The symlink target object does not exist.")
	ErrNotSymlink               = def("NotSymlink", http.StatusBadRequest, "0026-00000021", "The specified object is not a symlink.")
	ErrInvalidTargetType        = def("InvalidTargetType", http.StatusBadRequest, "0026-00000022", "The symbolic's target file type is invalid.")
	ErrCallbackFailed           = def("CallbackFailed", http.StatusNonAuthoritativeInfo, "0007-00000203", "Error status : 502.")
	ErrMethodNotAllowed         = def("MethodNotAllowed", http.StatusMethodNotAllowed, "0016-00000801", "The specified method is not allowed against this resource.")
	ErrInvalidEncryptionAlgo    = def("InvalidEncryptionAlgorithmError", http.StatusBadRequest, "0016-00000903", "The Encryption request you specified is not valid.")
	ErrInternalError            = def("InternalError", http.StatusInternalServerError, "0000-00000001", "We encountered an internal error. Please try again.")
	ErrServiceUnavailable       = def("ServiceUnavailable", http.StatusServiceUnavailable, "0000-00000002", "Please reduce your request rate.")
	ErrInsufficientStorage      = def("InsufficientStorage", http.StatusServiceUnavailable, "0000-00000003", "The server has no space left to accept this request durably.")
	ErrRequestTimeout           = def("RequestTimeout", http.StatusBadRequest, "0016-00000403", "Your socket connection to the server was not read from or written to within the timeout period.")
	ErrInvalidURI               = def("InvalidURI", http.StatusBadRequest, "0016-00000001", "Couldn't parse the specified URI.")
	ErrRequestHeaderTooLarge    = def("RequestHeaderTooLarge", http.StatusBadRequest, "0016-00000002", "Your request header is too large.")
	ErrMaxMessageLengthExceeded = def("MaxMessageLengthExceeded", http.StatusBadRequest, "0016-00000603", "Your request was too big.")
	ErrFileAlreadyExists        = def("FileAlreadyExists", http.StatusConflict, "0026-00000004", "The object you specified already exists and can not be overwritten.")
	ErrInvalidObjectState       = def("InvalidObjectState", http.StatusForbidden, "0026-00000010", "The operation is not valid for the object's state.")
	ErrOperationNotSupported    = def("OperationNotSupported", http.StatusBadRequest, "0016-00000904", "The operation is not supported for this resource.")
	ErrInvalidRedirectLocation  = def("InvalidArgument", http.StatusBadRequest, "0016-00000102", "Invalid argument.")

	// LiveChannel. Codes and ECs are OSS's where its troubleshooting pages
	// give them (0044-000000NN for PutLiveChannel's body, 0044-00000304 for
	// GetVodPlaylist's startTime). NoSuchLiveChannel's code and wording are
	// OSS's; no page gives its EC, so it carries none, like NotImplemented.
	// The other refusals OSS documents only by code (InvalidArgument for a
	// bad channel name, status, max-keys or time span, and for a playlist
	// asked of a channel with no recorded fragments) keep InvalidArgument's
	// general EC.
	ErrNoSuchLiveChannel       = def("NoSuchLiveChannel", http.StatusNotFound, "", "The specified live channel does not exist.")
	ErrLiveDescriptionTooLong  = def("InvalidArgument", http.StatusBadRequest, "0044-00000001", "Description of live channel must be at most 128 bytes.")
	ErrLiveInvalidStatus       = def("InvalidArgument", http.StatusBadRequest, "0044-00000002", "Status of live channel should be enabled or disabled.")
	ErrLiveRedundantSnapshot   = def("InvalidArgument", http.StatusBadRequest, "0044-00000003", "Only one Snapshot node is allowed in LiveChannelConfiguration.")
	ErrLiveSnapshotNotifyTopic = def("InvalidArgument", http.StatusBadRequest, "0044-00000006", "NotifyTopic of Snapshot must not be empty.")
	ErrLiveSnapshotRoleName    = def("InvalidArgument", http.StatusBadRequest, "0044-00000007", "RoleName of Snapshot must not be empty.")
	ErrLiveSnapshotDestBucket  = def("InvalidArgument", http.StatusBadRequest, "0044-00000008", "DestBucket of Snapshot is not a valid bucket name.")
	ErrLiveInvalidType         = def("InvalidArgument", http.StatusBadRequest, "0044-00000013", "Type of live channel target should be HLS.")
	ErrLiveInvalidFragDuration = def("InvalidArgument", http.StatusBadRequest, "0044-00000014", "FragDuration of live channel target should be an integer in [1, 100].")
	ErrLiveInvalidFragCount    = def("InvalidArgument", http.StatusBadRequest, "0044-00000015", "FragCount of live channel target should be an integer in [1, 100].")
	ErrLivePlaylistSlash       = def("InvalidArgument", http.StatusBadRequest, "0044-00000016", "PlaylistName of live channel target must not contain '/'.")
	ErrLivePlaylistLength      = def("InvalidArgument", http.StatusBadRequest, "0044-00000017", "PlaylistName of live channel target should be 6 to 128 characters long.")
	ErrLivePlaylistSuffix      = def("InvalidArgument", http.StatusBadRequest, "0044-00000018", "PlaylistName of live channel target should end with .m3u8.")
	ErrLiveInvalidStartTime    = def("InvalidArgument", http.StatusBadRequest, "0044-00000304", "Invalid startTime: it must be a Unix time in seconds.")
	ErrLiveNoTsFile            = def("InvalidArgument", http.StatusBadRequest, "0016-00000101", "No ts file found in specified time span.")

	// NotImplemented carries no EC. OSS publishes none for it: its error
	// page's NotImplemented sample (a PUT with If-Modified-Since) has no EC
	// element, no EC troubleshooting page names it, and 0016-00000901,
	// which this entry used to carry, is the EC OSS sends with "Put public
	// object acl is not allowed" (below). An empty EC leaves the EC and
	// RecommendDoc elements and the x-oss-ec header out of the response.
	ErrNotImplemented = def("NotImplemented", http.StatusNotImplemented, "", "A header or query you provided implies functionality that is not implemented.")

	// Block Public Access refuses public ACLs rather than store them to be
	// ignored. The object form's wording and EC are OSS's, as its responses
	// show them (OSS has no EC page for it); for the bucket form OSS's
	// wording is known but not its EC, so it carries AccessDenied's general
	// one.
	ErrPublicObjectACLBlocked = def("AccessDenied", http.StatusForbidden, "0016-00000901", "Put public object acl is not allowed")
	ErrPublicBucketACLBlocked = def("AccessDenied", http.StatusForbidden, "0003-00000001", "Put public bucket acl is not allowed")

	// NoSuchPublicAccessBlockConfiguration is S3's answer to
	// GetPublicAccessBlock on a bucket without a configuration (code,
	// status and wording are AWS's); OSS's dialect shows the switch off.
	ErrNoSuchPublicAccessBlock = def("NoSuchPublicAccessBlockConfiguration", http.StatusNotFound, "", "The public access block configuration was not found")

	// CORS. Code, message and EC are OSS's where its pages or responses
	// show them: NoSuchCORSConfiguration (all three), CORSRuleBeyondLimit
	// (code and wording), the preflight refusal (code and wording, typos
	// included, as OSS sends it) and its two BadRequests (code and
	// wording). 0034-00000002 (no rule) and 0034-00000011 (bad method) are
	// published ECs whose code and wording are not; the remaining ECs are
	// ossd's best guess, from third-party notes on OSS's responses.
	ErrNoSuchCORSConfiguration = def("NoSuchCORSConfiguration", http.StatusNotFound, "0034-00000001", "The CORS Configuration does not exist.")
	ErrCORSNoRule              = def("MalformedXML", http.StatusBadRequest, "0034-00000002", "The CORS configuration must contain at least one CORSRule.")
	ErrCORSRuleBeyondLimit     = def("CORSRuleBeyondLimit", http.StatusBadRequest, "0034-00000006", "The CORS Rules num is beyond limit.")
	ErrCORSInvalidMethod       = def("InvalidArgument", http.StatusBadRequest, "0034-00000011", "Invalid CORS AllowedMethod.")
	ErrCORSInvalidRule         = def("InvalidArgument", http.StatusBadRequest, "0034-00000009", "Invalid CORS rule.")
	ErrCORSForbidden           = def("AccessForbidden", http.StatusForbidden, "0003-00000602", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.")
	ErrCORSNeedOrigin          = def("BadRequest", http.StatusBadRequest, "0034-00000101", "Insufficient information. Origin request header needed")
	ErrCORSNeedMethod          = def("BadRequest", http.StatusBadRequest, "0034-00000102", "Insufficient information. Request Access-Control-Request-Method header needed")

	// Lifecycle (EC module 0014). OSS publishes the ECs 0014-00000011
	// (malformed body), 0014-00000015 (a root child other than Rule),
	// 0014-00000014 (more than 1000 rules), 0014-00000019
	// (ID longer than 255), 0014-00000026 (a rule with no action),
	// 0014-00000043 and 0014-00000067 (more than 3 transitions),
	// 0014-00000060 (Expiration with nothing in it) and 0014-00000080
	// (Days mixed with CreatedBeforeDate, code and wording from the Go
	// SDK's tests); NoSuchLifecycle's code and wording are OSS's, its EC
	// and the remaining ones ossd's choice in the same module.
	ErrNoSuchLifecycle          = def("NoSuchLifecycle", http.StatusNotFound, "0014-00000001", "No Row found in Lifecycle Table.")
	ErrLifecycleMalformedXML    = def("MalformedXML", http.StatusBadRequest, "0014-00000011", "The XML you provided was not well-formed or did not validate against our published schema.")
	ErrLifecycleUnknownNode     = def("MalformedXML", http.StatusBadRequest, "0014-00000015", "LifecycleConfiguration may only contain Rule elements.")
	ErrLifecycleTooManyRules    = def("InvalidArgument", http.StatusBadRequest, "0014-00000014", "Rule number is over the limit of 1000.")
	ErrLifecycleIDTooLong       = def("InvalidArgument", http.StatusBadRequest, "0014-00000019", "Rule ID is longer than 255 characters.")
	ErrLifecycleNoAction        = def("InvalidArgument", http.StatusBadRequest, "0014-00000026", "Rule must contain at least one of Expiration, Transition, AbortMultipartUpload, NoncurrentVersionExpiration or NoncurrentVersionTransition.")
	ErrLifecycleTooManyTrans    = def("InvalidArgument", http.StatusBadRequest, "0014-00000043", "A rule may contain at most 3 Transition elements.")
	ErrLifecycleTooManyNCTrans  = def("InvalidArgument", http.StatusBadRequest, "0014-00000067", "A rule may contain at most 3 NoncurrentVersionTransition elements.")
	ErrLifecycleEmptyExpiration = def("InvalidArgument", http.StatusBadRequest, "0014-00000060", "Expiration must contain Days, CreatedBeforeDate or ExpiredObjectDeleteMarker.")
	ErrLifecycleMixedDates      = def("InvalidRequest", http.StatusBadRequest, "0014-00000080", "Found mixed CreatedBeforeDate and Days based actions.")
	ErrLifecycleInvalid         = def("InvalidArgument", http.StatusBadRequest, "0014-00000020", "Invalid lifecycle rule.")
	ErrLifecycleOverlap         = def("InvalidArgument", http.StatusBadRequest, "0014-00000022", "Overlap for same action type Expiration")
	ErrLifecycleDuplicateID     = def("InvalidArgument", http.StatusBadRequest, "0014-00000021", "Rule ID must be unique.")
	// S3's form of NoSuchLifecycle.
	ErrNoSuchLifecycleConfiguration = def("NoSuchLifecycleConfiguration", http.StatusNotFound, "", "The lifecycle configuration does not exist")

	// Logging configuration (EC module 0032).
	ErrLoggingMalformedXML   = def("MalformedXML", http.StatusBadRequest, "0032-00000001", "The XML you provided was not well-formed or did not validate against our published schema.")
	ErrTargetBucketMissing   = def("InvalidTargetBucketForLogging", http.StatusBadRequest, "0032-00000002", "The target bucket element is missing.")
	ErrTargetBucketEmpty     = def("InvalidTargetBucketForLogging", http.StatusBadRequest, "0032-00000003", "The target bucket is empty.")
	ErrTargetBucketInvalid   = def("InvalidTargetBucketForLogging", http.StatusBadRequest, "0032-00000004", "The target bucket is not valid.")
	ErrTargetPrefixSlash     = def("InvalidArgument", http.StatusBadRequest, "0032-00000005", "The target prefix must not start with a slash or backslash.")
	ErrTargetPrefixTooLong   = def("InvalidArgument", http.StatusBadRequest, "0032-00000006", "The target prefix is longer than 256 characters.")
	ErrTargetPrefixNotUTF8   = def("InvalidArgument", http.StatusBadRequest, "0032-00000007", "The target prefix is not valid UTF-8.")
	ErrTargetBucketNotExist  = def("InvalidTargetBucketForLogging", http.StatusBadRequest, "0032-00000008", "The target bucket does not exist.")
	ErrTargetBucketNotOwned  = def("InvalidTargetBucketForLogging", http.StatusForbidden, "0032-00000009", "You are not the owner of the target bucket.")
	ErrTargetBucketRegion    = def("InvalidTargetBucketForLogging", http.StatusBadRequest, "0032-00000010", "The target bucket is in a different region from the source bucket.")
	ErrLoggingRoleInvalid    = def("InvalidArgument", http.StatusBadRequest, "0032-00000014", "LoggingRole is invalid.")
	ErrLogFieldsConfigAbsent = def("NoSuchUserDefinedLogFieldsConfig", http.StatusNotFound, "0032-00000015", "The user defined log fields config does not exist.")

	// S3's own codes, sent only to S3-signed requests where OSS's answer
	// differs; S3 errors carry no EC.
	ErrS3InvalidTag = def("InvalidTag", http.StatusBadRequest, "", "The tag provided was not a valid tag.")
	// S3 ACL grants (x-amz-grant-*, AccessControlPolicy bodies).
	ErrMalformedACL             = def("MalformedACLError", http.StatusBadRequest, "", "The XML you provided was not well-formed or did not validate against our published schema.")
	ErrUnresolvableGrantByEmail = def("UnresolvableGrantByEmailAddress", http.StatusBadRequest, "", "The e-mail address you provided does not match any account on record.")
	ErrS3CannedAndGrants        = def("InvalidRequest", http.StatusBadRequest, "", "Specifying both Canned ACLs and Header Grants is not allowed")
	// A browser form upload (PostObject) whose policy document is malformed;
	// OSS and S3 share the code. OSS publishes no EC for it.
	ErrInvalidPolicyDocument = def("InvalidPolicyDocument", http.StatusBadRequest, "", "Invalid Policy.")
	// Bucket policies. OSS's ECs are its published ones (0030-…: the
	// policy document; 0003-00000101: refused by a policy's Deny).
	ErrInvalidBucketPolicy = def("InvalidPolicyDocument", http.StatusBadRequest, "0030-00000005", "Invalid Policy.")
	ErrPolicyVersion       = def("InvalidPolicyDocument", http.StatusBadRequest, "0030-00000002", "Bucket Policy Version must be 1.")
	ErrPolicyTooLarge      = def("InvalidPolicyDocument", http.StatusBadRequest, "0030-00000005", "The policy document exceeds the maximum size of 16 KB.")
	ErrNoSuchBucketPolicy  = def("NoSuchBucketPolicy", http.StatusNotFound, "0030-00000006", "The bucket policy does not exist.")
	ErrPolicyDenied        = def("AccessDenied", http.StatusForbidden, "0003-00000101", "You have no right to access this object because of bucket policy.")
	ErrPublicPolicyBlocked = def("AccessDenied", http.StatusForbidden, "0003-00000001", "Put public bucket policy is not allowed")
	ErrMalformedPolicy     = def("MalformedPolicy", http.StatusBadRequest, "", "Policies must be valid JSON and the first byte must be '{'")
	ErrS3CopyOnItself      = def("InvalidRequest", http.StatusBadRequest, "", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
)
