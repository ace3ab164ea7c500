package httpapi

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// SSE headers are recorded and echoed so clients that ask for server-side
// encryption work; ossd does not encrypt data at rest (see README).
var sseNames = []string{"x-oss-server-side-encryption", "x-oss-server-side-data-encryption", "x-oss-server-side-encryption-key-id"}

func sseHeaders(in http.Header, out map[string]string) error {
	alg := in.Get("x-oss-server-side-encryption")
	if alg == "" {
		return nil
	}
	if alg != "AES256" && alg != "KMS" && alg != "SM4" {
		return oss.ErrInvalidEncryptionAlgo.With("ArgumentName", "x-oss-server-side-encryption").With("ArgumentValue", alg)
	}
	out["x-oss-server-side-encryption"] = alg
	if d := in.Get("x-oss-server-side-data-encryption"); d != "" {
		if d != "SM4" {
			return oss.ErrInvalidEncryptionAlgo.With("ArgumentName", "x-oss-server-side-data-encryption").With("ArgumentValue", d)
		}
		out["x-oss-server-side-data-encryption"] = d
	}
	if alg == "KMS" {
		id := in.Get("x-oss-server-side-encryption-key-id")
		if id == "" {
			id = "ossd-local-kms-key"
		}
		out["x-oss-server-side-encryption-key-id"] = id
	}
	return nil
}

func echoSSE(hdr http.Header, stored map[string]string) {
	for _, k := range sseNames {
		if v := stored[k]; v != "" {
			hdr.Set(k, v)
		}
	}
}

// storedHeaders are the standard headers an object keeps and returns.
var storedHeaders = []string{"Content-Type", "Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// template builds the metadata of a new object from request headers.
func (h *Handler) template(rq *request) (service.Version, error) {
	hdr := rq.r.Header
	v := service.Version{Owner: rq.b.Owner, StorageClass: rq.b.StorageClass, ACL: service.ACLDefault, Headers: map[string]string{}}
	if rq.p.ID != "" {
		v.Owner = rq.p.ID
	}
	for _, k := range storedHeaders {
		if s := hdr.Get(k); s != "" {
			v.Headers[k] = s
		}
	}
	if v.Headers["Content-Type"] == "" {
		// A type is the client's to give: the SDKs guess one from the key's
		// extension before sending, the servers do not (oss2's
		// test_put_object_with_sign_url stores "x.jpg" through a presigned
		// URL as application/octet-stream on OSS).
		if rq.s3 {
			v.Headers["Content-Type"] = "binary/octet-stream" // S3's default
		} else {
			v.Headers["Content-Type"] = "application/octet-stream"
		}
	}
	for k, vs := range hdr {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-meta-") && len(vs) > 0 {
			if v.UserMeta == nil {
				v.UserMeta = map[string]string{}
			}
			v.UserMeta[lk] = vs[0]
		}
	}
	acl, grants, err := h.requestGrants(rq, "x-oss-object-acl", v.Owner)
	if err != nil {
		return v, err
	}
	if err := h.svc.AllowObjectGrants(rq.ctx, rq.b, grants); err != nil {
		return v, err
	}
	v.Grants = grants
	if acl != "" {
		if !service.ValidObjectACL(acl) {
			return v, oss.ErrInvalidArgument.WithMessage("no such object access control exists").With("ArgumentName", "x-oss-object-acl").With("ArgumentValue", acl)
		}
		if err := h.svc.AllowObjectACL(rq.ctx, rq.b, acl); err != nil {
			return v, err
		}
		v.ACL = acl
	}
	if sc := hdr.Get("x-oss-storage-class"); sc != "" {
		if v.StorageClass = service.NormalizeStorageClass(sc); v.StorageClass == "" {
			return v, oss.ErrInvalidArgument.WithMessage("Invalid storage class %s", sc).With("ArgumentName", "x-oss-storage-class").With("ArgumentValue", sc)
		}
	}
	if t := hdr.Get("x-oss-tagging"); t != "" {
		tags, err := parseTagHeader(t, rq.s3)
		if err != nil {
			return v, err
		}
		if err := service.CheckObjectTags(tags, rq.s3); err != nil {
			return v, err
		}
		v.Tags = tags
	}
	if err := sseHeaders(hdr, v.Headers); err != nil {
		return v, err
	}
	return v, nil
}

