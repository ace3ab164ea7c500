package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	randv2 "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/osslog"
)

// Crash-loop shape: 8 workers, each owning a few keys, so that every
// operation on a key is serialised by its worker and the test knows, per
// key, exactly which states the server may show after a crash.
const (
	loopWorkers       = 8
	loopKeysPerWorker = 4
	loopSrc, loopDst  = "loop", "looplogs"
	loopLogPrefix     = "a/"
	loopMinPart       = 100 << 10 // OSS's smallest non-last part
	loopAppendCap     = 768 << 10 // an appendable object above this is deleted next
)

// TestCrashLoop is issue #6's crash loop: an ossd subprocess with access
// logging on runs concurrent PutObject, multipart, AppendObject,
// CopyObject, DeleteObject, GetObject and HeadObject load, is killed with
// SIGKILL at a random moment, and is restarted, N times. After each
// restart every key reads back as its last acknowledged state or, when an
// operation on it was in flight at the kill, as that operation's complete
// result (never a part of it), and ListObjectsV2 agrees with the reads.
// At the end `ossd logs flush` delivers the access log, and every
// acknowledged request (the verification reads included) has exactly one
// line, with its operation, key and status; no request has two.
//
// OSSD_CRASHLOOP_CYCLES sets the cycles (default 2, a few seconds, run by
// `go test ./...`); OSSD_CRASHLOOP_SEED fixes the operation mix (the kill
// moments stay random). Long run:
//
//	OSSD_CRASHLOOP_CYCLES=200 go test -run TestCrashLoop -timeout 2h -v ./e2e/
//
// It runs in both access-log durability modes: the default (--log-sync 1s:
// records written before the response, synced within a second — a killed
// process loses none) and --log-sync always.
func TestCrashLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash loop")
	}
	for _, mode := range logSyncModes {
		t.Run("log-sync="+mode, func(t *testing.T) { runCrashLoop(t, mode) })
	}
}

// logSyncModes are the --log-sync values the kill -9 tests run with: the
// default first.
var logSyncModes = []string{"1s", "always"}

func runCrashLoop(t *testing.T, logSync string) {
	cycles := 2
	if s := os.Getenv("OSSD_CRASHLOOP_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("OSSD_CRASHLOOP_CYCLES=%q: want a positive integer", s)
		}
		cycles = n
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("OSSD_CRASHLOOP_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("OSSD_CRASHLOOP_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (OSSD_CRASHLOOP_SEED reproduces the operation mix)", seed)
	l := newCrashLoop(t, seed)
	ctx := context.Background()
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(seed))

	for cycle := 0; cycle < cycles; cycle++ {
		p := startProc(t, dir, "--log-delivery-interval", "1s", "--log-sync", logSync)
		c := p.client()
		if cycle == 0 {
			l.setup(ctx, c)
		}
		l.verify(ctx, c, cycle)
		if t.Failed() {
			p.kill()
			t.Fatalf("cycle %d: stopping: the server's state left the model", cycle)
		}
		l.load(ctx, p, c, cycle, rng)
	}

	p := startProc(t, dir, "--log-delivery-interval", "1s", "--log-sync", logSync)
	defer p.kill()
	c := p.client()
	l.verify(ctx, c, cycles)
	out, err := exec.Command(ossdBinary(t), "logs", "flush", "--addr", strings.TrimPrefix(p.endpoint, "http://"), "--data", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("ossd logs flush: %v\n%s", err, out)
	}
	l.checkLog(ctx, c, cycles)
}

// loopChunk is a run of deterministic bytes: an object is one chunk (put,
// multipart, copy) or the chunks of its appends, so the test can rebuild
// any state's bytes without keeping them.
type loopChunk struct {
	seed string
	size int
}

// loopBytes is a chunk's content: ChaCha8 keyed by its seed.
func loopBytes(ch loopChunk) []byte {
	b := make([]byte, ch.size)
	randv2.NewChaCha8(sha256.Sum256([]byte(ch.seed))).Read(b)
	return b
}

// loopState is one state a key may be in.
type loopState struct {
	exists     bool
	appendable bool
	chunks     []loopChunk
	size       int64
	sum        [32]byte
}

func newLoopState(appendable bool, chunks ...loopChunk) loopState {
	s := loopState{exists: true, appendable: appendable, chunks: chunks}
	h := sha256.New()
	for _, ch := range chunks {
		h.Write(loopBytes(ch))
		s.size += int64(ch.size)
	}
	h.Sum(s.sum[:0])
	return s
}

