package httpapi

import (
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// handler is one operation's entry in the dispatch table.
type handler struct {
	fn     func(*Handler, *request) error
	access service.Access
	// objectACL: the handler checks access itself against the object's
	// ACL (which can grant more or less than the bucket's).
	objectACL bool
}

var handlers map[oss.Op]handler

// deniedEC is the EC OSS gives a refused request for these operations,
// where it documents one of its own (help.aliyun.com/.../0003-0000000N);
// every other refusal keeps AccessDenied's 0003-00000001.
var deniedEC = map[oss.Op]string{
	oss.OpGetObjectACL: "0003-00000007",
	oss.OpPutObjectACL: "0003-00000008",
}

func init() {
	own, read, write, anyone := service.AccessOwner, service.AccessRead, service.AccessWrite, service.AccessAnyone
	readACP, writeACP := service.AccessReadACP, service.AccessWriteACP
	handlers = map[oss.Op]handler{
		oss.OpPutBucket:                     {(*Handler).putBucket, own, false},
		oss.OpDeleteBucket:                  {(*Handler).deleteBucket, own, false},
		oss.OpHeadBucket:                    {(*Handler).headBucket, read, false},
		oss.OpGetBucketInfo:                 {(*Handler).getBucketInfo, own, false},
		oss.OpGetBucketLocation:             {(*Handler).getBucketLocation, own, false},
		oss.OpGetBucketStat:                 {(*Handler).getBucketStat, own, false},
		oss.OpGetBucketACL:                  {(*Handler).getBucketACL, readACP, false},
		oss.OpPutBucketACL:                  {(*Handler).putBucketACL, writeACP, false},
		oss.OpGetBucketTags:                 {(*Handler).getBucketTags, own, false},
		oss.OpPutBucketTags:                 {(*Handler).putBucketTags, own, false},
		oss.OpDeleteBucketTags:              {(*Handler).deleteBucketTags, own, false},
		oss.OpGetBucketVersioning:           {(*Handler).getBucketVersioning, own, false},
		oss.OpPutBucketVersioning:           {(*Handler).putBucketVersioning, own, false},
		oss.OpListObjects:                   {(*Handler).listObjects, read, false},
		oss.OpListObjectsV2:                 {(*Handler).listObjectsV2, read, false},
		oss.OpListObjectVersions:            {(*Handler).listObjectVersions, read, false},
		oss.OpPutBucketLogging:              {(*Handler).putBucketLogging, own, false},
		oss.OpGetBucketLogging:              {(*Handler).getBucketLogging, own, false},
		oss.OpDeleteBucketLogging:           {(*Handler).deleteBucketLogging, own, false},
		oss.OpPutUserDefinedLogFieldsConfig: {(*Handler).putLogFieldsConfig, own, false},
		oss.OpGetUserDefinedLogFieldsConfig: {(*Handler).getLogFieldsConfig, own, false},
		oss.OpDelUserDefinedLogFieldsConfig: {(*Handler).deleteLogFieldsConfig, own, false},
		oss.OpListMultipartUploads:          {(*Handler).listMultipartUploads, read, false},
		oss.OpDeleteMultipleObjects:         {(*Handler).deleteMultipleObjects, write, false},
		// PostObject's signature and policy are in its form: the handler
		// finds who is posting, then applies the bucket's ACL itself.
		oss.OpPostObject:              {(*Handler).postObject, anyone, false},
		oss.OpPutPublicAccessBlock:    {(*Handler).putPublicAccessBlock, own, false},
		oss.OpGetPublicAccessBlock:    {(*Handler).getPublicAccessBlock, own, false},
		oss.OpDeletePublicAccessBlock: {(*Handler).deletePublicAccessBlock, own, false},
		oss.OpPutBucketCors:           {(*Handler).putBucketCors, own, false},
		oss.OpGetBucketCors:           {(*Handler).getBucketCors, own, false},
		oss.OpDeleteBucketCors:        {(*Handler).deleteBucketCors, own, false},
		oss.OpOptionObject:            {(*Handler).optionObject, anyone, false},
		oss.OpPutBucketLifecycle:      {(*Handler).putBucketLifecycle, own, false},
		oss.OpGetBucketLifecycle:      {(*Handler).getBucketLifecycle, own, false},
		oss.OpDeleteBucketLifecycle:   {(*Handler).deleteBucketLifecycle, own, false},
		oss.OpPutBucketPolicy:         {(*Handler).putBucketPolicy, own, false},
		oss.OpGetBucketPolicy:         {(*Handler).getBucketPolicy, own, false},
		oss.OpDeleteBucketPolicy:      {(*Handler).deleteBucketPolicy, own, false},
		oss.OpGetBucketPolicyStatus:   {(*Handler).getBucketPolicyStatus, own, false},
		oss.OpPutLiveChannel:          {(*Handler).putLiveChannel, own, false},
		oss.OpListLiveChannel:         {(*Handler).listLiveChannel, own, false},
		oss.OpGetLiveChannelInfo:      {(*Handler).getLiveChannelInfo, own, false},
		oss.OpGetLiveChannelStat:      {(*Handler).getLiveChannelStat, own, false},
		oss.OpGetLiveChannelHistory:   {(*Handler).getLiveChannelHistory, own, false},
		oss.OpPutLiveChannelStatus:    {(*Handler).putLiveChannelStatus, own, false},
		oss.OpDeleteLiveChannel:       {(*Handler).deleteLiveChannel, own, false},
		oss.OpPostVodPlaylist:         {(*Handler).postVodPlaylist, own, false},
		oss.OpGetVodPlaylist:          {(*Handler).getVodPlaylist, own, false},
		oss.OpPutObject:               {(*Handler).putObject, write, false},
		oss.OpGetObject:               {(*Handler).getObject, read, true},
		oss.OpHeadObject:              {(*Handler).headObject, read, true},
		oss.OpGetObjectMeta:           {(*Handler).getObjectMeta, read, true},
		oss.OpGetObjectAttributes:     {(*Handler).getObjectAttributes, read, true},
		oss.OpDeleteObject:            {(*Handler).deleteObject, write, false},
		oss.OpCopyObject:              {(*Handler).copyObject, write, false},
		oss.OpAppendObject:            {(*Handler).appendObject, write, false},
		oss.OpInitiateMultipartUpload: {(*Handler).initiateMultipartUpload, write, false},
		oss.OpUploadPart:              {(*Handler).uploadPart, write, false},
		oss.OpUploadPartCopy:          {(*Handler).uploadPartCopy, write, false},
		oss.OpCompleteMultipartUpload: {(*Handler).completeMultipartUpload, write, false},
		oss.OpAbortMultipartUpload:    {(*Handler).abortMultipartUpload, write, false},
		oss.OpListParts:               {(*Handler).listParts, read, false},
		oss.OpGetObjectACL:            {(*Handler).getObjectACL, readACP, true},
		oss.OpPutObjectACL:            {(*Handler).putObjectACL, writeACP, true},
		oss.OpGetObjectTagging:        {(*Handler).getObjectTagging, read, false},
		oss.OpPutObjectTagging:        {(*Handler).putObjectTagging, write, false},
		oss.OpDeleteObjectTagging:     {(*Handler).deleteObjectTagging, write, false},
		oss.OpPutSymlink:              {(*Handler).putSymlink, write, false},
		oss.OpGetSymlink:              {(*Handler).getSymlink, read, true},
	}
}
