package httpapi

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ossd/ossd/internal/oss"
)

func testHandler() *Handler {
	return New(Config{Region: "cn-hangzhou", Domains: []string{"localhost", "oss-cn-hangzhou.aliyuncs.com"}})
}

func TestResolveTarget(t *testing.T) {
	h := testHandler()
	for _, tc := range []struct {
		host, path string
		want       Target
	}{
		{"127.0.0.1:9800", "/", Target{}},
		{"127.0.0.1:9800", "/b1", Target{Bucket: "b1"}},
		{"127.0.0.1:9800", "/b1/", Target{Bucket: "b1"}},
		{"127.0.0.1:9800", "/b1/a/b/../c", Target{Bucket: "b1", Key: "a/b/../c"}},
		{"127.0.0.1:9800", "/b1//x", Target{Bucket: "b1", Key: "/x"}},
		{"127.0.0.1:9800", "//0", Target{Invalid: true}},
		{"b1.localhost:9800", "/", Target{Bucket: "b1", Virtual: true}},
		{"b1.localhost:9800", "/k/ey", Target{Bucket: "b1", Key: "k/ey", Virtual: true}},
		{"B1.OSS-cn-hangzhou.aliyuncs.com", "/k", Target{Bucket: "b1", Key: "k", Virtual: true}},
		{"localhost:9800", "/b1/k", Target{Bucket: "b1", Key: "k"}},
		{"example.com", "/b1/k", Target{Bucket: "b1", Key: "k"}},
	} {
		if got := h.ResolveTarget(tc.host, tc.path); got != tc.want {
			t.Errorf("ResolveTarget(%q, %q) = %+v, want %+v", tc.host, tc.path, got, tc.want)
		}
	}
}

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		hdr            string
		want           oss.Op
	}{
		{"GET", "/", "", oss.OpListBuckets},
		{"GET", "/?publicAccessBlock", "", oss.OpGetAccountPublicAccessBlock},
		{"PUT", "/?publicAccessBlock", "", oss.OpPutAccountPublicAccessBlock},
		{"DELETE", "/?publicAccessBlock", "", oss.OpDelAccountPublicAccessBlock},
		{"PUT", "/", "", oss.OpUnknown},
		{"GET", "/b", "", oss.OpListObjects},
		{"GET", "/b?list-type=2", "", oss.OpListObjectsV2},
		{"GET", "/b?versions", "", oss.OpListObjectVersions},
		{"GET", "/b?logging", "", oss.OpGetBucketLogging},
		{"PUT", "/b?logging", "", oss.OpPutBucketLogging},
		{"DELETE", "/b?logging", "", oss.OpDeleteBucketLogging},
		{"PUT", "/b?userDefinedLogFieldsConfig", "", oss.OpPutUserDefinedLogFieldsConfig},
		{"GET", "/b?cors", "", oss.OpGetBucketCors},
		{"PUT", "/b?cors", "", oss.OpPutBucketCors},
		{"DELETE", "/b?cors", "", oss.OpDeleteBucketCors},
		{"OPTIONS", "/b/k", "", oss.OpOptionObject},
		{"OPTIONS", "/b", "", oss.OpOptionObject},
		{"OPTIONS", "/", "", oss.OpUnknown},
		{"GET", "/b?website", "", oss.OpNotImplemented},
		{"GET", "/?regions", "", oss.OpDescribeRegions},
		{"GET", "/?regions=oss-cn-hangzhou", "", oss.OpDescribeRegions},
		{"GET", "/?regionList", "", oss.OpListBuckets},
		{"PUT", "/b?lifecycle", "", oss.OpPutBucketLifecycle},
		{"GET", "/b?lifecycle", "", oss.OpGetBucketLifecycle},
		{"DELETE", "/b?lifecycle", "", oss.OpDeleteBucketLifecycle},
		{"PUT", "/b/k?lifecycle", "", oss.OpNotImplemented},
		{"PUT", "/b?policy", "", oss.OpPutBucketPolicy},
		{"GET", "/b?policy", "", oss.OpGetBucketPolicy},
		{"DELETE", "/b?policy", "", oss.OpDeleteBucketPolicy},
		{"GET", "/b?policyStatus", "", oss.OpGetBucketPolicyStatus},
		{"GET", "/b/k?policy", "", oss.OpNotImplemented},
		{"POST", "/b?delete", "", oss.OpDeleteMultipleObjects},
		{"POST", "/b", "", oss.OpPostObject},
		{"GET", "/b/k?attributes", "", oss.OpGetObjectAttributes},
		{"GET", "/b/k?torrent", "", oss.OpNotImplemented},
		{"PUT", "/b", "", oss.OpPutBucket},
		{"DELETE", "/b", "", oss.OpDeleteBucket},
		{"GET", "/b/k", "", oss.OpGetObject},
		{"HEAD", "/b/k", "", oss.OpHeadObject},
		{"HEAD", "/b/k?objectMeta", "", oss.OpGetObjectMeta},
		{"PUT", "/b/k", "", oss.OpPutObject},
		{"PUT", "/b/k", "x-oss-copy-source", oss.OpCopyObject},
		{"PUT", "/b/k?uploadId=1&partNumber=2", "", oss.OpUploadPart},
		{"PUT", "/b/k?uploadId=1&partNumber=2", "x-oss-copy-source", oss.OpUploadPartCopy},
		{"POST", "/b/k?uploads", "", oss.OpInitiateMultipartUpload},
		{"POST", "/b/k?uploadId=1", "", oss.OpCompleteMultipartUpload},
		{"DELETE", "/b/k?uploadId=1", "", oss.OpAbortMultipartUpload},
		{"GET", "/b/k?uploadId=1", "", oss.OpListParts},
		{"POST", "/b/k?append&position=0", "", oss.OpAppendObject},
		{"PUT", "/b/k?symlink", "", oss.OpPutSymlink},
		{"GET", "/b/k?symlink", "", oss.OpGetSymlink},
		{"GET", "/b/k?x-oss-process=image/resize", "", oss.OpNotImplemented},
		{"POST", "/b/k?restore", "", oss.OpNotImplemented},
		{"PATCH", "/b/k", "", oss.OpUnknown},
		// LiveChannel: bucket-level listing, channel-level management; a
		// bucket-level ?live or ?vod other than the listing is refused rather
		// than taken for PutBucket or DeleteBucket.
		{"GET", "/b?live", "", oss.OpListLiveChannel},
		{"GET", "/b?live&prefix=p&max-keys=5", "", oss.OpListLiveChannel},
		{"PUT", "/b?live", "", oss.OpUnknown},
		{"DELETE", "/b?live", "", oss.OpUnknown},
		{"GET", "/b?vod", "", oss.OpUnknown},
		{"PUT", "/b/ch?live", "", oss.OpPutLiveChannel},
		{"PUT", "/b/ch?live&status=disabled", "", oss.OpPutLiveChannelStatus},
		{"GET", "/b/ch?live", "", oss.OpGetLiveChannelInfo},
		{"GET", "/b/ch?live&comp=stat", "", oss.OpGetLiveChannelStat},
		{"GET", "/b/ch?live&comp=history", "", oss.OpGetLiveChannelHistory},
		{"DELETE", "/b/ch?live", "", oss.OpDeleteLiveChannel},
		{"HEAD", "/b/ch?live", "", oss.OpUnknown},
		{"POST", "/b/ch/v.m3u8?vod&startTime=1&endTime=2", "", oss.OpPostVodPlaylist},
		{"GET", "/b/ch?vod&startTime=1&endTime=2", "", oss.OpGetVodPlaylist},
		{"PUT", "/b/ch?vod", "", oss.OpUnknown},
	} {
		u, _ := url.Parse(tc.target)
		q, _ := url.ParseQuery(u.RawQuery)
		hdr := http.Header{}
		if tc.hdr != "" {
			hdr.Set(tc.hdr, "/src/key")
		}
		tg := testHandler().ResolveTarget("127.0.0.1", u.Path)
		if got := Route(tc.method, tg.Bucket != "", tg.Key != "", query(q), hdr); got != tc.want {
			t.Errorf("%s %s = %s, want %s", tc.method, tc.target, got, tc.want)
		}
	}
}

