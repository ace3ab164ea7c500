package accesslog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestAppendReplayDeliver(t *testing.T) {
	e := newEnv(t, nil, "logs")
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("r%02d", i)
		ids = append(ids, id)
		e.append(rec(id, []string{"a", "b"}[i%2], "logs", "p/", at(10, i, 0)))
	}
	e.reopen()
	st := e.l.Status()
	if len(st) != 2 || st[0].Bucket != "a" || st[0].Pending != 10 || st[1].Pending != 10 {
		t.Fatalf("Status after replay = %+v", st)
	}
	if !st[0].OldestPending.Equal(at(10, 0, 0)) {
		t.Fatalf("oldest pending %v, want %v", st[0].OldestPending, at(10, 0, 0))
	}
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, ids)
	want := []string{"logs/p/a2026-11-24-10-00-00-0000000000000001", "logs/p/b2026-11-24-10-00-00-0000000000000002"}
	if got := e.sink.keys(); !slices.Equal(got, want) {
		t.Fatalf("objects %q, want %q", got, want)
	}
	for _, s := range e.l.Status() {
		if s.Pending != 0 || s.LastError != nil || !strings.HasPrefix(s.LastObject, "logs/p/"+s.Bucket+"2026") {
			t.Fatalf("Status after Flush = %+v", s)
		}
	}
	// Delivered records stay delivered across a restart, and IDs go on.
	e.reopen()
	e.append(rec("late", "a", "logs", "p/", at(10, 59, 0)))
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, append(ids, "late"))
	if got := len(e.sink.keys()); got != 3 {
		t.Fatalf("%d objects, want 3", got)
	}
}

// TestObjectContent pins the body of a log object: OSS lines, time column
// in UTC+8, newline-terminated, in request-time order even when appended
// out of order.
func TestObjectContent(t *testing.T) {
	e := newEnv(t, nil, "logs")
	r1 := rec("second", "src", "logs", "", at(10, 20, 0).UTC())
	r2 := rec("first", "src", "logs", "", at(10, 10, 0).UTC())
	r2.UserDefined = "eyJ0cnVuY2F0ZWQiOmZhbHNlfQ==" // never in the delivered line
	e.append(r1)
	e.append(r2)
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	body := string(e.sink.object("logs", "src2026-11-24-10-00-00-0000000000000001"))
	want := `203.0.113.7 - - [24/Nov/2026:10:10:00 +0800] "GET /first HTTP/1.1" 200 310 3 "-" "aliyun-sdk-go/v2.1.0" "src.oss-cn-hangzhou.aliyuncs.com" "first" "true" "-" "GetObject" "src" "first.txt" 1024 1 "-" 215 "1657136103983691" - "-" "standard" "-" "-" "-"` + "\n" +
		`203.0.113.7 - - [24/Nov/2026:10:20:00 +0800] "GET /second HTTP/1.1" 200 310 3 "-" "aliyun-sdk-go/v2.1.0" "src.oss-cn-hangzhou.aliyuncs.com" "second" "true" "-" "GetObject" "src" "second.txt" 1024 1 "-" 215 "1657136103983691" - "-" "standard" "-" "-" "-"` + "\n"
	if body != want {
		t.Fatalf("object body:\n%s\nwant:\n%s", body, want)
	}
}

func TestHourBoundary(t *testing.T) {
	e := newEnv(t, nil, "logs")
	e.append(rec("a", "src", "logs", "x/", at(10, 0, 0)))
	e.append(rec("b", "src", "logs", "x/", at(10, 59, 59)))
	e.append(rec("c", "src", "logs", "x/", at(11, 0, 0)))
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"logs/x/src2026-11-24-10-00-00-0000000000000001", "logs/x/src2026-11-24-11-00-00-0000000000000003"}
	if got := e.sink.keys(); !slices.Equal(got, want) {
		t.Fatalf("objects %q, want %q", got, want)
	}
	if n := strings.Count(string(e.sink.object("logs", "x/src2026-11-24-10-00-00-0000000000000001")), "\n"); n != 2 {
		t.Fatalf("10:00 object has %d lines, want 2", n)
	}
}

func TestLocation(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Location = time.UTC }, "logs")
	e.append(rec("a", "src", "logs", "", at(10, 0, 0))) // 02:00 UTC
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.sink.keys(); !slices.Equal(got, []string{"logs/src2026-11-24-02-00-00-0000000000000001"}) {
		t.Fatalf("objects %q", got)
	}
	if body := string(e.sink.object("logs", "src2026-11-24-02-00-00-0000000000000001")); !strings.Contains(body, "[24/Nov/2026:02:00:00 +0000]") {
		t.Fatalf("time column not in UTC: %s", body)
	}
}

