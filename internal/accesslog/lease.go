package accesslog

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd/internal/meta"
)

// Several ossd nodes may keep their journals in one shared directory, one
// journal per node, over one metadata store. A journal then has exactly one
// deliverer at a time: the process holding its lease, a row of the store
// (SpaceSystem "loglease/<node id>") with a holder, an epoch and an expiry.
// Its owner holds it while alive and renews it; when the owner dies the
// lease expires and another node takes the journal over (epoch + 1),
// delivers what is left under the names the owner would have used, and
// hands it back when the owner returns.
//
// Fencing. The expiry only tells the others when they may take over; what
// keeps a deliverer that lost its lease (a process paused past its expiry,
// then woken) from doing harm is the epoch, checked in the store
// transactions that matter:
//   - the delivery state of a leased journal lives in the store
//     ("logstate/<node id>"), saved only in a transaction that finds the
//     lease still at the saver's epoch, so a stale deliverer cannot move a
//     cursor, plan a batch, or make anyone delete segments;
//   - each log object's commit carries the same check (Fence, through the
//     context of Sink.PutLogObject), so a stale deliverer cannot store an
//     object once the lease moved on.
//
// Appends are not a store transaction: a holder stops taking records (and
// putting objects) on its own once its lease is not renewed within
// leaseValidity of the duration, before the others may take over, which
// covers clocks up to a quarter of the duration apart.
//
// A holder whose lease expired may still renew it, at the same epoch, as
// long as nobody took it: Renew checks holder, process and epoch in its
// transaction, and any other acquisition changes them, so a renewed lease
// never had another deliverer meanwhile. Once another process acquired it,
// the holder's Lease is lost for good; the node gets a new Lease, at a new
// epoch, by Acquire (Node.Step reclaims its journal so).

var (
	// ErrLeaseHeld is returned by Acquire when another live process holds
	// the lease.
	ErrLeaseHeld = errors.New("accesslog: journal lease held by another node")
	// ErrLeaseLost is wrapped by the calls of a process whose lease was
	// taken over (or released): it must not touch the journal any more.
	ErrLeaseLost = errors.New("accesslog: journal lease lost")
)

// DefaultLeaseDuration is how long a journal lease lasts unless renewed;
// holders renew it every third of it.
const DefaultLeaseDuration = 30 * time.Second

// leaseValidity is the part of the duration a holder trusts its lease for
// after the renewal that started at a given instant: the others wait the
// whole duration, so the rest absorbs clock differences between nodes.
const leaseValidity = 3.0 / 4

// leaseRow is the stored lease of one journal.
type leaseRow struct {
	// Holder is the node id of the process holding the lease; "" when
	// released with nothing left to deliver.
	Holder string `json:"holder,omitempty"`
	// Instance tells apart two processes with one node id (a restart).
	Instance string `json:"instance,omitempty"`
	// Epoch grows at every acquisition by another process.
	Epoch   uint64    `json:"epoch"`
	Expires time.Time `json:"expires"`
	// WantUntil: the journal's owner, back, asks the holder to hand the
	// journal back; nobody else takes it over before then.
	WantUntil time.Time `json:"wantUntil,omitzero"`
}

func leaseKey(journal string) []byte { return []byte("loglease/" + journal) }
func stateKey(journal string) []byte { return []byte("logstate/" + journal) }

func getLease(tx meta.Tx, journal string) (*leaseRow, error) {
	raw, err := tx.Get(meta.SpaceSystem, leaseKey(journal))
	if err != nil || raw == nil {
		return nil, err
	}
	var r leaseRow
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%w: lease of journal %s: %v", ErrCorrupt, journal, err)
	}
	return &r, nil
}

func putLease(tx meta.Tx, journal string, r *leaseRow) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Put(meta.SpaceSystem, leaseKey(journal), raw)
}

// Leases acquires journal leases for one process.
type Leases struct {
	Store meta.Store
	// Node is this process's node id.
	Node string
	// Duration of a lease (default DefaultLeaseDuration).
	Duration time.Duration
	// Clock reads the time of expiries (default the system clock). Nodes'
	// clocks must agree within a quarter of Duration.
	Clock Clock

	once     sync.Once
	instance string
}

func (ls *Leases) init() {
	ls.once.Do(func() {
		if ls.Duration <= 0 {
			ls.Duration = DefaultLeaseDuration
		}
		if ls.Clock == nil {
			ls.Clock = SystemClock{}
		}
		ls.instance = rand.Text()
	})
}

// AcquireMode says which leases Acquire may take.
type AcquireMode int

const (
	// Own: the caller owns the journal. It takes the lease when it is
	// absent, released, expired, or its own; when another live process
	// holds it, Acquire asks for it back (the holder hands it back at its
	// next renewal) and returns ErrLeaseHeld.
	Own AcquireMode = iota
	// Takeover: the lease of a journal whose holder died: only a held,
	// expired lease its owner is not asking back.
	Takeover
)

// Acquire takes the lease of journal (a node id) for this process, in one
// transaction. It returns ErrLeaseHeld when it may not.
func (ls *Leases) Acquire(ctx context.Context, journal string, mode AcquireMode) (*Lease, error) {
	ls.init()
	now := ls.Clock.Now()
	var got *Lease
	err := ls.Store.Update(ctx, func(tx meta.Tx) error {
		got = nil
		r, err := getLease(tx, journal)
		if err != nil {
			return err
		}
		mine := r != nil && r.Instance == ls.instance && r.Holder == ls.Node
		expired := r != nil && !now.Before(r.Expires)
		switch mode {
		case Own:
			if r != nil && r.Holder != "" && !mine && !expired {
				r.WantUntil = now.Add(ls.Duration)
				return putLease(tx, journal, r)
			}
		case Takeover:
			if r == nil || r.Holder == "" || mine || !expired || now.Before(r.WantUntil) {
				return nil
			}
		}
		nr := &leaseRow{Holder: ls.Node, Instance: ls.instance, Expires: now.Add(ls.Duration)}
		if r != nil {
			nr.Epoch = r.Epoch
			if mode == Takeover {
				nr.WantUntil = r.WantUntil
			}
		}
		if !mine {
			nr.Epoch++
		}
		got = &Lease{ls: ls, journal: journal, epoch: nr.Epoch}
		got.trustUntil(now)
		return putLease(tx, journal, nr)
	})
	if err != nil {
		return nil, fmt.Errorf("accesslog: lease of journal %s: %w", journal, err)
	}
	if got == nil {
		return nil, fmt.Errorf("%w: journal %s", ErrLeaseHeld, journal)
	}
	return got, nil
}