// parseTagHeader reads x-oss-tagging (x-amz-tagging): URL-encoded
// key=value pairs joined by '&'; empty pairs are skipped. A pair with a
// value but no key ("=a") and a key given twice are refused, as OSS
// refuses them (oss2's test_init_multipart_with_object_tagging_exceptions).
func parseTagHeader(s string, s3 bool) ([]service.Tag, error) {
	var tags []service.Tag
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		rk, rv, hasValue := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(rk)
		v, err2 := url.QueryUnescape(rv)
		if err1 != nil || err2 != nil {
			return nil, oss.ErrInvalidArgument.WithMessage("The x-oss-tagging header is invalid.")
		}
		if k == "" {
			if !hasValue || s3 {
				continue
			}
			return nil, oss.ErrInvalidTagKey.With("TagKey", k)
		}
		if seen[k] {
			return nil, oss.ErrInvalidTagValue.WithMessage("Cannot provide multiple Tags with the same key").With("TagKey", k)
		}
		seen[k] = true
		tags = append(tags, service.Tag{Key: k, Value: v})
	}
	if len(tags) > 10 {
		return nil, oss.ErrInvalidArgument.WithMessage("The number of object tags exceeds the limit of 10.")
	}
	return tags, nil
}

// bodySize returns the declared request body size, or -1 when chunked.
func bodySize(r *http.Request) int64 {
	if r.ContentLength >= 0 {
		return r.ContentLength
	}
	return -1
}

// digests reads Content-MD5 and x-oss-hash-crc64ecma.
func digests(r *http.Request) ([]byte, *uint64, error) {
	var md5sum []byte
	if s := r.Header.Get("Content-MD5"); s != "" {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != 16 {
			return nil, nil, oss.ErrInvalidDigest
		}
		md5sum = raw
	}
	var crc *uint64
	if s := r.Header.Get("x-oss-hash-crc64ecma"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, nil, oss.ErrInvalidArgument.WithMessage("The x-oss-hash-crc64ecma header is invalid.")
		}
		crc = &n
	}
	return md5sum, crc, nil
}

// writeCondition reads what a write requires of the object it replaces:
// OSS's x-oss-forbid-overwrite, and for S3 requests If-Match and
// If-None-Match (S3's conditional writes; on OSS requests those headers
// stay what OSS makes of them on a write: nothing).
func writeCondition(rq *request) service.WriteCondition {
	c := service.WriteCondition{ForbidOverwrite: strings.EqualFold(rq.r.Header.Get("x-oss-forbid-overwrite"), "true")}
	if rq.s3 {
		c.IfMatch = headerList(rq.r.Header.Values("If-Match"))
		c.IfNoneMatch = headerList(rq.r.Header.Values("If-None-Match"))
	}
	return c
}

// headerList splits a comma-separated list header (If-Match's ETags,
// x-amz-object-attributes' names), sent once or repeated, into its items;
// nil when the header is absent.
func headerList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

func (h *Handler) putObject(rq *request) error {
	if rq.r.ContentLength > service.MaxPutSize {
		return oss.ErrEntityTooLarge
	}
	tmpl, err := h.template(rq)
	if err != nil {
		return err
	}
	md5sum, crc, err := digests(rq.r)
	if err != nil {
		return err
	}
	if rq.r.Header.Get("x-oss-callback") != "" {
		if err := h.checkCallbackURLs(rq); err != nil {
			return err
		}
	}
	start := h.cfg.Now()
	w, err := h.svc.PutObject(rq.ctx, service.PutInput{
		Bucket: rq.bucket, Key: rq.key, Body: rq.r.Body, Size: bodySize(rq.r), ContentMD5: md5sum, CRC64: crc,
		Template: tmpl, Cond: writeCondition(rq), Accepted: h.overlapLog(rq),
	})
	rq.serverCost = h.cfg.Now().Sub(start)
	if err != nil {
		return err
	}
	return h.writeWritten(rq, w, true)
}

// writeWritten answers a successful write: ETag, CRC64, version id, and
// the upload callback when one was asked for.
func (h *Handler) writeWritten(rq *request, w *service.Written, callback bool) error {
	v := w.Version
	logWritten(rq.entry, w)
	hdr := rq.w.Header()
	hdr.Set("ETag", rq.etag(v.ETag))
	hdr.Set("x-oss-hash-crc64ecma", strconv.FormatUint(v.CRC64, 10))
	echoSSE(hdr, v.Headers)
	setContentMD5(hdr, v)
	setVersionID(rq, v.VersionID)
	if rq.s3 {
		for k, val := range v.Headers {
			if strings.HasPrefix(k, "x-amz-checksum-") {
				hdr.Set(k, val)
			}
		}
	}
	if callback && rq.r.Header.Get("x-oss-callback") != "" {
		return h.runCallback(rq, v)
	}
	return writeEmpty(rq, http.StatusOK)
}

