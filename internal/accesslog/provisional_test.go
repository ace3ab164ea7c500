package accesslog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/osslog"
)

// shortSettleWait makes a Flush give up on unsettled records at once.
func shortSettleWait(c *Config) { c.settleWait = time.Millisecond }

// delivered parses every stored object into its lines, by request ID.
func delivered(t testing.TB, s *memSink) map[string][]osslog.Line {
	t.Helper()
	s.lines(t) // format checks
	out := map[string][]osslog.Line{}
	for _, body := range s.snapshot() {
		for _, ln := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
			l, err := osslog.Parse(ln)
			if err != nil {
				t.Fatal(err)
			}
			out[l.RequestID] = append(out[l.RequestID], l)
		}
	}
	return out
}

// provisional appends r provisionally and waits until it is durable (so a
// crash afterwards finds it).
func (e *env) provisional(r *Record) *Provisional {
	e.t.Helper()
	p, err := e.l.AppendProvisional(context.Background(), r)
	if err != nil || p == nil {
		e.t.Fatalf("AppendProvisional(%s) = %v, %v", r.RequestID, p, err)
	}
	<-p.b.done
	if p.b.err != nil {
		e.t.Fatalf("provisional record %s: %v", r.RequestID, p.b.err)
	}
	return p
}

// failed is r as a failed request would log it.
func failed(r *Record, status int, code string) *Record {
	c := *r
	c.HTTPStatus, c.ErrorCode, c.SentBytes = status, code, 230
	return &c
}

