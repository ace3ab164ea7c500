package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/ossdtest"
)

type rawResp struct {
	status int
	hdr    http.Header
	body   string
}

func rawDo(t *testing.T, srv *ossdtest.Server, method, bucket, key, query string, body io.Reader, hdr map[string]string) rawResp {
	t.Helper()
	return rawDoSigned(t, srv, method, bucket, key, query, body, hdr, func(req *http.Request) {
		auth.SignV1(req, bucket, key, srv.AccessKeyID, srv.AccessKeySecret, time.Now())
	})
}

// rawDoSigned sends a hand-built path-style request signed by sign.
func rawDoSigned(t *testing.T, srv *ossdtest.Server, method, bucket, key, query string, body io.Reader, hdr map[string]string, sign func(*http.Request)) rawResp {
	t.Helper()
	u := srv.Endpoint + "/" + bucket
	if bucket != "" {
		u += "/" + (&urlPath{key}).String()
	}
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sign(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResp{resp.StatusCode, resp.Header, string(b)}
}

// initiate starts a multipart upload of key and returns its id.
func initiate(t *testing.T, srv *ossdtest.Server, bucket, key string) string {
	t.Helper()
	r := rawDo(t, srv, "POST", bucket, key, "uploads", nil, nil)
	var res struct {
		UploadID string `xml:"UploadId"`
	}
	xmlUnmarshal(t, []byte(r.body), &res)
	if r.status != 200 || res.UploadID == "" {
		t.Fatalf("InitiateMultipartUpload: %d %s", r.status, r.body)
	}
	return res.UploadID
}

type urlPath struct{ p string }

func (u *urlPath) String() string {
	var b strings.Builder
	for _, seg := range strings.Split(u.p, "/") {
		if b.Len() > 0 || strings.HasPrefix(u.p, "/") {
			b.WriteByte('/')
		}
		b.WriteString(escapeSeg(seg))
	}
	return strings.TrimPrefix(b.String(), "/")
}

func escapeSeg(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func wantXMLError(t *testing.T, r rawResp, status int, code string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.body, "<Code>"+code+"</Code>") || r.hdr.Get("x-oss-request-id") == "" || r.hdr.Get("x-oss-ec") == "" {
		t.Fatalf("got %d %s, want %d %s", r.status, r.body, status, code)
	}
}

func TestBadInput(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	b := newBucket(t, c)

	t.Run("dot-dot keys are literal", func(t *testing.T) {
		for _, key := range []string{"../../etc/passwd", "a/../../b", "./x", "..", "a//b"} {
			r := rawDo(t, srv, "PUT", b, key, "", strings.NewReader("literal "+key), nil)
			if r.status != 200 {
				t.Fatalf("PUT %q = %d %s", key, r.status, r.body)
			}
			g := rawDo(t, srv, "GET", b, key, "", nil, nil)
			if g.status != 200 || g.body != "literal "+key {
				t.Fatalf("GET %q = %d %q", key, g.status, g.body)
			}
		}
		// Nothing was written outside the data directory.
		if _, err := os.Stat(filepath.Join(srv.DataDir, "..", "etc")); err == nil {
			t.Fatal("a key escaped the data directory")
		}
	})
	t.Run("NUL in key", func(t *testing.T) {
		wantXMLError(t, rawDo(t, srv, "PUT", b, "a\x00b", "", strings.NewReader("x"), nil), 400, "InvalidObjectName")
	})
	t.Run("key too long", func(t *testing.T) {
		wantXMLError(t, rawDo(t, srv, "PUT", b, strings.Repeat("k", 1024), "", strings.NewReader("x"), nil), 400, "InvalidObjectName")
		if r := rawDo(t, srv, "PUT", b, strings.Repeat("k", 1023), "", strings.NewReader("x"), nil); r.status != 200 {
			t.Fatalf("1023-byte key: %d %s", r.status, r.body)
		}
	})
	t.Run("invalid UTF-8 key", func(t *testing.T) {
		wantXMLError(t, rawDo(t, srv, "PUT", b, "bad\xffkey", "", strings.NewReader("x"), nil), 400, "InvalidObjectName")
	})
	t.Run("oversized XML", func(t *testing.T) {
		big := "<Tagging><TagSet>" + strings.Repeat("<Tag><Key>k</Key><Value>v</Value></Tag>", 60000) + "</TagSet></Tagging>"
		r := rawDo(t, srv, "PUT", b, "", "tagging", strings.NewReader(big), nil)
		if r.status != 400 || r.hdr.Get("x-oss-request-id") == "" {
			t.Fatalf("oversized XML: %d %.200s", r.status, r.body)
		}
	})
	t.Run("malformed XML", func(t *testing.T) {
		wantXMLError(t, rawDo(t, srv, "PUT", b, "", "tagging", strings.NewReader("<Tagging><TagSet>"), nil), 400, "MalformedXML")
		wantXMLError(t, rawDo(t, srv, "POST", b, "", "delete", strings.NewReader("<Delete></Delete>"), nil), 400, "MalformedXML")
	})
	t.Run("bad Content-MD5", func(t *testing.T) {
		wantXMLError(t, rawDo(t, srv, "PUT", b, "md5", "", strings.NewReader("abc"), map[string]string{"Content-MD5": "not base64!"}), 400, "InvalidDigest")
		other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 16))
		// A body that does not match its Content-MD5: OSS names it
		// InvalidDigest (oss2's test_upload_part_content_md5_bad expects it),
		// S3 BadDigest; PutObject and UploadPart alike.
		for _, c := range []struct {
			dialect, code, ec string
			sign              func(*http.Request)
		}{
			{"oss", "InvalidDigest", "0017-00000503", func(req *http.Request) {
				auth.SignV1(req, b, strings.TrimPrefix(req.URL.Path, "/"+b+"/"), srv.AccessKeyID, srv.AccessKeySecret, time.Now())
			}},
			{"s3", "BadDigest", "", s3Signer(t, srv)},
		} {
			for _, query := range []string{"", "partNumber=1&uploadId=" + initiate(t, srv, b, "md5")} {
				r := rawDoSigned(t, srv, "PUT", b, "md5", query, strings.NewReader("abc"), map[string]string{"Content-MD5": other}, c.sign)
				if r.status != 400 || !strings.Contains(r.body, "<Code>"+c.code+"</Code>") || r.hdr.Get("x-oss-ec") != c.ec && c.ec != "" {
					t.Fatalf("%s PUT ?%s with a wrong Content-MD5: %d %s %s, want %s %s", c.dialect, query, r.status, r.hdr.Get("x-oss-ec"), r.body, c.code, c.ec)
				}
			}
		}
		if g := rawDo(t, srv, "GET", b, "md5", "", nil, nil); g.status != 404 {
			t.Fatalf("object with bad digest is visible: %d", g.status)
		}
	})
	t.Run("bad CRC64", func(t *testing.T) {
		wantXMLError(t, rawDo(t, srv, "PUT", b, "crc", "", strings.NewReader("abc"), map[string]string{"x-oss-hash-crc64ecma": "12345"}), 400, "InvalidDigest")
	})
	t.Run("not implemented", func(t *testing.T) {
		// OSS publishes no EC for NotImplemented; 0016-00000901 is Block
		// Public Access's "Put public object acl is not allowed".
		for _, r := range []rawResp{
			rawDo(t, srv, "GET", b, "", "referer", nil, nil), rawDo(t, srv, "GET", b, "", "website", nil, nil),
			rawDo(t, srv, "GET", b, "", "inventory", nil, nil), rawDo(t, srv, "GET", b, "", "replication", nil, nil),
			rawDo(t, srv, "GET", b, "", "encryption", nil, nil), rawDo(t, srv, "POST", b, "obj", "restore", nil, nil),
		} {
			if r.status != 501 || !strings.Contains(r.body, "<Code>NotImplemented</Code>") || r.hdr.Get("x-oss-request-id") == "" {
				t.Fatalf("got %d %s, want 501 NotImplemented", r.status, r.body)
			}
			if _, ok := r.hdr["X-Oss-Ec"]; ok || strings.Contains(r.body, "<EC>") || strings.Contains(r.body, "RecommendDoc") {
				t.Errorf("NotImplemented carries an EC: x-oss-ec %q, body %s", r.hdr.Get("x-oss-ec"), r.body)
			}
		}
	})
	t.Run("method not allowed", func(t *testing.T) {
		wantXMLError(t, rawDo(t, srv, "PATCH", b, "obj", "", nil, nil), 405, "MethodNotAllowed")
	})
	t.Run("invalid bucket name", func(t *testing.T) {
		wantXMLError(t, rawDo(t, srv, "GET", "Bad_Name", "", "", nil, nil), 400, "InvalidBucketName")
	})
	t.Run("invalid range values", func(t *testing.T) {
		c.PutObject(context.Background(), &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("r"), Body: strings.NewReader("0123456789")})
		wantXMLError(t, rawDo(t, srv, "GET", b, "r", "", nil, map[string]string{"Range": "bytes=10-", "x-oss-range-behavior": "standard"}), 416, "InvalidRange")
		if r := rawDo(t, srv, "GET", b, "r", "", nil, map[string]string{"Range": "bytes=5-2"}); r.status != 200 || r.body != "0123456789" {
			t.Fatalf("reversed range = %d %q, want the whole object", r.status, r.body)
		}
	})
	t.Run("truncated body", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("PUT", srv.Endpoint+"/"+b+"/cut", strings.NewReader(strings.Repeat("x", 10)))
		req.ContentLength = 1000
		auth.SignV1(req, b, "cut", srv.AccessKeyID, srv.AccessKeySecret, time.Now())
		var buf bytes.Buffer
		req.Write(&buf)
		raw := buf.Bytes()
		conn.Write(raw[:len(raw)-0]) // headers and 10 of 1000 bytes
		conn.(*net.TCPConn).CloseWrite()
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Fatalf("truncated upload acknowledged")
			}
		}
		conn.Close()
		if g := rawDo(t, srv, "GET", b, "cut", "", nil, nil); g.status != 404 {
			t.Fatalf("truncated upload visible: %d", g.status)
		}
	})
	t.Run("huge header", func(t *testing.T) {
		r := rawDo(t, srv, "GET", b, "r", "", nil, map[string]string{"X-Big": strings.Repeat("a", 2<<20)})
		if r.status != 431 && r.status != 400 {
			t.Fatalf("2 MiB header: status %d", r.status)
		}
	})
}

