package httpapi

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/ossd/ossd/internal/oss"
)

// query is the parsed query string.
type query url.Values

func (q query) has(k string) bool { _, ok := q[k]; return ok }
func (q query) get(k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// AdminPrefix is the path under which ossd's own admin endpoints live.
// It cannot collide with a bucket: '-' may not start a bucket name.
const AdminPrefix = "/-/ossd/"

// hostBucket returns the bucket named by a virtual-hosted Host header, or
// "" when the host is a bare endpoint (path-style addressing).
func (h *Handler) hostBucket(host string) string {
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range h.cfg.Domains {
		// A '/' is no part of a host name (Host "/.localhost" would
		// otherwise name bucket "/").
		if strings.HasSuffix(host, "."+d) && !strings.Contains(host, "/") {
			return host[:len(host)-len(d)-1]
		}
	}
	return ""
}

// Target is where a request points: bucket, key, and how it was addressed.
type Target struct {
	Bucket, Key string
	Virtual     bool
	// Invalid: the path names no bucket but has more (e.g. "//key").
	Invalid bool
}

// ResolveTarget splits host and path into bucket and key. It is pure, so
// the router can be fuzzed on its own.
func (h *Handler) ResolveTarget(host, path string) Target {
	if b := h.hostBucket(host); b != "" {
		return Target{Bucket: b, Key: strings.TrimPrefix(path, "/"), Virtual: true}
	}
	p := strings.TrimPrefix(path, "/")
	if p == "" {
		return Target{}
	}
	b, k, _ := strings.Cut(p, "/")
	if b == "" {
		return Target{Invalid: true}
	}
	return Target{Bucket: b, Key: k}
}

// parse resolves bucket, key and operation and validates names.
func (h *Handler) parse(rq *request) error {
	r := rq.r
	t := h.ResolveTarget(r.Host, r.URL.Path)
	if t.Invalid {
		return oss.ErrInvalidURI.WithMessage("The path %q names no bucket.", r.URL.Path)
	}
	rq.bucket, rq.key = t.Bucket, t.Key
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return oss.ErrInvalidURI.WithMessage("The query string is not valid: %v", err)
	}
	rq.q = query(q)
	rq.op = Route(r.Method, rq.bucket != "", rq.key != "", rq.q, r.Header)
	if rq.bucket != "" && !oss.ValidBucketName(rq.bucket) {
		return oss.ErrInvalidBucketName.With("BucketName", rq.bucket)
	}
	if rq.key != "" {
		if err := oss.CheckKey(rq.key); err != nil {
			return err.With("Key", rq.key)
		}
	}
	if rq.op == oss.OpUnknown {
		return oss.ErrMethodNotAllowed.With("Method", r.Method).With("ResourceType", resourceType(rq))
	}
	return nil
}

func resourceType(rq *request) string {
	switch {
	case rq.key != "":
		return "Object"
	case rq.bucket != "":
		return "Bucket"
	}
	return "Service"
}

// unimplemented lists sub-resources of OSS features ossd does not have;
// they answer NotImplemented rather than being mistaken for a plain
// object or bucket request.
var unimplemented = []string{
	"website", "referer", "encryption", "replication",
	"replicationLocation", "replicationProgress", "worm", "wormId", "wormExtend", "inventory",
	"qos", "requestPayment", "transferAcceleration", "cname", "restore", "x-oss-process",
	"accessPoint", "resourceGroup", "httpsConfig", "archiveDirectRead",
	"overwriteConfig", "metaQuery", "style", "accessMonitor", "dataRedundancyTransition",
	"objectWorm",
	"redundancyTransition", "asyncFetch", "channel", "processConfiguration", "select",
	"x-oss-async-process", "cleanRestoredObject", "sealAppendable", "bucketArchiveDirectRead",
	"responseHeader", "metadataTableConfiguration", "objectFcAccessPoint", "torrent",
}

// accountOps are the account-level Block Public Access operations, sent to
// the service endpoint (no bucket) with ?publicAccessBlock.
var accountOps = map[string]oss.Op{
	http.MethodGet:    oss.OpGetAccountPublicAccessBlock,
	http.MethodPut:    oss.OpPutAccountPublicAccessBlock,
	http.MethodDelete: oss.OpDelAccountPublicAccessBlock,
}

// Route maps method, addressing level and sub-resources to an operation.
func Route(method string, hasBucket, hasKey bool, q query, hdr http.Header) oss.Op {
	for _, k := range unimplemented {
		if q.has(k) {
			return oss.OpNotImplemented
		}
	}
	if (q.has("lifecycle") || q.has("policy") || q.has("policyStatus")) && (hasKey || !hasBucket) {
		return oss.OpNotImplemented // a bucket's sub-resource only
	}
	if !hasBucket {
		if op, ok := accountOps[method]; ok && q.has("publicAccessBlock") {
			return op
		}
		if method == http.MethodGet {
			if q.has("regions") {
				return oss.OpDescribeRegions
			}
			return oss.OpListBuckets
		}
		return oss.OpUnknown
	}
	if method == http.MethodOptions {
		return oss.OpOptionObject // a CORS preflight, for a bucket or an object
	}
	if !hasKey {
		return routeBucket(method, q)
	}
	return routeObject(method, q, hdr)
}

