package accesslog

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// crashScenario appends records of four streams over two hours (one stream
// to a bucket that does not exist yet) and returns their IDs.
func crashScenario(e *env) []string {
	var ids []string
	for i := range 24 {
		id := fmt.Sprintf("r%02d", i)
		src := []string{"a", "b", "c", "d"}[i%4]
		target, prefix := "logs", "p/"
		switch src {
		case "c":
			target, prefix = "logs2", ""
		case "d":
			target = "later" // created after the first crash
		}
		e.append(rec(id, src, target, prefix, at(10+i/12, i%12*5, 0)))
		ids = append(ids, id)
	}
	return ids
}

// recover reopens after a crash, creates the late bucket, delivers
// everything and checks each record was delivered exactly once.
func recoverAndCheck(t *testing.T, e *env, ids []string) {
	t.Helper()
	e.sink.createBucket("later")
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatalf("Flush after restart: %v", err)
	}
	exactlyOnce(t, e.sink, ids)
	if segs := e.fs.segments(); len(segs) != 1 {
		t.Fatalf("segments left after delivering everything: %q", segs)
	}
}

// TestCrashAtEachDeliveryStep crashes a delivery at each of its steps in
// turn (after the plan is saved, after each object put, before and after
// the cursor commit), restarts from what was durable, and checks that the
// delivered lines (objects by name, last write wins) are the appended
// records exactly once.
func TestCrashAtEachDeliveryStep(t *testing.T) {
	steps := map[string]bool{}
	for k := 1; ; k++ {
		calls := 0
		var crashedAt string
		e := newEnv(t, func(c *Config) {
			c.MaxBatch = 4 // several rounds and several plans per round
			c.hook = func(step string) error {
				calls++
				if calls == k {
					crashedAt = step
					return errCrashed
				}
				return nil
			}
		}, "logs", "logs2")
		ids := crashScenario(e)
		err := e.l.Flush(context.Background())
		if crashedAt == "" {
			if !errors.Is(err, ErrTargetMissing) {
				t.Fatalf("Flush without crash = %v", err)
			}
			break
		}
		if !errors.Is(err, errCrashed) {
			t.Fatalf("crash at hook call %d (%s): Flush = %v", k, crashedAt, err)
		}
		steps[crashedAt] = true
		before := e.sink.snapshot()
		e.cfg.hook = nil
		e.crashWith(subset(k))
		// New records of the same streams and hours arrive before the
		// redo: they must not change the redone objects.
		for _, src := range []string{"a", "b", "c"} {
			target := map[string]string{"a": "logs", "b": "logs", "c": "logs2"}[src]
			prefix := map[string]string{"a": "p/", "b": "p/", "c": ""}[src]
			id := "new-" + src
			e.append(rec(id, src, target, prefix, at(11, 59, 0)))
			ids = append(ids, id)
		}
		recoverAndCheck(t, e, ids)
		for key, body := range before {
			if got := e.sink.snapshot()[key]; got != body {
				t.Fatalf("crash at %s: object %s redone with other content:\n%s\nnow:\n%s", crashedAt, key, body, got)
			}
		}
	}
	for _, s := range []string{"plan-saved", "object-put", "before-commit", "after-commit"} {
		if !steps[s] {
			t.Errorf("no crash injected at step %s", s)
		}
	}
}

// TestCrashAtEachFSOp crashes the filesystem at every mutating operation of
// a delivery in turn (every write, fsync, rename, remove, directory sync),
// then, after the restart, at every operation of the redo as well; at the
// end each record must have been delivered exactly once.
func TestCrashAtEachFSOp(t *testing.T) {
	setup := func() (*env, []string) {
		e := newEnv(t, func(c *Config) { c.MaxBatch = 4; c.SegmentSize = 1 << 10 }, "logs", "logs2")
		return e, crashScenario(e)
	}
	// flushCrashing runs Flush with the filesystem crashing at its k-th
	// mutating operation, and reports whether the crash happened.
	flushCrashing := func(e *env, k int) bool {
		e.fs.mu.Lock()
		e.fs.crashAt = e.fs.ops + k
		e.fs.mu.Unlock()
		e.l.Flush(context.Background())
		e.fs.mu.Lock()
		defer e.fs.mu.Unlock()
		return e.fs.crashed
	}
	runs := 0
	for k1 := 1; ; k1++ {
		done := false
		for name, policy := range crashPolicies(k1) {
			e, ids := setup()
			if !flushCrashing(e, k1) {
				done = true
				break
			}
			pending := e.fs.pendingOps()
			e.crashWith(policy)
			t.Run(fmt.Sprintf("op%d-%s-of-%d", k1, name, pending), func(t *testing.T) {
				recoverAndCheck(t, e, ids)
			})
			runs++
		}
		if done {
			break
		}

		if testing.Short() && k1%4 != 0 {
			continue
		}
		for k2 := 1; ; k2++ {
			e, ids := setup()
			flushCrashing(e, k1)
			e.crashWith(subset(k2))
			e.sink.createBucket("later")
			if !flushCrashing(e, k2) {
				break
			}
			e.crashWith(crashPolicies(k1 + k2)[[]string{"none", "all", "subset"}[k2%3]])
			recoverAndCheck(t, e, ids)
			runs++
		}
	}
	if runs < 20 {
		t.Fatalf("only %d crash points: the sweep is not reaching the delivery", runs)
	}
	t.Logf("%d crash runs", runs)
}

// TestCrashDuringAppends crashes at every filesystem operation of a series
// of appends (segment rotation included): every acknowledged record must
// be delivered exactly once, and none other.
func TestCrashDuringAppends(t *testing.T) {
	for k := 1; ; k++ {
		e := newEnv(t, func(c *Config) { c.SegmentSize = 1 << 10 }, "logs")
		e.fs.mu.Lock()
		e.fs.crashAt = e.fs.ops + k
		e.fs.mu.Unlock()
		var acked []string
		for i := range 12 {
			id := fmt.Sprintf("r%d", i)
			err := e.l.Append(context.Background(), rec(id, "src", "logs", "", at(10, i, 0)))
			if err == nil {
				acked = append(acked, id)
			} else if !errors.Is(err, ErrJournalUnavailable) {
				t.Fatalf("Append = %v", err)
			}
		}
		e.fs.mu.Lock()
		crashed := e.fs.crashed
		e.fs.mu.Unlock()
		if !crashed {
			break
		}
		e.crashWith(crashPolicies(k)[[]string{"none", "all", "subset"}[k%3]])
		e.append(rec("after", "src", "logs", "", at(10, 59, 0)))
		if err := e.l.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		exactlyOnce(t, e.sink, append(acked, "after"))
	}
}
