package server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/faultfs"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/osslog"
)

// These tests run ossd on storage that fails on demand (internal/faultfs):
// object data files and the access-log journal on in-memory filesystems
// that fail writes, syncs, creates, removes and renames, fill up, and can
// be cloned as a power cut would leave them; metadata in a real bbolt file
// behind a wrapper whose commits fail. Clients are the official Go SDK v2
// over HTTP. The properties checked:
//   - a request either succeeds, and what it wrote survives a crash, or
//     fails with an OSS error (XML with Code, Message, RequestId, HostId,
//     EC; 500 InternalError for I/O errors, 503 InsufficientStorage for a
//     full disk); a request whose log record cannot be written is never
//     acknowledged;
//   - nothing acknowledged is lost, and no partial object is ever visible;
//   - the server keeps serving reads, and works again once the fault is
//     gone;
//   - after a crash, every response a client received whole has its record
//     in the delivered access logs, once.

const (
	faultAK    = "fault-ak"
	faultSK    = "fault-sk"
	dataBucket = "data" // logged into logBucket
	logBucket  = "logs"
	bigSize    = 600 << 10 // stored as a blob file (over the 64 KiB inline limit), written in several calls
)

var faultRoot = User{ID: "1000000000000001", DisplayName: "root", AccessKeyID: faultAK, AccessKeySecret: faultSK}

// faultStorage is one server's fault-injecting storage: the metadata in a real
// bbolt file in dir (bbolt opens its file itself), wrapped by meta; blobs
// and the journal on in-memory filesystems. group is nil for a storage
// restored from a crash, which takes no further crash.
type faultStorage struct {
	// logSync is the access-log durability mode (Config.LogSync).
	logSync     time.Duration
	dir         string
	group       *faultfs.Group
	blobs, logs *faultfs.FS
	meta        *faultfs.Meta
}

func newFaultStorage(t testing.TB, logSync time.Duration) *faultStorage {
	g := &faultfs.Group{}
	return &faultStorage{logSync: logSync, dir: faultMetaDir(t), group: g, blobs: g.NewFS(), logs: g.NewFS()}
}

// faultSyncModes are the access-log durability modes the fault tests run
// in: always, and the default mode with a short interval, so that the
// syncer runs (and meets faults and crashes) during a test.
var faultSyncModes = []struct {
	name string
	sync time.Duration
}{{"always", LogSyncAlways}, {"sync=20ms", 20 * time.Millisecond}}