func (s loopState) String() string {
	if !s.exists {
		return "absent"
	}
	kind := "normal"
	if s.appendable {
		kind = "appendable"
	}
	return fmt.Sprintf("%s %d bytes sha256 %x", kind, s.size, s.sum[:6])
}

func (s loopState) same(o loopState) bool {
	if !s.exists || !o.exists {
		return s.exists == o.exists
	}
	return s.size == o.size && s.sum == o.sum && s.appendable == o.appendable
}

// loopKey is the model of one key: its last acknowledged state and the
// states an unacknowledged operation may have left.
type loopKey struct {
	name  string
	cur   loopState
	maybe []loopState
}

// ackedReq is what the client saw of a request it got a full answer to.
type ackedReq struct {
	op, key string
	status  int
}

type crashLoop struct {
	t    *testing.T
	seed int64
	keys [loopWorkers][loopKeysPerWorker]*loopKey

	mu       sync.Mutex
	acked    map[string]ackedReq // request id → request
	byOp     map[string]int
	unacked  int // requests that got no complete answer (in flight at a kill)
	verified int // key reads in verification phases
	present  int // of which found an object
	applied  int // in-flight operations found applied after the restart
	dropped  int // in-flight operations found not applied
	seq      atomic.Int64
}

func newCrashLoop(t *testing.T, seed int64) *crashLoop {
	l := &crashLoop{t: t, seed: seed, acked: map[string]ackedReq{}, byOp: map[string]int{}}
	for w := range l.keys {
		for k := range l.keys[w] {
			l.keys[w][k] = &loopKey{name: fmt.Sprintf("w%d/k%d", w, k)}
		}
	}
	return l
}

// setup creates the buckets and turns logging on; these requests precede
// logging and are not expected in the log.
func (l *crashLoop) setup(ctx context.Context, c *oss.Client) {
	l.t.Helper()
	for _, b := range []string{loopSrc, loopDst} {
		if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			l.t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	if _, err := c.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(loopSrc),
		BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{
			TargetBucket: oss.Ptr(loopDst), TargetPrefix: oss.Ptr(loopLogPrefix)}}}); err != nil {
		l.t.Fatalf("enable logging: %v", err)
	}
}

// ack records a request the client got a complete answer to. A request id
// seen twice is itself a failure: ids must identify one request.
func (l *crashLoop) ack(h http.Header, op, key string, status int) {
	rid := h.Get("x-oss-request-id")
	l.mu.Lock()
	defer l.mu.Unlock()
	if rid == "" {
		l.t.Errorf("%s %s: response without x-oss-request-id", op, key)
		return
	}
	if prev, ok := l.acked[rid]; ok {
		l.t.Errorf("request id %s answered twice: %+v and %s %s", rid, prev, op, key)
	}
	l.acked[rid] = ackedReq{op: op, key: key, status: status}
	l.byOp[op]++
}

// ackErr records an OSS error answer (a 404 the model expects).
func (l *crashLoop) ackErr(se *oss.ServiceError, op, key string) {
	l.ack(se.Headers, op, key, se.StatusCode)
}

// notFound reports whether err is a complete NoSuchKey answer.
func notFound(err error) (*oss.ServiceError, bool) {
	var se *oss.ServiceError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound && se.Code == "NoSuchKey" {
		return se, true
	}
	return nil, false
}

// verify reads every key after a restart, checks each against its
// acceptable states, resolves the model to what was found, and checks that
// ListObjectsV2 lists exactly the keys found, with their sizes.
func (l *crashLoop) verify(ctx context.Context, c *oss.Client, cycle int) {
	t := l.t
	t.Helper()
	found := map[string]int64{}
	for w := range l.keys {
		for _, k := range l.keys[w] {
			got := l.read(ctx, c, k.name, cycle)
			l.verified++
			if got.exists {
				l.present++
				found[k.name] = got.size
			}
			cands := append([]loopState{k.cur}, k.maybe...)
			match := -1
			for i, cand := range cands {
				if cand.same(got) {
					match = i
					break
				}
			}
			if match < 0 {
				var want []string
				for _, cand := range cands {
					want = append(want, cand.String())
				}
				t.Errorf("cycle %d: %s is %s; acknowledged or in-flight states: %s", cycle, k.name, got, strings.Join(want, " | "))
				continue
			}
			if match > 0 {
				l.applied++
			} else if len(k.maybe) > 0 {
				l.dropped++
			}
			k.cur, k.maybe = cands[match], nil
		}
	}
	listed := map[string]int64{}
	pg := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(loopSrc), MaxKeys: 7})
	for pg.HasNext() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatalf("cycle %d: list: %v", cycle, err)
		}
		l.ack(page.Headers, "ListObjectsV2", "", http.StatusOK)
		for _, o := range page.Contents {
			name := oss.ToString(o.Key)
			if _, dup := listed[name]; dup {
				t.Errorf("cycle %d: %s listed twice", cycle, name)
			}
			listed[name] = o.Size
		}
	}
	for name, size := range found {
		if ls, ok := listed[name]; !ok {
			t.Errorf("cycle %d: %s reads back (%d bytes) but is not listed", cycle, name, size)
		} else if ls != size {
			t.Errorf("cycle %d: %s listed with %d bytes, reads %d", cycle, name, ls, size)
		}
	}
	for name, size := range listed {
		if _, ok := found[name]; !ok {
			t.Errorf("cycle %d: %s listed (%d bytes) but does not read back", cycle, name, size)
		}
	}
}