func TestIntervalTicks(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Interval = 10 * time.Second }, "logs")
	e.clk.Set(at(10, 30, 1)) // ticks at :10, :20, ...
	e.l.Start(context.Background())
	e.awaitWaits(1)
	e.append(rec("a", "src", "logs", "", e.clk.Now()))
	e.clk.Advance(8 * time.Second) // 10:30:09: no tick yet
	if n := len(e.sink.keys()); n != 0 {
		t.Fatalf("%d objects before the tick", n)
	}
	e.clk.Advance(time.Second) // 10:30:10
	e.awaitWaits(2)
	exactlyOnce(t, e.sink, []string{"a"})

	e.append(rec("b", "src", "logs", "", e.clk.Now()))
	e.append(rec("c", "other", "logs", "", e.clk.Now()))
	e.clk.Advance(10 * time.Second)
	e.awaitWaits(3)
	exactlyOnce(t, e.sink, []string{"a", "b", "c"})
	// Several objects for one hour are fine; each has its own name.
	if n := len(e.sink.keys()); n != 3 {
		t.Fatalf("%d objects, want 3: %q", n, e.sink.keys())
	}
	// A tick with nothing pending puts nothing.
	puts := e.sink.puts
	e.clk.Advance(10 * time.Second)
	e.awaitWaits(4)
	if e.sink.puts != puts {
		t.Fatal("an empty tick put objects")
	}
}

func TestHourlyTick(t *testing.T) {
	e := newEnv(t, nil, "logs") // Interval defaults to 1h, clock at 10:30
	e.l.Start(context.Background())
	e.awaitWaits(1)
	e.append(rec("a", "src", "logs", "", at(10, 30, 0)))
	e.clk.Advance(29*time.Minute + 59*time.Second)
	if n := len(e.sink.keys()); n != 0 {
		t.Fatalf("%d objects before 11:00", n)
	}
	e.clk.Advance(time.Second) // 11:00:00
	e.awaitWaits(2)
	if got := e.sink.keys(); !slices.Equal(got, []string{"logs/src2026-11-24-10-00-00-0000000000000001"}) {
		t.Fatalf("objects %q", got)
	}
}

func TestMissingTargetThenCreated(t *testing.T) {
	e := newEnv(t, nil, "good")
	e.l.Start(context.Background())
	e.awaitWaits(1)
	e.append(rec("m1", "src", "missing", "", at(10, 1, 0)))
	e.append(rec("g1", "other", "good", "", at(10, 1, 0)))
	e.append(rec("m2", "src", "missing", "", at(10, 2, 0)))

	err := e.l.Flush(context.Background())
	if !errors.Is(err, ErrTargetMissing) || !strings.Contains(err.Error(), `"src"`) {
		t.Fatalf("Flush = %v, want ErrTargetMissing for src", err)
	}
	exactlyOnce(t, e.sink, []string{"g1"}) // the other bucket is not held up
	st := e.l.Status()
	if st[1].Bucket != "src" || st[1].Pending != 2 || !errors.Is(st[1].LastError, ErrTargetMissing) ||
		!st[1].NextAttempt.Equal(e.clk.Now().Add(time.Second)) || !st[1].OldestPending.Equal(at(10, 1, 0)) {
		t.Fatalf("Status = %+v", st[1])
	}
	e.awaitWaits(2) // the loop took the retry time

	// Retries back off (1s, 2s, 4s...) and log the reason once.
	e.clk.Advance(time.Second)
	e.awaitWaits(3)
	e.clk.Advance(2 * time.Second)
	e.awaitWaits(4)
	if st := e.l.Status(); !st[1].NextAttempt.Equal(e.clk.Now().Add(4 * time.Second)) {
		t.Fatalf("next attempt %v, want now+4s", st[1].NextAttempt)
	}
	if n := e.logs.count("access log delivery failing"); n != 1 {
		t.Fatalf("failure logged %d times, want once", n)
	}
	// Records survive a restart while the target is missing.
	e.crash()
	e.l.Start(context.Background())
	e.awaitWaits(1)
	if err := e.l.Flush(context.Background()); !errors.Is(err, ErrTargetMissing) {
		t.Fatalf("Flush after restart = %v", err)
	}
	e.awaitWaits(2)

	e.sink.createBucket("missing")
	e.append(rec("m3", "src", "missing", "", at(10, 3, 0)))
	e.clk.Advance(time.Second)
	e.awaitWaits(3)
	exactlyOnce(t, e.sink, []string{"g1", "m1", "m2"}) // the retried batch, exactly
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, []string{"g1", "m1", "m2", "m3"})
	if st := e.l.Status(); st[1].LastError != nil || st[1].Pending != 0 || !st[1].NextAttempt.IsZero() {
		t.Fatalf("Status after recovery = %+v", st[1])
	}
	if n := e.logs.count("access log delivery resumed"); n != 1 {
		t.Fatalf("recovery logged %d times", n)
	}
}

