package accesslog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd/osslog"
)

// beijing is the default Location, spelled out for test times.
var beijing = time.FixedZone("UTC+8", 8*3600)

// at returns 2026-11-24 hh:mm:ss in Beijing time.
func at(hh, mm, ss int) time.Time { return time.Date(2026, 11, 24, hh, mm, ss, 0, beijing) }

// memSink is a Sink that keeps objects in memory by bucket and key (last
// write wins, as in the object store). Buckets must be created first;
// missing ones give ErrTargetMissing.
type memSink struct {
	mu      sync.Mutex
	objects map[string]map[string][]byte
	puts    int
	fail    func(bucket, key string) error // extra failures, if set
	log     []string                       // if non-nil, a line per put (scripts)
}

func newMemSink(buckets ...string) *memSink {
	s := &memSink{objects: map[string]map[string][]byte{}}
	for _, b := range buckets {
		s.objects[b] = map[string][]byte{}
	}
	return s
}

func (s *memSink) createBucket(b string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects[b] == nil {
		s.objects[b] = map[string][]byte{}
	}
}

func (s *memSink) PutLogObject(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		return fmt.Errorf("memsink: size %d, body %d bytes", size, len(data))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(bucket, key); err != nil {
			return err
		}
	}
	b := s.objects[bucket]
	if b == nil {
		return fmt.Errorf("memsink: bucket %q: %w", bucket, ErrTargetMissing)
	}
	b[key] = data
	s.puts++
	if s.log != nil {
		s.log = append(s.log, logPut(bucket, key, data))
	}
	return nil
}

// keys lists "bucket/key" of every stored object, sorted.
func (s *memSink) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for b, objs := range s.objects {
		for k := range objs {
			out = append(out, b+"/"+k)
		}
	}
	slices.Sort(out)
	return out
}

// snapshot returns every object's content by "bucket/key".
func (s *memSink) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for b, objs := range s.objects {
		for k, v := range objs {
			out[b+"/"+k] = string(v)
		}
	}
	return out
}

func (s *memSink) object(bucket, key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objects[bucket][key]
}

// lines parses every stored object and counts the lines by request ID. It
// fails the test on a malformed object or line, and checks that each
// object's lines are in time order and of one hour.
func (s *memSink) lines(t testing.TB) map[string]int {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	count := map[string]int{}
	for b, objs := range s.objects {
		for k, body := range objs {
			if len(body) == 0 || body[len(body)-1] != '\n' {
				t.Fatalf("object %s/%s does not end in a newline", b, k)
			}
			var prev time.Time
			for _, ln := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
				l, err := osslog.Parse(ln)
				if err != nil {
					t.Fatalf("object %s/%s: %v\n%s", b, k, err, ln)
				}
				if l.Time.Before(prev) {
					t.Fatalf("object %s/%s: lines out of time order", b, k)
				}
				if !prev.IsZero() && l.Time.Truncate(time.Hour) != prev.Truncate(time.Hour) {
					t.Fatalf("object %s/%s: lines of two hours", b, k)
				}
				prev = l.Time
				count[l.RequestID]++
			}
		}
	}
	return count
}

// rec builds a record identified by id (its request ID).
func rec(id, source, target, prefix string, tm time.Time) *Record {
	return &Record{
		Line: osslog.Line{
			RemoteIP: "203.0.113.7", Time: tm, RequestURI: "GET /" + id + " HTTP/1.1",
			HTTPStatus: 200, SentBytes: 310, RequestTime: 3, UserAgent: "aliyun-sdk-go/v2.1.0",
			Host: source + ".oss-cn-hangzhou.aliyuncs.com", RequestID: id, LoggingFlag: "true",
			Operation: "GetObject", Bucket: source, Key: id + ".txt", ObjectSize: 1024,
			ServerCostTime: 1, RequestLength: 215, UserID: "1657136103983691", DeltaDataSize: osslog.AbsentDelta,
			StorageClass: "standard",
		},
		SourceBucket: source, TargetBucket: target, TargetPrefix: prefix,
	}
}

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.b.String(), s)
}

