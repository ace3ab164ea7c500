package e2e

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/ossdtest"
)

// Behaviours of OSS that Python oss2 relies on, checked on the wire (the
// oss2 suite itself runs in TestClientOSS2).

func contentMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func newRawBucket(t *testing.T, srv *ossdtest.Server, prefix string) string {
	t.Helper()
	b := randName(prefix)
	if r := rawDo(t, srv, "PUT", b, "", "", nil, nil); r.status != 200 {
		t.Fatalf("PutBucket: %d %s", r.status, r.body)
	}
	return b
}

// TestMultiDeleteControlCharacter: oss2 writes a key's form feed into the
// DeleteMultipleObjects body as the raw byte (ElementTree does not escape
// it), which XML 1.0 forbids and OSS accepts.
func TestMultiDeleteControlCharacter(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "ctl")
	key := "文件\x0c-1.txt"
	if r := rawDo(t, srv, "PUT", b, key, "", strings.NewReader("x"), nil); r.status != 200 {
		t.Fatalf("PutObject: %d %s", r.status, r.body)
	}
	for _, form := range []string{key, strings.ReplaceAll(key, "\x0c", "&#12;"), strings.ReplaceAll(key, "\x0c", "&#x0C;")} {
		body := "<?xml version='1.0' encoding='utf-8'?>\n<Delete><Quiet>false</Quiet><Object><Key>" + form + "</Key></Object></Delete>"
		r := rawDo(t, srv, "POST", b, "", "delete&encoding-type=url", strings.NewReader(body), map[string]string{"Content-MD5": contentMD5(body)})
		if r.status != 200 || !strings.Contains(r.body, "<Key>%E6%96%87%E4%BB%B6%0C-1.txt</Key>") {
			t.Fatalf("DeleteMultipleObjects with %q: %d %s", form, r.status, r.body)
		}
		if g := rawDo(t, srv, "GET", b, key, "", nil, nil); g.status != 404 {
			t.Fatalf("key still there after delete: %d", g.status)
		}
		rawDo(t, srv, "PUT", b, key, "", strings.NewReader("x"), nil)
	}
}

