package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/internal/auth"
)

// Hostile clients (issue #6): slowloris on headers and bodies, clients that
// never read, oversized headers and bodies, hostile keys, connection floods
// and uploads cut midway. Each test drives an ossd subprocess over raw TCP,
// so it can count the server's file descriptors and resident memory in
// /proc/<pid>, and checks the server keeps serving, answers with OSS errors,
// leaves nothing partial behind and never writes outside its data
// directory.
//
// Timing: the timeouts under test are set to a few seconds; the tests wait
// for the server to act with generous guards (guardWait) and never assert
// how long anything took.

// guardWait bounds every wait for the server to do something it must do;
// hitting it means the server did not (hung, or a timeout is not enforced).
const guardWait = 60 * time.Second

// hostile is an ossd subprocess with what the tests need to inspect it.
type hostile struct {
	*proc
	addr, data string
	pid        int
}

func startHostile(t *testing.T, flags ...string) *hostile {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	p := startProc(t, data, flags...)
	t.Cleanup(p.kill)
	return &hostile{proc: p, addr: strings.TrimPrefix(p.endpoint, "http://"), data: data, pid: p.cmd.Process.Pid}
}

func (h *hostile) bucket(t *testing.T) string {
	t.Helper()
	b := randName("hostile")
	if _, err := h.client().PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return b
}

// head returns a signed request's line and header block, target sent
// verbatim (so paths the Go client would clean or escape reach the server
// as written). bucket and key are what the server decodes from target;
// the V1 signature covers them and the sub-resources in target's query.
func (h *hostile) head(method, target, bucket, key string, contentLength int64, extra map[string]string) []byte {
	_, rawQuery, _ := strings.Cut(target, "?")
	req := &http.Request{Method: method, URL: &url.URL{RawQuery: rawQuery}, Header: http.Header{}}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	auth.SignV1(req, bucket, key, crashKeyID, crashSecret, time.Now())
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, h.addr)
	if contentLength >= 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", contentLength)
	}
	req.Header.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// rawConn is one client connection driven byte by byte.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func (h *hostile) dial(t *testing.T) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.addr, guardWait)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

func (c *rawConn) send(t *testing.T, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// response reads one response within guardWait.
func (c *rawConn) response(t *testing.T, method string) (*http.Response, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(guardWait))
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return resp, body
}

// wantClosed checks the server closes the connection (EOF or reset) with
// nothing more to say.
func (c *rawConn) wantClosed(t *testing.T) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(guardWait))
	n, err := io.Copy(io.Discard, c.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server kept the connection open (%d more bytes)", n)
	}
	if n > 0 {
		t.Fatalf("server sent %d unexpected bytes before closing", n)
	}
}

// ossErrorBody is OSS's error document; every field must be present.
type ossErrorBody struct {
	Code, Message, RequestId, HostId, EC string
}

func wantOSSError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	var e ossErrorBody
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("status %d, body is not an OSS error (%v): %.300s", resp.StatusCode, err, body)
	}
	if resp.StatusCode != status || e.Code != code {
		t.Fatalf("got %d %s, want %d %s: %.300s", resp.StatusCode, e.Code, status, code, body)
	}
	if e.Message == "" || e.RequestId == "" || e.HostId == "" || e.EC == "" || resp.Header.Get("x-oss-request-id") != e.RequestId || resp.Header.Get("x-oss-ec") != e.EC {
		t.Fatalf("incomplete OSS error: %+v, headers %v", e, resp.Header)
	}
}

// do sends one whole signed request on a new connection.
func (h *hostile) do(t *testing.T, method, target, bucket, key string, body []byte, extra map[string]string) (*http.Response, []byte) {
	t.Helper()
	c := h.dial(t)
	defer c.Close()
	c.send(t, append(h.head(method, target, bucket, key, int64(len(body)), extra), body...))
	return c.response(t, method)
}

// fds is the number of open file descriptors of the server.
func (h *hostile) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", h.pid))
	if err != nil {
		t.Fatalf("read fds: %v", err)
	}
	return len(ents)
}

