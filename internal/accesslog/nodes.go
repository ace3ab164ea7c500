package accesslog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// NodeConfig configures the journals of one node among several that keep
// their journals in one shared directory, over one metadata store.
type NodeConfig struct {
	// Leases acquires this node's leases; Leases.Node is its node id.
	Leases *Leases
	// Root is the shared directory: the journal of node N is Root/N.
	Root string
	// Log configures every journal the node opens, its own and the ones it
	// takes over; Dir, NodeID and Lease are set for each.
	Log Config
}

// A Node is one node's share of the access logs of several: it holds the
// lease of its own journal and renews it, and it takes over the journals of
// other nodes whose lease expired (their holder died), delivers what they
// hold under the names their owner would have used, then releases them; it
// hands a journal back when its owner returns. Step does one round of that;
// Start runs Step every third of the lease duration.
//
// A node whose own lease was taken over while it lived (a process paused
// past the lease's expiry, a partition from the store) reclaims its journal
// as a restart would, without one: see Step.
type Node struct {
	cfg NodeConfig
	log *slog.Logger
	// own and lease are the own journal and its lease; both are replaced
	// (under mu) when the node reclaims its journal, and read without it.
	own   atomic.Pointer[Log]
	lease atomic.Pointer[Lease]
	// phase is OwnReclaiming or OwnReopening while the node reclaims its
	// journal, else OwnHeld (Lease().Valid tells held from unrenewed).
	phase atomic.Int32
	// runCtx is Start's context (guarded by mu): the delivery of a
	// re-opened own journal runs under it (nil before Start: the caller
	// delivers, by Flush).
	runCtx context.Context

	mu    sync.Mutex // guards taken; Step holds it throughout
	taken map[string]*takenJournal
	// lostLogged: the loss of the own lease was reported.
	lostLogged bool
	// healthySince is when the own lease's renewals last started to
	// succeed without a break (zero after a failed one). The node takes no
	// journal over until it has been healthy for a whole lease duration:
	// after an outage of the store every lease has expired, and the live
	// owners must get the time to renew theirs before anyone takes them.
	healthySince time.Time
	// flushes counts the deliveries of taken journals running, and the
	// re-opening of the own journal.
	flushes sync.WaitGroup

	stop      chan struct{}
	loopDone  chan struct{}
	started   bool
	closeOnce sync.Once
}

type takenJournal struct {
	lease *Lease
	cfg   Config
	// log is nil until the background open is done (guarded by Node.mu).
	log   *Log
	since time.Time
	// ctx is cancelled to stop the journal's delivery (hand-back, lost
	// lease, Close).
	ctx    context.Context
	cancel context.CancelFunc
	// flushing: an open or a delivery of everything is running; again: the
	// last one stopped for want of a valid lease, to be tried again once
	// renewed (failed streams are retried by the Log's own backoff).
	flushing, again atomic.Bool
}

// flush opens t's journal if need be and delivers everything in it, in the
// background, so that the lease renewals of Step never wait for a replay or
// a delivery.
func (n *Node) flush(id string, t *takenJournal) {
	if t.flushing.Swap(true) {
		return
	}
	t.again.Store(false)
	n.flushes.Add(1)
	go func() {
		defer n.flushes.Done()
		defer t.flushing.Store(false)
		n.mu.Lock()
		l := t.log
		n.mu.Unlock()
		if l == nil {
			var err error
			if l, err = Open(t.cfg); err != nil {
				n.log.Error("opening a journal taken over", "journal", id, "err", err)
				n.mu.Lock()
				delete(n.taken, id)
				n.mu.Unlock()
				t.lease.Release(context.Background(), false) // for another node to try
				return
			}
			n.mu.Lock()
			t.log = l
			n.mu.Unlock()
			l.Start(t.ctx)
		}
		if err := l.Flush(t.ctx); err != nil && t.ctx.Err() == nil {
			if errors.Is(err, ErrLeaseLost) {
				t.again.Store(true)
			}
			n.log.Warn("delivering a journal taken over; what failed is retried", "journal", id, "err", err)
		}
	}()
}

