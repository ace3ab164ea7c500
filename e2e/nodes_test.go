package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/internal/pgtest"
)

// cluster is several ossd processes on 127.0.0.1 sharing one PostgreSQL
// database (--meta) and one blob directory (--blobs), each with its own
// data directory, node id and access-log journal on the shared directory:
// the deployment README's "Running several nodes" describes.
type cluster struct {
	pg     *pgtest.Server
	url    string
	shared string
	nodes  []*proc
	extra  []string
}

// startCluster starts n nodes. extra flags go to every node.
func startCluster(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-node subprocess test")
	}
	pg := pgtest.Start(t)
	c := &cluster{pg: pg, url: pg.NewDatabase(t), shared: t.TempDir(), extra: extra}
	for i := range n {
		c.nodes = append(c.nodes, c.start(t, i))
	}
	t.Cleanup(func() {
		for _, p := range c.nodes {
			if p != nil {
				p.kill()
			}
		}
	})
	return c
}

func (c *cluster) dataDir(i int) string {
	return filepath.Join(c.shared, fmt.Sprintf("node%d-data", i))
}
func nodeID(i int) string { return fmt.Sprintf("node%d", i) }

// start starts node i (again, after a kill: same data directory and id).
func (c *cluster) start(t *testing.T, i int) *proc {
	t.Helper()
	args := append([]string{"--meta", c.url, "--blobs", filepath.Join(c.shared, "blobs"),
		"--node-id", nodeID(i), "--log-dir", filepath.Join(c.shared, "journals")}, c.extra...)
	return startProc(t, c.dataDir(i), args...)
}

func (c *cluster) client(i int) *oss.Client { return c.nodes[i%len(c.nodes)].client() }