// objectHeaders sets the headers describing v on a GET/HEAD response.
func (h *Handler) objectHeaders(rq *request, v *service.Version) {
	hdr := rq.w.Header()
	for _, k := range storedHeaders {
		if s := v.Headers[k]; s != "" {
			hdr.Set(k, s)
		}
	}
	if hdr.Get("Content-Type") == "" {
		hdr.Set("Content-Type", "application/octet-stream")
	}
	setUserMeta(rq, hdr, v.UserMeta)
	hdr.Set("ETag", rq.etag(v.ETag))
	hdr.Set("Last-Modified", v.Modified.UTC().Format(http.TimeFormat))
	hdr.Set("x-oss-object-type", v.Type)
	hdr.Set("x-oss-storage-class", v.StorageClass)
	hdr.Set("x-oss-hash-crc64ecma", strconv.FormatUint(v.CRC64, 10))
	hdr.Set("Accept-Ranges", "bytes")
	echoSSE(hdr, v.Headers)
	echoChecksums(rq, hdr, v.Headers)
	setVersionID(rq, v.VersionID)
	if v.Type == service.TypeAppendable {
		hdr.Set("x-oss-next-append-position", strconv.FormatInt(v.Size, 10))
	}
	if len(v.Tags) > 0 {
		hdr.Set("x-oss-tagging-count", strconv.Itoa(len(v.Tags)))
	}
	setContentMD5(hdr, v)
}

// setContentMD5 sets Content-MD5 where OSS has it: a normal object's is its
// ETag; a multipart object has one only if it was uploaded sequentially.
func setContentMD5(hdr http.Header, v *service.Version) {
	if v.Type == service.TypeNormal && !strings.Contains(v.ETag, "-") {
		if raw, err := hexDecode(v.ETag); err == nil {
			hdr.Set("Content-MD5", base64.StdEncoding.EncodeToString(raw))
		}
	} else if sum := v.Headers[service.HeaderContentMD5]; sum != "" && v.Type == service.TypeMultipart {
		hdr.Set("Content-MD5", sum)
	}
}

// checkConditions applies If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since, in the order HTTP (RFC 9110 §13.2.2) gives them.
func checkConditions(hdr http.Header, etag string, modified time.Time, prefix string) error {
	tag := `"` + etag + `"`
	// ETags are hex: compared without regard to case, since S3 clients
	// see them lower-case and OSS clients upper-case. If-None-Match
	// compares weakly (RFC 9110 §13.1.2): W/"x" matches "x".
	match := func(list string, weak bool) bool {
		for _, t := range strings.Split(list, ",") {
			t = strings.Trim(t, " \t")
			if weak {
				t = strings.TrimPrefix(t, "W/")
			}
			if t == "*" || strings.EqualFold(t, tag) || strings.EqualFold(strings.Trim(t, `"`), etag) {
				return true
			}
		}
		return false
	}
	mod := modified.Truncate(time.Second)
	if s := hdr.Get(prefix + "If-Match"); s != "" {
		if !match(s, false) {
			return oss.ErrPreconditionFailed.With("Condition", "If-Match")
		}
	} else if s := hdr.Get(prefix + "If-Unmodified-Since"); s != "" {
		if t, err := http.ParseTime(s); err == nil && mod.After(t) {
			return oss.ErrPreconditionFailed.With("Condition", "If-Unmodified-Since")
		}
	}
	if s := hdr.Get(prefix + "If-None-Match"); s != "" {
		if match(s, true) {
			if prefix != "" {
				return oss.ErrPreconditionFailed.With("Condition", "If-None-Match")
			}
			return oss.ErrNotModified
		}
	} else if s := hdr.Get(prefix + "If-Modified-Since"); s != "" {
		if t, err := http.ParseTime(s); err == nil && !mod.After(t) {
			if prefix != "" {
				return oss.ErrPreconditionFailed.With("Condition", "If-Modified-Since")
			}
			return oss.ErrNotModified
		}
	}
	return nil
}

// rangeStandard says whether a GET reads its Range header the way RFC 9110
// and S3 do ("x-oss-range-behavior: standard", and every S3 request): a
// last byte past the end is clipped, a first byte past the end is 416.
// Otherwise OSS serves a range only when it lies inside the object and
// ignores it (200, the whole object) when it does not.
func rangeStandard(rq *request) bool {
	return rq.s3 || strings.EqualFold(strings.Trim(rq.r.Header.Get("x-oss-range-behavior"), " \t"), "standard")
}