// faultMetaDir is a directory for a test's meta.db, on tmpfs where there is one:
// bbolt fsyncs every commit, and on a disk that wait is most of these
// tests' time. What survives a crash is taken by copying the file while no
// commit is in progress (faultStorage.crash), so the fsyncs prove nothing here.
func faultMetaDir(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "ossd-faults-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// faultSnapshot is what a power cut at one instant leaves of a storage.
type faultSnapshot struct {
	logSync     time.Duration
	dir         string // the data directory it was taken from
	metaDB      []byte
	blobs, logs *faultfs.FS
}

// crash takes a snapshot of st at one instant. keep chooses which
// namespace changes not yet made durable survive (nil: none). at, if set,
// runs at that instant: the test copies its model there, so that the
// model and the snapshot agree on which requests came before the crash.
func (st *faultStorage) crash(keep func(int) bool, at func()) (*faultSnapshot, error) {
	if keep == nil {
		keep = func(int) bool { return false }
	}
	snap := &faultSnapshot{logSync: st.logSync, dir: st.dir}
	var err error
	st.group.Crash(func() {
		if at != nil {
			at()
		}
		// No commit is in progress: the file is exactly what the
		// completed (fsynced) commits left.
		snap.metaDB, err = os.ReadFile(filepath.Join(st.dir, "meta.db"))
		snap.blobs = st.blobs.CrashCloneKeeping(keep)
		snap.logs = st.logs.CrashCloneKeeping(keep)
	})
	if err != nil {
		return nil, fmt.Errorf("copy meta.db: %w", err)
	}
	return snap, nil
}

// restore lays the snapshot out in a new data directory.
func (snap *faultSnapshot) restore(t testing.TB) (*faultStorage, error) {
	dir := faultMetaDir(t)
	if err := os.WriteFile(filepath.Join(dir, "meta.db"), snap.metaDB, 0o600); err != nil {
		return nil, err
	}
	snap.blobs.Relocate(snap.dir, dir)
	snap.logs.Relocate(snap.dir, dir)
	return &faultStorage{logSync: snap.logSync, dir: dir, blobs: snap.blobs, logs: snap.logs}, nil
}

// faultNode is a running server on a storage and an SDK client for it.
type faultNode struct {
	srv *Server
	hs  *httptest.Server
	c   *oss.Client
}

func faultLogger() *slog.Logger {
	if os.Getenv("OSSD_FAULT_VERBOSE") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs a server on st. Delivery runs only on Flush: its clock never
// moves.
func (st *faultStorage) start() (*faultNode, error) {
	cfg := Config{
		DataDir: st.dir, Root: faultRoot, BlobFS: st.blobs, LogFS: st.logs, LogSync: st.logSync,
		LogClock: accesslog.NewFakeClock(time.Now()), Logger: faultLogger(),
	}
	if st.group != nil {
		cfg.WrapMeta = func(m meta.Store) meta.Store {
			st.meta = st.group.WrapMeta(m)
			return st.meta
		}
	}
	srv, err := New(cfg)
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	hs := httptest.NewServer(srv.Handler())
	c := oss.NewClient(oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(faultAK, faultSK)).
		WithEndpoint(hs.URL).WithRegion("cn-hangzhou").WithUsePathStyle(true).
		WithRetryMaxAttempts(1)) // a retry would hide what the first attempt got
	return &faultNode{srv: srv, hs: hs, c: c}, nil
}

func (n *faultNode) close() {
	n.hs.Close()
	n.srv.Close()
}

// payload returns n bytes determined by tag, different for different tags.
func payload(tag string, n int) []byte {
	h := fnv.New64a()
	h.Write([]byte(tag))
	r := rand.New(rand.NewPCG(h.Sum64(), 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// keyState is the history of one key of dataBucket as clients saw it:
// states[0] is "absent"; each write appends the state it would leave when
// it starts, and acked is the newest state a response confirmed. A nil
// state is "absent". The key may hold states[j] for any j >= acked.
type keyState struct {
	states [][]byte
	acked  int
}

// faultModel is what the clients were told. It is safe for concurrent use.
type faultModel struct {
	mu   sync.Mutex
	keys map[string]*keyState
	// logged: the responses to dataBucket that a client received whole;
	// their log records were durable before that.
	logged []answered
	// logging: dataBucket has logging on, so its requests are logged.
	logging bool
	// refusals: the journal is failing, and an error response may be a
	// refusal that nothing was logged for (InsufficientStorage).
	refusals bool
	// maxLost: how many of the logged requests' lines a power cut may have
	// lost: the records written but not yet synced at the crash (default
	// mode; 0 in the always mode). Set on the model taken at a crash.
	maxLost int
}

// answered is a response a client received whole: its request id, and
// its status when it was an error (0: a success).
type answered struct {
	id     string
	status int
}

func newFaultModel() *faultModel { return &faultModel{keys: map[string]*keyState{}} }

func (m *faultModel) key(k string) *keyState {
	ks := m.keys[k]
	if ks == nil {
		ks = &keyState{states: [][]byte{nil}}
		m.keys[k] = ks
	}
	return ks
}

// write runs call, a write that leaves key in state next, and records it.
func (m *faultModel) write(key string, next []byte, call func() (string, error)) error {
	m.mu.Lock()
	ks := m.key(key)
	i := len(ks.states)
	ks.states = append(ks.states, next)
	m.mu.Unlock()
	id, err := call()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		ks.acked = i
	}
	m.responseLocked(id, err)
	return err
}

// adopt records that key, read back once the fault was gone, holds got:
// a completed commit that the client may not have been told of (its
// response was cut off by a failing journal, or the engine reported a
// commit failed after applying it). Later writes build on it.
func (m *faultModel) adopt(key string, got []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ks := m.key(key)
	ks.states = append(ks.states, got)
	ks.acked = len(ks.states) - 1
}

// response records a response to dataBucket (id from a result's headers,
// or from the error).
func (m *faultModel) response(id string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.responseLocked(id, err)
}

func (m *faultModel) responseLocked(id string, err error) {
	status := 0
	if err != nil {
		var se *oss.ServiceError
		if !errors.As(err, &se) || m.refusals {
			return // no response, not a whole one, or maybe not logged
		}
		id, status = se.RequestID, se.StatusCode
	}
	if m.logging && id != "" {
		m.logged = append(m.logged, answered{id, status})
	}
}

// clone copies the model as of now.
func (m *faultModel) clone() *faultModel {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newFaultModel()
	for k, ks := range m.keys {
		c.keys[k] = &keyState{states: slices.Clone(ks.states), acked: ks.acked}
	}
	c.logged = slices.Clone(m.logged)
	c.maxLost = m.maxLost
	return c
}

func resultID(r oss.ResultCommon) string { return r.Headers.Get("X-Oss-Request-Id") }

// loggingKey is the model's pseudo-key for dataBucket's logging prefix.
const loggingKey = "?logging"

// get reads key of dataBucket (nil: absent), or the logging prefix.
func (n *faultNode) get(ctx context.Context, m *faultModel, key string) ([]byte, error) {
	if key == loggingKey {
		r, err := n.c.GetBucketLogging(ctx, &oss.GetBucketLoggingRequest{Bucket: oss.Ptr(dataBucket)})
		if err != nil {
			return nil, err
		}
		m.response(resultID(r.ResultCommon), nil)
		if r.BucketLoggingStatus == nil || r.BucketLoggingStatus.LoggingEnabled == nil {
			return nil, nil
		}
		return []byte(oss.ToString(r.BucketLoggingStatus.LoggingEnabled.TargetPrefix)), nil
	}
	r, err := n.c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(key)})
	var se *oss.ServiceError
	if errors.As(err, &se) && se.Code == "NoSuchKey" {
		m.response("", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("GetObject %s: %w", key, err)
	}
	data, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("GetObject %s: body: %w", key, err)
	}
	m.response(resultID(r.ResultCommon), nil)
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

func describeState(b []byte) string {
	if b == nil {
		return "absent"
	}
	return fmt.Sprintf("%d bytes %x…", len(b), b[:min(len(b), 8)])
}

// verify reads every key of want through n and checks it holds a state
// its history allows: the acknowledged one or a newer one, whole.
// Reads are recorded in rec.
func (n *faultNode) verify(ctx context.Context, want, rec *faultModel) error {
	var errs []error
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range want.keys {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		ks := want.keys[k]
		got, err := n.get(ctx, rec, k)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", k, err))
			continue
		}
		ok := slices.ContainsFunc(ks.states[ks.acked:], func(s []byte) bool {
			return (s == nil) == (got == nil) && bytes.Equal(s, got)
		})
		if !ok {
			errs = append(errs, fmt.Errorf("key %s holds %s; acknowledged: %s (%d newer unacknowledged states possible)",
				k, describeState(got), describeState(ks.states[ks.acked]), len(ks.states)-1-ks.acked))
		}
	}
	return errors.Join(errs...)
}

// checkLogs delivers every pending record and checks that each request id
// in want.logged is in the delivered log lines, and that no line is there
// twice.
func (n *faultNode) checkLogs(ctx context.Context, want *faultModel) error {
	if err := n.srv.Log().Flush(ctx); err != nil {
		return fmt.Errorf("flush logs: %w", err)
	}
	seen := map[string]int{}
	statuses := map[string]int{}
	p := n.c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(logBucket)})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list log objects: %w", err)
		}
		for _, o := range page.Contents {
			r, err := n.c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(logBucket), Key: o.Key})
			if err != nil {
				return fmt.Errorf("get log object %s: %w", oss.ToString(o.Key), err)
			}
			data, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return fmt.Errorf("read log object %s: %w", oss.ToString(o.Key), err)
			}
			for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
				l, err := osslog.Parse(line)
				if err != nil {
					return fmt.Errorf("log object %s: %w: %q", oss.ToString(o.Key), err, line)
				}
				seen[l.RequestID]++
				statuses[l.RequestID] = l.HTTPStatus
			}
		}
	}
	var errs, lost []error
	for _, a := range want.logged {
		if seen[a.id] == 0 {
			lost = append(lost, fmt.Errorf("request %s was answered but has no access-log line", a.id))
			continue
		}
		// The line says what the client was told: the error's status, or
		// a success.
		if got := statuses[a.id]; a.status != 0 && got != a.status || a.status == 0 && got >= 300 {
			errs = append(errs, fmt.Errorf("request %s was answered with status %d (0: success) but logged with %d", a.id, a.status, got))
		}
	}
	if len(lost) > want.maxLost {
		errs = append(errs, fmt.Errorf("%d answered requests have no access-log line; the crash may lose at most %d (records not yet synced)",
			len(lost), want.maxLost))
		errs = append(errs, lost...)
	}
	for id, c := range seen {
		if c > 1 {
			errs = append(errs, fmt.Errorf("request %s has %d access-log lines", id, c))
		}
	}
	return errors.Join(errs...)
}