// statusKiB reads a /proc/<pid>/status field in KiB (VmRSS, VmHWM).
func (h *hostile) statusKiB(t *testing.T, field string) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.pid))
	if err != nil {
		t.Fatalf("read status: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, h.pid)
	return 0
}

// blobFiles counts object data files: an upload that failed must leave
// none behind.
func (h *hostile) blobFiles(t *testing.T) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(h.data, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk blobs: %v", err)
	}
	return n
}

// eventually polls cond until it holds or guardWait passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(guardWait)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after %v", what, state, guardWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *hostile) wantServing(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guardWait)
	defer cancel()
	if _, err := h.client().ListBuckets(ctx, &oss.ListBucketsRequest{}); err != nil {
		t.Fatalf("server stopped serving: %v", err)
	}
}

func (h *hostile) status(t *testing.T, method, bucket, key string) int {
	t.Helper()
	resp, _ := h.do(t, method, "/"+bucket+"/"+escapeKey(key), bucket, key, nil, nil)
	return resp.StatusCode
}

func escapeKey(key string) string { return (&urlPath{key}).String() }

// TestHostileSlowBody: a client that sends an upload's headers and then
// stops, or drips a few bytes and stops, is cut off after
// --body-read-timeout without a byte for PutObject, UploadPart and
// AppendObject alike: 400 RequestTimeout, the connection closed, nothing
// visible and no blob file left. A client that drips steadily (each gap
// shorter than the timeout, the whole upload longer) is not cut off: the
// timeout measures silence, not the upload.
func TestHostileSlowBody(t *testing.T) {
	t.Parallel() // mostly waits out timeouts
	const idle = 2 * time.Second
	h := startHostile(t, "--body-read-timeout", idle.String())
	b := h.bucket(t)
	c := h.client()
	ctx := context.Background()
	if _, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("appended"), Position: oss.Ptr(int64(0)), Body: strings.NewReader("12345")}); err != nil {
		t.Fatal(err)
	}
	blobs0 := h.blobFiles(t)

	type tc struct {
		name   string
		target func(t *testing.T) (target, key string)
		drip   int // bytes sent before stalling
		check  func(t *testing.T, key string)
	}
	objectAbsent := func(t *testing.T, key string) {
		if s := h.status(t, "HEAD", b, key); s != 404 {
			t.Fatalf("stalled upload left %q visible: HEAD %d", key, s)
		}
	}
	cases := []tc{
		{name: "put stalls after headers", target: func(*testing.T) (string, string) { return "/" + b + "/stall-put", "stall-put" },
			check: objectAbsent},
		{name: "put drips then stalls", drip: 3, target: func(*testing.T) (string, string) { return "/" + b + "/drip-put", "drip-put" },
			check: objectAbsent},
		{name: "upload part stalls", drip: 2, target: func(t *testing.T) (string, string) {
			init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("stall-mp")})
			if err != nil {
				t.Fatal(err)
			}
			return "/" + b + "/stall-mp?partNumber=1&uploadId=" + url.QueryEscape(oss.ToString(init.UploadId)), "stall-mp"
		}, check: func(t *testing.T, key string) {
			lu, err := c.ListMultipartUploads(ctx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(b), Prefix: oss.Ptr(key)})
			if err != nil || len(lu.Uploads) != 1 {
				t.Fatalf("list uploads: %v %+v", err, lu)
			}
			lp, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), UploadId: lu.Uploads[0].UploadId})
			if err != nil || len(lp.Parts) != 0 {
				t.Fatalf("stalled part is listed: %v %+v", err, lp)
			}
		}},
		{name: "append to new object stalls", drip: 1, target: func(*testing.T) (string, string) {
			return "/" + b + "/stall-append?append&position=0", "stall-append"
		}, check: objectAbsent},
		{name: "append to existing object stalls", drip: 2, target: func(*testing.T) (string, string) {
			return "/" + b + "/appended?append&position=5", "appended"
		}, check: func(t *testing.T, key string) {
			g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key)})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(readAll(t, g.Body)); got != "12345" {
				t.Fatalf("stalled append changed the object: %q", got)
			}
			// The next append still starts at the committed length.
			if _, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), Position: oss.Ptr(int64(5)), Body: strings.NewReader("678")}); err != nil {
				t.Fatalf("append after a stalled one: %v", err)
			}
		}},
	}
	// Each case waits out the timeout: run them side by side.
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				target, key := tc.target(t)
				method := "PUT"
				if strings.Contains(target, "append") {
					method = "POST"
				}
				conn := h.dial(t)
				conn.send(t, h.head(method, target, b, key, 1<<20, nil))
				for i := 0; i < tc.drip; i++ {
					time.Sleep(idle / 4)
					conn.send(t, bytes.Repeat([]byte{'d'}, 100))
				}
				resp, body := conn.response(t, method)
				wantOSSError(t, resp, body, 400, "RequestTimeout")
				if !strings.Contains(string(body), "not read from or written to within the timeout period") {
					t.Fatalf("message: %s", body)
				}
				if !resp.Close {
					t.Fatalf("RequestTimeout without Connection: close: %v", resp.Header)
				}
				conn.wantClosed(t)
				tc.check(t, key)
			})
		}
		// Refused before the body is read: net/http still waits to drain a
		// small unread body before answering; the timeout bounds that wait.
		t.Run("refused request whose body never comes", func(t *testing.T) {
			t.Parallel()
			conn := h.dial(t)
			conn.send(t, h.head("PUT", "/no-such-bucket-here/k", "no-such-bucket-here", "k", 1000, nil))
			resp, body := conn.response(t, "PUT")
			wantOSSError(t, resp, body, 404, "NoSuchBucket")
			conn.wantClosed(t)
		})
		t.Run("steady drip longer than the timeout completes", func(t *testing.T) {
			t.Parallel()
			conn := h.dial(t)
			const step, n = 200 * time.Millisecond, 15 // 3 s in all, > idle; each gap idle/10
			body := bytes.Repeat([]byte("0123456789"), n)
			conn.send(t, h.head("PUT", "/"+b+"/steady", b, "steady", int64(len(body)), nil))
			for i := 0; i < n; i++ {
				time.Sleep(step)
				conn.send(t, body[i*10:i*10+10])
			}
			if resp, rb := conn.response(t, "PUT"); resp.StatusCode != 200 {
				t.Fatalf("steady upload: %d %s", resp.StatusCode, rb)
			}
			g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("steady")})
			if err != nil || !bytes.Equal(readAll(t, g.Body), body) {
				t.Fatalf("steady upload read back: %v", err)
			}
		})
	})
	// steady is inline (150 bytes): no blob. The stalled writes left none.
	eventually(t, "blob files of stalled uploads removed", func() (bool, string) {
		n := h.blobFiles(t)
		return n == blobs0, fmt.Sprintf("%d blob files (baseline %d)", n, blobs0)
	})
	h.wantServing(t)
}