func TestLimits(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	b := newBucket(t, c)
	// A declared size over 5 GiB is refused before any byte is read.
	req, _ := http.NewRequest("PUT", srv.Endpoint+"/"+b+"/huge", strings.NewReader(""))
	req.ContentLength = 5<<30 + 1
	req.Body = io.NopCloser(strings.NewReader("x"))
	auth.SignV1(req, b, "huge", srv.AccessKeyID, srv.AccessKeySecret, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "EntityTooLarge") {
			t.Errorf("5 GiB + 1 PUT = %d %s", resp.StatusCode, body)
		}
	}
	init, err := c.InitiateMultipartUpload(context.Background(), &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("mp")})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"0", "10001", "x"} {
		r := rawDo(t, srv, "PUT", b, "mp", "partNumber="+n+"&uploadId="+oss.ToString(init.UploadId), strings.NewReader("p"), nil)
		wantXMLError(t, r, 400, "InvalidArgument")
	}
	if r := rawDo(t, srv, "PUT", b, "mp", "partNumber=10000&uploadId="+oss.ToString(init.UploadId), strings.NewReader("p"), nil); r.status != 200 {
		t.Errorf("part 10000: %d %s", r.status, r.body)
	}
}

// TestConcurrentWritersOneKey: many writers race on one key while readers
// read it and copiers copy it; every read and every copy sees one writer's
// whole object, and the survivor is one of them. Copies go through a
// client that does not retry, so an overwrite removing the source's blob
// under a copy must be absorbed by ossd, not by the SDK's retries of a 500.
func TestConcurrentWritersOneKey(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	b := newBucket(t, c)
	ctx := context.Background()
	body := func(w int) []byte { return bytes.Repeat([]byte{byte('a' + w)}, 100<<10+w) }
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("hot"), Body: bytes.NewReader(body(w))}); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	stop := make(chan struct{})
	var rg sync.WaitGroup
	// whole reads key and reports whether it is one writer's whole object
	// (false after reporting why).
	whole := func(key string) bool {
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key)})
		if err != nil {
			// An overwrite that lands between the read's lookup and its
			// opening the blob must not fail the read.
			t.Errorf("GetObject %s while the key is overwritten: %v", key, err)
			return false
		}
		got, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil {
			t.Error(err)
			return false
		}
		if w := int(got[0] - 'a'); w < 0 || w >= 8 || !bytes.Equal(got, body(w)) {
			t.Errorf("%s: a mixed or partial object (%d bytes)", key, len(got))
			return false
		}
		return true
	}
	noRetry := oss.NewClient(oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret)).
		WithRegion(srv.Region).WithEndpoint(srv.Endpoint).WithUsePathStyle(true).WithRetryMaxAttempts(1))
	for r := 0; r < 6; r++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			key := "hot"
			if r >= 4 { // copiers: copy the hot key, then read the copy
				key = fmt.Sprintf("copy-%d", r)
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if key != "hot" {
					_, err := noRetry.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), SourceKey: oss.Ptr("hot")})
					var se *oss.ServiceError
					if errors.As(err, &se) && se.Code == "NoSuchKey" {
						continue // not written yet
					}
					if err != nil {
						t.Errorf("CopyObject while the source is overwritten: %v", err)
						return
					}
				} else if _, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("hot")}); err != nil {
					continue // not written yet
				}
				if !whole(key) {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
}

// TestSlowHeaders: a client that never finishes its headers is cut off by
// the read-header timeout, and the server keeps serving.
func TestSlowHeaders(t *testing.T) {
	p := startProc(t, t.TempDir(), "--read-header-timeout", "300ms")
	defer p.kill()
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n"))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	if _, err := conn.Read(buf); err == nil || strings.Contains(err.Error(), "timeout") {
		// net/http answers 408 or closes; either ends the read before 5 s.
		if err != nil {
			t.Fatalf("slow client was not cut off: %v", err)
		}
	}
	if _, err := p.client().ListBuckets(context.Background(), &oss.ListBucketsRequest{}); err != nil {
		t.Fatalf("server stopped serving: %v", err)
	}
}