// faultEnv is a server on fault-injecting storage with dataBucket logged into
// logBucket, and the model of what its clients were told.
type faultEnv struct {
	t       *testing.T
	ctx     context.Context
	st      *faultStorage
	n       *faultNode
	m       *faultModel
	mu      sync.Mutex
	uploads map[string]string // key → multipart upload id
}

func (e *faultEnv) upload(key string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.uploads[key]
}

func newFaultEnv(t *testing.T, logSync time.Duration) *faultEnv {
	t.Helper()
	st := newFaultStorage(t, logSync)
	n, err := st.start()
	if err != nil {
		t.Fatal(err)
	}
	e := &faultEnv{t: t, ctx: context.Background(), st: st, n: n, m: newFaultModel(), uploads: map[string]string{}}
	t.Cleanup(func() {
		if e.n != nil {
			e.n.close()
		}
	})
	for _, b := range []string{dataBucket, logBucket} {
		if _, err := n.c.PutBucket(e.ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			t.Fatalf("PutBucket %s: %v", b, err)
		}
	}
	if err := e.putLogging("log/"); err != nil {
		t.Fatalf("PutBucketLogging: %v", err)
	}
	e.m.logging = true // from now on every request to dataBucket is logged
	return e
}

func (e *faultEnv) put(key string, data []byte) error {
	return e.m.write(key, data, func() (string, error) {
		r, err := e.n.c.PutObject(e.ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(key), Body: bytes.NewReader(data)})
		if err != nil {
			return "", err
		}
		return resultID(r.ResultCommon), nil
	})
}

func (e *faultEnv) del(key string) error {
	return e.m.write(key, nil, func() (string, error) {
		r, err := e.n.c.DeleteObject(e.ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(key)})
		if err != nil {
			return "", err
		}
		return resultID(r.ResultCommon), nil
	})
}

func (e *faultEnv) copy(src, dst string) error {
	e.m.mu.Lock()
	ks := e.m.key(src)
	data := ks.states[ks.acked]
	e.m.mu.Unlock()
	return e.m.write(dst, data, func() (string, error) {
		r, err := e.n.c.CopyObject(e.ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(dst), SourceKey: oss.Ptr(src)})
		if err != nil {
			return "", err
		}
		return resultID(r.ResultCommon), nil
	})
}

// appendTo appends chunk at the end of key's acknowledged state.
func (e *faultEnv) appendTo(key string, chunk []byte) error {
	e.m.mu.Lock()
	ks := e.m.key(key)
	base := ks.states[ks.acked]
	e.m.mu.Unlock()
	next := append(slices.Clone(base), chunk...)
	return e.m.write(key, next, func() (string, error) {
		r, err := e.n.c.AppendObject(e.ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(key),
			Position: oss.Ptr(int64(len(base))), Body: bytes.NewReader(chunk)})
		if err != nil {
			return "", err
		}
		return resultID(r.ResultCommon), nil
	})
}

// readBack reads key and adopts what it holds, after checking it is a
// state the model allows.
func (e *faultEnv) readBack(key string) error {
	one := &faultModel{keys: map[string]*keyState{}}
	e.m.mu.Lock()
	ks := e.m.key(key)
	one.keys[key] = &keyState{states: slices.Clone(ks.states), acked: ks.acked}
	e.m.mu.Unlock()
	if err := e.n.verify(e.ctx, one, e.m); err != nil {
		return err
	}
	got, err := e.n.get(e.ctx, e.m, key)
	if err != nil {
		return err
	}
	e.m.adopt(key, got)
	return nil
}

