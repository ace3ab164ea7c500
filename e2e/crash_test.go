package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// buildOssd compiles cmd/ossd once per test binary.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func ossdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ossd-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "ossd")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, "../cmd/ossd").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// proc is an ossd subprocess.
type proc struct {
	cmd      *exec.Cmd
	endpoint string
}

const crashKeyID, crashSecret = "LTAIcrashtest", "crash-test-secret"

func startProc(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	cmd := exec.Command(ossdBinary(t), append([]string{"--addr", "127.0.0.1:0", "--data", dataDir}, extra...)...)
	cmd.Env = append(os.Environ(), "OSS_ACCESS_KEY_ID="+crashKeyID, "OSS_ACCESS_KEY_SECRET="+crashSecret)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for lines.Scan() {
		if ep, ok := strings.CutPrefix(lines.Text(), "ossd listening on "); ok {
			go io.Copy(io.Discard, stdout)
			return &proc{cmd: cmd, endpoint: ep}
		}
	}
	cmd.Wait()
	t.Fatalf("ossd did not start")
	return nil
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func (p *proc) client() *oss.Client {
	return oss.NewClient(oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(crashKeyID, crashSecret)).
		WithRegion("cn-hangzhou").WithEndpoint(p.endpoint).WithUsePathStyle(true).WithRetryMaxAttempts(1))
}

// content is the deterministic body of key, so any object read back can be
// checked for completeness without remembering it.
func content(key string) []byte {
	n, _ := strconv.Atoi(key[strings.LastIndexByte(key, '-')+1:])
	size := []int{0, 17, 4 << 10, 70 << 10, 300 << 10, 1 << 20}[n%6]
	h := sha256.Sum256([]byte(key))
	return bytes.Repeat(h[:], size/32+1)[:size]
}

// TestKill9 runs concurrent uploads (single PUT and multipart) against an
// ossd subprocess, kills it with SIGKILL at a random moment, restarts it,
// and checks that every acknowledged object reads back byte-exact and that
// no object is visible with partial content. OSSD_CRASH_CYCLES sets the
// number of cycles (default 3).
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	cycles := 3
	if s := os.Getenv("OSSD_CRASH_CYCLES"); s != "" {
		cycles, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	acked := map[string]bool{}
	var mu sync.Mutex
	const bucket = "crash"
	seq := 0
	for cycle := 0; cycle < cycles; cycle++ {
		p := startProc(t, dir)
		c := p.client()
		ctx := context.Background()
		if cycle == 0 {
			if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(bucket)}); err != nil {
				t.Fatal(err)
			}
		}
		verify(t, c, bucket, acked, cycle)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					seq++
					key := fmt.Sprintf("c%d/w%d-%d", cycle, w, seq)
					mu.Unlock()
					var err error
					if seq%7 == 0 {
						err = multipartPut(ctx, c, bucket, key, content(key))
					} else {
						_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: bytes.NewReader(content(key))})
					}
					if err == nil {
						mu.Lock()
						acked[key] = true
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(200+rng.Intn(800)) * time.Millisecond)
		p.kill()
		close(stop)
		wg.Wait()
	}
	p := startProc(t, dir)
	defer p.kill()
	verify(t, p.client(), bucket, acked, cycles)
	t.Logf("%d cycles, %d acknowledged objects verified", cycles, len(acked))
}

func multipartPut(ctx context.Context, c *oss.Client, bucket, key string, data []byte) error {
	init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		return err
	}
	var parts []oss.UploadPart
	for i, off := 1, 0; off < len(data) || i == 1; i++ {
		end := min(off+(100<<10), len(data))
		r, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), UploadId: init.UploadId, PartNumber: int32(i), Body: bytes.NewReader(data[off:end])})
		if err != nil {
			return err
		}
		parts = append(parts, oss.UploadPart{PartNumber: int32(i), ETag: r.ETag})
		off = end
	}
	_, err = c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), UploadId: init.UploadId,
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
	return err
}

// verify reads back every acknowledged key and every listed key.
func verify(t *testing.T, c *oss.Client, bucket string, acked map[string]bool, cycle int) {
	t.Helper()
	ctx := context.Background()
	listed := map[string]bool{}
	p := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket), MaxKeys: 1000})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("cycle %d: list: %v", cycle, err)
		}
		for _, o := range page.Contents {
			listed[oss.ToString(o.Key)] = true
		}
	}
	for k := range acked {
		if !listed[k] {
			t.Errorf("cycle %d: acknowledged object %s lost", cycle, k)
		}
	}
	for k := range listed {
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(k)})
		if err != nil {
			t.Errorf("cycle %d: listed %s but GET failed: %v", cycle, k, err)
			continue
		}
		got, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil || !bytes.Equal(got, content(k)) {
			t.Errorf("cycle %d: object %s has %d bytes, want %d (partial or corrupt)", cycle, k, len(got), len(content(k)))
		}
	}
}