// TestHostileSlowReader: a client that asks for a large object and then
// reads nothing is cut off after --body-write-timeout without progress: the
// server closes its socket (its fd count returns to the baseline) and the
// client, reading at last, gets less than the object and then EOF. A client
// that reads slowly but steadily gets the whole object.
func TestHostileSlowReader(t *testing.T) {
	t.Parallel() // mostly waits out timeouts
	const idle = time.Second
	const size = 32 << 20 // far beyond loopback socket buffers (a few MiB)
	h := startHostile(t, "--body-write-timeout", idle.String())
	b := h.bucket(t)
	req, _ := http.NewRequest("PUT", h.endpoint+"/"+b+"/big", &patternReader{left: size})
	req.ContentLength = size
	auth.SignV1(req, b, "big", crashKeyID, crashSecret, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("put big: %v %v", err, resp)
	}
	resp.Body.Close()

	t.Run("never reads", func(t *testing.T) {
		fds0 := h.fds(t)
		conn := h.dial(t)
		conn.send(t, h.head("GET", "/"+b+"/big", b, "big", -1, nil))
		eventually(t, "server busy sending", func() (bool, string) {
			n := h.fds(t)
			return n >= fds0+2, fmt.Sprintf("%d fds (socket and blob file not open yet; baseline %d)", n, fds0)
		})
		eventually(t, "server gave up on a client that reads nothing", func() (bool, string) {
			n := h.fds(t)
			return n <= fds0, fmt.Sprintf("%d fds (baseline %d)", n, fds0)
		})
		conn.SetReadDeadline(time.Now().Add(guardWait))
		resp, err := http.ReadResponse(conn.br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("response head: %v", err)
		}
		got, err := io.Copy(io.Discard, resp.Body)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %d bytes", got)
		}
		if got >= size {
			t.Fatalf("got the whole object (%d bytes): the server never cut the stalled client off", got)
		}
		t.Logf("stalled reader received %d of %d bytes before the server closed", got, size)
	})
	t.Run("slow steady reader gets everything", func(t *testing.T) {
		conn := h.dial(t)
		conn.send(t, h.head("GET", "/"+b+"/big", b, "big", -1, nil))
		conn.SetReadDeadline(time.Now().Add(guardWait))
		resp, err := http.ReadResponse(conn.br, &http.Request{Method: "GET"})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET: %v %v", err, resp)
		}
		// Pauses of idle/10 per 2 MiB: the transfer outlasts idle in
		// total, but no gap comes near it.
		want := &patternReader{left: size}
		buf, ref := make([]byte, 2<<20), make([]byte, 2<<20)
		var got int64
		for {
			n, err := io.ReadFull(resp.Body, buf)
			want.Read(ref[:n])
			if !bytes.Equal(buf[:n], ref[:n]) {
				t.Fatalf("content differs near offset %d", got)
			}
			got += int64(n)
			if err != nil {
				break
			}
			time.Sleep(idle / 10)
		}
		if got != size {
			t.Fatalf("slow reader got %d of %d bytes", got, size)
		}
	})
	h.wantServing(t)
}