func TestSegmentsRotateAndDelete(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SegmentSize = 2 << 10 }, "logs")
	var ids []string
	for i := range 60 {
		id := fmt.Sprintf("r%d", i)
		ids = append(ids, id)
		e.append(rec(id, "src", "logs", "", at(10, 0, i)))
	}
	if n := len(e.fs.segments()); n < 5 {
		t.Fatalf("%d segments, want rotation", n)
	}
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, ids)
	if segs := e.fs.segments(); len(segs) != 1 {
		t.Fatalf("segments after delivery: %q, want only the active one", segs)
	}
	// A stuck stream keeps the segments holding its records.
	e.append(rec("stuck", "src", "nope", "", at(10, 1, 0)))
	for i := range 30 {
		e.append(rec(fmt.Sprintf("s%d", i), "src", "logs", "", at(10, 1, i)))
		ids = append(ids, fmt.Sprintf("s%d", i))
	}
	if err := e.l.Flush(context.Background()); !errors.Is(err, ErrTargetMissing) {
		t.Fatal(err)
	}
	if n := len(e.fs.segments()); n < 3 {
		t.Fatalf("%d segments: records of the stuck stream were dropped", n)
	}
	e.reopen()
	if st := e.l.Status(); st[0].Pending != 1 {
		t.Fatalf("pending after reopen: %+v", st)
	}
	e.sink.createBucket("nope")
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, append(ids, "stuck"))
	if segs := e.fs.segments(); len(segs) != 1 {
		t.Fatalf("segments after delivery: %q", segs)
	}
}

func TestMaxBatch(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBatch = 7 }, "logs")
	var ids []string
	for i := range 50 {
		id := fmt.Sprintf("r%d", i)
		ids = append(ids, id)
		e.append(rec(id, []string{"a", "b", "c"}[i%3], "logs", "", at(10, 0, i)))
	}
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, ids)
	for _, k := range e.sink.keys() {
		if n := strings.Count(string(e.sink.object("logs", strings.TrimPrefix(k, "logs/"))), "\n"); n > 7 {
			t.Fatalf("%s has %d lines, above MaxBatch", k, n)
		}
	}
}