func (e *faultEnv) initiate(key string) error {
	r, err := e.n.c.InitiateMultipartUpload(e.ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(key)})
	if err != nil {
		e.m.response("", err)
		return err
	}
	e.m.response(resultID(r.ResultCommon), nil)
	e.mu.Lock()
	e.uploads[key] = oss.ToString(r.UploadId)
	e.mu.Unlock()
	return nil
}

func (e *faultEnv) uploadPart(key string, num int32, data []byte) (oss.UploadPart, error) {
	r, err := e.n.c.UploadPart(e.ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(key),
		UploadId: oss.Ptr(e.upload(key)), PartNumber: num, Body: bytes.NewReader(data)})
	if err != nil {
		e.m.response("", err)
		return oss.UploadPart{}, err
	}
	e.m.response(resultID(r.ResultCommon), nil)
	return oss.UploadPart{PartNumber: num, ETag: r.ETag}, nil
}

func (e *faultEnv) complete(key string, parts []oss.UploadPart, data []byte) error {
	return e.m.write(key, data, func() (string, error) {
		r, err := e.n.c.CompleteMultipartUpload(e.ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(key),
			UploadId: oss.Ptr(e.upload(key)), CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
		if err != nil {
			return "", err
		}
		return resultID(r.ResultCommon), nil
	})
}

func (e *faultEnv) putLogging(prefix string) error {
	return e.m.write(loggingKey, []byte(prefix), func() (string, error) {
		r, err := e.n.c.PutBucketLogging(e.ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(dataBucket),
			BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{
				TargetBucket: oss.Ptr(logBucket), TargetPrefix: oss.Ptr(prefix)}}})
		if err != nil {
			return "", err
		}
		return resultID(r.ResultCommon), nil
	})
}

// What an operation does to storage, to tell which faults it must meet.
const (
	tMeta        = 1 << iota // commits metadata
	tBlobCreate              // creates a blob file
	tBlobWrite               // writes blob bytes
	tBlobSync                // fsyncs a blob file
	tBlobSyncDir             // fsyncs a blob directory
	tBlobNew     = tBlobCreate | tBlobWrite | tBlobSync | tBlobSyncDir
)

// matrixOp is a write operation of the fault matrix, on its own key.
type matrixOp struct {
	name    string
	touches int
	setup   func(e *faultEnv, k string) error // acknowledged writes the step builds on
	step    func(e *faultEnv, k string) error // the write under the fault
	recover func(e *faultEnv, k string) error // after the fault: an acknowledged write
}

// multipartParts are the two parts of the Complete case (the first at the
// minimum part size).
func multipartParts(k string) (p1, p2 []byte) {
	return payload(k+"/p1", 100<<10), payload(k+"/p2", 1000)
}

var matrixOps = []matrixOp{
	{
		name: "PutObject-inline", touches: tMeta,
		setup:   func(e *faultEnv, k string) error { return e.put(k, payload(k+"/old", 1000)) },
		step:    func(e *faultEnv, k string) error { return e.put(k, payload(k+"/new", 1000)) },
		recover: func(e *faultEnv, k string) error { return e.put(k, payload(k+"/again", 1000)) },
	},
	{
		name: "PutObject-blob", touches: tMeta | tBlobNew,
		setup:   func(e *faultEnv, k string) error { return e.put(k, payload(k+"/old", bigSize)) },
		step:    func(e *faultEnv, k string) error { return e.put(k, payload(k+"/new", bigSize)) },
		recover: func(e *faultEnv, k string) error { return e.put(k, payload(k+"/again", bigSize)) },
	},
	{
		name: "UploadPart", touches: tMeta | tBlobNew,
		setup: func(e *faultEnv, k string) error { return e.initiate(k) },
		step: func(e *faultEnv, k string) error {
			_, err := e.uploadPart(k, 1, payload(k+"/p1", bigSize))
			return err
		},
		recover: func(e *faultEnv, k string) error {
			data := payload(k+"/p1-again", bigSize)
			p, err := e.uploadPart(k, 1, data)
			if err != nil {
				return err
			}
			return e.complete(k, []oss.UploadPart{p}, data)
		},
	},
	{
		name: "CompleteMultipartUpload", touches: tMeta,
		setup: func(e *faultEnv, k string) error {
			if err := e.initiate(k); err != nil {
				return err
			}
			p1, p2 := multipartParts(k)
			for i, p := range [][]byte{p1, p2} {
				if _, err := e.uploadPart(k, int32(i+1), p); err != nil {
					return err
				}
			}
			return nil
		},
		step: func(e *faultEnv, k string) error { return e.completeAll(k) },
		recover: func(e *faultEnv, k string) error {
			err := e.completeAll(k)
			var se *oss.ServiceError
			if errors.As(err, &se) && se.Code == "NoSuchUpload" {
				// The failed completion was committed after all (its
				// response was lost): the object must be there, whole.
				return e.readBack(k)
			}
			return err
		},
	},
	{
		name: "AppendObject-new", touches: tMeta | tBlobNew,
		step: func(e *faultEnv, k string) error { return e.appendTo(k, payload(k+"/a1", bigSize)) },
		recover: func(e *faultEnv, k string) error {
			if err := e.readBack(k); err != nil {
				return err
			}
			return e.appendTo(k, payload(k+"/a2", bigSize))
		},
	},
	{
		name: "AppendObject-existing", touches: tMeta | tBlobWrite | tBlobSync,
		setup: func(e *faultEnv, k string) error { return e.appendTo(k, payload(k+"/a0", bigSize)) },
		step:  func(e *faultEnv, k string) error { return e.appendTo(k, payload(k+"/a1", bigSize)) },
		recover: func(e *faultEnv, k string) error {
			if err := e.readBack(k); err != nil {
				return err
			}
			return e.appendTo(k, payload(k+"/a2", bigSize))
		},
	},
	{
		name: "CopyObject", touches: tMeta | tBlobNew,
		setup:   func(e *faultEnv, k string) error { return e.put(k+"-src", payload(k+"/src", bigSize)) },
		step:    func(e *faultEnv, k string) error { return e.copy(k+"-src", k) },
		recover: func(e *faultEnv, k string) error { return e.copy(k+"-src", k) },
	},
	{
		name: "DeleteObject", touches: tMeta,
		setup:   func(e *faultEnv, k string) error { return e.put(k, payload(k+"/old", bigSize)) },
		step:    func(e *faultEnv, k string) error { return e.del(k) },
		recover: func(e *faultEnv, k string) error { return e.del(k) },
	},
	{
		name: "PutBucketLogging", touches: tMeta,
		step:    func(e *faultEnv, k string) error { return e.putLogging("log-b/") },
		recover: func(e *faultEnv, k string) error { return e.putLogging("log/") },
	},
}

