package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/ossdtest"
)

// TestUnreadBodyAnswered sends, over a raw socket, requests that declare a
// body their operation never reads and do not send it (oss2 sends such a
// GET). Each must be answered at once, not after the server waits for the
// body, and the connection is then closed (net/http could only reuse it
// after reading the body). A request whose body is read keeps it open.
func TestUnreadBodyAnswered(t *testing.T) {
	srv := ossdtest.Start(t)
	b := randName("unread")
	if r := rawDo(t, srv, "PUT", b, "", "", nil, nil); r.status != 200 {
		t.Fatalf("PutBucket: %d %s", r.status, r.body)
	}
	if r := rawDo(t, srv, "PUT", b, "k", "", strings.NewReader("content"), nil); r.status != 200 {
		t.Fatalf("PutObject: %d %s", r.status, r.body)
	}
	host := strings.TrimPrefix(srv.Endpoint, "http://")
	for _, tc := range []struct {
		name, method, key, signKey string
		status                     int
		body                       string
	}{
		{"GetObject", "GET", "k", "k", 200, "content"},
		{"HeadObject", "HEAD", "k", "k", 200, ""},
		{"ListObjects", "GET", "", "", 200, "<ListBucketResult>"},
		{"GetObject missing", "GET", "nope", "nope", 404, "NoSuchKey"},
		// Refused before its body is read: a signature for another key.
		{"PutObject refused", "PUT", "k2", "other", 403, "SignatureDoesNotMatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// A bound, not a measurement: the server's body-read timeout is
			// minutes; the old code answered only after it.
			conn.SetDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(conn)
			send := func(declared int) {
				req, _ := http.NewRequest(tc.method, srv.Endpoint+"/"+b+"/"+tc.key, nil)
				auth.SignV1(req, b, tc.signKey, srv.AccessKeyID, srv.AccessKeySecret, time.Now())
				fmt.Fprintf(conn, "%s /%s/%s HTTP/1.1\r\nHost: %s\r\nDate: %s\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n",
					tc.method, b, tc.key, host, req.Header.Get("Date"), req.Header.Get("Authorization"), declared)
			}
			read := func() *http.Response {
				t.Helper()
				resp, err := http.ReadResponse(br, &http.Request{Method: tc.method})
				if err != nil {
					t.Fatalf("no response: %v", err)
				}
				var sb strings.Builder
				bufio.NewReader(resp.Body).WriteTo(&sb)
				resp.Body.Close()
				if resp.StatusCode != tc.status || !strings.Contains(sb.String(), tc.body) {
					t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, sb.String(), tc.status, tc.body)
				}
				return resp
			}
			send(9)
			if resp := read(); !resp.Close {
				t.Fatalf("response to a request with an unread body keeps the connection: %v", resp.Header)
			}
			// The body sent late is read and dropped: the server then closes.
			fmt.Fprint(conn, "123456789")
			if n, err := br.Read(make([]byte, 1)); err == nil {
				t.Fatalf("connection still open after the reply (%d more bytes)", n)
			}
		})
	}
}

// TestReadBodyKeepsConnection: a request whose body the operation reads to
// its end, declared or chunked, leaves the connection open for the next one.
func TestReadBodyKeepsConnection(t *testing.T) {
	srv := ossdtest.Start(t)
	b := randName("keep")
	if r := rawDo(t, srv, "PUT", b, "", "", nil, nil); r.status != 200 {
		t.Fatalf("PutBucket: %d %s", r.status, r.body)
	}
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	conns := 0
	for i := 0; i < 4; i++ {
		var body io.Reader = strings.NewReader("body")
		if i%2 == 1 {
			body = io.MultiReader(body) // length unknown: sent chunked
		}
		req, _ := http.NewRequest("PUT", srv.Endpoint+"/"+b+"/k", body)
		auth.SignV1(req, b, "k", srv.AccessKeyID, srv.AccessKeySecret, time.Now())
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if !i.Reused {
				conns++
			}
		}}
		resp, err := tr.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("PutObject: %d, close %v", resp.StatusCode, resp.Close)
		}
	}
	if conns != 1 {
		t.Fatalf("%d connections for 4 uploads (2 chunked), want 1", conns)
	}
}