// A Lease is this process's hold on one journal, at one epoch.
type Lease struct {
	ls      *Leases
	journal string
	epoch   uint64
	// validUntil (a time of ls.Clock, with the monotonic reading of the
	// system clock, so a step of the wall clock does not stretch it): after
	// it this process
	// no longer trusts its lease, renewed or not.
	validUntil atomic.Pointer[time.Time]
	lost       atomic.Bool
}

// Journal is the node id of the leased journal.
func (l *Lease) Journal() string { return l.journal }

// Epoch is the lease's epoch: it grows with every change of holder.
func (l *Lease) Epoch() uint64 { return l.epoch }

// Valid reports whether the lease may still be relied on: not lost, and
// renewed recently enough that nobody else can have taken it over. It
// takes no lock (Append calls it).
func (l *Lease) Valid() bool {
	return !l.lost.Load() && l.ls.Clock.Now().Before(*l.validUntil.Load())
}

// trustUntil starts the validity of a renewal begun at now.
func (l *Lease) trustUntil(now time.Time) {
	t := now.Add(time.Duration(float64(l.ls.Duration) * leaseValidity))
	l.validUntil.Store(&t)
}

// check is the fence: it fails unless the stored lease is still this one.
func (l *Lease) check(tx meta.Tx) error {
	r, err := getLease(tx, l.journal)
	if err != nil {
		return err
	}
	if r == nil || r.Holder != l.ls.Node || r.Instance != l.ls.instance || r.Epoch != l.epoch {
		l.lost.Store(true) // the epoch never comes back
		return fmt.Errorf("%w: journal %s, epoch %d", ErrLeaseLost, l.journal, l.epoch)
	}
	return nil
}

// Fence is the check a write made on the strength of this lease runs in its
// own transaction (a log object's commit): it fails, wrapping ErrLeaseLost,
// once another process has taken the lease.
func (l *Lease) Fence(tx meta.Tx) error { return l.check(tx) }

// Renew extends the lease by its duration. want reports that the journal's
// owner asks for it back (only for a lease taken over). It fails wrapping
// ErrLeaseLost when the lease is no longer this process's.
func (l *Lease) Renew(ctx context.Context) (want bool, err error) {
	if l.lost.Load() {
		return false, fmt.Errorf("%w: journal %s", ErrLeaseLost, l.journal)
	}
	now := l.ls.Clock.Now()
	err = l.ls.Store.Update(ctx, func(tx meta.Tx) error {
		if err := l.check(tx); err != nil {
			return err
		}
		r, _ := getLease(tx, l.journal)
		want = l.journal != l.ls.Node && now.Before(r.WantUntil)
		r.Expires = now.Add(l.ls.Duration)
		return putLease(tx, l.journal, r)
	})
	if err != nil {
		return false, err
	}
	l.trustUntil(now)
	return want, nil
}

// Release gives the lease up. drained says the journal has nothing left to
// deliver: the lease is then free (only its owner takes it again);
// otherwise it is left expired, for another node to take over at once.
func (l *Lease) Release(ctx context.Context, drained bool) error {
	if l.lost.Swap(true) {
		return nil
	}
	now := l.ls.Clock.Now()
	return l.ls.Store.Update(ctx, func(tx meta.Tx) error {
		if err := l.check(tx); err != nil {
			return err
		}
		r, _ := getLease(tx, l.journal)
		r.Expires = now
		if drained {
			r.Holder, r.Instance = "", ""
		}
		return putLease(tx, l.journal, r)
	})
}

// loadState reads the journal's delivery state from the store (nil if none).
func (l *Lease) loadState(ctx context.Context) ([]byte, error) {
	var out []byte
	err := l.ls.Store.View(ctx, func(tx meta.Tx) error {
		raw, err := tx.Get(meta.SpaceSystem, stateKey(l.journal))
		out = append([]byte(nil), raw...)
		if raw == nil {
			out = nil
		}
		return err
	})
	return out, err
}

// saveState replaces the journal's delivery state, in the transaction that
// checks the lease: a deliverer that lost it cannot record progress.
func (l *Lease) saveState(ctx context.Context, data []byte) error {
	return l.ls.Store.Update(ctx, func(tx meta.Tx) error {
		if err := l.check(tx); err != nil {
			return err
		}
		return tx.Put(meta.SpaceSystem, stateKey(l.journal), data)
	})
}

type fenceKey struct{}

// WithFence returns ctx carrying fence; Sinks find it with FenceOf.
func WithFence(ctx context.Context, fence func(meta.Tx) error) context.Context {
	return context.WithValue(ctx, fenceKey{}, fence)
}

// FenceOf is the fence a Sink must run in the transaction that commits the
// log object it is given ctx for (nil when the journal is not leased): the
// object must not be stored when the fence fails.
func FenceOf(ctx context.Context) func(meta.Tx) error {
	f, _ := ctx.Value(fenceKey{}).(func(meta.Tx) error)
	return f
}
