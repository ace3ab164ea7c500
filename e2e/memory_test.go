package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/internal/auth"
)

// patternReader yields n bytes without holding them, so the client side
// of the test does not need the object in memory either.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(b))
	if n > p.left {
		n = p.left
	}
	for i := range b[:n] {
		b[i] = byte(i)
	}
	p.left -= n
	return int(n), nil
}

// peakRSS reads the high-water mark of a process's resident set (KiB).
func peakRSS(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return -1
}

// TestMemoryBound streams 32 concurrent 64 MiB uploads and then 32
// concurrent downloads through an ossd subprocess and checks its peak RSS
// stays under 256 MiB: object bodies are streamed, never held.
func TestMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 4 GiB through a subprocess")
	}
	const n, size = 32, 64 << 20
	p := startProc(t, t.TempDir())
	defer p.kill()
	c := p.client()
	if _, err := c.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr("mem")}); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	run := func(method string) {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				key := fmt.Sprint("big", i)
				var body io.Reader
				if method == http.MethodPut {
					body = &patternReader{left: size}
				}
				req, _ := http.NewRequest(method, p.endpoint+"/mem/"+key, body)
				if method == http.MethodPut {
					req.ContentLength = size
				}
				auth.SignV1(req, "mem", key, crashKeyID, crashSecret, time.Now())
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				got, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || (method == http.MethodGet && got != size) {
					errs <- fmt.Errorf("%s %s: status %d, %d bytes", method, key, resp.StatusCode, got)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	run(http.MethodPut)
	run(http.MethodGet)
	peak := peakRSS(p.cmd.Process.Pid)
	t.Logf("peak RSS after 32×64 MiB up and down: %d KiB", peak)
	if peak <= 0 || peak > 256<<10 {
		t.Fatalf("peak RSS %d KiB, want ≤ 256 MiB", peak)
	}
}