// OpenNode takes the lease of the node's own journal and opens it. While
// another process holds the lease it waits: a node that took the journal
// over hands it back at its next renewal (within a third of the lease
// duration); a previous process of this node that died without releasing
// it leaves it to expire (at most the lease duration). ctx bounds the wait.
func OpenNode(ctx context.Context, cfg NodeConfig) (*Node, error) {
	ls := cfg.Leases
	ls.init()
	logger := cmp.Or(cfg.Log.Logger, slog.Default())
	n := &Node{cfg: cfg, log: logger.With("component", "accesslog", "node", ls.Node),
		taken: map[string]*takenJournal{}, stop: make(chan struct{}), loopDone: make(chan struct{})}
	if err := cmp.Or[FS](cfg.Log.FS, OSFS{}).MkdirAll(cfg.Root); err != nil {
		return nil, err
	}
	logged := false
	var lease *Lease
	for {
		var err error
		if lease, err = ls.Acquire(ctx, ls.Node, Own); err == nil {
			n.healthySince = ls.Clock.Now()
			break
		}
		if !errors.Is(err, ErrLeaseHeld) {
			return nil, err
		}
		if !logged {
			n.log.Info("waiting for the lease of this node's access-log journal (held by another process)")
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("accesslog: waiting for the lease of journal %s: %w", ls.Node, ctx.Err())
		case <-ls.Clock.After(ls.Duration / 6):
		}
	}
	own, err := n.openOwn(context.WithoutCancel(ctx), lease) // ctx bounds the wait above, not the replay
	if err != nil {
		return nil, err
	}
	n.own.Store(own)
	n.lease.Store(lease)
	return n, nil
}

// openOwn opens the node's own journal under lease, just acquired (at start
// or when reclaiming the journal): the replay counts what another node
// delivered meanwhile as delivered (the delivery state is in the store), and
// new records are numbered after the old ones. Replaying a large journal
// may outlast the lease: it is kept renewed meanwhile, or another node
// would take the journal being opened. On failure the lease is released,
// expired.
func (n *Node) openOwn(ctx context.Context, lease *Lease) (*Log, error) {
	ls := n.cfg.Leases
	cfg := n.cfg.Log
	cfg.Dir, cfg.NodeID, cfg.Lease = filepath.Join(n.cfg.Root, ls.Node), ls.Node, lease
	opened, renewing := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(renewing)
		for {
			select {
			case <-opened:
				return
			case <-ls.Clock.After(ls.Duration / 3):
				if _, err := lease.Renew(ctx); err != nil {
					n.log.Warn("renewing the lease of this node's access-log journal", "err", err)
				}
			}
		}
	}()
	own, err := Open(cfg)
	close(opened)
	<-renewing
	if err == nil {
		_, err = lease.Renew(ctx) // trusted for a whole validity from now
	}
	if err != nil {
		if own != nil {
			own.Close()
		}
		lease.Release(context.Background(), false)
		return nil, err
	}
	return own, nil
}

// Log is the node's own journal. It changes when the node reclaims its
// journal (see Step): the Log of before is then closed and refuses
// records, so callers ask for the Log at each use rather than keep it.
func (n *Node) Log() *Log { return n.own.Load() }

// Lease is the lease of the node's own journal (replaced, like Log, when
// the node reclaims its journal).
func (n *Node) Lease() *Lease { return n.lease.Load() }

// OwnState says how a node stands with its own journal.
type OwnState int32

const (
	// OwnHeld: its lease is held and renewed in time; records are taken.
	OwnHeld OwnState = iota
	// OwnUnrenewed: its lease was not renewed within its validity (the
	// store unreachable, the process paused): records are refused. A
	// renewal that finds the lease still this process's at the same epoch
	// (nobody took it meanwhile, so nobody else delivered) makes it held
	// again.
	OwnUnrenewed
	// OwnReclaiming: another node took the journal over; this node closed
	// its Log and asks for the journal back. Records are refused.
	OwnReclaiming
	// OwnReopening: the lease is back, at a new epoch, and the journal is
	// being replayed. Records are refused until it is open.
	OwnReopening
)

func (s OwnState) String() string {
	switch s {
	case OwnHeld:
		return "held"
	case OwnUnrenewed:
		return "unrenewed"
	case OwnReclaiming:
		return "reclaiming"
	case OwnReopening:
		return "reopening"
	}
	return fmt.Sprintf("OwnState(%d)", int32(s))
}

// OwnState reports how the node stands with its own journal.
func (n *Node) OwnState() OwnState {
	if p := OwnState(n.phase.Load()); p != OwnHeld {
		return p
	}
	if !n.Lease().Valid() {
		return OwnUnrenewed
	}
	return OwnHeld
}