// parseRange interprets a single-range Range header against size.
// ok=false with a nil error means serve the whole object: the header is
// absent, malformed or a list (OSS ignores those), or, unless standard,
// reaches past the object. With standard, a range that starts past the
// end (or any range of an empty object) is ErrInvalidRange.
func parseRange(s string, size int64, standard bool) (off, n int64, ok bool, err error) {
	whole := func() (int64, int64, bool, error) { return 0, size, false, nil }
	outside := func() (int64, int64, bool, error) {
		if standard {
			return 0, 0, false, oss.ErrInvalidRange
		}
		return whole()
	}
	s = strings.Trim(s, " \t")
	if len(s) < len("bytes=") || !strings.EqualFold(s[:len("bytes=")], "bytes=") || strings.Contains(s, ",") {
		return whole()
	}
	a, b, found := strings.Cut(s[len("bytes="):], "-")
	if !found {
		return whole()
	}
	a, b = strings.Trim(a, " \t"), strings.Trim(b, " \t")
	first, firstOK := parseDigits(a)
	last, lastOK := parseDigits(b)
	switch {
	case !firstOK && !lastOK, a != "" && !firstOK, b != "" && !lastOK:
		return whole()
	case !firstOK: // suffix: the last `last` bytes
		if last == 0 || size == 0 {
			return outside()
		}
		if last > size {
			if !standard {
				return whole()
			}
			last = size
		}
		return size - last, last, true, nil
	case lastOK && last < first:
		return whole() // an invalid range is ignored (RFC 9110 §14.1.1)
	case first >= size:
		return outside()
	}
	end := size - 1
	if lastOK {
		if last < size {
			end = last
		} else if !standard {
			return whole()
		}
	}
	return first, end - first + 1, true, nil
}

// parseDigits reads 1*DIGIT. Values past MaxInt64 saturate: they only
// meet comparisons with an object size, which they exceed either way.
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxInt64-int64(c-'0'))/10 {
			v = math.MaxInt64
			continue
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

var responseOverrides = map[string]string{
	"response-content-type": "Content-Type", "response-content-language": "Content-Language",
	"response-expires": "Expires", "response-cache-control": "Cache-Control",
	"response-content-disposition": "Content-Disposition", "response-content-encoding": "Content-Encoding",
}

// readable resolves the version a GET or HEAD reads (following a
// symlink), checks the caller may read it, and notes it in the log entry.
func (h *Handler) readable(rq *request) (*service.Version, error) {
	v, err := h.svc.Head(rq.ctx, service.GetInput{Bucket: rq.bucket, Key: rq.key, VersionID: rq.q.get("versionId"), FollowSymlink: true})
	if err != nil {
		return nil, h.hideMissing(rq, rq.b, err)
	}
	if err := h.authorizeObject(rq, service.AccessRead, v); err != nil {
		return nil, err
	}
	rq.entry.ObjectSize = v.Size
	rq.entry.StorageClass = v.StorageClass
	return v, nil
}

// hideMissing is the answer to a read whose object could not be resolved
// (no such key, version or symlink target) in bucket b. There is no object
// ACL to consult, so the bucket's decides: a caller who may not read the
// bucket gets AccessDenied, as from OSS, and cannot probe which keys exist.
func (h *Handler) hideMissing(rq *request, b *service.Bucket, err error) error {
	aerr := h.svc.Authorize(rq.ctx, rq.p, service.AccessRead, b, "")
	if aerr != nil && b == rq.b && rq.key != "" {
		// S3's rule for bucket policies: whoever may list the bucket for a
		// prefix naming the key learns that it does not exist.
		li := policyRequest(rq)
		li.Op, li.Key, li.Prefix, li.HasPrefix = oss.OpListObjects, "", rq.key, true
		if h.svc.Authorize(service.WithRequest(rq.ctx, li), rq.p, service.AccessRead, b, "") == nil {
			return err
		}
	}
	if aerr != nil {
		return aerr
	}
	return err
}

func (h *Handler) getObject(rq *request) error { return h.retryVanished(rq, h.getObjectOnce) }

// retryVanished runs op again, up to 3 times in all, when a blob it read
// was removed under it — an overwrite or delete of the object, committed
// on this node or another between op's lookup and its reading — and no
// byte of the response has gone out: op then starts over and serves what
// the key holds now, as if the request had come a moment later. (GET: a
// blob of a later part vanishing mid-stream is not retried, the response
// is under way; a copy writes nothing before it has read the whole
// source, so it can always start over.)
func (h *Handler) retryVanished(rq *request, op func(*request) error) error {
	for attempt := 1; ; attempt++ {
		err := op(rq)
		if attempt < 3 && errors.Is(err, fs.ErrNotExist) && !rq.w.wroteHeader {
			continue
		}
		return err
	}
}

func (h *Handler) getObjectOnce(rq *request) error {
	start := h.cfg.Now()
	v, err := h.readable(rq)
	if err != nil {
		return err
	}
	if v.StorageClass == "Archive" || v.StorageClass == "ColdArchive" || v.StorageClass == "DeepColdArchive" {
		return oss.ErrInvalidObjectState.WithMessage("The operation is not valid for the object's state")
	}
	if err := checkConditions(rq.r.Header, v.ETag, v.Modified, ""); err != nil {
		if errors.Is(err, oss.ErrNotModified) {
			h.objectHeaders(rq, v)
			rq.w.Header().Del("Content-Type")
			rq.w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return err
	}
	off, n, partial, err := parseRange(rq.r.Header.Get("Range"), v.Size, rangeStandard(rq))
	if err != nil {
		rq.w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(v.Size, 10))
		return err
	}
	if rq.s3 && rq.q.has("partNumber") {
		if off, n, err = h.partRead(rq, v); err != nil {
			return err
		}
		partial = v.Type == service.TypeMultipart
	}
	body, err := h.svc.Open(v, off, n)
	if err != nil {
		return err
	}
	defer body.Close()
	rq.serverCost = h.cfg.Now().Sub(start)
	h.objectHeaders(rq, v)
	hdr := rq.w.Header()
	for q, hk := range responseOverrides {
		if s := rq.q.get(q); s != "" {
			hdr.Set(hk, s)
		}
	}
	hdr.Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if partial {
		hdr.Set("Content-Range", "bytes "+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+n-1, 10)+"/"+strconv.FormatInt(v.Size, 10))
		hdr.Del("x-oss-hash-crc64ecma") // the CRC covers the whole object, not this range
		hdr.Del("Content-MD5")
		for k := range hdr {
			if strings.HasPrefix(k, "X-Amz-Checksum-") {
				delete(hdr, k)
			}
		}
		status = http.StatusPartialContent
	}
	rq.w.WriteHeader(status)
	if _, err := io.Copy(rq.w, body); err != nil {
		// Headers are out; the client sees a short body.
		h.log.Debug("object body write failed", "request_id", rq.id, "err", err)
	}
	return nil
}