// TestObjectTagsRefused: invalid object tags are refused with InvalidTag,
// in the Tagging body and in the x-oss-tagging header, and change nothing.
func TestObjectTagsRefused(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "tags")
	rawDo(t, srv, "PUT", b, "k", "", strings.NewReader("x"), nil)
	doc := func(k, v string) string {
		return "<Tagging><TagSet><Tag><Key>" + k + "</Key><Value>" + v + "</Value></Tag></TagSet></Tagging>"
	}
	for _, tc := range []struct{ name, key, value, ec string }{
		{"key too long", strings.Repeat("a", 129), "v", "0010-00000209"},
		{"key with %@", "%@abc", "v", "0010-00000212"},
		{"empty key", "", "v", "0010-00000212"},
		{"value too long", "k", strings.Repeat("a", 257), "0010-00000217"},
		{"value with %", "k", "%abc", "0010-00000217"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawDo(t, srv, "PUT", b, "k", "tagging", strings.NewReader(doc(tc.key, tc.value)), nil)
			wantXMLError(t, r, 400, "InvalidTag")
			if r.hdr.Get("x-oss-ec") != tc.ec {
				t.Errorf("EC %s, want %s", r.hdr.Get("x-oss-ec"), tc.ec)
			}
			hdr := map[string]string{"x-oss-tagging": escapeSeg(tc.key) + "=" + escapeSeg(tc.value)}
			if tc.key != "" {
				wantXMLError(t, rawDo(t, srv, "PUT", b, "h", "", strings.NewReader("x"), hdr), 400, "InvalidTag")
			}
			if g := rawDo(t, srv, "GET", b, "k", "tagging", nil, nil); !strings.Contains(g.body, "<TagSet></TagSet>") {
				t.Errorf("tags after a refused put: %s", g.body)
			}
		})
	}
	// The header form (oss2's test_init_multipart_with_object_tagging_*):
	// a value without a key and a key given twice are refused; an empty
	// value and letters of any script are not.
	for _, tc := range []struct {
		header string
		status int
	}{
		{"=a&b=a", 400},
		{"a=b&a=b&a=b", 400},
		{"a=&b=c", 200},
		{"%2B%3A/=.-&%20%2B%20=%E4%B8%AD%E6%96%87", 200},
	} {
		r := rawDo(t, srv, "POST", b, "mp", "uploads", nil, map[string]string{"x-oss-tagging": tc.header})
		if r.status != tc.status || tc.status == 400 && !strings.Contains(r.body, "<Code>InvalidTag</Code>") {
			t.Errorf("InitiateMultipartUpload with x-oss-tagging %q: %d %s, want %d", tc.header, r.status, r.body, tc.status)
		}
	}
	// AppendObject reads x-oss-tagging on the append that creates the
	// object only, and ignores it, even when invalid, on later ones.
	many := "k1=v&k2=v&k3=v&k4=v&k5=v&k6=v&k7=v&k8=v&k9=v&k10=v&k11=v&k12=v"
	if r := rawDo(t, srv, "POST", b, "app", "append&position=0", strings.NewReader("12"), map[string]string{"x-oss-tagging": many}); r.status != 400 {
		t.Errorf("first append with 12 tags: %d %s", r.status, r.body)
	}
	if r := rawDo(t, srv, "POST", b, "app", "append&position=0", strings.NewReader("12"), map[string]string{"x-oss-tagging": "a=1"}); r.status != 200 {
		t.Fatalf("first append: %d %s", r.status, r.body)
	}
	if r := rawDo(t, srv, "POST", b, "app", "append&position=2", strings.NewReader("34"), map[string]string{"x-oss-tagging": many}); r.status != 200 {
		t.Errorf("later append with 12 tags: %d %s", r.status, r.body)
	}
	if g := rawDo(t, srv, "GET", b, "app", "tagging", nil, nil); !strings.Contains(g.body, "<Key>a</Key>") || strings.Contains(g.body, "k1") {
		t.Errorf("tags after appends: %s", g.body)
	}
	ok := doc(strings.Repeat("a", 128), strings.Repeat("b", 256))
	if r := rawDo(t, srv, "PUT", b, "k", "tagging", strings.NewReader(ok), nil); r.status != 200 {
		t.Fatalf("longest valid tag refused: %d %s", r.status, r.body)
	}
	// S3 names the same failure the same way, with S3's wider alphabet.
	if r := rawDoSigned(t, srv, "PUT", b, "k", "tagging", strings.NewReader(doc("a%b", "v")), nil, s3Signer(t, srv)); r.status != 400 || !strings.Contains(r.body, "<Code>InvalidTag</Code>") {
		t.Fatalf("S3 PutObjectTagging a%%b: %d %s", r.status, r.body)
	}
	if r := rawDoSigned(t, srv, "PUT", b, "k", "tagging", strings.NewReader(doc("a@b", "v")), nil, s3Signer(t, srv)); r.status != 200 {
		t.Fatalf("S3 PutObjectTagging a@b: %d %s", r.status, r.body)
	}
}

// TestResultETagHeader: CopyObject, UploadPartCopy and
// CompleteMultipartUpload carry their result's ETag in the ETag header too
// in OSS's dialect (oss2 reads it there), and in the body only in S3's.
func TestResultETagHeader(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "etag")
	rawDo(t, srv, "PUT", b, "src", "", strings.NewReader(strings.Repeat("s", 1000)), nil)
	bodyETag := regexp.MustCompile(`<ETag>([^<]+)</ETag>`)
	check := func(name string, r rawResp, s3 bool) {
		t.Helper()
		m := bodyETag.FindStringSubmatch(r.body)
		if r.status != 200 || m == nil {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
		got := r.hdr.Get("ETag")
		if s3 && got != "" || !s3 && got != strings.ReplaceAll(m[1], "&#34;", `"`) {
			t.Fatalf("%s (s3 %v): ETag header %q, body %s", name, s3, got, m[1])
		}
	}
	for _, s3 := range []bool{false, true} {
		do := func(method, key, query, body string, hdr map[string]string) rawResp {
			if s3 {
				return rawDoSigned(t, srv, method, b, key, query, strings.NewReader(body), hdr, s3Signer(t, srv))
			}
			return rawDo(t, srv, method, b, key, query, strings.NewReader(body), hdr)
		}
		src := map[string]string{"x-oss-copy-source": "/" + b + "/src"}
		if s3 {
			src = map[string]string{"x-amz-copy-source": "/" + b + "/src"}
		}
		check("CopyObject", do("PUT", "dst", "", "", src), s3)
		id := initiate(t, srv, b, "mp")
		check("UploadPartCopy", do("PUT", "mp", "partNumber=1&uploadId="+id, "", src), s3)
		part := rawDo(t, srv, "GET", b, "mp", "uploadId="+id, nil, nil)
		etag := bodyETag.FindStringSubmatch(part.body)[1]
		complete := "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + etag + "</ETag></Part></CompleteMultipartUpload>"
		check("CompleteMultipartUpload", do("POST", "mp", "uploadId="+id, complete, nil), s3)
	}
}