// Start runs Step every third of the lease duration, until Close. The
// caller starts the own Log's delivery (Log.Start); the node starts that of
// an own journal it re-opens after reclaiming it, under ctx.
func (n *Node) Start(ctx context.Context) {
	n.started = true
	n.mu.Lock()
	n.runCtx = ctx
	n.mu.Unlock()
	go func() {
		defer close(n.loopDone)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		clock := n.cfg.Leases.Clock
		for {
			select {
			case <-n.stop:
				return
			case <-ctx.Done():
				return
			case <-clock.After(n.cfg.Leases.Duration / 3):
			}
			n.Step(ctx)
		}
	}()
}

// Step renews the leases this node holds, hands back, releases or drops the
// journals it took over as their state requires (a journal whose records
// are all delivered is released at the Step after its delivery), and, once
// its own lease has been renewed without a break for a lease duration,
// takes over the journals under Root whose lease expired, starting their
// delivery in the background. Errors are logged; the next Step tries
// again.
//
// When the renewal of the own lease finds it taken (another node took the
// journal over while this process was paused or cut off), Step reclaims the
// journal as a restart of the node would, without one: it closes the own
// Log (whose lost lease already refused records), asks for the journal back
// (Acquire, Own: the holder hands it back at its next renewal), and once it
// has the lease again, at a new epoch, re-opens the journal in the
// background as OpenNode does, and swaps it in. Records are refused until
// then: from the Step that notices, at most two Steps plus the replay.
func (n *Node) Step(ctx context.Context) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.cfg.Leases.Clock.Now()
	_, err := n.Lease().Renew(ctx)
	switch {
	case err != nil:
		n.healthySince = time.Time{}
	case n.healthySince.IsZero():
		n.healthySince = now
	}
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			n.reclaim(ctx)
		} else {
			n.log.Warn("renewing the lease of this node's access-log journal", "err", err)
		}
	}
	for id, t := range n.taken {
		want, err := t.lease.Renew(ctx)
		switch {
		case t.log == nil: // still opening: the next Step decides
			if errors.Is(err, ErrLeaseLost) {
				t.cancel()
			}
		case errors.Is(err, ErrLeaseLost):
			n.log.Warn("lost the lease of a journal taken over", "journal", id)
			t.cancel()
			t.log.Close()
			delete(n.taken, id)
		case err != nil:
			n.log.Warn("renewing the lease of a journal taken over", "journal", id, "err", err)
		case want:
			n.log.Info("handing the access-log journal back to its node", "journal", id)
			n.drop(ctx, id, t)
		case t.flushing.Load():
		case t.log.drained():
			n.log.Info("delivered every record of the journal taken over", "journal", id)
			n.drop(ctx, id, t)
		case t.again.Load():
			n.flush(id, t)
		}
	}
	if !n.healthySince.IsZero() && now.Sub(n.healthySince) >= n.cfg.Leases.Duration {
		n.scan(ctx)
	}
}

// reclaim is Step's part when the own lease was found taken (n.mu held):
// close the own Log, ask for the journal back, and re-open it once the
// lease is back. The lease never comes back to this process at the epoch
// it lost (every change of holder raises it), so the fence keeps out
// anything the closed Log had begun.
func (n *Node) reclaim(ctx context.Context) {
	if OwnState(n.phase.Load()) == OwnReopening {
		return // the lease is back; the journal is being replayed
	}
	if !n.lostLogged {
		n.log.Error("this node's access-log journal was taken over by another node (this process was cut off or paused beyond its lease): requests to logged buckets are refused while the node asks for it back")
		n.lostLogged = true
		n.phase.Store(int32(OwnReclaiming))
		// No record may be appended under a lost lease (Append refuses
		// them already), and this Log no longer delivers: the holder does.
		n.Log().Close()
	}
	ls := n.cfg.Leases
	lease, err := ls.Acquire(ctx, ls.Node, Own)
	if err != nil {
		if !errors.Is(err, ErrLeaseHeld) {
			n.log.Warn("asking for this node's access-log journal back", "err", err)
		}
		return
	}
	n.log.Info("got this node's access-log journal back; re-opening it", "epoch", lease.Epoch())
	n.phase.Store(int32(OwnReopening))
	n.flushes.Add(1)
	go func() {
		defer n.flushes.Done()
		own, err := n.openOwn(context.WithoutCancel(ctx), lease)
		n.mu.Lock()
		defer n.mu.Unlock()
		if err != nil {
			// openOwn released the lease: the next Step asks again.
			n.log.Error("re-opening this node's access-log journal; the next lease step tries again", "err", err)
			n.phase.Store(int32(OwnReclaiming))
			return
		}
		n.own.Store(own)
		n.lease.Store(lease)
		n.phase.Store(int32(OwnHeld))
		n.lostLogged = false
		if n.runCtx != nil {
			own.Start(n.runCtx)
		}
		n.log.Info("re-opened this node's access-log journal: requests to logged buckets are taken again", "epoch", lease.Epoch())
	}()
}