func (h *Handler) headObject(rq *request) error {
	v, err := h.readable(rq)
	if err != nil {
		return err
	}
	if err := checkConditions(rq.r.Header, v.ETag, v.Modified, ""); err != nil {
		return err
	}
	size, status := v.Size, http.StatusOK
	if rq.s3 && rq.q.has("partNumber") {
		off, n, err := h.partRead(rq, v)
		if err != nil {
			return err
		}
		if size = n; v.Type == service.TypeMultipart {
			rq.w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+n-1, 10)+"/"+strconv.FormatInt(v.Size, 10))
			status = http.StatusPartialContent
		}
	}
	h.objectHeaders(rq, v)
	rq.w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	rq.w.WriteHeader(status)
	return nil
}

// partRead answers S3's partNumber on GetObject and HeadObject: the byte
// range of that part, with the object's part count in
// x-amz-mp-parts-count (multipart objects only, as S3 sends it).
func (h *Handler) partRead(rq *request, v *service.Version) (off, n int64, err error) {
	num, err := h.partArgs(rq)
	if err != nil {
		return 0, 0, err
	}
	off, n, parts, err := service.PartRange(v, num)
	if err != nil {
		return 0, 0, err
	}
	if v.Type == service.TypeMultipart {
		rq.w.Header().Set("x-amz-mp-parts-count", strconv.Itoa(parts))
	}
	return off, n, nil
}