// FuzzRouter checks the router's properties on arbitrary hosts, paths and
// queries: it never panics; the bucket never contains '/'; path-style
// bucket+key reassemble the path; an operation is always one of the known
// names; a key never resolves without a bucket. Then on the wire (see
// checkParse): the same host, path and query as net/http's server reads
// them either fail with a 4xx OSS error or name a valid bucket and key,
// and that bucket and key, encoded the way the SDKs encode them, path
// style and virtual-hosted, resolve back to themselves.
func FuzzRouter(f *testing.F) {
	for _, s := range [][3]string{
		{"127.0.0.1:9800", "/b/k", "acl"}, {"b.localhost", "/", "logging"}, {"x", "//", "uploads&uploadId=1"},
		{"a.b.localhost:1", "/../../etc/passwd", ""}, {"", "/b/\x00", "list-type=2"}, {"b.oss-cn-hangzhou.aliyuncs.com.", "/k?", "%zz"},
	} {
		f.Add(s[0], s[1], s[2], "GET")
	}
	h := testHandler()
	known := map[oss.Op]bool{oss.OpUnknown: true, oss.OpNotImplemented: true, oss.OpListBuckets: true, oss.OpDescribeRegions: true}
	for _, op := range accountOps {
		known[op] = true
	}
	for op := range handlers {
		known[op] = true
	}
	f.Fuzz(func(t *testing.T, host, path, rawQuery, method string) {
		tg := h.ResolveTarget(host, path)
		if strings.Contains(tg.Bucket, "/") {
			t.Fatalf("bucket %q contains '/'", tg.Bucket)
		}
		if tg.Invalid && (tg.Bucket != "" || tg.Key != "") {
			t.Fatalf("invalid target carries %+v", tg)
		}
		if tg.Key != "" && tg.Bucket == "" {
			t.Fatalf("key %q without bucket", tg.Key)
		}
		if !tg.Virtual && !tg.Invalid && tg.Bucket != "" {
			p := "/" + strings.TrimPrefix(path, "/")
			ok := p == "/"+tg.Bucket+"/"+tg.Key || (tg.Key == "" && p == "/"+tg.Bucket)
			if !ok {
				t.Fatalf("path %q resolved to %+v", path, tg)
			}
		}
		q, _ := url.ParseQuery(rawQuery)
		op := Route(method, tg.Bucket != "", tg.Key != "", query(q), http.Header{})
		if !known[op] {
			t.Fatalf("unknown op %q", op)
		}
		if err := oss.CheckKey(tg.Key); err == nil && !utf8.ValidString(tg.Key) {
			t.Fatalf("invalid UTF-8 key accepted: %q", tg.Key)
		}
		target := path
		if rawQuery != "" {
			target += "?" + rawQuery
		}
		rq, err := wireParse(h, method, host, target)
		if rq == nil {
			return // net/http refuses the request line itself
		}
		checkParse(t, h, rq, err, known)
	})
}