func (e *faultEnv) completeAll(k string) error {
	p1, p2 := multipartParts(k)
	parts := []oss.UploadPart{
		{PartNumber: 1, ETag: oss.Ptr(fmt.Sprintf("%X", md5.Sum(p1)))},
		{PartNumber: 2, ETag: oss.Ptr(fmt.Sprintf("%X", md5.Sum(p2)))},
	}
	return e.complete(k, parts, append(slices.Clone(p1), p2...))
}

// matrixFault is one kind of storage failure.
type matrixFault struct {
	name string
	arm  func(st *faultStorage)
	// layer: the operations that touch it must fail (0: none must).
	layer int
	// journal: the access-log journal fails: requests to the logged
	// bucket may be cut off, or refused with 503 and not logged.
	journal bool
	// mustFail: every request must fail (go unacknowledged).
	mustFail bool
	// syncFault: the journal's fsync fails (in the default mode, the
	// background syncer's, not a request's).
	syncFault bool
	// must: the fault must be reached at least once over all operations.
	must   bool
	code   string
	status int
}

const errnoENOSPC = syscall.ENOSPC

var matrixFaults = []matrixFault{
	{name: "blob-write-EIO", layer: tBlobWrite, must: true, code: "InternalError", status: 500,
		arm: func(st *faultStorage) { st.blobs.Inject(faultfs.Fault{Op: faultfs.OpWrite}) }},
	{name: "blob-3rd-write-EIO", layer: tBlobWrite, must: true, code: "InternalError", status: 500,
		arm: func(st *faultStorage) { st.blobs.Inject(faultfs.Fault{Op: faultfs.OpWrite, Nth: 3}) }},
	{name: "blob-fsync-EIO", layer: tBlobSync, must: true, code: "InternalError", status: 500,
		arm: func(st *faultStorage) { st.blobs.Inject(faultfs.Fault{Op: faultfs.OpSync}) }},
	{name: "blob-fsync-ENOSPC", layer: tBlobSync, must: true, code: "InsufficientStorage", status: 503,
		arm: func(st *faultStorage) { st.blobs.Inject(faultfs.Fault{Op: faultfs.OpSync, Err: errnoENOSPC}) }},
	{name: "blob-dirsync-EIO", layer: tBlobSyncDir, must: true, code: "InternalError", status: 500,
		arm: func(st *faultStorage) { st.blobs.Inject(faultfs.Fault{Op: faultfs.OpSyncDir}) }},
	{name: "blob-create-EIO", layer: tBlobCreate, must: true, code: "InternalError", status: 500,
		arm: func(st *faultStorage) { st.blobs.Inject(faultfs.Fault{Op: faultfs.OpCreate}) }},
	{name: "blob-remove-EIO", must: true, code: "InternalError", status: 500,
		arm: func(st *faultStorage) { st.blobs.Inject(faultfs.Fault{Op: faultfs.OpRemove}) }},
	{name: "blob-disk-full", layer: tBlobWrite, must: true, code: "InsufficientStorage", status: 503,
		arm: func(st *faultStorage) { st.blobs.SetFree(0) }},
	{name: "meta-commit-EIO", layer: tMeta, must: true, code: "InternalError", status: 500,
		arm: func(st *faultStorage) { st.meta.Inject(faultfs.MetaFault{}) }},
	{name: "meta-commit-ENOSPC", layer: tMeta, must: true, code: "InsufficientStorage", status: 503,
		arm: func(st *faultStorage) { st.meta.Inject(faultfs.MetaFault{Err: errnoENOSPC}) }},
	{name: "meta-commit-applied-EIO", layer: tMeta, must: true, code: "InternalError", status: 500,
		arm: func(st *faultStorage) { st.meta.Inject(faultfs.MetaFault{Mode: faultfs.Applied}) }},
	{name: "journal-write-EIO", journal: true, mustFail: true, must: true, code: "InsufficientStorage", status: 503,
		arm: func(st *faultStorage) { st.logs.Inject(faultfs.Fault{Op: faultfs.OpWrite}) }},
	{name: "journal-fsync-EIO", journal: true, mustFail: true, syncFault: true, must: true, code: "InsufficientStorage", status: 503,
		arm: func(st *faultStorage) { st.logs.Inject(faultfs.Fault{Op: faultfs.OpSync}) }},
	// The journal writes zeros ahead of its records, so a disk that fills
	// up may not fail the next appends at all: this case only checks that
	// nothing goes wrong either way.
	{name: "journal-disk-full", journal: true, code: "InsufficientStorage", status: 503,
		arm: func(st *faultStorage) { st.logs.SetFree(0) }},
}

func (st *faultStorage) hits() int { return st.blobs.Hits() + st.logs.Hits() + st.meta.Hits() }

func (st *faultStorage) clear() {
	st.blobs.Clear()
	st.logs.Clear()
	st.meta.Clear()
}