func (h *Handler) getObjectMeta(rq *request) error {
	v, err := h.svc.Head(rq.ctx, service.GetInput{Bucket: rq.bucket, Key: rq.key, VersionID: rq.q.get("versionId")})
	if err != nil {
		return h.hideMissing(rq, rq.b, err)
	}
	if err := h.authorizeObject(rq, service.AccessRead, v); err != nil {
		return err
	}
	rq.entry.ObjectSize = v.Size
	hdr := rq.w.Header()
	hdr.Set("ETag", rq.etag(v.ETag))
	hdr.Set("Last-Modified", v.Modified.UTC().Format(http.TimeFormat))
	hdr.Set("x-oss-last-access-time", v.Modified.UTC().Format(http.TimeFormat))
	hdr.Set("x-oss-hash-crc64ecma", strconv.FormatUint(v.CRC64, 10))
	setVersionID(rq, v.VersionID)
	hdr.Set("Content-Length", strconv.FormatInt(v.Size, 10))
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteObject(rq *request) error {
	res, err := h.svc.DeleteObject(rq.ctx, rq.bucket, rq.key, rq.q.get("versionId"))
	if err != nil {
		return err
	}
	rq.entry.DeltaDataSize = logDelta(res.Delta)
	if res.DeleteMarker {
		rq.w.Header().Set("x-oss-delete-marker", "true")
	}
	if res.VersionID != "" && res.VersionID != "null" || (res.DeleteMarker && res.VersionID == "null" && rq.b.Versioning != "") {
		rq.w.Header().Set("x-oss-version-id", res.VersionID)
	}
	return writeEmpty(rq, http.StatusNoContent)
}

func (h *Handler) deleteMultipleObjects(rq *request) error {
	type object struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
	}
	var req struct {
		Quiet   bool     `xml:"Quiet"`
		Objects []object `xml:"Object"`
	}
	if err := h.decodeXML(rq, "Delete", &req, oss.ErrMalformedXML); err != nil {
		return err
	}
	if len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return oss.ErrMalformedXML
	}
	et, enc, err := encodingType(rq)
	if err != nil {
		return err
	}
	type deleted struct {
		Key                   string `xml:"Key"`
		VersionID             string `xml:"VersionId,omitempty"`
		DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
		DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
	}
	type result struct {
		XMLName      xml.Name  `xml:"DeleteResult"`
		EncodingType string    `xml:"EncodingType,omitempty"`
		Deleted      []deleted `xml:"Deleted"`
	}
	out := result{EncodingType: et}
	for _, o := range req.Objects {
		o.Key = restoreControl(o.Key)
		if err := oss.CheckKey(o.Key); err != nil {
			return err.With("Key", o.Key)
		}
		res, err := h.svc.DeleteObject(rq.ctx, rq.bucket, o.Key, o.VersionID)
		if err != nil {
			return err
		}
		if req.Quiet {
			continue
		}
		d := deleted{Key: enc(o.Key), VersionID: o.VersionID}
		if res.DeleteMarker {
			d.DeleteMarker = true
			d.DeleteMarkerVersionID = res.VersionID
		}
		out.Deleted = append(out.Deleted, d)
	}
	return h.writeXML(rq, http.StatusOK, out)
}

// copySource parses x-oss-copy-source (/bucket/key?versionId=) and loads
// the source version, checking the caller may read it.
func (h *Handler) copySource(rq *request) (string, *service.Version, error) {
	src := rq.r.Header.Get("x-oss-copy-source")
	p, rawQuery, _ := strings.Cut(src, "?")
	p, err := url.PathUnescape(p)
	if err != nil {
		return "", nil, oss.ErrInvalidArgument.WithMessage("Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.")
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return "", nil, oss.ErrInvalidArgument.WithMessage("Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.")
	}
	// The source key gets the same checks as a request's own key: a NUL
	// (the separator inside metadata keys) or invalid UTF-8 never reaches
	// the lookup.
	if e := oss.CheckKey(key); e != nil {
		return "", nil, e
	}
	vid := ""
	if rawQuery != "" {
		q, _ := url.ParseQuery(rawQuery)
		if vs, ok := q["versionId"]; ok {
			// "?versionId=" names no version: OSS refuses it rather than copy
			// the latest (oss2's test_copy_object_with_version).
			if vs[0] == "" {
				return "", nil, oss.ErrInvalidArgument.WithMessage("The version id in the copy source is empty.").With("ArgumentName", "x-oss-copy-source").With("ArgumentValue", src)
			}
			vid = vs[0]
		}
	}
	if vid == "" {
		vid = rq.r.Header.Get("x-oss-copy-source-version-id")
	}
	sb, err := h.svc.Bucket(rq.ctx, bucket)
	if err != nil {
		return "", nil, err
	}
	v, err := h.svc.Head(rq.ctx, service.GetInput{Bucket: bucket, Key: key, VersionID: vid, FollowSymlink: true})
	if err != nil {
		return "", nil, h.hideMissing(rq, sb, err)
	}
	// The source is read: the source bucket's policy sees a GetObject of
	// the source key, not the copy's write.
	pri := policyRequest(rq)
	pri.Op, pri.Key, pri.ObjectTags = oss.OpGetObject, key, service.TagMap(v.Tags)
	if err := h.svc.AuthorizeVersion(service.WithRequest(rq.ctx, pri), rq.p, service.AccessRead, sb, v); err != nil {
		return "", nil, err
	}
	if err := checkConditions(rq.r.Header, v.ETag, v.Modified, "x-oss-copy-source-"); err != nil {
		return "", nil, err
	}
	rq.srcVersioned = sb.Versioning != ""
	return bucket, v, nil
}