func (e *env) flush() {
	e.t.Helper()
	if err := e.l.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// wantLine checks that id was delivered once, with status and request time.
func wantLine(t *testing.T, got map[string][]osslog.Line, id string, status int, requestTime int64) {
	t.Helper()
	ls := got[id]
	if len(ls) != 1 {
		t.Fatalf("record %s delivered %d times, want once", id, len(ls))
	}
	if ls[0].HTTPStatus != status || ls[0].RequestTime != requestTime {
		t.Fatalf("record %s delivered with status %d, request time %d; want %d, %d", id, ls[0].HTTPStatus, ls[0].RequestTime, status, requestTime)
	}
}

// TestProvisionalHeldUntilSettled: a provisional record, and every later
// record of its stream, wait for it to be settled before delivery; other
// streams do not wait. Settled with the same outcome, the record stands as
// written (its timing columns included), once.
func TestProvisionalHeldUntilSettled(t *testing.T) {
	e := newEnv(t, shortSettleWait, "logs", "other")
	r := rec("p", "src", "logs", "", at(10, 1, 0))
	p := e.provisional(r)
	e.append(rec("after", "src", "logs", "", at(10, 1, 1)))
	e.append(rec("elsewhere", "src2", "other", "", at(10, 1, 2)))
	e.flush()
	got := delivered(t, e.sink)
	if len(got["p"])+len(got["after"]) != 0 || len(got["elsewhere"]) != 1 {
		t.Fatalf("before the record is settled: delivered p %d, after %d, elsewhere %d times; want 0, 0, 1",
			len(got["p"]), len(got["after"]), len(got["elsewhere"]))
	}
	final := *r
	final.RequestTime, final.ServerCostTime = 9, 8 // measured later: not an outcome
	if err := p.Settle(context.Background(), &final); err != nil {
		t.Fatal(err)
	}
	e.flush()
	got = delivered(t, e.sink)
	wantLine(t, got, "p", 200, r.RequestTime)
	wantLine(t, got, "after", 200, 3)
	if err := p.Settle(context.Background(), &final); err == nil {
		t.Fatal("a second Settle succeeded")
	}
}

// TestProvisionalReplaced: a provisional record whose request ended
// otherwise is withdrawn and the final record delivered in its place, once
// — whether delivery runs before or after a restart or a crash replays
// the journal.
func TestProvisionalReplaced(t *testing.T) {
	for _, restart := range []string{"none", "reopen", "crash", "kill"} {
		t.Run(restart, func(t *testing.T) {
			e := newEnv(t, nil, "logs")
			e.append(rec("before", "src", "logs", "", at(10, 1, 0)))
			r := rec("p", "src", "logs", "", at(10, 1, 1))
			p := e.provisional(r)
			e.append(rec("during", "src", "logs", "", at(10, 1, 2)))
			if err := p.Settle(context.Background(), failed(r, 412, "PreconditionFailed")); err != nil {
				t.Fatal(err)
			}
			e.append(rec("after", "src", "logs", "", at(10, 1, 3)))
			switch restart {
			case "reopen":
				e.reopen()
			case "crash":
				e.crash()
			case "kill":
				e.kill()
			}
			e.flush()
			got := delivered(t, e.sink)
			wantLine(t, got, "p", 412, 3)
			for _, id := range []string{"before", "during", "after"} {
				wantLine(t, got, id, 200, 3)
			}
			if len(got) != 4 {
				t.Fatalf("%d request IDs delivered, want 4", len(got))
			}
			e.reopen() // the withdrawn record stays withdrawn, the rest delivered
			e.append(rec("later", "src", "logs", "", at(10, 1, 4)))
			e.flush()
			got = delivered(t, e.sink)
			wantLine(t, got, "p", 412, 3)
			wantLine(t, got, "later", 200, 3)
		})
	}
}

// TestProvisionalUnsettledCrash: a crash before the record is settled
// (the request was never answered) leaves the record as written; it is
// delivered once, after the records before it and with those after it.
func TestProvisionalUnsettledCrash(t *testing.T) {
	e := newEnv(t, shortSettleWait, "logs")
	e.append(rec("before", "src", "logs", "", at(10, 1, 0)))
	e.provisional(rec("p", "src", "logs", "", at(10, 1, 1)))
	e.append(rec("during", "src", "logs", "", at(10, 1, 2)))
	e.flush() // delivers "before" only
	if got := delivered(t, e.sink); len(got) != 1 || len(got["before"]) != 1 {
		t.Fatalf("delivered before the crash: %v", got)
	}
	e.crash()
	e.flush()
	exactlyOnce(t, e.sink, []string{"before", "p", "during"})
}

// TestProvisionalWithdrawalFails: the journal fails the batch of the
// withdrawal. Settle reports it (the request is not acknowledged), and
// delivery holds the stream at the record until a background retry has
// withdrawn it; then the final record is delivered in its place, once.
func TestProvisionalWithdrawalFails(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RetryMin = 5 * time.Millisecond; shortSettleWait(c) }, "logs", "other")
	r := rec("p", "src", "logs", "", at(10, 1, 0))
	p := e.provisional(r)
	failing := true
	e.fs.inject = func(op, path string) error { // called with e.fs.mu held
		if failing && op == "sync" && strings.HasSuffix(path, segSuffix) {
			return syscall.EIO
		}
		return nil
	}
	if err := p.Settle(context.Background(), failed(r, 500, "InternalError")); !errors.Is(err, ErrJournalUnavailable) {
		t.Fatalf("Settle with a failing journal = %v, want ErrJournalUnavailable", err)
	}
	e.fs.mu.Lock()
	failing = false
	e.fs.mu.Unlock()
	e.append(rec("elsewhere", "src2", "other", "", at(10, 1, 1)))
	for settled := false; !settled; time.Sleep(time.Millisecond) {
		e.l.mu.Lock()
		settled = len(e.l.streams[streamKey("logs", "", "src")].unsettled) == 0
		e.l.mu.Unlock()
	}
	e.flush()
	got := delivered(t, e.sink)
	wantLine(t, got, "p", 500, 3)
	wantLine(t, got, "elsewhere", 200, 3)
	e.crash()
	e.flush()
	if got := delivered(t, e.sink); len(got["p"]) != 1 {
		t.Fatalf("after a crash, p delivered %d times", len(got["p"]))
	}
}

