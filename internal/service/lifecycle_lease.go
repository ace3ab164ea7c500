package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ossd/ossd/internal/meta"
)

// On a shared store (several nodes, meta.IsShared) one lifecycle run at a
// time runs across the cluster: its progress is one record
// (lifecycleStateKey) that two runs would overwrite in turn, and N nodes
// scanning every bucket N times a day is N-1 scans too many. The run holds
// a lease, a system record (lifecycleLeaseKey) with its holder, an epoch
// and an expiry:
//
//   - taken in the transaction that starts (or resumes) the run, when it
//     is absent, expired, or left by this node before a restart; a run
//     that finds it held by another live node does not start
//     (ErrLifecycleBusy);
//   - renewed by every save of the run's progress, in the transaction
//     that saves, which first checks that the lease still names this
//     process at its epoch: a run that lost the lease (paused past its
//     expiry while another node took over) cannot move the progress,
//     and stops (ErrLifecycleLeaseLost);
//   - released by the transaction that completes the run (records
//     lifecycleLastKey, deletes the progress), under the same check;
//     and, when the node stops its lifecycle schedule (a graceful
//     shutdown) with a run unfinished, made to expire at once, so that
//     another node resumes the run without waiting out the lease. A
//     node that dies releases nothing: its lease runs out.
//
// The actions themselves are not fenced: each is decided again inside the
// transaction that performs it, so a stale run finishing its batch beside
// the new holder expires nothing twice, and logs nothing twice (only the
// transaction that deleted logs).
//
// On a store of one node the lease is neither taken nor read: one process
// and its lifecycleMu are the whole cluster, and a restart must resume a
// run its crash interrupted at once, not after an expiry.
const lifecycleLeaseKey = "lifecycle.lease"

// DefaultLifecycleLease is how long a lifecycle run's lease lasts unless
// renewed (Config.LifecycleLease). A run renews it at every progress
// save, after each batch of lifecycleBatch (256) keys scanned, which costs
// at most 256 action transactions: seconds, even on a busy database. Five
// minutes leaves two orders of magnitude for a slow batch and for clock
// differences between nodes before a live holder is taken over (which
// wastes the batch it was doing), and a holder that died is replaced
// within five minutes, which a daily schedule does not notice.
const DefaultLifecycleLease = 5 * time.Minute

var (
	// ErrLifecycleBusy: another node is running the lifecycle (it holds
	// the run lease, unexpired). Nothing was done.
	ErrLifecycleBusy = errors.New("lifecycle: a run is in progress on another node")
	// ErrLifecycleLeaseLost: the run's lease expired and another node took
	// it over; the run stopped without saving its progress, which the
	// other node's run carries on from.
	ErrLifecycleLeaseLost = errors.New("lifecycle: run lease lost to another node")
)

// lifecycleLease is the stored run lease.
type lifecycleLease struct {
	// Node is the holder's node id (Config.NodeID; may be empty), for
	// logs and to let a restarted node take back its own lease.
	Node string `json:"node,omitempty"`
	// Instance tells apart two Services (processes) with one node id.
	Instance string `json:"instance"`
	// Epoch grows at every acquisition: a save checks it, so a holder
	// that lost the lease and took it back cannot be confused with the
	// run it was.
	Epoch   uint64    `json:"epoch"`
	Expires time.Time `json:"expires"`
}

func (l *lifecycleLease) String() string {
	return fmt.Sprintf("node %q (instance %s, epoch %d, expires %s)", l.Node, l.Instance, l.Epoch, l.Expires.Format(time.RFC3339))
}

func getLifecycleLease(tx meta.Tx) (*lifecycleLease, error) {
	return getSystemJSON[lifecycleLease](tx, lifecycleLeaseKey)
}

func putLifecycleLease(tx meta.Tx, l *lifecycleLease) error {
	return putSystemJSON(tx, lifecycleLeaseKey, l)
}

// getSystemJSON reads the system record name as JSON into a new T; nil
// when absent.
func getSystemJSON[T any](tx meta.Tx, name string) (*T, error) {
	raw, err := meta.GetSystem(tx, name)
	if err != nil || len(raw) == 0 {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("system record %s: %w", name, err)
	}
	return v, nil
}

func putSystemJSON(tx meta.Tx, name string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return meta.PutSystem(tx, name, raw)
}

func (s *Service) lifecycleLeaseDuration() time.Duration {
	if s.cfg.LifecycleLease > 0 {
		return s.cfg.LifecycleLease
	}
	return DefaultLifecycleLease
}

// takeLifecycleLease takes the run lease in tx, or returns the live lease
// of another holder with ErrLifecycleBusy. A lease this process left (a
// run that failed or was stopped) or this node left (before a restart:
// one node id is one live process) is taken back at once.
func (s *Service) takeLifecycleLease(tx meta.Tx) (epoch uint64, err error) {
	cur, err := getLifecycleLease(tx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	if cur != nil {
		ours := cur.Instance == s.instance || (s.cfg.NodeID != "" && cur.Node == s.cfg.NodeID)
		if !ours && now.Before(cur.Expires) {
			return 0, fmt.Errorf("%w: held by %s", ErrLifecycleBusy, cur)
		}
		epoch = cur.Epoch
	}
	epoch++
	return epoch, putLifecycleLease(tx, &lifecycleLease{Node: s.cfg.NodeID, Instance: s.instance, Epoch: epoch, Expires: now.Add(s.lifecycleLeaseDuration())})
}

// heldLifecycleLease returns the lease if it still names this process at
// epoch, else fails with ErrLifecycleLeaseLost: the fence of every write
// of a leased run.
func (s *Service) heldLifecycleLease(tx meta.Tx, epoch uint64) (*lifecycleLease, error) {
	cur, err := getLifecycleLease(tx)
	if err != nil {
		return nil, err
	}
	if cur == nil || cur.Instance != s.instance || cur.Epoch != epoch {
		holder := "nobody"
		if cur != nil {
			holder = cur.String()
		}
		return nil, fmt.Errorf("%w: now held by %s, this run's epoch %d", ErrLifecycleLeaseLost, holder, epoch)
	}
	return cur, nil
}

// releaseLifecycleLease ends this process's hold on the run lease when its
// lifecycle schedule stops: the lease (if it still names this process and
// is live) is set to expire now, keeping its epoch, so that the next
// holder's epoch is higher and a stale save by this process would still
// be refused. The saved progress stays for whoever resumes the run. A run
// in progress (on demand, through RunLifecycle) keeps the lease: it is
// still working under it.
func (s *Service) releaseLifecycleLease() {
	if !s.shared || !s.lifecycleMu.TryLock() {
		return
	}
	defer s.lifecycleMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var released *lifecycleLease
	err := s.update(ctx, func(tx meta.Tx) error {
		released = nil
		cur, err := getLifecycleLease(tx)
		if err != nil || cur == nil || cur.Instance != s.instance || !s.now().Before(cur.Expires) {
			return err
		}
		cur.Expires = s.now()
		released = cur
		return putLifecycleLease(tx, cur)
	})
	switch {
	case err != nil:
		s.log.Warn("lifecycle: could not release the run lease on stop; other nodes take the run over when it expires", "err", err)
	case released != nil:
		s.log.Info("lifecycle: released the run lease on stop; another node resumes the run", "lease", released.String())
	}
}