func (h *Handler) copyObject(rq *request) error { return h.retryVanished(rq, h.copyObjectOnce) }

func (h *Handler) copyObjectOnce(rq *request) error {
	srcBucket, src, err := h.copySource(rq)
	if err != nil {
		return err
	}
	tmpl, err := h.template(rq)
	if err != nil {
		return err
	}
	replace := strings.EqualFold(rq.r.Header.Get("x-oss-metadata-directive"), "REPLACE")
	if !replace && !strings.EqualFold(rq.r.Header.Get("x-oss-tagging-directive"), "Replace") {
		tmpl.Tags = src.Tags
	}
	if rq.r.Header.Get("x-oss-storage-class") == "" {
		tmpl.StorageClass = ""
	} else {
		rq.entry.TargetStorageClass = tmpl.StorageClass
	}
	// S3 refuses a copy of an object onto itself that changes nothing;
	// copying an older version (named by versionId) over it restores it.
	requireChange := rq.s3 && !strings.Contains(rq.r.Header.Get("x-oss-copy-source"), "versionId=")
	w, err := h.svc.CopyObject(rq.ctx, service.CopyInput{Source: src, SrcBucket: srcBucket, ReplaceMetadata: replace, RequireChange: requireChange,
		Dest: service.PutInput{Bucket: rq.bucket, Key: rq.key, Template: tmpl, Cond: writeCondition(rq)}})
	if err != nil {
		return err
	}
	v := w.Version
	rq.entry.ObjectSize = v.Size
	rq.entry.DeltaDataSize = logDelta(w.Delta)
	hdr := rq.w.Header()
	hdr.Set("x-oss-hash-crc64ecma", strconv.FormatUint(v.CRC64, 10))
	if src.VersionID != "null" || rq.srcVersioned {
		hdr.Set("x-oss-copy-source-version-id", src.VersionID)
	}
	setVersionID(rq, v.VersionID)
	setResultETag(rq, v.ETag)
	type result struct {
		XMLName      xml.Name `xml:"CopyObjectResult"`
		ETag         string   `xml:"ETag"`
		LastModified string   `xml:"LastModified"`
	}
	return h.writeXML(rq, http.StatusOK, result{ETag: rq.etag(v.ETag), LastModified: isoTime(v.Modified)})
}

func (h *Handler) appendObject(rq *request) error {
	pos, err := strconv.ParseInt(rq.q.get("position"), 10, 64)
	if err != nil || pos < 0 {
		return oss.ErrInvalidArgument.WithMessage("Position is invalid.").With("ArgumentName", "position").With("ArgumentValue", rq.q.get("position"))
	}
	if pos > 0 {
		// Tags are set by the append that creates the object; OSS ignores
		// x-oss-tagging on later ones, even tags it would refuse (oss2's
		// test_append_object_with_tagging_wrong_num).
		rq.r.Header.Del("x-oss-tagging")
	}
	tmpl, err := h.template(rq)
	if err != nil {
		return err
	}
	md5sum, crc, err := digests(rq.r)
	if err != nil {
		return err
	}
	w, err := h.svc.AppendObject(rq.ctx, service.AppendInput{Bucket: rq.bucket, Key: rq.key, Position: pos, Body: rq.r.Body,
		Size: bodySize(rq.r), ContentMD5: md5sum, CRC64: crc, Template: tmpl})
	if err != nil {
		return err
	}
	rq.w.Header().Set("x-oss-next-append-position", strconv.FormatInt(w.Version.Size, 10))
	return h.writeWritten(rq, w, false)
}

func (h *Handler) getObjectACL(rq *request) error {
	v, err := h.aclTarget(rq, service.AccessReadACP)
	if err != nil {
		return err
	}
	setVersionID(rq, v.VersionID)
	return h.writeACL(rq, v.ACL, v.Grants)
}

// aclTarget resolves the version an object ACL operation addresses and
// checks the caller may read (AccessReadACP) or set (AccessWriteACP) its
// ACL: the owner, or an account the object's grants allow. A missing
// object is judged by the bucket's ACL, as a read is.
func (h *Handler) aclTarget(rq *request, access service.Access) (*service.Version, error) {
	v, err := h.svc.Head(rq.ctx, service.GetInput{Bucket: rq.bucket, Key: rq.key, VersionID: rq.q.get("versionId")})
	if err != nil {
		if aerr := h.svc.Authorize(rq.ctx, rq.p, access, rq.b, ""); aerr != nil {
			return nil, h.deniedFor(rq, aerr)
		}
		return nil, err
	}
	if err := h.authorizeObject(rq, access, v); err != nil {
		return nil, h.deniedFor(rq, err)
	}
	return v, nil
}