// read GETs key during verification, when the server must answer.
func (l *crashLoop) read(ctx context.Context, c *oss.Client, key string, cycle int) loopState {
	l.t.Helper()
	g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(key)})
	if se, ok := notFound(err); ok {
		l.ackErr(se, "GetObject", key)
		return loopState{}
	}
	if err != nil {
		l.t.Fatalf("cycle %d: verify GET %s: %v", cycle, key, err)
	}
	defer g.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, g.Body)
	if err != nil {
		l.t.Fatalf("cycle %d: verify GET %s: body: %v", cycle, key, err)
	}
	l.ack(g.Headers, "GetObject", key, http.StatusOK)
	s := loopState{exists: true, size: n, appendable: g.Headers.Get("x-oss-object-type") == "Appendable"}
	h.Sum(s.sum[:0])
	return s
}

// load runs the workers until the kill and waits for all of them.
func (l *crashLoop) load(ctx context.Context, p *proc, c *oss.Client, cycle int, rng *rand.Rand) {
	var killed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < loopWorkers; w++ {
		wg.Add(1)
		wrng := rand.New(rand.NewSource(l.seed ^ int64(cycle*loopWorkers+w+1)*0x5DEECE66D))
		go func() {
			defer wg.Done()
			l.work(ctx, c, cycle, w, wrng, &killed)
		}()
	}
	time.Sleep(time.Duration(200+rng.Intn(1300)) * time.Millisecond)
	killed.Store(true)
	p.kill()
	wg.Wait()
}

