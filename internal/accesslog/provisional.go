package accesslog

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"
)

// Provisional is a record appended before its request's outcome is known,
// so that its fsync runs while the request's own metadata commit does,
// instead of after it (always mode). A logged write then waits for one
// device flush, not two in a row.
//
// Once the outcome is known the caller settles the record (Settle) with
// the record it would have appended:
//
//   - the same record (timing columns aside): the provisional record
//     stands; Settle waits for its fsync;
//   - a different one (the commit failed, or changed what the line says):
//     a cancel frame withdrawing the provisional record and the final
//     record are appended in one batch, and Settle waits for their fsync.
//
// Delivery never plans a provisional record, nor anything after it in its
// stream, before it is settled. What a crash leaves: a record never
// settled (the process died between the append and the answer) stays, as
// it was written; the request was never answered, so its line may say
// what the request would have done (a commit that failed can be logged as
// a success). Acknowledged requests are logged as answered.
type Provisional struct {
	l        *Log
	b        *batch
	id       uint64
	ref      cancelRef
	r        *Record
	settled  bool
	recorded []byte // r's payload, for the comparison in Settle
}

// AppendProvisional appends r as a provisional record and returns at once;
// the record's fsync proceeds while the caller completes its request. The
// caller must call Settle exactly once, and must not change r before.
// In the default mode, where Append does not wait for the disk, there is
// nothing to overlap: it returns nil, nil, and the caller appends its final
// record with Append.
func (l *Log) AppendProvisional(ctx context.Context, r *Record) (*Provisional, error) {
	if l.j.syncEvery > 0 {
		return nil, nil
	}
	if err := l.check(ctx, r); err != nil {
		return nil, err
	}
	b, id, err := l.j.add(r, true, nil)
	if err != nil {
		return nil, err
	}
	return &Provisional{l: l, b: b, id: id, r: r, recorded: timeless(r),
		ref: cancelRef{id: id, key: streamKey(r.TargetBucket, r.TargetPrefix, r.SourceBucket), sec: r.Time.Unix(), nsec: int32(r.Time.Nanosecond())}}, nil
}

// timeless is r's payload with the timing columns cleared: what must match
// for a provisional record to stand.
func timeless(r *Record) []byte {
	c := *r
	c.RequestTime, c.ServerCostTime = 0, 0
	return appendPayload(nil, 0, &c)
}

// Settle resolves p with final, the request's record as it would be
// appended now: when final says what p's record says (request_time and
// server_cost_time aside: those of p's record stand, measured when it was
// appended), p's record stands and Settle returns once it is durable.
// Otherwise p's record is withdrawn and final appended in its place, and
// Settle returns once both are durable. An error means the request's record
// is not durable and the request must not be acknowledged (as Append's).
// If the withdrawal could not be written, it is retried in the background
// and, until it succeeds, delivery holds p's stream at p.
func (p *Provisional) Settle(ctx context.Context, final *Record) error {
	if p.settled {
		return fmt.Errorf("accesslog: provisional record %d settled twice", p.id)
	}
	p.settled = true
	l := p.l
	same := bytes.Equal(timeless(final), p.recorded)
	<-p.b.done
	if p.b.err != nil {
		// Not durable, and cut back: nothing to withdraw.
		if same {
			return p.b.err
		}
		return l.Append(ctx, final)
	}
	if same {
		l.mu.Lock()
		if s := l.streams[p.ref.key]; s != nil {
			s.settle(p.id, l.granule)
			l.settledLocked()
		}
		l.mu.Unlock()
		if l.nsubs.Load() > 0 {
			l.publish([]*Record{p.r})
		}
		l.settled(false)
		return nil
	}
	if err := l.replace(p, final); err != nil {
		c := *final
		c.Extra = slices.Clone(final.Extra)
		l.retryReplace(p, &c)
		return err
	}
	l.settled(true)
	return nil
}

func (l *Log) settled(replaced bool) {
	if l.cfg.OnSettle != nil {
		l.cfg.OnSettle(replaced)
	}
}

// replace appends a cancel of p's record and final, in one batch, and
// waits for them.
func (l *Log) replace(p *Provisional, final *Record) error {
	b, _, err := l.j.add(final, false, &p.ref)
	if err != nil {
		return err
	}
	<-b.done
	return b.err
}

// retryReplace keeps trying to withdraw p's record (and log final in its
// place) until it succeeds or the log closes, once per RetryMin. Until
// then p's stream is held at p: a line that says what the request did not
// do is never delivered while ossd runs.
func (l *Log) retryReplace(p *Provisional, final *Record) {
	l.log.Error("access log: could not withdraw a provisional record; retrying", "record", p.id)
	go func() {
		for {
			select {
			case <-l.stop:
				l.log.Error("access log: closed with a provisional record not withdrawn; it will be delivered as written", "record", p.id)
				return
			case <-time.After(l.cfg.RetryMin):
			}
			if err := l.replace(p, final); err == nil {
				l.log.Info("access log: provisional record withdrawn", "record", p.id)
				return
			}
		}
	}()
}

