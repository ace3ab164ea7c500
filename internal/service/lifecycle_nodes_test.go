package service_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/service"
)

// lifecycleKeys is how many objects a lifecycle cluster test expires:
// more than two scan batches (256 keys each), so a run saves its progress
// twice before its last batch.
const lifecycleKeys = 600

// lifecycleCluster is two nodes over one shared store whose service clock
// (object times, lease expiries) is clk, with lifecycleKeys objects
// "k0000"… in bucket "bkt" that a rule expires, logging on, and clk moved
// to a reading (10:00 UTC) at which every object is due.
func lifecycleCluster(t *testing.T, be string, lease time.Duration) (*cluster, *accesslog.FakeClock) {
	t.Helper()
	ctx := context.Background()
	clk := accesslog.NewFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	c := newCluster(t, be, 2, service.Config{Region: "cn-hangzhou", Now: clk.Now, LifecycleLease: lease})
	a := c.nodes[0]
	if err := a.CreateBucket(ctx, ownerP, service.CreateBucketInput{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	for i := range lifecycleKeys {
		k := fmt.Sprintf("k%04d", i)
		if _, err := a.PutObject(ctx, service.PutInput{Bucket: "bkt", Key: k, Body: strings.NewReader(k), Size: int64(len(k)),
			Template: meta.Version{Owner: nodeOwner, StorageClass: "Standard", ACL: "default"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "bkt", TargetPrefix: "log/"}); err != nil {
		t.Fatal(err)
	}
	if err := a.PutBucketLifecycle(ctx, "bkt", expireRule("k", 1), false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * 24 * time.Hour)
	return c, clk
}

// lifecycleLines collects the access-log records of lifecycle actions on
// every node.
type lifecycleLines struct {
	mu sync.Mutex
	n  map[string]int // request line → records
}

// logger returns a LifecycleLogger that records into l and then calls
// after (if set) with the number of records it has passed on so far.
func (l *lifecycleLines) logger(after func(n int)) service.LifecycleLogger {
	n := 0
	return func(_ context.Context, r *accesslog.Record) error {
		l.mu.Lock()
		if l.n == nil {
			l.n = map[string]int{}
		}
		l.n[r.Line.RequestURI]++
		l.mu.Unlock()
		if n++; after != nil {
			after(n)
		}
		return nil
	}
}

// check fails t unless every object was expired, and logged, exactly once.
func (l *lifecycleLines) check(t *testing.T, c *cluster) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for line, n := range l.n {
		if n != 1 {
			t.Errorf("%d access-log records of %q, want 1", n, line)
		}
	}
	if len(l.n) != lifecycleKeys {
		t.Errorf("%d objects' expirations logged, want %d", len(l.n), lifecycleKeys)
	}
	for i := range lifecycleKeys {
		if k := fmt.Sprintf("k%04d", i); !gone(c.nodes[1], k) {
			t.Fatalf("%s not expired", k)
		}
	}
}

// systemRecord is the raw system record name of the cluster's store (nil
// when absent): "lifecycle.run" is a run's saved progress,
// "lifecycle.lease" its lease.
func systemRecord(t *testing.T, c *cluster, name string) []byte {
	t.Helper()
	var raw []byte
	if err := c.store.View(context.Background(), func(tx meta.Tx) error {
		v, err := meta.GetSystem(tx, name)
		raw = slices.Clone(v)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestLifecycleOneRunAcrossNodes: two nodes that run the lifecycle at the
// same time make one run between them: one node scans and acts, the other
// skips (ErrLifecycleBusy while the first runs, or the first's run already
// made when it looks). Each object is expired and logged once.
func TestLifecycleOneRunAcrossNodes(t *testing.T) {
	forBackends(t, func(t *testing.T, be string) {
		tests := []struct {
			name string
			run  func(t *testing.T, c *cluster, clk *accesslog.FakeClock, lines *lifecycleLines) [2]service.LifecycleStats
		}{
			{"on demand while the other runs", func(t *testing.T, c *cluster, clk *accesslog.FakeClock, lines *lifecycleLines) [2]service.LifecycleStats {
				// Node B is asked to run while A is half-way through its
				// first batch.
				var sts [2]service.LifecycleStats
				var errB error
				st, err := c.nodes[0].RunLifecycle(context.Background(), clk.Now(), lines.logger(func(n int) {
					if n == 100 {
						sts[1], errB = c.nodes[1].RunLifecycle(context.Background(), clk.Now(), lines.logger(nil))
					}
				}))
				if err != nil {
					t.Fatalf("node A: %v", err)
				}
				if !errors.Is(errB, service.ErrLifecycleBusy) {
					t.Errorf("node B, asked while node A runs: %v, want ErrLifecycleBusy", errB)
				}
				sts[0] = st
				return sts
			}},
			{"both scheduled at midnight", func(t *testing.T, c *cluster, clk *accesslog.FakeClock, lines *lifecycleLines) [2]service.LifecycleStats {
				// Both nodes' daily timers fire at the same midnight
				// and both runs start at once.
				ac := armedClock{clk, make(chan struct{}, 16)}
				ctx, cancel := context.WithCancel(context.Background())
				var sts [2]service.LifecycleStats
				var mu sync.Mutex
				var waits []func()
				for i, n := range c.nodes {
					waits = append(waits, n.StartLifecycle(ctx, service.LifecycleSchedule{Clock: ac, Log: lines.logger(nil),
						Done: func(st service.LifecycleStats, err error) {
							if err != nil && !errors.Is(err, service.ErrLifecycleBusy) {
								t.Errorf("node %d: %v", i, err)
							}
							mu.Lock()
							sts[i] = st
							mu.Unlock()
						}}))
				}
				<-ac.armed // both wait for midnight
				<-ac.armed
				clk.Set(clk.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour))
				<-ac.armed // both ran and wait again
				<-ac.armed
				cancel()
				for _, w := range waits {
					w()
				}
				return sts
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c, clk := lifecycleCluster(t, be, 0)
				var lines lifecycleLines
				sts := tc.run(t, c, clk, &lines)
				ran := 0
				for i, st := range sts {
					switch {
					case st.Skipped && st.Expired+st.Versions != 0:
						t.Errorf("node %d skipped its run yet acted: %+v", i, st)
					case !st.Skipped:
						ran++
						if st.Expired != lifecycleKeys {
							t.Errorf("node %d ran and expired %d objects, want %d", i, st.Expired, lifecycleKeys)
						}
					}
				}
				if ran != 1 {
					t.Errorf("%d nodes ran the lifecycle (%+v), want 1", ran, sts)
				}
				lines.check(t, c)
				if systemRecord(t, c, "lifecycle.run") != nil || systemRecord(t, c, "lifecycle.lease") != nil {
					t.Error("progress or lease left behind by a completed run")
				}
			})
		}
	})
}

// TestLifecycleHolderDies: the node running the lifecycle dies half-way
// (its run stops after its first progress save and leaves its lease). The
// other node's scheduled run finds the lease held and skips; a lease
// duration later it looks again, takes the expired lease and resumes the
// dead node's run from its saved progress, with its clock reading.
func TestLifecycleHolderDies(t *testing.T) {
	forBackends(t, func(t *testing.T, be string) {
		c, clk := lifecycleCluster(t, be, 0) // the default lease
		var lines lifecycleLines
		reading := clk.Now()
		ctxA, die := context.WithCancel(context.Background())
		stA, err := c.nodes[0].RunLifecycle(ctxA, reading, lines.logger(func(n int) {
			if n == 300 { // in the second batch, the first one saved
				die()
			}
		}))
		if !errors.Is(err, context.Canceled) || stA.Expired != 300 {
			t.Fatalf("node A's run: %+v, %v; want 300 expired, then canceled", stA, err)
		}
		if systemRecord(t, c, "lifecycle.lease") == nil {
			t.Fatal("node A's lease is gone; a dead node releases nothing")
		}
		ac := armedClock{clk, make(chan struct{}, 16)}
		type result struct {
			st  service.LifecycleStats
			err error
		}
		done := make(chan result, 4)
		ctx, cancel := context.WithCancel(context.Background())
		wait := c.nodes[1].StartLifecycle(ctx, service.LifecycleSchedule{Clock: ac, Log: lines.logger(nil),
			Done: func(st service.LifecycleStats, err error) { done <- result{st, err} }})
		defer func() { cancel(); wait() }()
		// At start node B owes the unfinished run, and finds it leased.
		if r := <-done; !errors.Is(r.err, service.ErrLifecycleBusy) || !r.st.Skipped {
			t.Fatalf("node B's run while node A's lease holds: %+v, %v; want skipped, ErrLifecycleBusy", r.st, r.err)
		}
		<-ac.armed
		if got := systemRecord(t, c, "lifecycle.run"); got == nil {
			t.Fatal("node A's saved progress is gone")
		}
		clk.Advance(service.DefaultLifecycleLease)
		r := <-done
		if r.err != nil || !r.st.Resumed || r.st.Expired != lifecycleKeys-300 || !r.st.Completed.Equal(reading) {
			t.Fatalf("node B's run after the lease expired: %+v, %v; want resumed at %v, %d expired", r.st, r.err, reading, lifecycleKeys-300)
		}
		lines.check(t, c)
	})
}

// TestLifecycleLeaseFencing: node A's run pauses past its lease's expiry
// (here: inside its access-log callback) and node B takes the run over.
// When A goes on, its next progress save finds the lease moved on: A
// stops with ErrLifecycleLeaseLost and writes nothing, neither progress
// nor lease, whether B has finished the run or is still running it.
func TestLifecycleLeaseFencing(t *testing.T) {
	const lease = time.Minute
	forBackends(t, func(t *testing.T, be string) {
		tests := []struct {
			name      string
			bFinishes bool
		}{
			{"taken over and finished", true},
			{"taken over, still running", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c, clk := lifecycleCluster(t, be, lease)
				a, b := c.nodes[0], c.nodes[1]
				var lines lifecycleLines
				reading := clk.Now()
				var stB service.LifecycleStats
				var errB error
				var progress, leaseRec []byte // as node B left them
				stA, errA := a.RunLifecycle(context.Background(), reading, lines.logger(func(n int) {
					if n != 300 { // in A's second batch, the first one saved
						return
					}
					clk.Advance(lease)
					ctxB, stopB := context.WithCancel(context.Background())
					defer stopB()
					stB, errB = b.RunLifecycle(ctxB, clk.Now(), lines.logger(func(int) {
						if !tc.bFinishes {
							stopB() // B stops after its first action, before its first save
						}
					}))
					progress, leaseRec = systemRecord(t, c, "lifecycle.run"), systemRecord(t, c, "lifecycle.lease")
				}))
				if !errors.Is(errA, service.ErrLifecycleLeaseLost) {
					t.Fatalf("node A after losing its lease: %+v, %v; want ErrLifecycleLeaseLost", stA, errA)
				}
				if !stB.Resumed {
					t.Errorf("node B did not resume node A's run: %+v", stB)
				}
				if got := systemRecord(t, c, "lifecycle.run"); string(got) != string(progress) {
					t.Errorf("progress after node A stopped:\n%s\nwant node B's (A's save fenced off):\n%s", got, progress)
				}
				if got := systemRecord(t, c, "lifecycle.lease"); string(got) != string(leaseRec) {
					t.Errorf("lease after node A stopped:\n%s\nwant node B's:\n%s", got, leaseRec)
				}
				if tc.bFinishes {
					if errB != nil || stB.Expired != lifecycleKeys-300 || !stB.Completed.Equal(reading) {
						t.Errorf("node B's run: %+v, %v; want %d expired, completed at A's reading", stB, errB, lifecycleKeys-300)
					}
				} else {
					if !errors.Is(errB, context.Canceled) || progress == nil {
						t.Fatalf("node B's run: %+v, %v, progress %s; want stopped after one action, progress saved", stB, errB, progress)
					}
					// B's lease holds A off; once it expires A resumes
					// the run and completes it.
					if _, err := a.RunLifecycle(context.Background(), clk.Now(), lines.logger(nil)); !errors.Is(err, service.ErrLifecycleBusy) {
						t.Errorf("node A while node B's lease holds: %v, want ErrLifecycleBusy", err)
					}
					clk.Advance(lease)
					st, err := a.RunLifecycle(context.Background(), clk.Now(), lines.logger(nil))
					if err != nil || !st.Resumed || !st.Completed.Equal(reading) {
						t.Errorf("node A's run after node B's lease expired: %+v, %v; want resumed, completed at the first reading", st, err)
					}
				}
				lines.check(t, c)
			})
		}
	})
}

// TestLifecycleIntervalAcrossNodes: under --lifecycle-interval every node
// keeps its own timer, yet the cluster makes one run per interval: a node
// whose timer fires less than an interval after another node's run
// started skips, whether the two timers fire together or apart.
func TestLifecycleIntervalAcrossNodes(t *testing.T) {
	const interval = time.Hour
	forBackends(t, func(t *testing.T, be string) {
		for _, offset := range []time.Duration{0, 20 * time.Minute} {
			t.Run(fmt.Sprint("second node started ", offset, " later"), func(t *testing.T) {
				// A lease longer than the interval: a node that finds a
				// run in progress looks again at its next time, so both
				// timers stay an interval apart and the test knows
				// which fire.
				c, clk := lifecycleCluster(t, be, 2*interval)
				ac := armedClock{clk, make(chan struct{}, 16)}
				ctx, cancel := context.WithCancel(context.Background())
				var mu sync.Mutex
				var runs []time.Time // the readings of the runs made
				skips := 0
				var waits []func()
				next := make([]time.Time, 2) // each node's next timer
				for i, n := range c.nodes {
					if i == 1 && offset > 0 {
						clk.Advance(offset)
					}
					next[i] = clk.Now().Add(interval)
					waits = append(waits, n.StartLifecycle(ctx, service.LifecycleSchedule{Clock: ac, Interval: interval,
						Done: func(st service.LifecycleStats, err error) {
							mu.Lock()
							defer mu.Unlock()
							switch {
							case err != nil && !errors.Is(err, service.ErrLifecycleBusy):
								t.Errorf("node %d: %v", i, err)
							case st.Skipped:
								skips++
							default:
								runs = append(runs, st.Completed)
							}
						}}))
					<-ac.armed
				}
				const ticks = 4
				start := clk.Now()
				for range 2 * ticks {
					at := slices.MinFunc(next, func(a, b time.Time) int { return a.Compare(b) })
					if at.After(start.Add(ticks * interval)) {
						break
					}
					clk.Set(at)
					for i := range next {
						if next[i].Equal(at) {
							<-ac.armed // node i ran and waits again
							next[i] = at.Add(interval)
						}
					}
				}
				cancel()
				for _, w := range waits {
					w()
				}
				mu.Lock()
				defer mu.Unlock()
				if len(runs) != ticks {
					t.Errorf("%d runs (%v) and %d skips in %d intervals on two nodes, want %d runs", len(runs), runs, skips, ticks, ticks)
				}
				for i := 1; i < len(runs); i++ {
					if d := runs[i].Sub(runs[i-1]); d < interval {
						t.Errorf("runs at %v and %v: %v apart, less than the interval", runs[i-1], runs[i], d)
					}
				}
			})
		}
	})
}

// TestLifecycleRestartTakesLeaseBack: a node killed mid-run and started
// again with its node id takes its run's lease back at once and resumes
// the run, while another node still finds the lease held.
func TestLifecycleRestartTakesLeaseBack(t *testing.T) {
	forBackends(t, func(t *testing.T, be string) {
		c, clk := lifecycleCluster(t, be, 0)
		node := func(id string) *service.Service {
			return service.New(service.Config{Region: "cn-hangzhou", Now: clk.Now, NodeID: id}, c.store, c.blobs)
		}
		var lines lifecycleLines
		reading := clk.Now()
		ctx, kill := context.WithCancel(context.Background())
		if _, err := node("n1").RunLifecycle(ctx, reading, lines.logger(func(n int) {
			if n == 300 {
				kill()
			}
		})); !errors.Is(err, context.Canceled) {
			t.Fatalf("node n1's first run: %v, want canceled", err)
		}
		if _, err := node("n2").RunLifecycle(context.Background(), clk.Now(), lines.logger(nil)); !errors.Is(err, service.ErrLifecycleBusy) {
			t.Fatalf("node n2 while n1's lease holds: %v, want ErrLifecycleBusy", err)
		}
		st, err := node("n1").RunLifecycle(context.Background(), clk.Now(), lines.logger(nil))
		if err != nil || !st.Resumed || st.Expired != lifecycleKeys-300 || !st.Completed.Equal(reading) {
			t.Fatalf("node n1 restarted: %+v, %v; want resumed at once, %d expired", st, err, lifecycleKeys-300)
		}
		lines.check(t, c)
	})
}

// TestLifecycleStopReleasesLease: a node whose lifecycle schedule stops
// (a graceful shutdown) in the middle of a run leaves its progress and
// lets its lease expire at once, so another node resumes the run without
// waiting out the lease (a dead node's lease, TestLifecycleHolderDies,
// still holds until it expires).
func TestLifecycleStopReleasesLease(t *testing.T) {
	forBackends(t, func(t *testing.T, be string) {
		c, clk := lifecycleCluster(t, be, 0) // the default lease
		var lines lifecycleLines
		ac := armedClock{clk, make(chan struct{}, 16)}
		ctx, stop := context.WithCancel(context.Background())
		wait := c.nodes[0].StartLifecycle(ctx, service.LifecycleSchedule{Clock: ac, Log: lines.logger(func(n int) {
			if n == 300 { // in the second batch, the first one saved
				stop()
			}
		})})
		<-ac.armed // nothing owed at start: node A waits for midnight
		clk.Advance(service.NextLifecycleRun(clk.Now(), 0).Sub(clk.Now()))
		reading := clk.Now()
		wait()
		if systemRecord(t, c, "lifecycle.run") == nil {
			t.Fatal("node A's saved progress is gone")
		}
		st, err := c.nodes[1].RunLifecycle(context.Background(), clk.Now(), lines.logger(nil))
		if err != nil || !st.Resumed || st.Expired != lifecycleKeys-300 || !st.Completed.Equal(reading) {
			t.Fatalf("node B right after node A stopped: %+v, %v; want resumed at once at %v, %d expired", st, err, reading, lifecycleKeys-300)
		}
		lines.check(t, c)
	})
}