// wireParse reads a request as net/http's server does and runs the
// router on it. rq is nil when net/http refuses the request.
func wireParse(h *Handler, method, host, target string) (*request, error) {
	for i := 0; i < len(host); i++ {
		if host[i] <= ' ' || host[i] >= 0x7f {
			return nil, nil // net/http's server refuses such a Host
		}
	}
	raw := method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return nil, nil
	}
	rq := &request{r: r}
	return rq, h.parse(rq)
}

// checkParse: a request the router refuses gets a 4xx OSS error; one it
// accepts names a valid bucket (or none) and a valid key (or none), and
// the bucket and key, percent-encoded as the SDKs encode them, route back
// to themselves in both addressing styles.
func checkParse(t *testing.T, h *Handler, rq *request, err error, known map[oss.Op]bool) {
	t.Helper()
	r := rq.r
	if err != nil {
		var e *oss.Error
		if !errors.As(err, &e) || e.Code == "" || e.Status < 400 || e.Status > 499 {
			t.Fatalf("%s %s (host %q): error %#v, want a 4xx *oss.Error", r.Method, r.RequestURI, r.Host, err)
		}
		return
	}
	if !known[rq.op] || rq.op == oss.OpUnknown {
		t.Fatalf("%s %s: accepted with op %q", r.Method, r.RequestURI, rq.op)
	}
	if rq.bucket == "" {
		if rq.key != "" || (rq.op != oss.OpListBuckets && rq.op != oss.OpNotImplemented && accountOps[r.Method] != rq.op) {
			t.Fatalf("%s %s: no bucket, key %q, op %s", r.Method, r.RequestURI, rq.key, rq.op)
		}
		return
	}
	if !oss.ValidBucketName(rq.bucket) {
		t.Fatalf("%s %s: invalid bucket %q accepted", r.Method, r.RequestURI, rq.bucket)
	}
	if rq.key != "" {
		if oss.CheckKey(rq.key) != nil || strings.IndexByte(rq.key, 0) >= 0 || !utf8.ValidString(rq.key) {
			t.Fatalf("%s %s: invalid key %q accepted", r.Method, r.RequestURI, rq.key)
		}
	}
	for _, form := range []struct{ host, target string }{
		{"127.0.0.1:9800", "/" + rq.bucket + "/" + sdkEscape(rq.key)},
		{rq.bucket + ".oss-cn-hangzhou.aliyuncs.com", "/" + sdkEscape(rq.key)},
	} {
		back, err := wireParse(h, r.Method, form.host, form.target)
		if back == nil || err != nil || back.bucket != rq.bucket || back.key != rq.key {
			var b, k string
			if back != nil {
				b, k = back.bucket, back.key
			}
			t.Fatalf("%s %s -> bucket %q key %q; re-encoded as %s%s it routes to %q %q (%v)",
				r.Method, r.RequestURI, rq.bucket, rq.key, form.host, form.target, b, k, err)
		}
	}
}

// sdkEscape percent-encodes a key for a URL path as the OSS SDKs do:
// every byte but the unreserved ones and '/'.
func sdkEscape(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
