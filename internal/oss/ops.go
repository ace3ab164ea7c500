package oss

// Op names an API operation. The values are OSS's action names: the router
// picks them, the authorizer checks them, and the access log prints them in
// its operation column, so one spelling serves all three.
type Op string

// Service, bucket and object operations. Names follow the OSS API reference
// (GetBucket is ListObjects v1 in OSS's own log lines).
const (
	OpUnknown                       Op = "-"
	OpListBuckets                   Op = "GetService"
	OpDescribeRegions               Op = "DescribeRegions"
	OpPutBucket                     Op = "PutBucket"
	OpDeleteBucket                  Op = "DeleteBucket"
	OpHeadBucket                    Op = "HeadBucket"
	OpGetBucketInfo                 Op = "GetBucketInfo"
	OpGetBucketLocation             Op = "GetBucketLocation"
	OpGetBucketStat                 Op = "GetBucketStat"
	OpPutBucketACL                  Op = "PutBucketAcl"
	OpGetBucketACL                  Op = "GetBucketAcl"
	OpPutBucketTags                 Op = "PutBucketTags"
	OpGetBucketTags                 Op = "GetBucketTags"
	OpDeleteBucketTags              Op = "DeleteBucketTags"
	OpPutBucketVersioning           Op = "PutBucketVersioning"
	OpGetBucketVersioning           Op = "GetBucketVersioning"
	OpListObjects                   Op = "GetBucket"
	OpListObjectsV2                 Op = "ListObjectsV2"
	OpListObjectVersions            Op = "GetBucketVersions"
	OpPutBucketLogging              Op = "PutBucketLogging"
	OpGetBucketLogging              Op = "GetBucketLogging"
	OpDeleteBucketLogging           Op = "DeleteBucketLogging"
	OpPutUserDefinedLogFieldsConfig Op = "PutUserDefinedLogFieldsConfig"
	OpGetUserDefinedLogFieldsConfig Op = "GetUserDefinedLogFieldsConfig"
	OpDelUserDefinedLogFieldsConfig Op = "DeleteUserDefinedLogFieldsConfig"
	OpPutPublicAccessBlock          Op = "PutBucketPublicAccessBlock"
	OpGetPublicAccessBlock          Op = "GetBucketPublicAccessBlock"
	OpDeletePublicAccessBlock       Op = "DeleteBucketPublicAccessBlock"
	OpPutAccountPublicAccessBlock   Op = "PutPublicAccessBlock" // the account's, on the service
	OpGetAccountPublicAccessBlock   Op = "GetPublicAccessBlock"
	OpDelAccountPublicAccessBlock   Op = "DeletePublicAccessBlock"
	OpPutBucketCors                 Op = "PutBucketCors"
	OpGetBucketCors                 Op = "GetBucketCors"
	OpDeleteBucketCors              Op = "DeleteBucketCors"
	OpPutBucketLifecycle            Op = "PutBucketLifecycle"
	OpGetBucketLifecycle            Op = "GetBucketLifecycle"
	OpDeleteBucketLifecycle         Op = "DeleteBucketLifecycle"
	// OpExpireObject names the lifecycle's deletions in access-log lines
	// (its aborts are AbortMultipartUpload); no request routes to it.
	OpExpireObject            Op = "ExpireObject"
	OpOptionObject            Op = "OptionObject" // a CORS preflight (OPTIONS)
	OpPutObject               Op = "PutObject"
	OpGetObject               Op = "GetObject"
	OpHeadObject              Op = "HeadObject"
	OpGetObjectMeta           Op = "GetObjectMeta"
	OpGetObjectAttributes     Op = "GetObjectAttributes" // S3's
	OpDeleteObject            Op = "DeleteObject"
	OpDeleteMultipleObjects   Op = "DeleteMultipleObjects"
	OpPostObject              Op = "PostObject" // browser form upload
	OpCopyObject              Op = "CopyObject"
	OpAppendObject            Op = "AppendObject"
	OpInitiateMultipartUpload Op = "InitiateMultipartUpload"
	OpUploadPart              Op = "UploadPart"
	OpUploadPartCopy          Op = "UploadPartCopy"
	OpCompleteMultipartUpload Op = "CompleteMultipartUpload"
	OpAbortMultipartUpload    Op = "AbortMultipartUpload"
	OpListMultipartUploads    Op = "ListMultipartUploads"
	OpListParts               Op = "ListParts"
	OpPutObjectACL            Op = "PutObjectAcl"
	OpGetObjectACL            Op = "GetObjectAcl"
	OpPutObjectTagging        Op = "PutObjectTagging"
	OpGetObjectTagging        Op = "GetObjectTagging"
	OpDeleteObjectTagging     Op = "DeleteObjectTagging"
	OpPutSymlink              Op = "PutSymlink"
	OpGetSymlink              Op = "GetSymlink"
	OpPutLiveChannel          Op = "PutLiveChannel"
	OpListLiveChannel         Op = "ListLiveChannel"
	OpGetLiveChannelInfo      Op = "GetLiveChannelInfo"
	OpGetLiveChannelStat      Op = "GetLiveChannelStat"
	OpGetLiveChannelHistory   Op = "GetLiveChannelHistory"
	OpPutLiveChannelStatus    Op = "PutLiveChannelStatus"
	OpDeleteLiveChannel       Op = "DeleteLiveChannel"
	OpPostVodPlaylist         Op = "PostVodPlaylist"
	OpGetVodPlaylist          Op = "GetVodPlaylist"
	OpNotImplemented          Op = "NotImplemented"
)
