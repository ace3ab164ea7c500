package accesslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
	"github.com/ossd/ossd/osslog"
	"github.com/ossd/ossd/osslog/stats"
)

// storeSink commits log objects as rows of the metadata store (SpaceObjects,
// "bucket/key" → body), running the put's fence in the committing
// transaction as the object service does: a deliverer whose lease was taken
// stores nothing. It counts the commits of each name.
type storeSink struct {
	store   meta.Store
	buckets map[string]bool
	mu      sync.Mutex
	puts    map[string]int
	// before, if set, runs before the commit transaction (tests pause a
	// deliverer there).
	before func(key string)
}

func (s *storeSink) PutLogObject(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s.mu.Lock()
	ok, before := s.buckets[bucket], s.before
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("bucket %s: %w", bucket, ErrTargetMissing)
	}
	if before != nil {
		before(key)
	}
	fence := FenceOf(ctx)
	if err := s.store.Update(ctx, func(tx meta.Tx) error {
		if fence != nil {
			if err := fence(tx); err != nil {
				return err
			}
		}
		return tx.Put(meta.SpaceObjects, []byte(bucket+"/"+key), data)
	}); err != nil {
		return err
	}
	s.mu.Lock()
	s.puts[bucket+"/"+key]++
	s.mu.Unlock()
	return nil
}

func (s *storeSink) createBucket(b string) {
	s.mu.Lock()
	s.buckets[b] = true
	s.mu.Unlock()
}