func routeBucket(method string, q query) oss.Op {
	switch {
	case q.has("live") && method == http.MethodGet:
		return oss.OpListLiveChannel
	case q.has("live"), q.has("vod"):
		// Never a PutBucket or DeleteBucket in disguise.
		return oss.OpUnknown
	}
	if method == http.MethodHead && len(q) == 0 {
		return oss.OpHeadBucket
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		switch {
		case q.has("acl"):
			return oss.OpGetBucketACL
		case q.has("bucketInfo"):
			return oss.OpGetBucketInfo
		case q.has("location"):
			return oss.OpGetBucketLocation
		case q.has("stat"):
			return oss.OpGetBucketStat
		case q.has("tagging"):
			return oss.OpGetBucketTags
		case q.has("versioning"):
			return oss.OpGetBucketVersioning
		case q.has("versions"):
			return oss.OpListObjectVersions
		case q.has("logging"):
			return oss.OpGetBucketLogging
		case q.has("userDefinedLogFieldsConfig"):
			return oss.OpGetUserDefinedLogFieldsConfig
		case q.has("uploads"):
			return oss.OpListMultipartUploads
		case q.has("publicAccessBlock"):
			return oss.OpGetPublicAccessBlock
		case q.has("cors"):
			return oss.OpGetBucketCors
		case q.has("lifecycle"):
			return oss.OpGetBucketLifecycle
		case q.has("policy"):
			return oss.OpGetBucketPolicy
		case q.has("policyStatus"):
			return oss.OpGetBucketPolicyStatus
		case q.get("list-type") == "2":
			return oss.OpListObjectsV2
		}
		return oss.OpListObjects
	case http.MethodPut:
		switch {
		case q.has("acl"):
			return oss.OpPutBucketACL
		case q.has("tagging"):
			return oss.OpPutBucketTags
		case q.has("versioning"):
			return oss.OpPutBucketVersioning
		case q.has("logging"):
			return oss.OpPutBucketLogging
		case q.has("userDefinedLogFieldsConfig"):
			return oss.OpPutUserDefinedLogFieldsConfig
		case q.has("publicAccessBlock"):
			return oss.OpPutPublicAccessBlock
		case q.has("cors"):
			return oss.OpPutBucketCors
		case q.has("lifecycle"):
			return oss.OpPutBucketLifecycle
		case q.has("policy"):
			return oss.OpPutBucketPolicy
		}
		return oss.OpPutBucket
	case http.MethodDelete:
		switch {
		case q.has("tagging"):
			return oss.OpDeleteBucketTags
		case q.has("logging"):
			return oss.OpDeleteBucketLogging
		case q.has("userDefinedLogFieldsConfig"):
			return oss.OpDelUserDefinedLogFieldsConfig
		case q.has("publicAccessBlock"):
			return oss.OpDeletePublicAccessBlock
		case q.has("cors"):
			return oss.OpDeleteBucketCors
		case q.has("lifecycle"):
			return oss.OpDeleteBucketLifecycle
		case q.has("policy"):
			return oss.OpDeleteBucketPolicy
		}
		return oss.OpDeleteBucket
	case http.MethodPost:
		if q.has("delete") {
			return oss.OpDeleteMultipleObjects
		}
		return oss.OpPostObject // browser form upload
	}
	return oss.OpUnknown
}

// routeLive routes the LiveChannel operations, addressed as objects named
// by the channel (and, for PostVodPlaylist, channel/playlist).
func routeLive(method string, q query) oss.Op {
	if q.has("vod") {
		switch method {
		case http.MethodPost:
			return oss.OpPostVodPlaylist
		case http.MethodGet:
			return oss.OpGetVodPlaylist
		}
		return oss.OpUnknown
	}
	switch method {
	case http.MethodPut:
		if q.has("status") {
			return oss.OpPutLiveChannelStatus
		}
		return oss.OpPutLiveChannel
	case http.MethodGet:
		switch q.get("comp") {
		case "stat":
			return oss.OpGetLiveChannelStat
		case "history":
			return oss.OpGetLiveChannelHistory
		}
		return oss.OpGetLiveChannelInfo
	case http.MethodDelete:
		return oss.OpDeleteLiveChannel
	}
	return oss.OpUnknown
}

func routeObject(method string, q query, hdr http.Header) oss.Op {
	if q.has("live") || q.has("vod") {
		return routeLive(method, q)
	}
	// Routing runs before an S3 request's headers are mapped to OSS's.
	copySource := hdr.Get("x-oss-copy-source") != "" || hdr.Get("x-amz-copy-source") != ""
	switch method {
	case http.MethodGet:
		switch {
		case q.has("acl"):
			return oss.OpGetObjectACL
		case q.has("tagging"):
			return oss.OpGetObjectTagging
		case q.has("symlink"):
			return oss.OpGetSymlink
		case q.has("objectMeta"):
			return oss.OpGetObjectMeta
		case q.has("uploadId"):
			return oss.OpListParts
		case q.has("attributes"):
			return oss.OpGetObjectAttributes
		}
		return oss.OpGetObject
	case http.MethodHead:
		if q.has("objectMeta") {
			return oss.OpGetObjectMeta
		}
		return oss.OpHeadObject
	case http.MethodPut:
		switch {
		case q.has("acl"):
			return oss.OpPutObjectACL
		case q.has("tagging"):
			return oss.OpPutObjectTagging
		case q.has("symlink"):
			return oss.OpPutSymlink
		case q.has("uploadId") && q.has("partNumber"):
			if copySource {
				return oss.OpUploadPartCopy
			}
			return oss.OpUploadPart
		case copySource:
			return oss.OpCopyObject
		}
		return oss.OpPutObject
	case http.MethodPost:
		switch {
		case q.has("append"):
			return oss.OpAppendObject
		case q.has("uploads"):
			return oss.OpInitiateMultipartUpload
		case q.has("uploadId"):
			return oss.OpCompleteMultipartUpload
		}
		return oss.OpNotImplemented
	case http.MethodDelete:
		switch {
		case q.has("tagging"):
			return oss.OpDeleteObjectTagging
		case q.has("uploadId"):
			return oss.OpAbortMultipartUpload
		}
		return oss.OpDeleteObject
	}
	return oss.OpUnknown
}