// TestHostileHeaders: slowloris on headers (many connections dripping a
// header byte at a time, connections that send nothing) is cut off by
// --read-header-timeout, an idle keep-alive connection by --idle-timeout,
// and a header block beyond --max-header-bytes gets 431; the server keeps
// answering throughout.
func TestHostileHeaders(t *testing.T) {
	h := startHostile(t, "--read-header-timeout", "1s", "--idle-timeout", "1s", "--max-header-bytes", "16384")
	b := h.bucket(t)

	t.Run("slowloris", func(t *testing.T) {
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := 0; i < 2*n; i++ {
			conn := h.dial(t)
			drip := i%2 == 0 // odd ones never send a byte
			wg.Add(1)
			go func() {
				defer wg.Done()
				stop := make(chan struct{})
				if drip {
					go func() {
						line := []byte("GET /" + b + "/k HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1000))
						for _, c := range line {
							select {
							case <-stop:
								return
							case <-time.After(100 * time.Millisecond):
							}
							if _, err := conn.Write([]byte{c}); err != nil {
								return
							}
						}
					}()
				}
				defer close(stop)
				conn.SetReadDeadline(time.Now().Add(guardWait))
				_, err := io.Copy(io.Discard, conn)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					errs <- fmt.Errorf("slowloris connection (drip %v) still open after %v", drip, guardWait)
				}
			}()
		}
		h.wantServing(t) // while they hang on
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
	t.Run("idle keep-alive closed", func(t *testing.T) {
		conn := h.dial(t)
		conn.send(t, h.head("GET", "/", "", "", -1, nil))
		if resp, body := conn.response(t, "GET"); resp.StatusCode != 200 || resp.Close {
			t.Fatalf("list buckets: %d close=%v %s", resp.StatusCode, resp.Close, body)
		}
		conn.wantClosed(t)
	})
	t.Run("oversized headers", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			hdr    map[string]string
			status int
		}{
			{"within the limit", map[string]string{"X-Oss-Meta-Pad": strings.Repeat("p", 8<<10)}, 404},
			{"one huge header", map[string]string{"X-Oss-Meta-Pad": strings.Repeat("p", 64<<10)}, 431},
			{"many headers", manyHeaders(2000), 431},
			{"1 MiB header", map[string]string{"X-Pad": strings.Repeat("p", 1<<20)}, 431},
		} {
			t.Run(tc.name, func(t *testing.T) {
				conn := h.dial(t)
				// Written concurrently: the server may answer and close
				// before reading all of a huge block.
				go conn.Write(h.head("GET", "/"+b+"/nokey", b, "nokey", -1, tc.hdr))
				resp, body := conn.response(t, "GET")
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tc.status, body)
				}
				if tc.status == 404 {
					wantOSSError(t, resp, body, 404, "NoSuchKey")
				}
			})
		}
	})
	h.wantServing(t)
}