// checkFaultFailure says whether err is an acceptable failure under f: an OSS
// error with f's code and status and a complete XML body, or, when the
// journal fails, a response cut off before it completed.
func checkFaultFailure(f matrixFault, err error) error {
	var se *oss.ServiceError
	if !errors.As(err, &se) {
		if f.journal {
			return nil // cut off: the log record could not be made durable
		}
		return fmt.Errorf("not an OSS error response: %v", err)
	}
	if se.Code != f.code || se.StatusCode != f.status {
		return fmt.Errorf("got %d %s (%s), want %d %s", se.StatusCode, se.Code, se.Message, f.status, f.code)
	}
	for _, el := range []string{"<Code>", "<Message>", "<RequestId>", "<HostId>", "<EC>"} {
		if !bytes.Contains(se.Snapshot, []byte(el)) {
			return fmt.Errorf("error body lacks %s: %s", el, se.Snapshot)
		}
	}
	if se.EC == "" || se.RequestID == "" {
		return fmt.Errorf("error without EC or RequestId: %s", se.Snapshot)
	}
	return nil
}

// TestStorageFaults runs each write operation under each storage fault:
// the request succeeds or fails with the right OSS error, reads keep
// working while the fault lasts (except on a logged bucket whose journal
// fails: those requests cannot be logged, so they are refused), writes
// work again once it is gone, and after a crash at the end every
// acknowledged write and every answered request's log record is there.
//
// Both access-log durability modes run. In the default mode a journal
// fsync fails in the background syncer, not in a request: the request
// that wrote the record may be acknowledged (its record is written; the
// syncer keeps it and writes it again), and the requests after the failure
// are refused until the journal has recovered. The test syncs while the
// fault is armed so that the syncer meets it.
func TestStorageFaults(t *testing.T) {
	for _, mode := range faultSyncModes {
		t.Run(mode.name, func(t *testing.T) { storageFaults(t, mode.sync) })
	}
}

func storageFaults(t *testing.T, logSync time.Duration) {
	for fi, f := range matrixFaults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel() // each case has its own server and storage
			e := newFaultEnv(t, logSync)
			background := logSync > 0 && f.syncFault // the fault is met by the syncer
			for _, op := range matrixOps {
				if op.setup == nil {
					continue
				}
				if err := op.setup(e, op.name); err != nil {
					t.Fatalf("%s setup: %v", op.name, err)
				}
			}
			ops := slices.Clone(matrixOps)
			if f.journal {
				// Only the first request meets the failing journal itself;
				// the next ones are refused up front for a second. Rotate
				// so that each journal fault hits a different operation.
				k := fi % len(ops)
				ops = append(ops[k:], ops[:k]...)
				e.m.mu.Lock()
				e.m.refusals = true
				e.m.mu.Unlock()
			}
			before := e.st.hits()
			for _, op := range ops {
				f.arm(e.st)
				err := op.step(e, op.name)
				if background {
					e.n.srv.Log().Sync() // fails: the record of op stays in memory, to be written again
				}
				if f.mustFail && !background {
					if err == nil {
						t.Errorf("%s: acknowledged while the journal fails", op.name)
					}
				} else if op.touches&f.layer != 0 && err == nil {
					t.Errorf("%s: succeeded although the fault is on its path", op.name)
				}
				if err != nil {
					if cerr := checkFaultFailure(f, err); cerr != nil {
						t.Errorf("%s: %v", op.name, cerr)
					}
				}
				if !f.journal {
					// Reads are served while the fault lasts.
					if err := e.n.verify(e.ctx, e.m.clone(), e.m); err != nil {
						t.Errorf("reads under the fault, after %s: %v", op.name, err)
					}
				}
				e.st.clear()
			}
			if f.must && e.st.hits() == before {
				t.Fatalf("the fault was never reached")
			}
			if f.journal {
				e.waitJournal()
			}
			for _, op := range matrixOps {
				if err := op.recover(e, op.name); err != nil {
					t.Errorf("%s after the fault: %v", op.name, err)
				}
			}
			if err := e.n.verify(e.ctx, e.m.clone(), e.m); err != nil {
				t.Errorf("after the fault: %v", err)
			}
			if n := e.st.blobs.OpenFiles(); n != 0 {
				t.Errorf("%d blob files left open", n)
			}
			// Sync first: then a power cut may lose no line at all, and the
			// lines of the requests acknowledged before a failed sync are
			// checked to have been written again.
			if err := e.n.srv.Log().Sync(); err != nil {
				t.Fatalf("sync after the fault: %v", err)
			}
			e.crashAndCheck(nil)
		})
	}
}

// waitJournal waits until the server, whose journal failed, accepts
// requests to the logged bucket again (it refuses them for a second after
// a failure), then requires log records again.
func (e *faultEnv) waitJournal() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := e.n.c.GetBucketLogging(e.ctx, &oss.GetBucketLoggingRequest{Bucket: oss.Ptr(dataBucket)})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the journal did not recover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.m.mu.Lock()
	e.m.refusals = false
	e.m.mu.Unlock()
}

// cloneAtCrash is the model at a crash instant, with what the crash may
// lose of the access log: the records not yet synced (Unsynced takes no
// lock, so it can be read while every filesystem operation waits).
func (e *faultEnv) cloneAtCrash() *faultModel {
	m := e.m.clone()
	m.maxLost = int(e.n.srv.Log().Unsynced())
	return m
}

// crashAndCheck takes a crash snapshot now, stops the server, starts a new
// one on the snapshot and checks it against the model.
func (e *faultEnv) crashAndCheck(keep func(int) bool) {
	e.t.Helper()
	var want *faultModel
	snap, err := e.st.crash(keep, func() { want = e.cloneAtCrash() })
	if err != nil {
		e.t.Fatal(err)
	}
	e.n.close()
	e.n = nil
	if err := checkFaultSnapshot(e.t, snap, want); err != nil {
		e.t.Error(err)
	}
}