func serviceCode(err error) string {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

func getBytes(ctx context.Context, c *oss.Client, bucket, key string) ([]byte, error) {
	res, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}

// TestNodes drives three ossd processes on one database and one blob
// directory with the Go SDK v2, each request to whichever node the case
// names: what one node acknowledged, every node serves at once.
func TestNodes(t *testing.T) {
	cl := startCluster(t, 3)
	ctx := context.Background()
	bucket := randName("nodes")
	if _, err := cl.client(0).PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(bucket)}); err != nil {
		t.Fatal(err)
	}

	t.Run("read after write and listing", func(t *testing.T) {
		for i := range 9 {
			key := fmt.Sprintf("raw/%02d", i)
			body := content(fmt.Sprintf("raw-%d", i))
			if _, err := cl.client(i).PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: bytes.NewReader(body)}); err != nil {
				t.Fatal(err)
			}
			for j := range 3 { // every node, at once
				got, err := getBytes(ctx, cl.client(j), bucket, key)
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("%s written on node %d, read on node %d: %d bytes, %v", key, i%3, j, len(got), err)
				}
			}
		}
		for j := range 3 {
			res, err := cl.client(j).ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket), Prefix: oss.Ptr("raw/"), MaxKeys: 4})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for p := cl.client(j).NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket), Prefix: oss.Ptr("raw/"), MaxKeys: 4}); p.HasNext(); {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Contents {
					keys = append(keys, *o.Key)
				}
			}
			if len(res.Contents) != 4 || len(keys) != 9 || keys[0] != "raw/00" || keys[8] != "raw/08" {
				t.Fatalf("node %d lists %v (first page %d)", j, keys, len(res.Contents))
			}
		}
	})

	t.Run("racing overwrites of one key", func(t *testing.T) {
		const writers = 12
		key := "race/one"
		bodies := map[[32]byte]bool{}
		var wg sync.WaitGroup
		for w := range writers {
			body := bytes.Repeat([]byte{byte('a' + w)}, 256<<10+w)
			bodies[sha256.Sum256(body)] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := cl.client(w).PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: bytes.NewReader(body)}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		var first [32]byte
		for j := range 3 {
			got, err := getBytes(ctx, cl.client(j), bucket, key)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(got)
			if !bodies[sum] {
				t.Fatalf("node %d serves %d bytes that no writer sent (torn object)", j, len(got))
			}
			if j == 0 {
				first = sum
			} else if sum != first {
				t.Fatalf("nodes disagree on the winner of the race")
			}
		}
	})

	t.Run("multipart upload across nodes", func(t *testing.T) {
		key := "mp/object"
		init, err := cl.client(0).InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
		if err != nil {
			t.Fatal(err)
		}
		var parts []oss.UploadPart
		var whole []byte
		for n := int32(1); n <= 3; n++ {
			part := bytes.Repeat([]byte{byte('0' + n)}, 100<<10+int(n))
			if n < 3 {
				part = bytes.Repeat([]byte{byte('0' + n)}, 5<<20) // parts but the last: ≥ 100 KiB on OSS
			}
			whole = append(whole, part...)
			res, err := cl.client(int(n)).UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key),
				UploadId: init.UploadId, PartNumber: n, Body: bytes.NewReader(part)})
			if err != nil {
				t.Fatalf("part %d on node %d: %v", n, n%3, err)
			}
			parts = append(parts, oss.UploadPart{PartNumber: n, ETag: res.ETag})
		}
		lp, err := cl.client(2).ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), UploadId: init.UploadId})
		if err != nil || len(lp.Parts) != 3 {
			t.Fatalf("ListParts on node 2: %v parts, %v", lp, err)
		}
		if _, err := cl.client(1).CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key),
			UploadId: init.UploadId, CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}}); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			got, err := getBytes(ctx, cl.client(j), bucket, key)
			if err != nil || !bytes.Equal(got, whole) {
				t.Fatalf("node %d: %d bytes (want %d), %v", j, len(got), len(whole), err)
			}
		}
	})

	t.Run("racing appends", func(t *testing.T) {
		key := "append/log"
		var want []byte
		pos := int64(0)
		for round := range 8 {
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				winners []int
			)
			for w := range 3 {
				chunk := bytes.Repeat([]byte{byte('A' + round*3 + w)}, 4096+w)
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := cl.client(w).AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key),
						Position: oss.Ptr(pos), Body: bytes.NewReader(chunk)})
					switch {
					case err == nil:
						mu.Lock()
						winners = append(winners, w)
						mu.Unlock()
					case serviceCode(err) == "PositionNotEqualToLength":
					default:
						t.Errorf("append on node %d: %v", w, err)
					}
				}()
			}
			wg.Wait()
			if len(winners) != 1 {
				t.Fatalf("round %d: %d appends at position %d succeeded (nodes %v), want exactly 1", round, len(winners), pos, winners)
			}
			w := winners[0]
			want = append(want, bytes.Repeat([]byte{byte('A' + round*3 + w)}, 4096+w)...)
			pos = int64(len(want))
			for j := range 3 {
				got, err := getBytes(ctx, cl.client(j), bucket, key)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("round %d, node %d: %d bytes (want %d), %v — committed bytes changed?", round, j, len(got), len(want), err)
				}
			}
		}
	})

	t.Run("access log exactly once across three nodes", func(t *testing.T) {
		src, dst := randName("nodes-src"), randName("nodes-logs")
		for _, b := range []string{src, dst} {
			if _, err := cl.client(0).PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := cl.client(1).PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(src),
			BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(dst), TargetPrefix: oss.Ptr("x/")}}}); err != nil {
			t.Fatal(err)
		}
		acked := map[string]int{} // request id → node
		for i := range 60 {
			key := fmt.Sprintf("k%d", i)
			r, err := cl.client(i).PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(src), Key: oss.Ptr(key), Body: strings.NewReader(key)})
			if err != nil {
				t.Fatal(err)
			}
			acked[r.Headers.Get("x-oss-request-id")] = i % 3
		}
		for i, p := range cl.nodes {
			out, err := exec.Command(ossdBinary(t), "logs", "flush", "--addr", strings.TrimPrefix(p.endpoint, "http://"), "--data", cl.dataDir(i)).CombinedOutput()
			if err != nil {
				t.Fatalf("ossd logs flush on node %d: %v\n%s", i, err, out)
			}
		}
		got := map[string]int{}
		for _, l := range readLogLines(t, cl.client(2), dst, "x/", src) {
			got[l.RequestID]++
		}
		for rid, node := range acked {
			if got[rid] != 1 {
				t.Errorf("request %s (node %d) logged %d times, want once", rid, node, got[rid])
			}
		}
		lr, err := cl.client(0).ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(dst)})
		if err != nil {
			t.Fatal(err)
		}
		perNode := map[string]int{}
		for _, o := range lr.Contents {
			for i := range 3 {
				if strings.Contains(*o.Key, "-"+strings.ToUpper(nodeID(i))) {
					perNode[nodeID(i)]++
				}
			}
		}
		if len(perNode) != 3 {
			t.Errorf("log objects per node %v, want objects named after each of the three", perNode)
		}
	})

	t.Run("ACL and Block Public Access enforced at once on other nodes", func(t *testing.T) {
		b := randName("nodes-acl")
		owner := cl.client(0)
		if _, err := owner.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("doc"), Body: strings.NewReader("public?")}); err != nil {
			t.Fatal(err)
		}
		anon := func(node int) int {
			res, err := http.Get(cl.nodes[node].endpoint + "/" + b + "/doc")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode
		}
		for _, j := range []int{1, 2} {
			if s := anon(j); s != http.StatusForbidden {
				t.Fatalf("private bucket, anonymous GET on node %d: %d", j, s)
			}
		}
		setBlock := func(on bool) {
			if _, err := owner.PutBucketPublicAccessBlock(ctx, &oss.PutBucketPublicAccessBlockRequest{Bucket: oss.Ptr(b),
				PublicAccessBlockConfiguration: &oss.PublicAccessBlockConfiguration{BlockPublicAccess: oss.Ptr(on)}}); err != nil {
				t.Fatal(err)
			}
		}
		setACL := func(acl oss.BucketACLType) {
			if _, err := owner.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(b), Acl: acl}); err != nil {
				t.Fatal(err)
			}
		}
		for round := range 5 {
			setBlock(false)
			setACL(oss.BucketACLPublicRead)
			for _, j := range []int{1, 2} {
				if s := anon(j); s != http.StatusOK {
					t.Fatalf("round %d: public-read set on node 0, anonymous GET on node %d: %d, want 200", round, j, s)
				}
			}
			setBlock(true) // the public ACL stays, but grants nothing
			for _, j := range []int{1, 2} {
				if s := anon(j); s != http.StatusForbidden {
					t.Fatalf("round %d: Block Public Access on (node 0), anonymous GET on node %d: %d, want 403", round, j, s)
				}
			}
			setBlock(false)
			setACL(oss.BucketACLPrivate)
			for _, j := range []int{1, 2} {
				if s := anon(j); s != http.StatusForbidden {
					t.Fatalf("round %d: private set on node 0, anonymous GET on node %d: %d, want 403", round, j, s)
				}
			}
		}
	})
}