// objects returns the stored objects by "bucket/key".
func (s *storeSink) objects(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := s.store.View(context.Background(), func(tx meta.Tx) error {
		return tx.Ascend(meta.SpaceObjects, nil, func(k, v []byte) bool {
			out[string(k)] = string(v)
			return true
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// lines counts the delivered lines by request ID, checking that every
// object's name parses as a log object name.
func (s *storeSink) lines(t testing.TB) map[string]int {
	t.Helper()
	count := map[string]int{}
	for name, body := range s.objects(t) {
		_, key, _ := strings.Cut(name, "/")
		if _, ok := stats.ParseObjectName("", key, beijing); !ok {
			t.Errorf("object name %q does not parse as a log object name", key)
		}
		for ln := range strings.SplitSeq(strings.TrimSuffix(body, "\n"), "\n") {
			l, err := osslog.Parse(ln)
			if err != nil {
				t.Fatalf("object %s: %v", name, err)
			}
			count[l.RequestID]++
		}
	}
	return count
}

// putsOnce fails unless every stored name was committed exactly once.
func (s *storeSink) putsOnce(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, n := range s.puts {
		if n != 1 {
			t.Errorf("object %s committed %d times", name, n)
		}
	}
}

func (s *storeSink) state(t testing.TB, journal string) string { return s.system(stateKey(journal)) }

// system is the row key of the store's system space.
func (s *storeSink) system(key []byte) string {
	var out string
	s.store.View(context.Background(), func(tx meta.Tx) error {
		raw, err := tx.Get(meta.SpaceSystem, key)
		out = string(raw)
		return err
	})
	return out
}

// cluster is several nodes sharing one metadata store (bbolt), one journal
// directory (a memFS) and one fake clock.
type cluster struct {
	t     *testing.T
	store *flakyStore
	fs    *memFS
	clk   *FakeClock
	sink  *storeSink
	logs  *lockedBuffer
}

const testLease = 30 * time.Second

// flakyStore is a store that is unreachable while down is set.
type flakyStore struct {
	meta.Store
	down atomic.Bool
}

var errStoreDown = errors.New("store unreachable")

func (s *flakyStore) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.Store.Update(ctx, fn)
}

func (s *flakyStore) View(ctx context.Context, fn func(meta.Tx) error) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.Store.View(ctx, fn)
}

func newCluster(t *testing.T) *cluster {
	st, err := boltmeta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &cluster{t: t, store: &flakyStore{Store: st}, fs: newMemFS(), clk: NewFakeClock(at(10, 30, 0)), logs: &lockedBuffer{}}
	c.sink = &storeSink{store: c.store, buckets: map[string]bool{"logs": true}, puts: map[string]int{}}
	return c
}

// node opens node id (waiting for its lease as a restart does); tweak
// adjusts its journal configuration.
func (c *cluster) node(id string, tweak func(*Config)) *Node {
	c.t.Helper()
	n, err := OpenNode(context.Background(), c.nodeConfig(id, tweak))
	if err != nil {
		c.t.Fatalf("OpenNode(%s): %v", id, err)
	}
	return n
}

// wanted reports that journal's owner asks for it back.
func (c *cluster) wanted(journal string) bool {
	var r *leaseRow
	c.store.View(context.Background(), func(tx meta.Tx) error {
		var err error
		r, err = getLease(tx, journal)
		return err
	})
	return r != nil && c.clk.Now().Before(r.WantUntil)
}

func (c *cluster) nodeConfig(id string, tweak func(*Config)) NodeConfig {
	cfg := Config{FS: c.fs, Clock: c.clk, Sink: c.sink, PutConcurrency: 1,
		Logger: slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test-node", id)}
	if tweak != nil {
		tweak(&cfg)
	}
	return NodeConfig{Leases: &Leases{Store: c.store, Node: id, Duration: testLease, Clock: c.clk}, Root: "/shared", Log: cfg}
}

// kill abandons n as kill -9 would: its goroutines stop, what it wrote
// stays (a killed process's writes are in the page cache), its lease is
// neither renewed nor released.
func kill(n *Node) { n.Log().Close() }

// tick advances the clock by a third of the lease (the period of the lease
// loop) and steps nodes in order, as their loops would.
func (c *cluster) tick(nodes ...*Node) {
	c.clk.Advance(testLease / 3)
	for _, n := range nodes {
		n.Step(context.Background())
	}
}

// step runs one Step of n and waits for the deliveries it started.
func step(n *Node) {
	n.Step(context.Background())
	n.flushes.Wait()
}

// tookOver is the log text of a takeover of journal.
func tookOver(journal string) string { return "journal=" + journal + " epoch=" }

func appendN(t *testing.T, n *Node, prefix string, count int, tm time.Time) []string {
	t.Helper()
	var ids []string
	for i := range count {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		if err := n.Log().Append(context.Background(), rec(id, "src", "logs", "p/", tm)); err != nil {
			t.Fatalf("Append(%s): %v", id, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestNodeIDCheck(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"a", true}, {"node1", true}, {"0123456789abcdef", true}, {NewNodeID(), true},
		{"", false}, {"0123456789abcdefg", false}, {"Node1", false}, {"node-1", false}, {"node_1", false}, {"nœud", false},
	} {
		if err := CheckNodeID(tt.id); (err == nil) != tt.ok {
			t.Errorf("CheckNodeID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
	}
}

// Two nodes log requests to one source bucket in the same hour: each
// record is delivered once, in objects whose names differ (each carries its
// node's id) and still parse as OSS log object names.
func TestTwoNodesDistinctNames(t *testing.T) {
	c := newCluster(t)
	a, b := c.node("nodea", nil), c.node("nodeb", nil)
	defer a.Close()
	defer b.Close()
	ids := appendN(t, a, "a", 5, at(10, 10, 0))
	ids = append(ids, appendN(t, b, "b", 5, at(10, 10, 0))...)
	for _, n := range []*Node{a, b} {
		if err := n.Log().Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
	c.sink.putsOnce(t)
	want := []string{"logs/p/src2026-11-24-10-00-00-NODEA0000000000000001", "logs/p/src2026-11-24-10-00-00-NODEB0000000000000001"}
	if got := slices.Sorted(mapKeys(c.sink.objects(t))); !slices.Equal(got, want) {
		t.Errorf("objects %q, want %q", got, want)
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Node A dies in the middle of a delivery (one object stored, its commit
// never made) with more records pending. Node B takes its journal over only
// once A's lease has expired, delivers all of A's records under the names A
// would have used (the object A stored is overwritten, not duplicated),
// and releases the journal. A comes back, finds nothing to deliver, and
// goes on numbering its records: nothing is delivered twice.
func TestNodeTakeoverAfterKill(t *testing.T) {
	c := newCluster(t)
	puts := 0
	a := c.node("nodea", func(cfg *Config) {
		cfg.hook = func(step string) error {
			if step == "object-put" {
				if puts++; puts == 1 {
					return errCrashed // A dies after storing its first object
				}
			}
			return nil
		}
	})
	b := c.node("nodeb", nil)
	defer b.Close()
	ids := appendN(t, a, "a", 4, at(10, 10, 0))
	ids = append(ids, appendN(t, a, "a11", 3, at(11, 10, 0))...) // a second hour: a second object
	if err := a.Log().Flush(context.Background()); !errors.Is(err, errCrashed) {
		t.Fatalf("Flush = %v, want the crash", err)
	}
	if n := len(c.sink.objects(t)); n != 1 {
		t.Fatalf("%d objects stored before the crash, want 1", n)
	}
	kill(a)

	// Before A's lease expires B leaves the journal alone.
	c.clk.Advance(testLease - time.Second)
	b.Step(context.Background())
	if tk := b.Taken(); len(tk) != 0 || len(c.sink.objects(t)) != 1 {
		t.Fatalf("B took over a live lease: %v", tk)
	}
	c.clk.Advance(time.Second)
	step(b)
	if c.logs.count(tookOver("nodea")) != 1 {
		t.Fatalf("B did not take the journal over:\n%s", c.logs.b.String())
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
	if got := slices.Sorted(mapKeys(c.sink.objects(t))); !slices.Equal(got, []string{
		"logs/p/src2026-11-24-10-00-00-NODEA0000000000000001", "logs/p/src2026-11-24-11-00-00-NODEA0000000000000005"}) {
		t.Errorf("objects %q", got)
	}
	step(b) // B releases the journal it delivered
	if tk := b.Taken(); len(tk) != 0 {
		t.Errorf("B still holds the drained journal: %v", tk)
	}

	// A comes back: its lease is free, nothing is left to deliver, and
	// its next records get new IDs, so new names.
	a2 := c.node("nodea", nil)
	defer a2.Close()
	if err := a2.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(c.sink.objects(t)); n != 2 {
		t.Fatalf("A delivered again what B had delivered: %d objects", n)
	}
	ids = append(ids, appendN(t, a2, "again", 2, at(11, 20, 0))...)
	if err := a2.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
	if _, ok := c.sink.objects(t)["logs/p/src2026-11-24-11-00-00-NODEA0000000000000008"]; !ok {
		t.Errorf("objects %q", slices.Sorted(mapKeys(c.sink.objects(t))))
	}
}

// A node that comes back while another holds its journal (delivery there
// fails: the target bucket is missing) asks for it and gets it back at the
// holder's next renewal; nothing is lost or delivered twice.
func TestNodeHandBack(t *testing.T) {
	c := newCluster(t)
	a := c.node("nodea", nil)
	b := c.node("nodeb", nil)
	defer b.Close()
	var ids []string
	for i := range 3 {
		id := fmt.Sprintf("r%d", i)
		if err := a.Log().Append(context.Background(), rec(id, "src", "later", "", at(10, 10, i))); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	kill(a)
	c.clk.Advance(testLease)
	step(b)
	if tk := b.Taken(); len(tk) != 1 || tk[0].Node != "nodea" || tk[0].Pending != 3 {
		t.Fatalf("taken %+v, want nodea with 3 pending", tk)
	}

	back := make(chan *Node)
	go func() { back <- c.node("nodea", nil) }()
	// A waits, asking for its journal; B hands it back at its next step.
	for !c.wanted("nodea") {
		time.Sleep(time.Millisecond) // until A has asked
	}
	b.Step(context.Background())
	if tk := b.Taken(); len(tk) != 0 {
		t.Fatalf("B kept the journal its owner asked for: %+v", tk)
	}
	c.clk.Advance(testLease / 6)
	a2 := <-back
	defer a2.Close()
	c.sink.createBucket("later")
	if err := a2.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := c.sink.lines(t)
	exactlyOnceIn(t, got, ids)
	c.sink.putsOnce(t)
}

// Two survivors step at once when a dead node's lease has expired: one
// takes the journal over, the other leaves it, and each object is
// committed once.
func TestNodeTakeoverRace(t *testing.T) {
	c := newCluster(t)
	a := c.node("nodea", nil)
	b, d := c.node("nodeb", nil), c.node("noded", nil)
	defer b.Close()
	defer d.Close()
	ids := appendN(t, a, "a", 20, at(10, 10, 0))
	kill(a)
	c.clk.Advance(testLease)
	var wg sync.WaitGroup
	for _, n := range []*Node{b, d} {
		wg.Go(func() { step(n) })
	}
	wg.Wait()
	if n := c.logs.count(tookOver("nodea")); n != 1 {
		t.Errorf("%d nodes took the journal over, want 1", n)
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
	c.sink.putsOnce(t)
}

// Node A, paused (its lease loop stops) past its lease's expiry, loses its
// journal to node B, which delivers what A had left. A, woken, finds its
// lease taken: it goes on refusing records, asks for its journal back, gets
// it at B's next renewal at a new epoch, re-opens it and takes records
// again, numbered after the old ones, without a restart. Every record is
// delivered once, under A's names; none was taken while A did not hold the
// lease.
func TestNodeReclaimAfterPause(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	a, b := c.node("nodea", nil), c.node("nodeb", nil)
	defer a.Close()
	defer b.Close()
	ids := appendN(t, a, "a", 3, at(10, 10, 0))
	if err := a.Log().Flush(ctx); err != nil { // records 1-3, by A
		t.Fatal(err)
	}
	ids = append(ids, appendN(t, a, "b", 2, at(10, 20, 0))...) // records 4-5, left to B
	epoch := a.Lease().Epoch()
	refused := func(when string) {
		t.Helper()
		err := a.Log().Append(ctx, rec("refused-"+when, "src", "logs", "p/", at(10, 25, 0)))
		if !errors.Is(err, ErrJournalUnavailable) || !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("Append %s: %v, want a refusal for the lost lease", when, err)
		}
	}

	// A is paused: only B steps, takes the journal over once A's lease
	// has expired, and delivers records 4-5.
	for range 3 {
		c.tick(b)
	}
	b.flushes.Wait()
	if c.logs.count(tookOver("nodea")) != 1 {
		t.Fatalf("B did not take the paused node's journal over:\n%s", c.logs.b.String())
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
	refused("paused")
	if s := a.OwnState(); s != OwnUnrenewed {
		t.Errorf("paused A: state %v, want unrenewed", s)
	}

	// A wakes: its renewal finds the lease taken; it closes its journal
	// and asks for it back, still refusing records.
	step(a)
	if s := a.OwnState(); s != OwnReclaiming || !c.wanted("nodea") {
		t.Fatalf("woken A: state %v, asked back %v; want reclaiming, asked", s, c.wanted("nodea"))
	}
	refused("reclaiming")
	step(b) // B hands the journal back
	if tk := b.Taken(); len(tk) != 0 {
		t.Fatalf("B kept the journal its owner asked for: %+v", tk)
	}
	refused("handed-back")
	step(a) // A takes the lease and re-opens its journal (step waits for it)
	if s, e := a.OwnState(), a.Lease().Epoch(); s != OwnHeld || e != epoch+2 {
		t.Fatalf("A after its journal came back: state %v, epoch %d; want held at epoch %d", s, e, epoch+2)
	}
	if !strings.Contains(c.lease("nodea"), `"holder":"nodea"`) {
		t.Fatalf("lease of A's journal: %s", c.lease("nodea"))
	}

	// A takes records again, numbered after the old ones; it delivers
	// only them.
	ids = append(ids, appendN(t, a, "c", 2, at(10, 30, 0))...)
	if err := a.Log().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
	c.sink.putsOnce(t)
	want := []string{"logs/p/src2026-11-24-10-00-00-NODEA0000000000000001", "logs/p/src2026-11-24-10-00-00-NODEA0000000000000004",
		"logs/p/src2026-11-24-10-00-00-NODEA0000000000000006"}
	if got := slices.Sorted(mapKeys(c.sink.objects(t))); !slices.Equal(got, want) {
		t.Errorf("objects %q, want %q", got, want)
	}
	// A steps on as usual, and may take journals over again.
	for range 4 {
		c.tick(a, b)
	}
	if s := a.OwnState(); s != OwnHeld || a.Lease().Epoch() != epoch+2 {
		t.Errorf("A after more steps: state %v, epoch %d", s, a.Lease().Epoch())
	}
}

// Requests keep coming to node A while its lease loop is stalled past the
// lease's expiry, node B takes the journal over, and A reclaims it: every
// record A acknowledged (Append returned nil) is delivered once, by B or
// by A after the reclaim, and A takes records again afterwards. Run with
// -race: the own Log and lease are swapped under the appenders.
func TestNodeReclaimUnderLoad(t *testing.T) {
	c := newCluster(t)
	a, b := c.node("nodea", nil), c.node("nodeb", nil)
	defer a.Close()
	defer b.Close()
	var (
		mu    sync.Mutex
		acked []string
	)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("w-%05d", i)
			err := a.Log().Append(context.Background(), rec(id, "src", "logs", "p/", at(10, 10, 0)))
			switch {
			case err == nil:
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			case !errors.Is(err, ErrLeaseLost):
				t.Errorf("Append(%s): %v, want success or a refusal for the lease", id, err)
				return
			default:
				time.Sleep(50 * time.Microsecond) // refused: as a client would, retry later
			}
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitMore := func(n int) {
		for i := 0; count() < n; i++ {
			if i == 10000 {
				t.Fatalf("A acknowledged %d records, want at least %d", count(), n)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	waitMore(20)
	for range 3 {
		c.tick(b) // A's loop stalls; B takes its journal over
	}
	b.flushes.Wait()
	before := count()
	step(a) // A asks for its journal back
	step(b) // B hands it back
	step(a) // A re-opens it
	if s := a.OwnState(); s != OwnHeld {
		t.Fatalf("A after the hand-back: %v", s)
	}
	waitMore(before + 20)
	close(stop)
	<-done
	if err := a.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.logs.count(tookOver("nodea")) != 1 {
		t.Fatalf("B did not take the journal over:\n%s", c.logs.b.String())
	}
	exactlyOnceIn(t, c.sink.lines(t), acked)
	c.sink.putsOnce(t)
}

// A node paused past its lease's expiry while nobody took its journal over
// (no other node) finds its lease untouched when it wakes: its renewal
// keeps the epoch (nobody else can have delivered: a takeover raises it)
// and it takes records again, on the same journal.
func TestNodeUnrenewedResumes(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	a := c.node("nodea", nil)
	defer a.Close()
	ids := appendN(t, a, "a", 2, at(10, 10, 0))
	epoch, log := a.Lease().Epoch(), a.Log()
	c.clk.Advance(2 * testLease)
	if err := a.Log().Append(ctx, rec("late", "src", "logs", "p/", at(10, 11, 0))); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Append past the lease: %v", err)
	}
	step(a)
	if s := a.OwnState(); s != OwnHeld || a.Lease().Epoch() != epoch || a.Log() != log {
		t.Fatalf("A after renewing an untouched lease: state %v, epoch %d (was %d), same journal %v", s, a.Lease().Epoch(), epoch, a.Log() == log)
	}
	ids = append(ids, appendN(t, a, "b", 1, at(10, 12, 0))...)
	if err := a.Log().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
}

// lease is the stored lease row of journal, as JSON.
func (c *cluster) lease(journal string) string { return c.sink.system(leaseKey(journal)) }

// A deliverer that loses its lease while paused (here: inside the put of
// its first object, after its own validity check) cannot store that object
// once it wakes up: the fence in the commit refuses it. The node that took
// over meanwhile delivered every record, each object committed once.
func TestStaleDelivererCannotPut(t *testing.T) {
	c := newCluster(t)
	a := c.node("nodea", nil)
	ids := appendN(t, a, "a", 3, at(10, 10, 0))
	kill(a)
	b, d := c.node("nodeb", nil), c.node("noded", nil)
	defer b.Close()
	defer d.Close()

	paused, resume := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(resume) })
	defer release() // before the nodes' Close, which waits for B's step
	var once sync.Once
	c.sink.before = func(string) {
		once.Do(func() { close(paused); <-resume })
	}
	for range 3 {
		c.tick(b, d) // A's lease expires; B, first, takes the journal over
	}
	<-paused // B is about to commit an object
	c.sink.mu.Lock()
	c.sink.before = nil
	c.sink.mu.Unlock()
	for range 3 {
		c.tick(d) // B, paused, renews nothing: its lease expires
	}
	d.flushes.Wait()
	if n := c.logs.count(tookOver("nodea")); n != 2 {
		t.Fatalf("D did not take the journal over (%d takeovers)", n)
	}
	release()
	b.flushes.Wait()
	exactlyOnceIn(t, c.sink.lines(t), ids)
	c.sink.putsOnce(t)
}

// A deliverer paused after storing its objects, before recording its
// progress, wakes up after its lease was taken and the journal's owner has
// come back and moved on: its progress is refused, the owner's state stays.
func TestStaleDelivererCannotCommit(t *testing.T) {
	c := newCluster(t)
	a := c.node("nodea", nil)
	ids := appendN(t, a, "a", 3, at(10, 10, 0))
	kill(a)
	paused, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b := c.node("nodeb", func(cfg *Config) {
		cfg.hook = func(step string) error {
			if step == "before-commit" {
				once.Do(func() { close(paused); <-resume })
			}
			return nil
		}
	})
	d := c.node("noded", nil)
	defer b.Close()
	defer d.Close()
	release := sync.OnceFunc(func() { close(resume) })
	defer release()
	for range 3 {
		c.tick(b, d) // B takes A's journal over
	}
	<-paused
	for range 3 {
		c.tick(d) // D takes it from B, paused, and redoes B's plan
	}
	d.flushes.Wait()
	step(d)                    // D releases the journal
	a2 := c.node("nodea", nil) // the owner is back ...
	defer a2.Close()
	ids = append(ids, appendN(t, a2, "b", 2, at(10, 20, 0))...)
	if err := a2.Log().Flush(context.Background()); err != nil { // ... and delivers more
		t.Fatal(err)
	}
	before := c.sink.state(t, "nodea")
	release()
	b.flushes.Wait()
	if after := c.sink.state(t, "nodea"); after != before {
		t.Errorf("a deliverer without the lease changed the delivery state:\nbefore %s\nafter  %s", before, after)
	}
	if c.logs.count("journal lease lost") == 0 {
		t.Errorf("the stale deliverer's failure was not logged:\n%s", c.logs.b.String())
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
}

// After an outage of the metadata store longer than the lease every lease
// has expired; the live nodes renew their own before any of them takes
// another's journal, so none is taken from a live node.
func TestNodesAfterStoreOutage(t *testing.T) {
	c := newCluster(t)
	a, b := c.node("nodea", nil), c.node("nodeb", nil)
	defer a.Close()
	defer b.Close()
	ids := appendN(t, a, "a", 2, at(10, 10, 0))
	c.store.down.Store(true)
	for range 6 {
		c.tick(a, b)
	}
	if err := a.Log().Append(context.Background(), rec("late", "src", "logs", "p/", at(10, 11, 0))); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Append with a lease not renewed for two durations: %v", err)
	}
	c.store.down.Store(false)
	for range 6 {
		c.tick(b, a) // B first: it would take A's expired lease if it could
	}
	if n := c.logs.count("epoch="); n != 0 {
		t.Fatalf("a live node's journal was taken over after the outage:\n%s", c.logs.b.String())
	}
	ids = append(ids, appendN(t, a, "after", 1, at(10, 12, 0))...)
	if err := a.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnceIn(t, c.sink.lines(t), ids)
}

// The lease rules, one transaction at a time.
func TestLeaseAcquire(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	la := &Leases{Store: c.store, Node: "a", Duration: testLease, Clock: c.clk}
	lb := &Leases{Store: c.store, Node: "b", Duration: testLease, Clock: c.clk}
	if _, err := lb.Acquire(ctx, "a", Takeover); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("takeover of a journal never leased: %v", err)
	}
	own, err := la.Acquire(ctx, "a", Own)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lb.Acquire(ctx, "a", Takeover); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("takeover of a live lease: %v", err)
	}
	c.clk.Advance(testLease / 2)
	if _, err := own.Renew(ctx); err != nil || !own.Valid() {
		t.Fatalf("Renew: %v, valid %v", err, own.Valid())
	}
	c.clk.Advance(testLease * 3 / 4)
	if own.Valid() {
		t.Fatal("a lease not renewed for 3/4 of its duration still trusted by its holder")
	}
	c.clk.Advance(testLease / 4)
	taken, err := lb.Acquire(ctx, "a", Takeover)
	if err != nil || taken.Epoch() != own.Epoch()+1 {
		t.Fatalf("takeover of an expired lease: %v (epoch %d after %d)", err, taken.Epoch(), own.Epoch())
	}
	if _, err := own.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("renewing a lease taken over: %v", err)
	}
	// A restarted owner (a new process) asks for it back.
	la2 := &Leases{Store: c.store, Node: "a", Duration: testLease, Clock: c.clk}
	if _, err := la2.Acquire(ctx, "a", Own); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("owner took a live takeover's lease: %v", err)
	}
	if want, err := taken.Renew(ctx); err != nil || !want {
		t.Fatalf("Renew of the takeover = want %v, %v; the owner asked", want, err)
	}
	if err := taken.Release(ctx, false); err != nil {
		t.Fatal(err)
	}
	lc := &Leases{Store: c.store, Node: "c", Duration: testLease, Clock: c.clk}
	if _, err := lc.Acquire(ctx, "a", Takeover); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("a third node took the journal its owner asked back: %v", err)
	}
	back, err := la2.Acquire(ctx, "a", Own)
	if err != nil || back.Epoch() != taken.Epoch()+1 {
		t.Fatalf("owner after hand-back: %v", err)
	}
}