// checkFaultSnapshot starts a server on snap and checks every key and every
// log record want requires.
func checkFaultSnapshot(t testing.TB, snap *faultSnapshot, want *faultModel) error {
	st, err := snap.restore(t)
	if err != nil {
		return err
	}
	n, err := st.start()
	if err != nil {
		return fmt.Errorf("restart on the crash snapshot: %w", err)
	}
	defer n.close()
	ctx := context.Background()
	return errors.Join(n.verify(ctx, want, newFaultModel()), n.checkListing(ctx, want), n.checkLogs(ctx, want))
}

// checkListing checks that every object dataBucket lists is one some
// client wrote: nothing half-made shows up under another name.
func (n *faultNode) checkListing(ctx context.Context, want *faultModel) error {
	var errs []error
	p := n.c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(dataBucket)})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", dataBucket, err)
		}
		for _, o := range page.Contents {
			if want.keys[oss.ToString(o.Key)] == nil {
				errs = append(errs, fmt.Errorf("listed object %s was never written", oss.ToString(o.Key)))
			}
		}
	}
	return errors.Join(errs...)
}

// TestAppendReleasesBlob: an append to an existing object that is refused
// after its body was read (wrong Content-MD5) must close the blob file it
// opened. Each leaked descriptor stays open until the process exits.
func TestAppendReleasesBlob(t *testing.T) {
	e := newFaultEnv(t, 0)
	k := "appendable"
	if err := e.appendTo(k, payload(k+"/a0", 1000)); err != nil {
		t.Fatal(err)
	}
	chunk := payload(k+"/a1", 1000)
	wrong := md5.Sum([]byte("not the body"))
	_, err := e.n.c.AppendObject(e.ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(dataBucket), Key: oss.Ptr(k),
		Position: oss.Ptr(int64(1000)), Body: bytes.NewReader(chunk),
		ContentMD5: oss.Ptr(base64.StdEncoding.EncodeToString(wrong[:]))})
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.Code != "InvalidDigest" && se.Code != "BadDigest" {
		t.Fatalf("append with a wrong Content-MD5: %v, want BadDigest", err)
	}
	if n := e.st.blobs.OpenFiles(); n != 0 {
		t.Errorf("%d blob files left open after a refused append", n)
	}
	if err := e.appendTo(k, chunk); err != nil {
		t.Fatalf("append after the refused one: %v", err)
	}
	if err := e.n.verify(e.ctx, e.m.clone(), e.m); err != nil {
		t.Error(err)
	}
}

// faultEnvInt reads a positive integer from the environment, or def.
func faultEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// TestStorageCrash: two clients run acknowledged writes of every kind (small
// and blob puts, overwrites, appends, multipart uploads, copies, deletes)
// on a logged bucket while crash snapshots are taken at random points, most
// of them inside a request: just before a blob create, write, fsync,
// directory fsync or remove, a journal write or fsync, or a metadata
// commit, and with a random subset of the namespace changes not yet synced
// surviving. A fresh server on each snapshot must serve every acknowledged
// object byte for byte, show no partial object, and hold the log record of
// every request answered before the crash.
//
// The default is one short round; OSSD_FAULT_CRASH_ROUNDS=N runs N rounds
// (OSSD_FAULT_SEED fixes the first round's seed).
func TestStorageCrash(t *testing.T) {
	rounds := faultEnvInt(t, "OSSD_FAULT_CRASH_ROUNDS", 1)
	seed := uint64(time.Now().UnixNano())
	if os.Getenv("OSSD_FAULT_SEED") != "" {
		seed = uint64(faultEnvInt(t, "OSSD_FAULT_SEED", 1))
	}
	for i := 0; i < rounds; i++ {
		s := seed + uint64(i)
		for _, mode := range faultSyncModes {
			t.Run(fmt.Sprintf("%s/seed=%d", mode.name, s), func(t *testing.T) { crashRound(t, s, mode.sync) })
		}
	}
}

// In the default mode a crash may lose the lines of requests whose records
// were written and not yet synced (cloneAtCrash counts them), never more,
// and never duplicates one.
func crashRound(t *testing.T, seed uint64, logSync time.Duration) {
	const (
		workers    = 2
		opsEach    = 15
		maxCrashes = 4
		every      = 30 // about one storage operation in every crashes
	)
	e := newFaultEnv(t, logSync)
	type taken struct {
		where string
		snap  *faultSnapshot
		want  *faultModel
	}
	var (
		mu    sync.Mutex
		r     = rand.New(rand.NewPCG(seed, 0))
		snaps []taken
	)
	take := func(where string) {
		mu.Lock()
		kr := rand.New(rand.NewPCG(seed, uint64(len(snaps)+1)))
		mu.Unlock()
		var want *faultModel
		snap, err := e.st.crash(func(int) bool { return kr.IntN(2) == 0 }, func() { want = e.cloneAtCrash() })
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		snaps = append(snaps, taken{where, snap, want})
		mu.Unlock()
	}
	maybeCrash := func(where string) {
		mu.Lock()
		fire := len(snaps) < maxCrashes && r.IntN(every) == 0
		mu.Unlock()
		if fire {
			take(where)
		}
	}
	e.st.blobs.SetHook(func(op faultfs.Op, _ string) { maybeCrash("before blob " + string(op)) })
	e.st.logs.SetHook(func(op faultfs.Op, _ string) { maybeCrash("before journal " + string(op)) })
	e.st.meta.SetHook(func() { maybeCrash("before metadata commit") })

	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := crashWorker(e, w, seed, opsEach); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	e.st.blobs.SetHook(nil)
	e.st.logs.SetHook(nil)
	e.st.meta.SetHook(nil)
	take("after the last request")
	for i, s := range snaps {
		if err := checkFaultSnapshot(t, s.snap, s.want); err != nil {
			t.Errorf("crash %d (%s): %v", i, s.where, err)
		} else {
			t.Logf("crash %d (%s): %d keys checked", i, s.where, len(s.want.keys))
		}
	}
}