// sibling is key with suffix, cut to stay within OSS's 1023 bytes.
func sibling(key, suffix string) string {
	if len(key)+len(suffix) > 1023 {
		key = key[:1023-len(suffix)]
	}
	return key + suffix
}

func manyHeaders(n int) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("X-Oss-Meta-H%d", i)] = "0123456789"
	}
	return m
}

// TestHostileBodyLength: a declared size over OSS's 5 GiB limit is refused
// with EntityTooLarge before any body byte is sent (PutObject, UploadPart,
// AppendObject); a body shorter than declared gets IncompleteBody and
// stores nothing; bytes beyond the declared length are not part of the
// object and are parsed as the next request, which net/http refuses.
func TestHostileBodyLength(t *testing.T) {
	h := startHostile(t)
	b := h.bucket(t)
	c := h.client()
	ctx := context.Background()
	init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("mp")})
	if err != nil {
		t.Fatal(err)
	}
	partTarget := "/" + b + "/mp?partNumber=1&uploadId=" + url.QueryEscape(oss.ToString(init.UploadId))
	blobs0 := h.blobFiles(t)
	for _, tc := range []struct {
		name, method, target, key string
	}{
		{"put", "PUT", "/" + b + "/huge", "huge"},
		{"upload part", "PUT", partTarget, "mp"},
		{"append", "POST", "/" + b + "/huge-append?append&position=0", "huge-append"},
	} {
		t.Run("over 5 GiB: "+tc.name, func(t *testing.T) {
			conn := h.dial(t)
			conn.send(t, h.head(tc.method, tc.target, b, tc.key, 5<<30+1, nil))
			resp, body := conn.response(t, tc.method) // no body byte sent
			wantOSSError(t, resp, body, 400, "EntityTooLarge")
			conn.wantClosed(t)
		})
	}
	for _, tc := range []struct {
		name, method, target, key string
		declared                  int64
	}{
		{"put inline", "PUT", "/" + b + "/short", "short", 1000},
		{"put blob", "PUT", "/" + b + "/short-blob", "short-blob", 1 << 20},
		{"upload part", "PUT", partTarget, "mp", 1 << 20},
		{"append", "POST", "/" + b + "/short-append?append&position=0", "short-append", 1 << 20},
	} {
		t.Run("shorter than declared: "+tc.name, func(t *testing.T) {
			conn := h.dial(t)
			conn.send(t, append(h.head(tc.method, tc.target, b, tc.key, tc.declared, nil), bytes.Repeat([]byte{'s'}, 100)...))
			conn.Conn.(*net.TCPConn).CloseWrite()
			resp, body := conn.response(t, tc.method)
			wantOSSError(t, resp, body, 400, "IncompleteBody")
			if tc.key != "mp" {
				if s := h.status(t, "HEAD", b, tc.key); s != 404 {
					t.Fatalf("short upload visible: HEAD %d", s)
				}
			} else if lp, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("mp"), UploadId: init.UploadId}); err != nil || len(lp.Parts) != 0 {
				t.Fatalf("short part listed: %v %+v", err, lp)
			}
		})
	}
	t.Run("longer than declared", func(t *testing.T) {
		conn := h.dial(t)
		extra := "NOT A REQUEST\r\n\r\n"
		conn.send(t, append(h.head("PUT", "/"+b+"/long", b, "long", 10, nil), "0123456789"+extra...))
		if resp, body := conn.response(t, "PUT"); resp.StatusCode != 200 {
			t.Fatalf("PUT: %d %s", resp.StatusCode, body)
		}
		if resp, _ := conn.response(t, "GET"); resp.StatusCode != 400 {
			t.Fatalf("trailing garbage answered %d, want 400", resp.StatusCode)
		}
		conn.wantClosed(t)
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("long")})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(readAll(t, g.Body)); got != "0123456789" {
			t.Fatalf("object = %q, want the declared 10 bytes", got)
		}
	})
	eventually(t, "blob files of refused uploads removed", func() (bool, string) {
		n := h.blobFiles(t)
		return n == blobs0, fmt.Sprintf("%d blob files (baseline %d)", n, blobs0)
	})
	h.wantServing(t)
}