// TestDescribeRegions: DescribeRegions (GET /?regions) describes the one
// region the server is, through the v2 SDK too; ListBuckets with
// regionList (oss2's sample for the buckets of one region) lists them.
func TestDescribeRegions(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "region")
	c := v2Client(srv, modes[0])
	res, err := c.DescribeRegions(context.Background(), &oss.DescribeRegionsRequest{})
	if err != nil || len(res.RegionInfoList.RegionInfos) != 1 {
		t.Fatalf("DescribeRegions: %+v, %v", res, err)
	}
	ri := res.RegionInfoList.RegionInfos[0]
	if oss.ToString(ri.Region) != "oss-"+srv.Region || oss.ToString(ri.InternetEndpoint) != "oss-"+srv.Region+".aliyuncs.com" ||
		oss.ToString(ri.InternalEndpoint) != "oss-"+srv.Region+"-internal.aliyuncs.com" {
		t.Fatalf("DescribeRegions: %+v", ri)
	}
	if r := rawDo(t, srv, "GET", "", "", "regions=oss-"+srv.Region, nil, nil); r.status != 200 || !strings.Contains(r.body, "<Region>oss-"+srv.Region+"</Region>") {
		t.Fatalf("DescribeRegions of the server's region: %d %s", r.status, r.body)
	}
	wantXMLError(t, rawDo(t, srv, "GET", "", "", "regions=oss-nowhere-1", nil, nil), 404, "NoSuchRegion")
	r := rawDo(t, srv, "GET", "", "", "regionList", nil, nil)
	if r.status != 200 || !strings.Contains(r.body, "<Name>"+b+"</Name>") || !strings.Contains(r.body, "<Region>"+srv.Region+"</Region>") {
		t.Fatalf("ListBuckets?regionList: %d %s", r.status, r.body)
	}
}

// TestNoContentTypeGuess: an upload without Content-Type is stored as
// application/octet-stream, whatever the key's extension; the SDKs guess a
// type before sending, the server does not (oss2's
// test_put_object_with_sign_url, against OSS).
func TestNoContentTypeGuess(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "ctype")
	rawDo(t, srv, "PUT", b, "photo.jpg", "", strings.NewReader("jpeg"), nil)
	if r := rawDo(t, srv, "HEAD", b, "photo.jpg", "", nil, nil); r.hdr.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("PutObject photo.jpg without Content-Type: stored %q", r.hdr.Get("Content-Type"))
	}
	id := initiate(t, srv, b, "movie.mp4")
	rawDo(t, srv, "PUT", b, "movie.mp4", "partNumber=1&uploadId="+id, strings.NewReader("mp4"), nil)
	rawDo(t, srv, "POST", b, "movie.mp4", "uploadId="+id, nil, map[string]string{"x-oss-complete-all": "yes"})
	if r := rawDo(t, srv, "HEAD", b, "movie.mp4", "", nil, nil); r.status != 200 || r.hdr.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("multipart movie.mp4 without Content-Type: %d stored %q", r.status, r.hdr.Get("Content-Type"))
	}
	rawDo(t, srv, "PUT", b, "typed.jpg", "", strings.NewReader("jpeg"), map[string]string{"Content-Type": "image/jpeg"})
	if r := rawDo(t, srv, "HEAD", b, "typed.jpg", "", nil, nil); r.hdr.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("PutObject with Content-Type image/jpeg: stored %q", r.hdr.Get("Content-Type"))
	}
}