func (h *Handler) putObjectACL(rq *request) error {
	v, err := h.aclTarget(rq, service.AccessWriteACP)
	if err != nil {
		return err
	}
	acl, grants, err := h.putACL(rq, "x-oss-object-acl", v.Owner)
	if err != nil {
		return err
	}
	in := service.ObjectACLInput{ACL: acl, Grants: grants, Header: rq.aclHeader("x-oss-object-acl")}
	v, err = h.svc.PutObjectACL(rq.ctx, rq.bucket, rq.key, rq.q.get("versionId"), in)
	return versionChanged(rq, http.StatusOK, v, err)
}

func (h *Handler) getObjectTagging(rq *request) error {
	v, err := h.svc.Head(rq.ctx, service.GetInput{Bucket: rq.bucket, Key: rq.key, VersionID: rq.q.get("versionId")})
	if err != nil {
		return err
	}
	setVersionID(rq, v.VersionID)
	return h.writeXML(rq, http.StatusOK, toTagXML(v.Tags))
}

func (h *Handler) putObjectTagging(rq *request) error {
	tags, err := h.readTags(rq, 10)
	if err != nil {
		return err
	}
	v, err := h.svc.PutObjectTagging(rq.ctx, rq.bucket, rq.key, rq.q.get("versionId"), tags, rq.s3)
	return versionChanged(rq, http.StatusOK, v, err)
}

func (h *Handler) deleteObjectTagging(rq *request) error {
	v, err := h.svc.DeleteObjectTagging(rq.ctx, rq.bucket, rq.key, rq.q.get("versionId"))
	return versionChanged(rq, http.StatusNoContent, v, err)
}

// versionChanged answers a change to a version's record (ACL, tags):
// status with the version's id, or the change's error.
func versionChanged(rq *request, status int, v *service.Version, err error) error {
	if err != nil {
		return err
	}
	setVersionID(rq, v.VersionID)
	return writeEmpty(rq, status)
}

func (h *Handler) putSymlink(rq *request) error {
	target, err := url.PathUnescape(rq.r.Header.Get("x-oss-symlink-target"))
	if err != nil || target == "" {
		return oss.ErrInvalidArgument.WithMessage("The symlink target is invalid.").With("ArgumentName", "x-oss-symlink-target")
	}
	tmpl, err := h.template(rq)
	if err != nil {
		return err
	}
	w, err := h.svc.PutSymlink(rq.ctx, rq.bucket, rq.key, tmpl, target, writeCondition(rq))
	if err != nil {
		return err
	}
	rq.w.Header().Set("ETag", rq.etag(w.Version.ETag))
	setVersionID(rq, w.Version.VersionID)
	return writeEmpty(rq, http.StatusOK)
}

func (h *Handler) getSymlink(rq *request) error {
	v, err := h.svc.Head(rq.ctx, service.GetInput{Bucket: rq.bucket, Key: rq.key, VersionID: rq.q.get("versionId")})
	if err != nil {
		return h.hideMissing(rq, rq.b, err)
	}
	if err := h.authorizeObject(rq, service.AccessRead, v); err != nil {
		return err
	}
	if v.Type != service.TypeSymlink {
		return oss.ErrNotSymlink.With("Key", rq.key)
	}
	hdr := rq.w.Header()
	hdr.Set("x-oss-symlink-target", url.PathEscape(v.Symlink))
	hdr.Set("ETag", rq.etag(v.ETag))
	hdr.Set("Last-Modified", v.Modified.UTC().Format(http.TimeFormat))
	setUserMeta(rq, hdr, v.UserMeta)
	setVersionID(rq, v.VersionID)
	return writeEmpty(rq, http.StatusOK)
}

func hexDecode(s string) ([]byte, error) {
	out := make([]byte, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		n, err := strconv.ParseUint(s[i:i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i/2] = byte(n)
	}
	return out, nil
}

// setVersionID reports a version id: always on a bucket that has (or had)
// versioning, where objects written before it show as "null"; never on a
// bucket that never had it, as OSS.
func setVersionID(rq *request, id string) {
	if id != "null" || (rq.b != nil && rq.b.Versioning != "") {
		rq.w.Header().Set("x-oss-version-id", id)
	}
}

// setUserMeta writes user metadata headers in lower case, as OSS and S3
// do: clients such as botocore keep the case they receive.
func setUserMeta(rq *request, hdr http.Header, meta map[string]string) {
	for k, val := range meta {
		if rq.s3 {
			k = "x-amz-meta-" + strings.TrimPrefix(k, "x-oss-meta-")
		}
		hdr[k] = []string{val}
	}
}