// crashWorker runs n random writes on keys of its own, each of which must
// be acknowledged.
func crashWorker(e *faultEnv, w int, seed uint64, n int) error {
	r := rand.New(rand.NewPCG(seed, uint64(100+w)))
	var puts []string // keys this worker put and did not delete
	app := fmt.Sprintf("w%d-append", w)
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("w%d-%d", w, i)
		tag := fmt.Sprintf("%d/%s", seed, k)
		var err error
		switch op := r.IntN(7); {
		case op == 0:
			err = e.put(k, payload(tag, 1+r.IntN(3000)))
			puts = append(puts, k)
		case op == 1:
			err = e.put(k, payload(tag, 70<<10+r.IntN(130<<10)))
			puts = append(puts, k)
		case op == 2 && len(puts) > 0: // overwrite: the old blob becomes garbage
			k = puts[r.IntN(len(puts))]
			err = e.put(k, payload(tag+"/over", 1+r.IntN(150<<10)))
		case op == 3:
			err = e.appendTo(app, payload(tag, 1+r.IntN(40<<10)))
		case op == 4:
			p1, p2 := payload(tag+"/p1", 100<<10+r.IntN(1000)), payload(tag+"/p2", 1+r.IntN(5000))
			if err = e.initiate(k); err != nil {
				break
			}
			var parts []oss.UploadPart
			for j, p := range [][]byte{p1, p2} {
				var up oss.UploadPart
				if up, err = e.uploadPart(k, int32(j+1), p); err != nil {
					break
				}
				parts = append(parts, up)
			}
			if err == nil {
				err = e.complete(k, parts, append(slices.Clone(p1), p2...))
			}
		case op == 5 && len(puts) > 0:
			err = e.copy(puts[r.IntN(len(puts))], k)
		case op == 6 && len(puts) > 0:
			j := r.IntN(len(puts))
			err = e.del(puts[j])
			puts = slices.Delete(puts, j, j+1)
		default:
			err = e.put(k, payload(tag, 1+r.IntN(100<<10)))
			puts = append(puts, k)
		}
		if err != nil {
			return fmt.Errorf("worker %d op %d: %w", w, i, err)
		}
	}
	return nil
}

// TestDeliveryFaults: access-log delivery meets each storage fault on its
// path (the delivery state file's write, fsync, rename and directory fsync
// in the journal's filesystem; the log object's blob and metadata commit).
// A failed delivery keeps its records; once the fault is gone a delivery
// stores them, and after a crash every answered request has exactly one
// log line.
func TestDeliveryFaults(t *testing.T) {
	tests := []struct {
		name string
		arm  func(st *faultStorage)
		big  bool // the log object must be a blob file (64 KiB and more)
	}{
		{"state-write-EIO", func(st *faultStorage) { st.logs.Inject(faultfs.Fault{Op: faultfs.OpWrite, Path: "STATE"}) }, false},
		{"state-fsync-EIO", func(st *faultStorage) { st.logs.Inject(faultfs.Fault{Op: faultfs.OpSync, Path: "STATE"}) }, false},
		{"state-rename-EIO", func(st *faultStorage) { st.logs.Inject(faultfs.Fault{Op: faultfs.OpRename}) }, false},
		{"state-dirsync-ENOSPC", func(st *faultStorage) {
			st.logs.Inject(faultfs.Fault{Op: faultfs.OpSyncDir, Err: errnoENOSPC})
		}, false},
		{"log-object-blob-write-EIO", func(st *faultStorage) { st.blobs.Inject(faultfs.Fault{Op: faultfs.OpWrite}) }, true},
		{"log-object-disk-full", func(st *faultStorage) { st.blobs.SetFree(0) }, true},
		{"log-object-commit-EIO", func(st *faultStorage) { st.meta.Inject(faultfs.MetaFault{}) }, true},
		{"log-object-commit-applied-EIO", func(st *faultStorage) { st.meta.Inject(faultfs.MetaFault{Mode: faultfs.Applied}) }, true},
	}
	e := newFaultEnv(t, 0)
	for i := 0; i < 3; i++ {
		if err := e.put(fmt.Sprintf("k%d", i), payload(fmt.Sprint(i), 100)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range tests {
		n := 3
		if tc.big {
			n = 400 // lines of about 300 bytes: a log object well over 64 KiB
		}
		for i := 0; i < n; i++ {
			if _, err := e.n.get(e.ctx, e.m, fmt.Sprintf("k%d", i%3)); err != nil {
				t.Fatal(err)
			}
		}
		before := e.st.hits()
		tc.arm(e.st)
		ferr := e.n.srv.Log().Flush(e.ctx)
		e.st.clear()
		if e.st.hits() == before {
			t.Errorf("%s: the fault was never reached", tc.name)
		} else if ferr == nil {
			t.Errorf("%s: delivery reported success although it failed", tc.name)
		}
		if err := e.n.srv.Log().Flush(e.ctx); err != nil {
			t.Errorf("%s: delivery after the fault: %v", tc.name, err)
		}
	}
	if err := e.n.checkLogs(e.ctx, e.m.clone()); err != nil {
		t.Error(err)
	}
	e.crashAndCheck(nil)
}