// TestListArgumentLimits: OSS refuses a listing prefix, delimiter or
// marker longer than 1024 bytes and max-keys over 1000 (oss2's
// test_list_object_versions_wrong); S3 caps max-keys.
func TestListArgumentLimits(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "listargs")
	for _, list := range []string{"", "list-type=2&", "versions&"} {
		for _, arg := range []string{"prefix", "delimiter", "marker", "key-marker", "version-id-marker", "start-after"} {
			wantXMLError(t, rawDo(t, srv, "GET", b, "", list+arg+"="+strings.Repeat("a", 1025), nil, nil), 400, "InvalidArgument")
			if r := rawDo(t, srv, "GET", b, "", list+arg+"="+strings.Repeat("a", 1024), nil, nil); r.status != 200 {
				t.Fatalf("GET ?%s%s of 1024 bytes: %d %s", list, arg, r.status, r.body)
			}
		}
		wantXMLError(t, rawDo(t, srv, "GET", b, "", list+"max-keys=1001", nil, nil), 400, "InvalidArgument")
		if r := rawDo(t, srv, "GET", b, "", list+"max-keys=1000", nil, nil); r.status != 200 {
			t.Fatalf("GET ?%smax-keys=1000: %d %s", list, r.status, r.body)
		}
	}
	// S3 caps max-keys instead.
	if r := rawDoSigned(t, srv, "GET", b, "", "max-keys=1001", nil, nil, s3Signer(t, srv)); r.status != 200 || !strings.Contains(r.body, "<MaxKeys>1000</MaxKeys>") {
		t.Fatalf("S3 ListObjects max-keys=1001: %d %s", r.status, r.body)
	}
}

// TestCopySourceEmptyVersionID: "?versionId=" in the copy source names no
// version and is refused; nothing is written (oss2's
// test_copy_object_with_version).
func TestCopySourceEmptyVersionID(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "cpver")
	rawDo(t, srv, "PUT", b, "src", "", strings.NewReader("x"), nil)
	wantXMLError(t, rawDo(t, srv, "PUT", b, "dst", "", nil, map[string]string{"x-oss-copy-source": "/" + b + "/src?versionId="}), 400, "InvalidArgument")
	if r := rawDo(t, srv, "HEAD", b, "dst", "", nil, nil); r.status != 404 {
		t.Fatalf("refused copy wrote dst: %d", r.status)
	}
	if r := rawDo(t, srv, "PUT", b, "dst", "", nil, map[string]string{"x-oss-copy-source": "/" + b + "/src?versionId=null"}); r.status != 200 {
		t.Fatalf("copy of version null: %d %s", r.status, r.body)
	}
}

// TestListBucketsByResourceGroup: x-oss-resource-group-id on ListBuckets
// keeps that group's buckets, each naming it (oss2's
// test_bucket_with_group_id compares it with GetBucketInfo's).
func TestListBucketsByResourceGroup(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "rgdefault")
	other := randName("rgother")
	if r := rawDo(t, srv, "PUT", other, "", "", nil, map[string]string{"x-oss-resource-group-id": "rg-aek2"}); r.status != 200 {
		t.Fatalf("PutBucket in rg-aek2: %d %s", r.status, r.body)
	}
	r := rawDo(t, srv, "GET", "", "", "", nil, map[string]string{"x-oss-resource-group-id": "rg-default"})
	if !strings.Contains(r.body, "<Name>"+b+"</Name>") || strings.Contains(r.body, other) || !strings.Contains(r.body, "<ResourceGroupId>rg-default</ResourceGroupId>") {
		t.Fatalf("ListBuckets of rg-default: %s", r.body)
	}
	r = rawDo(t, srv, "GET", "", "", "", nil, map[string]string{"x-oss-resource-group-id": "rg-aek2"})
	if strings.Contains(r.body, "<Name>"+b+"</Name>") || !strings.Contains(r.body, "<Name>"+other+"</Name>") {
		t.Fatalf("ListBuckets of rg-aek2: %s", r.body)
	}
}

// TestCORSInvalidArgumentNamed: a negative MaxAgeSeconds is refused naming
// the argument (oss2's test_invalid_argument reads ArgumentName/Value).
func TestCORSInvalidArgumentNamed(t *testing.T) {
	srv := ossdtest.Start(t)
	b := newRawBucket(t, srv, "corsarg")
	body := "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>"
	r := rawDo(t, srv, "PUT", b, "", "cors", strings.NewReader(body), nil)
	wantXMLError(t, r, 400, "InvalidArgument")
	if !strings.Contains(r.body, "<ArgumentName>MaxAgeSeconds</ArgumentName>") || !strings.Contains(r.body, "<ArgumentValue>-1</ArgumentValue>") {
		t.Fatalf("PutBucketCors MaxAgeSeconds -1: %s", r.body)
	}
}