// TestHostileKeys sends keys that would escape a directory if they were
// paths (dot-dot segments, absolute paths, backslashes, drive letters,
// percent-encoded forms, an absolute-form request target), keys OSS
// refuses (leading / or \, NUL, invalid UTF-8, over 1023 bytes) and keys at
// the limit, through PutObject, AppendObject, multipart and CopyObject (as
// destination and source). Valid keys are stored literally and read back;
// invalid ones get InvalidObjectName. Nothing is created outside the data
// directory (the parent is walked before and after) and no file inside it
// is named after a key.
func TestHostileKeys(t *testing.T) {
	h := startHostile(t)
	b := h.bucket(t)
	c := h.client()
	ctx := context.Background()
	marker := randName("ossd-escape")
	outside := func() map[string]bool {
		seen := map[string]bool{}
		parent := filepath.Dir(h.data)
		filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
			if p == h.data {
				return fs.SkipDir
			}
			if err == nil {
				seen[p] = true
			}
			return nil
		})
		return seen
	}
	before := outside()
	deep := strings.Repeat("../", 16)

	for _, tc := range []struct {
		name, target, key string // target: raw request path
		valid             bool
	}{
		{"dot-dot to /tmp", "/" + b + "/" + deep + "tmp/" + marker, deep + "tmp/" + marker, true},
		{"encoded dot-dot", "/" + b + "/%2e%2e%2f%2e%2e%2f" + marker, "../../" + marker, true},
		{"dot-dot inside", "/" + b + "/a/../../../" + marker, "a/../../../" + marker, true},
		{"single dot", "/" + b + "/./" + marker, "./" + marker, true},
		{"bare dot-dot", "/" + b + "/..", "..", true},
		{"backslash dot-dot", "/" + b + "/a%5C..%5C..%5C" + marker, `a\..\..\` + marker, true},
		{"drive letter", "/" + b + "/C:%5CWindows%5C" + marker, `C:\Windows\` + marker, true},
		{"absolute-form target", "http://" + h.addr + "/" + b + "/../../abs-" + marker, "../../abs-" + marker, true},
		{"1023 bytes", "/" + b + "/" + strings.Repeat("k", 1023), strings.Repeat("k", 1023), true},
		{"1023 bytes of dot-dot", "/" + b + "/" + strings.Repeat("../", 341), strings.Repeat("../", 341), true},
		{"leading slash", "/" + b + "//tmp/" + marker, "/tmp/" + marker, false},
		{"encoded leading slash", "/" + b + "/%2Ftmp%2F" + marker, "/tmp/" + marker, false},
		{"leading backslash", "/" + b + "/%5C..%5C" + marker, `\..\` + marker, false},
		{"NUL", "/" + b + "/a%00" + marker, "a\x00" + marker, false},
		{"NUL after dot-dot", "/" + b + "/../%00", "../\x00", false},
		{"invalid UTF-8", "/" + b + "/bad%FF%FE" + marker, "bad\xff\xfe" + marker, false},
		{"overlong UTF-8 slash", "/" + b + "/%C0%AF" + marker, "\xc0\xaf" + marker, false},
		{"1024 bytes", "/" + b + "/" + strings.Repeat("k", 1024), strings.Repeat("k", 1024), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte("literal " + tc.name)
			resp, rb := h.do(t, "PUT", tc.target, b, tc.key, body, nil)
			if !tc.valid {
				wantOSSError(t, resp, rb, 400, "InvalidObjectName")
				resp, rb = h.do(t, "POST", tc.target+"?append&position=0", b, tc.key, body, nil)
				wantOSSError(t, resp, rb, 400, "InvalidObjectName")
				resp, rb = h.do(t, "POST", tc.target+"?uploads", b, tc.key, nil, nil)
				wantOSSError(t, resp, rb, 400, "InvalidObjectName")
				resp, rb = h.do(t, "GET", tc.target, b, tc.key, nil, nil)
				wantOSSError(t, resp, rb, 400, "InvalidObjectName")
				// As a copy source: refused by the same key rules,
				// never looked up.
				resp, rb = h.do(t, "PUT", "/"+b+"/copy-dst", b, "copy-dst", nil, map[string]string{"x-oss-copy-source": "/" + b + "/" + url.PathEscape(tc.key)})
				wantOSSError(t, resp, rb, 400, "InvalidObjectName")
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("PUT %q: %d %s", tc.key, resp.StatusCode, rb)
			}
			g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(tc.key)})
			if err != nil || !bytes.Equal(readAll(t, g.Body), body) {
				t.Fatalf("GET %q: %v", tc.key, err)
			}
			// The same shape of key through CopyObject (as source and
			// destination), AppendObject and multipart.
			cp := sibling(tc.key, ".copy")
			if _, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(cp), SourceBucket: oss.Ptr(b), SourceKey: oss.Ptr(tc.key)}); err != nil {
				t.Fatalf("copy %q: %v", tc.key, err)
			}
			ap := sibling(tc.key, ".append")
			if _, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(ap), Position: oss.Ptr(int64(0)), Body: bytes.NewReader(body)}); err != nil {
				t.Fatalf("append %q: %v", ap, err)
			}
			mp := sibling(tc.key, ".multipart")
			if err := multipartPut(ctx, c, b, mp, body); err != nil {
				t.Fatalf("multipart %q: %v", mp, err)
			}
			for _, k := range []string{cp, ap, mp} {
				g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(k)})
				if err != nil || !bytes.Equal(readAll(t, g.Body), body) {
					t.Fatalf("GET %q: %v", k, err)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join("/tmp", marker)); err == nil {
		t.Fatalf("a key reached /tmp/%s", marker)
	}
	after := outside()
	for p := range after {
		if !before[p] {
			t.Errorf("created outside the data directory: %s", p)
		}
	}
	filepath.WalkDir(h.data, func(p string, d fs.DirEntry, err error) error {
		if strings.Contains(p, marker) || strings.Contains(p, "..") {
			t.Errorf("a data file is named after a key: %s", p)
		}
		return nil
	})
	h.wantServing(t)
}

// TestHostileCutMidBody: the client drops the connection halfway through
// an upload's body (PutObject, UploadPart, AppendObject to a new and to an
// existing object). Nothing partial becomes visible, no blob file is left,
// the existing appendable object keeps its bytes and accepts the next
// append at its old length, and the server keeps serving.
func TestHostileCutMidBody(t *testing.T) {
	h := startHostile(t)
	b := h.bucket(t)
	c := h.client()
	ctx := context.Background()
	if _, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("log"), Position: oss.Ptr(int64(0)), Body: strings.NewReader("head")}); err != nil {
		t.Fatal(err)
	}
	init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("mp")})
	if err != nil {
		t.Fatal(err)
	}
	blobs0 := h.blobFiles(t)
	fds0 := h.fds(t)
	const declared, sent = 4 << 20, 1 << 20
	for _, tc := range []struct {
		name, method, target, key string
	}{
		{"put", "PUT", "/" + b + "/cut", "cut"},
		{"upload part", "PUT", "/" + b + "/mp?partNumber=1&uploadId=" + url.QueryEscape(oss.ToString(init.UploadId)), "mp"},
		{"append new", "POST", "/" + b + "/cut-append?append&position=0", "cut-append"},
		{"append existing", "POST", "/" + b + "/log?append&position=4", "log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := h.dial(t)
			conn.send(t, h.head(tc.method, tc.target, b, tc.key, declared, nil))
			conn.send(t, bytes.Repeat([]byte{'c'}, sent))
			// Abortive close (RST), as a crashed client.
			conn.Conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		})
	}
	eventually(t, "server released the cut uploads", func() (bool, string) {
		nb, nf := h.blobFiles(t), h.fds(t)
		return nb == blobs0 && nf <= fds0, fmt.Sprintf("%d blob files (baseline %d), %d fds (baseline %d)", nb, blobs0, nf, fds0)
	})
	for _, key := range []string{"cut", "cut-append"} {
		if s := h.status(t, "HEAD", b, key); s != 404 {
			t.Errorf("cut upload %q visible: HEAD %d", key, s)
		}
	}
	lp, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("mp"), UploadId: init.UploadId})
	if err != nil || len(lp.Parts) != 0 {
		t.Errorf("cut part listed: %v %+v", err, lp)
	}
	if _, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("log"), Position: oss.Ptr(int64(4)), Body: strings.NewReader("tail")}); err != nil {
		t.Fatalf("append after a cut one: %v", err)
	}
	g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("log")})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, g.Body)); got != "headtail" {
		t.Fatalf("appendable object after a cut append: %q", got)
	}
	h.wantServing(t)
}

// TestHostileConnFlood opens OSSD_HOSTILE_CONNS connections at once
// (default 1000, about a second; the 10000 takes 6 to 15 s on two
// shared cores) in three kinds: idle (nothing sent), half-sent headers,
// and uploads whose headers are complete and whose 1 MiB body stopped
// after 1 KiB (each holds a handler and a blob file). With all of them
// open, a new client is served; the server's resident memory stays under
// 512 MiB; once they close, its fd count and blob files return to the
// baseline. Figures are logged.
func TestHostileConnFlood(t *testing.T) {
	n := 1000
	if s := os.Getenv("OSSD_HOSTILE_CONNS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 3 {
			t.Fatalf("OSSD_HOSTILE_CONNS=%q: want a number ≥ 3", s)
		}
	}
	// Client and server each hold n sockets (the server also a blob file
	// per stalled upload); the subprocess inherits this limit.
	raiseNoFile(t, uint64(n+n/3+512), n)
	h := startHostile(t, "--read-header-timeout", "10m", "--idle-timeout", "10m", "--body-read-timeout", "10m")
	b := h.bucket(t)
	h.wantServing(t)
	fds0, rss0, blobs0 := h.fds(t), h.statusKiB(t, "VmRSS"), h.blobFiles(t)

	conns := make([]net.Conn, n)
	uploads := 0
	for i := range conns {
		if i%3 == 2 {
			uploads++
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	const dialers = 32
	for d := 0; d < dialers; d++ {
		wg.Add(1)
		go func(d int) {
			defer wg.Done()
			for i := d; i < n; i += dialers {
				conn, err := net.DialTimeout("tcp", h.addr, guardWait)
				if err == nil {
					switch i % 3 {
					case 1: // half-sent headers
						_, err = conn.Write([]byte("PUT /" + b + "/x HTTP/1.1\r\nHost: " + h.addr + "\r\nX-Slow: "))
					case 2: // complete headers, 1 KiB of a 1 MiB body
						key := fmt.Sprintf("flood-%d", i)
						_, err = conn.Write(append(h.head("PUT", "/"+b+"/"+key, b, key, 1<<20, nil), make([]byte, 1<<10)...))
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				conns[i] = conn
			}
		}(d)
	}
	wg.Wait()
	closeAll := func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}
	defer closeAll()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	// Every connection accepted and every stalled upload holding its blob.
	want := fds0 + n + uploads
	eventually(t, "server accepted the flood", func() (bool, string) {
		f := h.fds(t)
		return f >= want, fmt.Sprintf("%d fds, want %d", f, want)
	})
	fdsFlood, rssFlood := h.fds(t), h.statusKiB(t, "VmRSS")

	// A new client is served while the flood holds on.
	c := h.client()
	ctx, cancel := context.WithTimeout(context.Background(), guardWait)
	defer cancel()
	if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("during"), Body: strings.NewReader("served")}); err != nil {
		t.Fatalf("put during the flood: %v", err)
	}
	g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("during")})
	if err != nil || string(readAll(t, g.Body)) != "served" {
		t.Fatalf("get during the flood: %v", err)
	}
	hwm := h.statusKiB(t, "VmHWM")

	closeAll()
	eventually(t, "fds and blob files back to the baseline", func() (bool, string) {
		f, nb := h.fds(t), h.blobFiles(t)
		// +4: the new client's keep-alive connections may still be open.
		return f <= fds0+4 && nb == blobs0, fmt.Sprintf("%d fds (baseline %d), %d blob files (baseline %d)", f, fds0, nb, blobs0)
	})
	fdsAfter, rssAfter := h.fds(t), h.statusKiB(t, "VmRSS")
	t.Logf("%d connections (%d idle, %d half-sent headers, %d stalled 1 MiB uploads)", n, n-n/3-uploads, n/3, uploads)
	t.Logf("server fds: baseline %d, flood %d, after %d", fds0, fdsFlood, fdsAfter)
	t.Logf("server RSS: baseline %d KiB, flood %d KiB, peak %d KiB, after %d KiB", rss0, rssFlood, hwm, rssAfter)
	if hwm > 512<<10 {
		t.Fatalf("peak RSS %d KiB under %d connections, want < 512 MiB", hwm, n)
	}
	h.wantServing(t)
}
