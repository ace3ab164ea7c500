package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/internal/auth"
)

// TestGracefulShutdown: SIGTERM lets an in-flight upload finish, then the
// process exits 0 and the object is there after a restart.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir)
	c := p.client()
	if _, err := c.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr("grace")}); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPut, p.endpoint+"/grace/inflight", pr)
	req.ContentLength = 10
	auth.SignV1(req, "grace", "inflight", crashKeyID, crashSecret, time.Now())
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	pw.Write([]byte("01234"))
	time.Sleep(200 * time.Millisecond) // the request is being served
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	pw.Write([]byte("56789"))
	pw.Close()
	resp := <-done
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("in-flight upload during shutdown: %v", resp)
	}
	resp.Body.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
	p = startProc(t, dir)
	defer p.kill()
	g, err := p.client().GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr("grace"), Key: oss.Ptr("inflight")})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(g.Body); !strings.EqualFold(string(b), "0123456789") {
		t.Fatalf("object = %q", b)
	}
}