// work runs one worker's operations on its own keys until one fails (the
// kill). A failure before the kill, or any OSS error answer the model does
// not expect, is reported.
func (l *crashLoop) work(ctx context.Context, c *oss.Client, cycle, w int, rng *rand.Rand, killed *atomic.Bool) {
	keys := l.keys[w][:]
	fail := func(op, key string, err error) {
		l.mu.Lock()
		l.unacked++
		l.mu.Unlock()
		var se *oss.ServiceError
		if errors.As(err, &se) && se.Code != "BadErrorResponse" {
			l.t.Errorf("cycle %d: %s %s: unexpected OSS error: %v", cycle, op, key, err)
		} else if !killed.Load() {
			l.t.Errorf("cycle %d: %s %s failed before the kill: %v", cycle, op, key, err)
		}
	}
	for {
		k := keys[rng.Intn(len(keys))]
		seed := fmt.Sprintf("%s#%d", k.name, l.seq.Add(1))
		switch r := rng.Intn(100); {
		case r < 30 || (r < 55 && k.cur.exists && !k.cur.appendable):
			// PutObject, also standing in for appends to a normal object.
			next := newLoopState(false, loopChunk{seed, loopPutSize(rng)})
			res, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name), Body: bytes.NewReader(loopBytes(next.chunks[0]))})
			if err != nil {
				k.maybe = append(k.maybe, next)
				fail("PutObject", k.name, err)
				return
			}
			l.ack(res.Headers, "PutObject", k.name, http.StatusOK)
			k.cur = next
		case r < 55:
			if k.cur.size > loopAppendCap {
				if !l.delete(ctx, c, k, fail) {
					return
				}
				continue
			}
			for n := 1 + rng.Intn(3); n > 0; n-- {
				ch := loopChunk{fmt.Sprintf("%s.%d", seed, n), 1 + rng.Intn(96<<10)}
				next := newLoopState(true, append(append([]loopChunk(nil), k.cur.chunks...), ch)...)
				res, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name),
					Position: oss.Ptr(k.cur.size), Body: bytes.NewReader(loopBytes(ch))})
				if err != nil {
					k.maybe = append(k.maybe, next)
					fail("AppendObject", k.name, err)
					return
				}
				l.ack(res.Headers, "AppendObject", k.name, http.StatusOK)
				if res.NextPosition != next.size {
					l.t.Errorf("cycle %d: append to %s: next position %d, want %d", cycle, k.name, res.NextPosition, next.size)
				}
				k.cur = next
			}
		case r < 67:
			if !l.multipart(ctx, c, k, seed, rng, fail) {
				return
			}
		case r < 79:
			// CopyObject from another of this worker's keys. OSS documents
			// that appendable objects cannot be copied (ossd copies them),
			// so only normal objects are sources here.
			var src *loopKey
			for _, i := range rng.Perm(len(keys)) {
				if s := keys[i]; s != k && s.cur.exists && !s.cur.appendable {
					src = s
					break
				}
			}
			if src == nil {
				continue
			}
			next := src.cur
			next.appendable = false
			res, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name), SourceKey: oss.Ptr(src.name)})
			if err != nil {
				k.maybe = append(k.maybe, next)
				fail("CopyObject", k.name, err)
				return
			}
			l.ack(res.Headers, "CopyObject", k.name, http.StatusOK)
			k.cur = next
		case r < 89:
			if !l.delete(ctx, c, k, fail) {
				return
			}
		case r < 95:
			// GetObject: with no operation on the key in flight, the read
			// must be the acknowledged state exactly.
			g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name)})
			if se, ok := notFound(err); ok {
				l.ackErr(se, "GetObject", k.name)
				if k.cur.exists {
					l.t.Errorf("cycle %d: GET %s: NoSuchKey, acknowledged %s", cycle, k.name, k.cur)
				}
				continue
			}
			if err != nil {
				fail("GetObject", k.name, err)
				return
			}
			h := sha256.New()
			n, err := io.Copy(h, g.Body)
			g.Body.Close()
			if err != nil {
				fail("GetObject", k.name, err)
				return
			}
			l.ack(g.Headers, "GetObject", k.name, http.StatusOK)
			got := loopState{exists: true, size: n, appendable: g.Headers.Get("x-oss-object-type") == "Appendable"}
			h.Sum(got.sum[:0])
			if !got.same(k.cur) {
				l.t.Errorf("cycle %d: GET %s: %s, acknowledged %s", cycle, k.name, got, k.cur)
			}
		default:
			hd, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name)})
			if se, ok := notFound(err); ok {
				l.ackErr(se, "HeadObject", k.name)
				if k.cur.exists {
					l.t.Errorf("cycle %d: HEAD %s: NoSuchKey, acknowledged %s", cycle, k.name, k.cur)
				}
				continue
			}
			if err != nil {
				fail("HeadObject", k.name, err)
				return
			}
			l.ack(hd.Headers, "HeadObject", k.name, http.StatusOK)
			if !k.cur.exists || hd.ContentLength != k.cur.size {
				l.t.Errorf("cycle %d: HEAD %s: %d bytes, acknowledged %s", cycle, k.name, hd.ContentLength, k.cur)
			}
		}
	}
}

// delete removes k; false when the request failed (the worker stops).
func (l *crashLoop) delete(ctx context.Context, c *oss.Client, k *loopKey, fail func(op, key string, err error)) bool {
	res, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name)})
	if err != nil {
		k.maybe = append(k.maybe, loopState{})
		fail("DeleteObject", k.name, err)
		return false
	}
	l.ack(res.Headers, "DeleteObject", k.name, http.StatusNoContent)
	k.cur = loopState{}
	return true
}

// multipart uploads one object in 2–3 parts; only a failed Complete can
// leave the new object behind, a failure before it must leave k as it was.
func (l *crashLoop) multipart(ctx context.Context, c *oss.Client, k *loopKey, seed string, rng *rand.Rand, fail func(op, key string, err error)) bool {
	nparts := 2 + rng.Intn(2)
	size := (nparts-1)*loopMinPart + 1 + rng.Intn(loopMinPart)
	next := newLoopState(false, loopChunk{seed, size})
	data := loopBytes(next.chunks[0])
	init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name)})
	if err != nil {
		fail("InitiateMultipartUpload", k.name, err)
		return false
	}
	l.ack(init.Headers, "InitiateMultipartUpload", k.name, http.StatusOK)
	var parts []oss.UploadPart
	for i := 1; i <= nparts; i++ {
		off, end := (i-1)*loopMinPart, min(i*loopMinPart, size)
		if i == nparts {
			end = size
		}
		r, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name), UploadId: init.UploadId,
			PartNumber: int32(i), Body: bytes.NewReader(data[off:end])})
		if err != nil {
			fail("UploadPart", k.name, err)
			return false
		}
		l.ack(r.Headers, "UploadPart", k.name, http.StatusOK)
		parts = append(parts, oss.UploadPart{PartNumber: int32(i), ETag: r.ETag})
	}
	res, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(loopSrc), Key: oss.Ptr(k.name),
		UploadId: init.UploadId, CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
	if err != nil {
		k.maybe = append(k.maybe, next)
		fail("CompleteMultipartUpload", k.name, err)
		return false
	}
	l.ack(res.Headers, "CompleteMultipartUpload", k.name, http.StatusOK)
	k.cur = next
	return true
}