// TestProvisionalOwnBatchFails: the provisional record's own batch fails.
// Settling with the same outcome reports the failure (nothing is logged:
// the request must not be acknowledged); with another outcome the final
// record is appended as any record is.
func TestProvisionalOwnBatchFails(t *testing.T) {
	for _, same := range []bool{true, false} {
		t.Run(fmt.Sprint("same=", same), func(t *testing.T) {
			e := newEnv(t, nil, "logs")
			failing := true
			e.fs.inject = func(op, path string) error {
				if failing && op == "sync" && strings.HasSuffix(path, segSuffix) {
					return syscall.EIO
				}
				return nil
			}
			r := rec("p", "src", "logs", "", at(10, 1, 0))
			p, err := e.l.AppendProvisional(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			<-p.b.done
			e.fs.mu.Lock()
			failing = false
			e.fs.mu.Unlock()
			final := r
			if !same {
				final = failed(r, 503, "InsufficientStorage")
			}
			err = p.Settle(context.Background(), final)
			if same != (err != nil) {
				t.Fatalf("Settle = %v", err)
			}
			e.crash()
			e.flush()
			got := delivered(t, e.sink)
			if same {
				if len(got) != 0 {
					t.Fatalf("delivered %v; want nothing", got)
				}
				return
			}
			wantLine(t, got, "p", 503, 3)
		})
	}
}

// TestProvisionalConcurrent: many requests append provisional records at
// once, interleaved with plain ones, and settle them in any order, some
// with another outcome; deliveries run meanwhile. Every request is
// delivered once, with its final outcome, also after a crash at the end.
func TestProvisionalConcurrent(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBatch = 64 }, "logs")
	const n = 400
	want := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range n / 8 {
				id := fmt.Sprintf("g%d-%d", g, i)
				r := rec(id, "src", "logs", "", at(10, 2, i%60))
				status := 200
				switch rnd.IntN(4) {
				case 0: // a plain record
					e.append(r)
				case 1: // another outcome
					p, err := e.l.AppendProvisional(context.Background(), r)
					if err != nil {
						t.Error(err)
						return
					}
					status = 412
					if err := p.Settle(context.Background(), failed(r, status, "PreconditionFailed")); err != nil {
						t.Error(err)
						return
					}
				default:
					p, err := e.l.AppendProvisional(context.Background(), r)
					if err != nil {
						t.Error(err)
						return
					}
					if err := p.Settle(context.Background(), r); err != nil {
						t.Error(err)
						return
					}
				}
				mu.Lock()
				want[id] = status
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if err := e.l.Flush(context.Background()); err != nil {
				t.Error(err)
			}
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()
	e.crash()
	e.flush()
	got := delivered(t, e.sink)
	if len(got) != len(want) {
		t.Errorf("%d request IDs delivered, want %d", len(got), len(want))
	}
	for id, status := range want {
		if ls := got[id]; len(ls) != 1 || ls[0].HTTPStatus != status {
			t.Errorf("record %s: delivered %d lines (first %+v), want one with status %d", id, len(ls), ls, status)
		}
	}
}

// TestProvisionalDefaultMode: in the default mode there is nothing to
// overlap; AppendProvisional declines.
func TestProvisionalDefaultMode(t *testing.T) {
	e := newEnv(t, defaultMode, "logs")
	p, err := e.l.AppendProvisional(context.Background(), rec("p", "src", "logs", "", at(10, 1, 0)))
	if p != nil || err != nil {
		t.Fatalf("AppendProvisional in the default mode = %v, %v; want nil, nil", p, err)
	}
}

// TestFlushWaitsForSettlement: a Flush waits for a provisional record in
// flight (its request is committing), so that it delivers what was
// answered before it — here a record appended after the provisional one.
func TestFlushWaitsForSettlement(t *testing.T) {
	e := newEnv(t, nil, "logs")
	r := rec("p", "src", "logs", "", at(10, 1, 0))
	p := e.provisional(r)
	e.append(rec("answered", "src", "logs", "", at(10, 1, 1)))
	flushed := make(chan error, 1)
	go func() { flushed <- e.l.Flush(context.Background()) }()
	select { // a Flush that did not wait returns at once
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) with a provisional record unsettled", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := p.Settle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, []string{"p", "answered"})
}

// TestProvisionalChunksMerge: each provisional record starts a chunk of
// its own while it waits; settled, it merges back, so a stream of them
// costs about a chunk per granule, not one per record.
func TestProvisionalChunksMerge(t *testing.T) {
	e := newEnv(t, nil, "logs")
	var ps []*Provisional
	var rs []*Record
	for i := range 50 {
		r := rec(fmt.Sprint("p", i), "src", "logs", "", at(10, 1, i))
		ps, rs = append(ps, e.provisional(r)), append(rs, r)
	}
	s := e.l.streams[streamKey("logs", "", "src")]
	e.l.mu.Lock()
	held := len(s.chunks)
	e.l.mu.Unlock()
	if held != 50 {
		t.Fatalf("%d chunks for 50 unsettled records, want 50", held)
	}
	for i := len(ps) - 1; i >= 0; i-- { // the worst order
		final := rs[i]
		if i%10 == 0 {
			final = failed(rs[i], 409, "Conflict")
		}
		if err := ps[i].Settle(context.Background(), final); err != nil {
			t.Fatal(err)
		}
	}
	e.l.mu.Lock()
	n, pending := len(s.chunks), s.pending
	e.l.mu.Unlock()
	if n > 2 { // the 5 replacements are records of their own, after the rest
		t.Fatalf("%d chunks after settling, want at most 2", n)
	}
	if pending != 50 {
		t.Fatalf("%d records pending, want 50", pending)
	}
}