// check is what Append and AppendProvisional ask of every record.
func (l *Log) check(ctx context.Context, r *Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.SourceBucket == "" || r.TargetBucket == "" {
		return fmt.Errorf("%w: source and target bucket are required", ErrInvalidRecord)
	}
	if ls := l.cfg.Lease; ls != nil && !ls.Valid() {
		// Another node may be delivering this journal (or soon may): a
		// record written now could be missed by it, or collide with it.
		return fmt.Errorf("%w: %w: not renewed in time", ErrJournalUnavailable, ErrLeaseLost)
	}
	return nil
}

// settle releases provisional record id of s to delivery, and merges the
// chunk it started into the one before, so that a stream of provisional
// records keeps about one chunk per granule, not one per record.
func (s *stream) settle(id uint64, granule uint64) {
	i := slices.Index(s.unsettled, id)
	if i < 0 {
		return
	}
	s.unsettled = slices.Delete(s.unsettled, i, i+1)
	s.rejoin(id, granule)
}

// rejoin merges the chunk that starts at id (a provisional record's) into
// the chunk before it, unless that one is of another granule or in a plan.
func (s *stream) rejoin(id uint64, granule uint64) {
	// From the back: the chunk of a record in flight is among the last, and
	// a stream holds about a chunk per granule of what is pending (an
	// hour's worth, with hourly delivery).
	k := len(s.chunks) - 1
	for k >= 0 && s.chunks[k].first > id {
		k--
	}
	if k < 1 || s.chunks[k].first != id {
		return
	}
	prev, c := &s.chunks[k-1], s.chunks[k]
	if (prev.first-1)/granule != (c.first-1)/granule || s.plan != nil && prev.last <= s.plan.hi {
		return
	}
	prev.last, prev.n = c.last, prev.n+c.n
	if c.minSec < prev.minSec || c.minSec == prev.minSec && c.minNsec < prev.minNsec {
		prev.minSec, prev.minNsec = c.minSec, c.minNsec
	}
	s.chunks = slices.Delete(s.chunks, k, k+1)
}

// settledLocked wakes whoever waits for provisional records to settle.
func (l *Log) settledLocked() {
	close(l.settledCh)
	l.settledCh = make(chan struct{})
}

// maxSettleWait bounds how long a delivery round waits for provisional
// records in flight: a request's metadata commit, normally milliseconds
// (Config.settleWait, in tests).
const maxSettleWait = 10 * time.Second

// awaitSettled waits until no provisional record with an ID up to limit
// is unsettled, so that a round delivers every request answered before it
// began (those behind an unsettled record in its stream wait for it). It
// gives up after maxSettleWait or when ctx ends; the round then delivers
// what it can, and the rest goes with the next one.
func (l *Log) awaitSettled(ctx context.Context, limit uint64) {
	wait := l.cfg.settleWait
	if wait == 0 {
		wait = maxSettleWait
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		ch, waiting := l.settledCh, false
		for _, s := range l.streams {
			if len(s.unsettled) > 0 && s.unsettled[0] <= limit {
				waiting = true
				break
			}
		}
		l.mu.Unlock()
		if !waiting {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			l.log.Warn("access log delivery: a provisional record is still unsettled; the records behind it wait for the next round")
			return
		case <-ctx.Done():
			return
		case <-l.stop:
			return
		}
	}
}

// bound is the highest ID a plan of s may reach: a record waiting to be
// settled, and everything after it, wait.
func (s *stream) bound() uint64 {
	if len(s.unsettled) == 0 {
		return ^uint64(0)
	}
	return s.unsettled[0] - 1
}

// cancelLocked takes record id out of s: a cancel frame withdrew it. At
// run time only a record still waiting to be settled can be withdrawn (it
// is then in a chunk, and in no plan); at replay (Open) any record in s's
// chunks can, since replay does not know which records were provisional.
func (l *Log) cancelLocked(s *stream, id uint64, replay bool) {
	if !replay {
		i := slices.Index(s.unsettled, id)
		if i < 0 {
			return
		}
		s.unsettled = slices.Delete(s.unsettled, i, i+1)
		l.settledLocked()
	}
	k := -1
	for i := len(s.chunks) - 1; i >= 0; i-- {
		if c := s.chunks[i]; c.first <= id && id <= c.last {
			k = i
			break
		}
	}
	if k < 0 || (s.plan != nil && id <= s.plan.hi) {
		return
	}
	l.cancelled[id] = struct{}{}
	s.pending--
	if s.chunks[k].n--; s.chunks[k].n == 0 {
		s.chunks = slices.Delete(s.chunks, k, k+1)
		if len(s.chunks) == 0 {
			s.chunks, s.sealed = nil, false
		}
	} else if !replay {
		s.rejoin(id, l.granule)
	}
}