// loopPutSize spreads PutObject sizes over empty, net/http-buffered
// (≤ 2 KiB), inline (≤ 64 KiB), the inline boundary and blob sizes up to
// 1 MiB.
func loopPutSize(rng *rand.Rand) int {
	switch r := rng.Intn(10); {
	case r == 0:
		return 0
	case r < 3:
		return 1 + rng.Intn(2048)
	case r < 5:
		return 2049 + rng.Intn(64<<10-2048)
	case r == 5:
		return 64<<10 - 1 + rng.Intn(3)
	default:
		return 64<<10 + 1 + rng.Intn(1<<20-64<<10)
	}
}

// checkLog reads every delivered line of the source bucket and compares
// them with the acknowledged requests: each has exactly one line, naming
// its operation, key and status; no request id has two lines; and lines
// of requests the client never saw answered are at most the requests in
// flight at the kills.
func (l *crashLoop) checkLog(ctx context.Context, c *oss.Client, cycles int) {
	t := l.t
	t.Helper()
	seen := map[string]int{}
	var lines []osslog.Line
	objects := 0
	re := logObjectName(loopLogPrefix, loopSrc)
	pg := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(loopDst), Prefix: oss.Ptr(loopLogPrefix + loopSrc)})
	for pg.HasNext() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatalf("list log objects: %v", err)
		}
		for _, o := range page.Contents {
			objects++
			if !re.MatchString(oss.ToString(o.Key)) {
				t.Errorf("log object %q does not match OSS naming", oss.ToString(o.Key))
			}
			g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(loopDst), Key: o.Key})
			if err != nil {
				t.Fatalf("get log object %s: %v", oss.ToString(o.Key), err)
			}
			sc := bufio.NewScanner(bytes.NewReader(readAll(t, g.Body)))
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				ln, err := osslog.Parse(sc.Text())
				if err != nil {
					t.Fatalf("log object %s: line does not parse: %v\n%s", oss.ToString(o.Key), err, sc.Text())
				}
				lines = append(lines, ln)
				seen[ln.RequestID]++
			}
		}
	}
	lost, twice, extra, wrong := 0, 0, 0, 0
	for rid, a := range l.acked {
		if seen[rid] == 0 {
			if lost++; lost <= 5 {
				t.Errorf("acknowledged %s %s (%d) %s has no log line", a.op, a.key, a.status, rid)
			}
		}
	}
	for _, ln := range lines {
		if n := seen[ln.RequestID]; n > 1 {
			if twice++; twice <= 5 {
				t.Errorf("request %s (%s %s) has %d log lines", ln.RequestID, ln.Operation, ln.Key, n)
			}
			seen[ln.RequestID] = -n // count each request once
		}
		a, ok := l.acked[ln.RequestID]
		if !ok {
			extra++
			continue
		}
		if ln.Operation != a.op || ln.Key != a.key || ln.HTTPStatus != a.status {
			if wrong++; wrong <= 5 {
				t.Errorf("request %s: line says %s %q %d, client saw %s %q %d", ln.RequestID, ln.Operation, ln.Key, ln.HTTPStatus, a.op, a.key, a.status)
			}
		}
	}
	if extra > l.unacked {
		t.Errorf("%d lines of requests the client never saw answered, but only %d requests were cut off", extra, l.unacked)
	}
	ops := make([]string, 0, len(l.byOp))
	for op, n := range l.byOp {
		ops = append(ops, fmt.Sprintf("%s=%d", op, n))
	}
	sort.Strings(ops)
	t.Logf("%d cycles (seed %d): %d acknowledged requests (%s); %d requests cut off by kills",
		cycles, l.seed, len(l.acked), strings.Join(ops, " "), l.unacked)
	t.Logf("verification: %d key reads (%d present), in-flight operations found applied %d, not applied %d",
		l.verified, l.present, l.applied, l.dropped)
	t.Logf("access log: %d objects, %d lines, %d lost, %d duplicated, %d with wrong fields, %d of cut-off requests",
		objects, len(lines), lost, twice, wrong, extra)
}