// drop closes a taken journal and releases its lease: free when nothing is
// left to deliver, else expired (its owner, or another node, takes it).
func (n *Node) drop(ctx context.Context, id string, t *takenJournal) {
	t.cancel() // a delivery in progress stops; Close waits for it
	t.log.Close()
	if err := t.lease.Release(ctx, t.log.drained()); err != nil {
		n.log.Warn("releasing the lease of a journal taken over", "journal", id, "err", err)
	}
	delete(n.taken, id)
}

// scan takes over the journals under Root whose lease expired.
func (n *Node) scan(ctx context.Context) {
	fs := cmp.Or[FS](n.cfg.Log.FS, OSFS{})
	names, err := fs.List(n.cfg.Root)
	if err != nil {
		n.log.Warn("listing the shared journal directory", "dir", n.cfg.Root, "err", err)
		return
	}
	for _, id := range names {
		if id == n.cfg.Leases.Node || n.taken[id] != nil || CheckNodeID(id) != nil || ctx.Err() != nil {
			continue
		}
		lease, err := n.cfg.Leases.Acquire(ctx, id, Takeover)
		if err != nil {
			if !errors.Is(err, ErrLeaseHeld) {
				n.log.Warn("taking over a journal", "journal", id, "err", err)
			}
			continue
		}
		n.log.Warn("took over the access-log journal of a node whose lease expired", "journal", id, "epoch", lease.Epoch())
		t := &takenJournal{lease: lease, cfg: n.cfg.Log, since: n.cfg.Leases.Clock.Now()}
		t.cfg.Dir, t.cfg.NodeID, t.cfg.Lease = filepath.Join(n.cfg.Root, id), id, lease
		t.ctx, t.cancel = context.WithCancel(context.WithoutCancel(ctx))
		n.taken[id] = t
		n.flush(id, t)
	}
}

// TakenJournal describes a journal this node delivers for another.
type TakenJournal struct {
	Node    string    // the journal's node id
	Epoch   uint64    // of the lease
	Since   time.Time // when taken over
	Pending int64     // records left to deliver
}

// Taken lists the journals this node has taken over, by node id.
func (n *Node) Taken() []TakenJournal {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []TakenJournal
	for id, t := range n.taken {
		tj := TakenJournal{Node: id, Epoch: t.lease.Epoch(), Since: t.since}
		if t.log != nil {
			for _, b := range t.log.Status() {
				tj.Pending += b.Pending
			}
		}
		out = append(out, tj)
	}
	slices.SortFunc(out, func(a, b TakenJournal) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

// Close stops the lease loop, hands the journals taken over back (expired,
// for another node to take at once, when records are left), closes the own
// journal and releases its lease: free when every record is delivered,
// else expired, so that another node delivers them while this one is down.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		close(n.stop)
		if n.started {
			<-n.loopDone
		}
		n.mu.Lock()
		for _, t := range n.taken {
			t.cancel()
		}
		n.mu.Unlock()
		n.flushes.Wait() // opens and deliveries in progress end
		n.mu.Lock()
		ctx := context.Background()
		for id, t := range n.taken {
			if t.log != nil {
				n.drop(ctx, id, t)
			}
		}
		n.mu.Unlock()
		own := n.Log()
		err = own.Close()
		if rerr := n.Lease().Release(ctx, own.drained()); rerr != nil && !errors.Is(rerr, ErrLeaseLost) {
			err = errors.Join(err, rerr)
		}
	})
	return err
}

// drained reports that every durable record is delivered and no batch is in
// flight.
func (l *Log) drained() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.streams {
		if s.plan != nil || len(s.chunks) > 0 {
			return false
		}
	}
	return true
}