// TestNodesPostgresDown stops PostgreSQL the hard way (pg_ctl stop -m
// immediate: no checkpoint, as a crash) while three nodes take writes:
// requests fail with a clear 503 while it is down, every write
// acknowledged before or after reads back byte-exact, and service resumes
// when PostgreSQL is back.
func TestNodesPostgresDown(t *testing.T) {
	cl := startCluster(t, 3)
	ctx := context.Background()
	bucket := randName("pgdown")
	if _, err := cl.client(0).PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(bucket)}); err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		failures = map[string]int{}
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cl.client(w)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, n)
				_, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: bytes.NewReader(content(key))})
				mu.Lock()
				if err == nil {
					acked[key] = true
				} else {
					var se *oss.ServiceError
					if errors.As(err, &se) {
						failures[fmt.Sprintf("%d %s", se.StatusCode, se.Code)]++
					} else {
						failures["transport: "+err.Error()]++
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	waitAcked := func(n int) {
		for range 400 {
			mu.Lock()
			k := len(acked)
			mu.Unlock()
			if k >= n {
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
		t.Fatalf("writes did not progress (acked %d, want %d)", len(acked), n)
	}
	waitAcked(30)
	if err := cl.pg.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	// While it is down: a read fails with 503, not 500 and not a hang.
	_, err := getBytes(ctx, cl.client(1), bucket, "w0-0")
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("GET with PostgreSQL down: %v, want a 503", err)
	}
	time.Sleep(500 * time.Millisecond) // writers keep failing meanwhile
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	if err := cl.pg.Restart(); err != nil {
		t.Fatal(err)
	}
	waitAcked(before + 30)
	close(stop)
	wg.Wait()
	for f, n := range failures {
		if !strings.HasPrefix(f, "503 ") {
			t.Errorf("%d writes failed with %q while PostgreSQL was down; want 503 only", n, f)
		}
	}
	if len(failures) == 0 {
		t.Errorf("no write failed while PostgreSQL was down")
	}
	for key := range acked {
		got, err := getBytes(ctx, cl.client(2), bucket, key)
		if err != nil || !bytes.Equal(got, content(key)) {
			t.Fatalf("acknowledged %s: %d bytes, %v", key, len(got), err)
		}
	}
	t.Logf("%d writes acknowledged, failures while down: %v", len(acked), failures)
}