// env is a Log on a memFS with a fake clock and a memSink.
type env struct {
	t    testing.TB
	fs   *memFS
	clk  *FakeClock
	sink *memSink
	logs *lockedBuffer
	cfg  Config
	l    *Log
}

func newEnv(t testing.TB, tweak func(*Config), buckets ...string) *env {
	t.Helper()
	e := &env{t: t, fs: newMemFS(), clk: NewFakeClock(at(10, 30, 0)), sink: newMemSink(buckets...), logs: &lockedBuffer{}}
	e.cfg = Config{
		Dir: "/log", PutConcurrency: 1,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&e.cfg)
	}
	e.open()
	t.Cleanup(func() { e.l.Close() })
	return e
}

func (e *env) open() {
	e.t.Helper()
	cfg := e.cfg
	cfg.FS, cfg.Clock, cfg.Sink = e.fs, e.clk, e.sink
	l, err := Open(cfg)
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	e.l = l
}

// crash abandons the Log as a kill -9 would and reopens the directory as a
// restart would find it.
func (e *env) crash() { e.crashWith(crashPolicy{}) }

// crashPolicy says what of the un-synced state survives a crash: the i-th
// namespace change (file creation, rename, removal) if keep(i), and with
// zeroFill a grown file's new size, reading zeros.
type crashPolicy struct {
	keep     func(i int) bool
	zeroFill bool
}

func (e *env) crashWith(p crashPolicy) {
	e.t.Helper()
	old := e.l
	keep := p.keep
	if keep == nil {
		keep = func(int) bool { return false }
	}
	e.fs = e.fs.CrashCloneKeeping(keep, p.zeroFill)
	old.Close() // stops its goroutines; writes only to the abandoned FS
	e.open()
}

// crashPolicies are the crashes the crash tests try: nothing un-synced
// survives; everything survives but data, which reads as zeros; a
// pseudo-random subset of the namespace changes survives.
func crashPolicies(seed int) map[string]crashPolicy {
	return map[string]crashPolicy{
		"none":   {},
		"all":    {keep: func(int) bool { return true }, zeroFill: true},
		"subset": subset(seed),
	}
}

func subset(seed int) crashPolicy {
	return crashPolicy{keep: func(i int) bool { return (uint(i)*2654435761+uint(seed)*40503)>>7&1 == 1 }}
}

// reopen closes the Log cleanly and opens it again.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.l.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) append(r *Record) {
	e.t.Helper()
	if err := e.l.Append(context.Background(), r); err != nil {
		e.t.Fatalf("Append(%s): %v", r.RequestID, err)
	}
}

// awaitWaits blocks until the delivery loop has started waiting n times:
// after the tick handled by the preceding Advance.
func (e *env) awaitWaits(n int) {
	for {
		e.l.mu.Lock()
		w, ch := e.l.waits, e.l.waitsCh
		e.l.mu.Unlock()
		if w >= n {
			return
		}
		<-ch
	}
}

func (e *env) waits() int {
	e.l.mu.Lock()
	defer e.l.mu.Unlock()
	return e.l.waits
}

// exactlyOnce checks that the delivered lines are exactly ids, each once.
func exactlyOnce(t testing.TB, sink *memSink, ids []string) {
	t.Helper()
	exactlyOnceIn(t, sink.lines(t), ids)
}

// exactlyOnceIn checks that got (lines by request ID) is exactly ids, once
// each.
func exactlyOnceIn(t testing.TB, got map[string]int, ids []string) {
	t.Helper()
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("record %s delivered %d times", id, got[id])
		}
		delete(got, id)
	}
	for id, n := range got {
		t.Errorf("unexpected record %s delivered %d times", id, n)
	}
}

// dueBy reports whether a timer of c falls due by t.
func (c *FakeClock) dueBy(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if !w.at.After(t) {
			return true
		}
	}
	return false
}