// TestGroupCommit holds the first fsync until ten more Appends are queued
// behind it, and checks that those ten share one write and one fsync.
func TestGroupCommit(t *testing.T) {
	e := newEnv(t, nil, "logs")
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	syncs, armed := 0, true
	e.fs.onSync = func(path string) {
		if !strings.HasSuffix(path, segSuffix) {
			return
		}
		mu.Lock()
		syncs++
		first := armed
		armed = false
		mu.Unlock()
		if first {
			close(entered)
			<-release
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { e.append(rec("lead", "src", "logs", "", at(10, 0, 0))) })
	<-entered
	for i := range 10 {
		wg.Go(func() { e.append(rec(fmt.Sprintf("f%d", i), "src", "logs", "", at(10, 0, 1))) })
	}
	for queued := 0; queued < 10; runtime.Gosched() {
		e.l.j.mu.Lock()
		if e.l.j.cur != nil {
			queued = len(e.l.j.cur.recs)
		}
		e.l.j.mu.Unlock()
	}
	close(release)
	wg.Wait()
	if syncs != 2 {
		t.Fatalf("%d fsyncs for 11 records in two batches, want 2", syncs)
	}
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(e.sink.lines(t)); got != 11 {
		t.Fatalf("%d records delivered, want 11", got)
	}
}

// TestConcurrentAppend appends from many goroutines on the real filesystem
// and checks every record is delivered once.
func TestConcurrentAppend(t *testing.T) {
	sink := newMemSink("logs")
	l, err := Open(Config{Dir: t.TempDir(), Sink: sink, Clock: NewFakeClock(at(10, 30, 0)), SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const G, N = 32, 50
	var wg sync.WaitGroup
	var ids []string
	for g := range G {
		for i := range N {
			ids = append(ids, fmt.Sprintf("g%d-%d", g, i))
		}
		wg.Go(func() {
			for i := range N {
				if err := l.Append(context.Background(), rec(fmt.Sprintf("g%d-%d", g, i), fmt.Sprintf("b%d", g%4), "logs", "", at(10, g, i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	// Deliver concurrently with the appends, too.
	wg.Go(func() {
		for range 5 {
			if err := l.Flush(context.Background()); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, sink, ids)
}

// journalOnDisk writes records r0..r<n-1> to a journal in a temp dir on the
// OS filesystem and closes it, for tests that then damage the files.
func journalOnDisk(t *testing.T, n int) (string, *memSink, Config) {
	t.Helper()
	dir := t.TempDir()
	sink := newMemSink("logs")
	cfg := Config{Dir: dir, Sink: sink, Clock: NewFakeClock(at(10, 30, 0))}
	l, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := l.Append(context.Background(), rec(fmt.Sprintf("r%d", i), "src", "logs", "", at(10, 0, i))); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	return dir, sink, cfg
}

func TestTornTail(t *testing.T) {
	dir, sink, cfg := journalOnDisk(t, 5)
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	slices.Sort(segs)
	last := segs[len(segs)-1]
	data, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	good, size := frameEnd(t, data)
	if !allZero(data[good:]) {
		t.Fatalf("segment holds non-zero bytes after its frames")
	}
	// The last frame half written again after itself, over the zero fill,
	// as a crash mid-write leaves it.
	lastFrame := data[good-size : good]
	f, _ := os.OpenFile(last, os.O_WRONLY, 0)
	f.WriteAt(lastFrame[:len(lastFrame)/2], int64(good))
	f.Close()

	l, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(last); fi.Size() != int64(good) {
		t.Fatalf("torn tail not truncated: %d bytes, want %d", fi.Size(), good)
	}
	if err := l.Append(context.Background(), rec("after", "src", "logs", "", at(10, 0, 9))); err != nil {
		t.Fatal(err)
	}
	l.Close()

	// A corrupt CRC at the end of the newest segment is a torn tail too.
	segs, _ = filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	slices.Sort(segs)
	newest := segs[len(segs)-1]
	data, _ = os.ReadFile(newest)
	end, _ := frameEnd(t, data)
	data[end-1] ^= 0xff
	os.WriteFile(newest, data, 0o644)
	l, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(context.Background(), rec("after2", "src", "logs", "", at(10, 0, 10))); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Close()
	exactlyOnce(t, sink, []string{"r0", "r1", "r2", "r3", "r4", "after2"})
}

// frameEnd returns where the frames of a segment's bytes end (the zero
// fill starts) and the size of the last frame.
func frameEnd(t *testing.T, data []byte) (end, last int) {
	off := segHeaderSize
	for off < len(data) {
		p, ok := frameAt(data, off)
		if !ok {
			break
		}
		last = frameHeaderSize + len(p)
		off += last
	}
	if last == 0 {
		t.Fatalf("segment has no frame")
	}
	return off, last
}

func TestCorruptSealedSegment(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SegmentSize = 1 << 10 }, "logs")
	for i := range 20 {
		e.append(rec(fmt.Sprintf("r%d", i), "src", "logs", "", at(10, 0, i)))
	}
	e.l.Close()
	first := "/log/" + e.fs.segments()[0]
	n := e.fs.files[first]
	n.data[segHeaderSize+frameHeaderSize+3] ^= 1
	n.synced = n.data
	_, err := Open(Config{Dir: "/log", FS: e.fs, Sink: e.sink, Clock: e.clk})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
	n.data[segHeaderSize+frameHeaderSize+3] ^= 1 // repair, and it opens again
	e.open()
}

// TestDiskFull makes writes fail like a full disk: Append reports
// ErrJournalUnavailable (and ENOSPC), the half-written batch never shows up,
// and Append works again once space returns, without a restart.
func TestDiskFull(t *testing.T) {
	for _, failOp := range []string{"write", "sync"} {
		t.Run(failOp, func(t *testing.T) {
			e := newEnv(t, nil, "logs")
			e.append(rec("before", "src", "logs", "", at(10, 0, 0)))
			full := true
			e.fs.inject = func(op, path string) error {
				if full && strings.HasSuffix(path, segSuffix) && (op == failOp || op == "truncate") {
					return syscall.ENOSPC
				}
				return nil
			}
			for _, id := range []string{"lost1", "lost2"} {
				err := e.l.Append(context.Background(), rec(id, "src", "logs", "", at(10, 0, 1)))
				if !errors.Is(err, ErrJournalUnavailable) || !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Append on a full disk = %v", err)
				}
			}
			e.fs.mu.Lock()
			full = false
			e.fs.mu.Unlock()
			e.append(rec("after", "src", "logs", "", at(10, 0, 2)))
			e.crash() // what is durable is what counts
			if err := e.l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			exactlyOnce(t, e.sink, []string{"before", "after"})
		})
	}
}

func TestAppendErrors(t *testing.T) {
	e := newEnv(t, nil, "logs")
	if err := e.l.Append(context.Background(), rec("x", "", "logs", "", at(10, 0, 0))); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("no source: %v", err)
	}
	if err := e.l.Append(context.Background(), rec("x", "src", "", "", at(10, 0, 0))); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("no target: %v", err)
	}
	big := rec("x", "src", "logs", "", at(10, 0, 0))
	big.UserAgent = strings.Repeat("a", maxPayload)
	if err := e.l.Append(context.Background(), big); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("huge record: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.l.Append(ctx, rec("x", "src", "logs", "", at(10, 0, 0))); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	e.l.Close()
	if err := e.l.Append(context.Background(), rec("x", "src", "logs", "", at(10, 0, 0))); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := e.l.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SubscriberBuffer = 2 }, "logs")
	ctx, cancel := context.WithCancel(context.Background())
	fast := e.l.Subscribe(ctx)
	slow := e.l.Subscribe(context.Background())
	r := rec("a", "src", "logs", "", at(10, 0, 0))
	r.UserDefined = "eyJ9"
	r.Extra = []string{"x"}
	e.append(r)
	r.UserDefined, r.Extra[0] = "changed", "changed" // the caller may reuse r
	got := <-fast
	if got.RequestID != "a" || got.UserDefined != "eyJ9" || got.Extra[0] != "x" {
		t.Fatalf("subscriber got %+v", got)
	}
	// The slow subscriber never reads: Append must not block on it.
	for i := range 5 {
		e.append(rec(fmt.Sprintf("b%d", i), "src", "logs", "", at(10, 0, 1)))
		if g := <-fast; g.RequestID != fmt.Sprintf("b%d", i) {
			t.Fatalf("got %s", g.RequestID)
		}
	}
	if len(slow) != 2 {
		t.Fatalf("slow subscriber holds %d records, want its buffer of 2", len(slow))
	}
	cancel()
	for range fast {
	}
	e.l.Close()
	for range slow {
	}
}

func TestFakeClockTicksAligned(t *testing.T) {
	l := &Log{cfg: Config{Interval: time.Hour, Location: beijing}}
	if got := l.nextTick(at(10, 30, 0)); !got.Equal(at(11, 0, 0)) {
		t.Fatalf("next hourly tick %v", got)
	}
	if got := l.nextTick(at(11, 0, 0)); !got.Equal(at(12, 0, 0)) {
		t.Fatalf("next hourly tick at the hour %v", got)
	}
	l.cfg.Location = time.FixedZone("", 5*3600+30*60)
	if got := l.nextTick(time.Date(2026, 1, 1, 10, 10, 0, 0, l.cfg.Location)); !got.Equal(time.Date(2026, 1, 1, 11, 0, 0, 0, l.cfg.Location)) {
		t.Fatalf("next tick in +0530: %v", got)
	}
	l.cfg.Interval = 15 * time.Second
	if got := l.nextTick(at(10, 0, 16)); !got.Equal(at(10, 0, 30)) {
		t.Fatalf("next 15s tick %v", got)
	}
}

// TestFailedBatchIsCutBack fails the write (short, as on a full disk) or
// the fsync of a batch of several records, then appends one record of the
// same size: unless the failed batch is cut off first, some of its frames
// survive behind the new record, valid and out of ID order.
func TestFailedBatchIsCutBack(t *testing.T) {
	for _, tc := range []struct {
		op string
		n  int // records in the failed batch
	}{{"sync", 2}, {"write", 4}} {
		t.Run(tc.op, func(t *testing.T) {
			e := newEnv(t, nil, "logs")
			entered, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			e.fs.onSync = func(path string) {
				if strings.HasSuffix(path, segSuffix) {
					once.Do(func() { close(entered); <-release })
				}
			}
			failAt := 0                                 // when > 0, the failAt-th segment op tc.op from now fails
			e.fs.inject = func(op, path string) error { // called with e.fs.mu held
				if op == tc.op && failAt > 0 && strings.HasSuffix(path, segSuffix) {
					if failAt--; failAt == 0 {
						return syscall.EIO
					}
				}
				return nil
			}
			var wg sync.WaitGroup
			wg.Go(func() { e.append(rec("lead", "src", "logs", "", at(10, 0, 0))) })
			<-entered
			errs := make([]error, tc.n)
			for i := range tc.n {
				wg.Go(func() {
					errs[i] = e.l.Append(context.Background(), rec(fmt.Sprintf("b%d", i), "src", "logs", "", at(10, 0, 1)))
				})
			}
			for queued := 0; queued < tc.n; runtime.Gosched() {
				e.l.j.mu.Lock()
				if e.l.j.cur != nil {
					queued = len(e.l.j.cur.recs)
				}
				e.l.j.mu.Unlock()
			}
			e.fs.mu.Lock()
			failAt = map[string]int{"sync": 2, "write": 1}[tc.op] // the lead's sync is already past inject
			e.fs.mu.Unlock()
			close(release)
			wg.Wait()
			for _, err := range errs {
				if !errors.Is(err, ErrJournalUnavailable) || !errors.Is(err, syscall.EIO) {
					t.Fatalf("Append in the failed batch = %v", err)
				}
			}
			e.append(rec("d1", "src", "logs", "", at(10, 0, 1)))
			e.crash()
			if err := e.l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			exactlyOnce(t, e.sink, []string{"lead", "d1"})
		})
	}
}

// TestInterruptedSegmentStart: a crash while a segment was being created
// can leave its file with the zero fill on disk but not the header (or
// neither). Open must treat it as empty, not as corruption, and lose
// nothing.
func TestInterruptedSegmentStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short header", []byte(segMagic)},
		{"zeros only", make([]byte, 64<<10)},
		{"zero header, fill", make([]byte, segHeaderSize+4096)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, sink, cfg := journalOnDisk(t, 3)
			// The next segment, named after an ID past every record.
			if err := os.WriteFile(filepath.Join(dir, segName(1000)), tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := Open(cfg)
			if err != nil {
				t.Fatalf("Open after interrupted segment start: %v", err)
			}
			if err := l.Append(context.Background(), rec("after", "src", "logs", "", at(10, 0, 9))); err != nil {
				t.Fatal(err)
			}
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			l.Close()
			exactlyOnce(t, sink, []string{"r0", "r1", "r2", "after"})
		})
	}
}

// TestSealedSegmentGarbage: bytes other than zeros after the last frame of
// a sealed segment cannot come from a crash (a segment is synced whole
// before the next one starts), so Open reports corruption.
func TestSealedSegmentGarbage(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SegmentSize = 1 << 10 }, "logs")
	for i := range 20 {
		e.append(rec(fmt.Sprintf("r%d", i), "src", "logs", "", at(10, 0, i)))
	}
	e.l.Close()
	segs := e.fs.segments()
	if len(segs) < 2 {
		t.Fatalf("want several segments, have %d", len(segs))
	}
	n := e.fs.files["/log/"+segs[0]]
	end, _ := frameEnd(t, n.data)
	if end >= len(n.data) {
		t.Fatalf("sealed segment has no zero fill to damage")
	}
	n.data[len(n.data)-1] = 0x5a
	n.synced = n.data
	if _, err := Open(Config{Dir: "/log", FS: e.fs, Sink: e.sink, Clock: e.clk}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

// TestCloseDuringAppends closes an always-mode Log while many goroutines
// append (each batch is written by one of its callers, with no writer
// goroutine to drain the queue at close): Close must wait for the batches
// begun, every Append must return, those that succeeded must be in the
// journal when it is opened again and those that failed must not.
func TestCloseDuringAppends(t *testing.T) {
	dir := t.TempDir()
	sink := newMemSink("logs")
	cfg := Config{Dir: dir, Sink: sink, Clock: NewFakeClock(at(10, 30, 0))}
	l, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const G = 16
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked []string
		total atomic.Int64
	)
	for g := range G {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("g%d-%d", g, i)
				err := l.Append(context.Background(), rec(id, "src", "logs", "", at(10, 0, 0)))
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("append %s: %v", id, err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
				total.Add(1)
			}
		})
	}
	for total.Load() < 200 {
		runtime.Gosched()
	}
	l.Close()
	wg.Wait()

	l2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if err := l2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, sink, acked)
}
