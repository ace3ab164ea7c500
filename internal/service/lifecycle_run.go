package service

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/osslog"
)

// A lifecycle run walks every bucket that has rules, key by key, and
// applies what the rules say. Safety rests on two things:
//
//   - Each action is decided twice: once while scanning (a read-only
//     snapshot, to find candidates cheaply) and again inside the
//     transaction that performs it, against the rules and versions current
//     at that moment. A rule changed or deleted since the scan, a newer
//     version written, a tag removed: the second decision sees it, and the
//     object stays.
//   - The run's progress (its clock reading and the last bucket and key
//     done) is committed after each batch under lifecycleStateKey. A run a
//     crash interrupted resumes from there at the next start, with the same
//     clock reading; redoing a key is harmless, because an action already
//     done no longer matches (the current version is now a delete marker,
//     the noncurrent version is gone).
const lifecycleStateKey = "lifecycle.run"

// lifecycleLastKey holds the clock reading of the last completed run, so
// that a daily run missed while the server was down is made up at start.
const lifecycleLastKey = "lifecycle.last"

// lifecycleBatch is how many keys one scan snapshot covers.
const lifecycleBatch = 256

type lifecycleState struct {
	Now    time.Time `json:"now"`
	Bucket string    `json:"bucket"`
	After  string    `json:"after"` // last key done in Bucket
	Phase  string    `json:"phase"` // "objects" or "uploads"
	// epoch is the run lease this run holds (lifecycle_lease.go); 0: no
	// lease, the store is one node's.
	epoch uint64
}

// LifecycleStats counts what a run did.
type LifecycleStats struct {
	Expired  int // current versions expired (deleted, or hidden by a delete marker)
	Versions int // noncurrent versions and delete markers removed
	Aborted  int // multipart uploads aborted
	Resumed  bool
	// Skipped: the run did not start, because another node was running
	// the lifecycle (with ErrLifecycleBusy) or, for a scheduled run, had
	// already made the run due at this time.
	Skipped   bool
	Completed time.Time
}

// LifecycleLogger receives the access-log record of each lifecycle action
// in a bucket with logging on (the server appends it to the journal).
type LifecycleLogger func(ctx context.Context, r *accesslog.Record) error

// LifecycleUserAgent is the user agent column of lifecycle actions' log
// lines: it tells them from requests.
const LifecycleUserAgent = "ossd-lifecycle"

// lifecycleSeq numbers lifecycle actions' request ids. It starts at a
// random value so that nodes sharing a store (each running lifecycle) do
// not hand out the same ids in the same second: access-log lines are
// told apart by request id.
var lifecycleSeq = func() *atomic.Uint32 {
	var b [4]byte
	rand.Read(b[:])
	var n atomic.Uint32
	n.Store(binary.BigEndian.Uint32(b[:]))
	return &n
}()

// RunLifecycle runs the lifecycle rules of every bucket as of now, or
// resumes the run a crash interrupted (with that run's clock reading). It
// returns when every bucket is done; ctx stops it between actions, leaving
// its progress saved. On a shared store it returns ErrLifecycleBusy, doing
// nothing, while another node runs the lifecycle, and
// ErrLifecycleLeaseLost when another node took its run over.
func (s *Service) RunLifecycle(ctx context.Context, now time.Time, logf LifecycleLogger) (LifecycleStats, error) {
	return s.runLifecycle(ctx, now, logf, nil)
}

// runLifecycle is RunLifecycle; done, if set, says whether the run that
// ended at last (another node's, on a shared store) already made the run
// due at now, which is then skipped.
func (s *Service) runLifecycle(ctx context.Context, now time.Time, logf LifecycleLogger, done func(last time.Time) bool) (LifecycleStats, error) {
	s.lifecycleMu.Lock()
	defer s.lifecycleMu.Unlock()
	var st LifecycleStats
	state, resumed, err := s.beginLifecycle(ctx, now, done)
	if errors.Is(err, ErrLifecycleBusy) {
		st.Skipped = true
	}
	if err != nil {
		return st, err
	}
	if state == nil {
		st.Skipped = true
		return st, nil
	}
	st.Resumed = resumed
	var buckets []string
	err = s.meta.View(ctx, func(tx meta.Tx) error {
		buckets = buckets[:0]
		return meta.ListBuckets(tx, "", func(b *meta.Bucket) bool {
			if b.Lifecycle != nil && b.Name >= state.Bucket {
				buckets = append(buckets, b.Name)
			}
			return true
		})
	})
	if err != nil {
		return st, fmt.Errorf("lifecycle: list buckets: %w", err)
	}
	for _, name := range buckets {
		if name != state.Bucket {
			state.Bucket, state.After, state.Phase = name, "", "objects"
		}
		if err := s.lifecycleBucket(ctx, state, logf, &st); err != nil {
			return st, s.lifecycleStopped(err)
		}
	}
	last, _ := state.Now.MarshalText()
	if err := s.update(ctx, func(tx meta.Tx) error {
		if state.epoch != 0 {
			if _, err := s.heldLifecycleLease(tx, state.epoch); err != nil {
				return err
			}
			if err := meta.DeleteSystem(tx, lifecycleLeaseKey); err != nil {
				return err
			}
		}
		if err := meta.PutSystem(tx, lifecycleLastKey, last); err != nil {
			return err
		}
		return meta.DeleteSystem(tx, lifecycleStateKey)
	}); err != nil {
		return st, s.lifecycleStopped(fmt.Errorf("lifecycle: finish run: %w", err))
	}
	st.Completed = state.Now
	return st, nil
}

// lifecycleStopped logs a run's loss of its lease, once, where it is found
// (scheduled and on-demand runs alike), and returns err.
func (s *Service) lifecycleStopped(err error) error {
	if errors.Is(err, ErrLifecycleLeaseLost) {
		s.log.Warn("lifecycle: this node's run lost its lease (it expired and another node took the run over); stopping without saving progress", "err", err)
	}
	return err
}

// beginLifecycle returns the run to do: the one a crash (or a lost lease)
// interrupted, resumed, or a new one as of now, saved. On a shared store it
// takes the run lease in the same transaction (ErrLifecycleBusy when
// another node holds it), and, when no run is unfinished, asks done about
// the last completed run: a nil state then means skip.
func (s *Service) beginLifecycle(ctx context.Context, now time.Time, done func(last time.Time) bool) (state *lifecycleState, resumed bool, err error) {
	if !s.shared {
		// One node: as before leases, a read and, for a new run, one
		// commit.
		if err := s.meta.View(ctx, func(tx meta.Tx) error {
			state, err = getLifecycleState(tx)
			return err
		}); err != nil || state != nil {
			return state, state != nil, err
		}
		state = &lifecycleState{Now: now.UTC(), Phase: "objects"}
		return state, false, s.saveLifecycleState(ctx, state)
	}
	err = s.update(ctx, func(tx meta.Tx) error {
		state, resumed = nil, false
		saved, err := getLifecycleState(tx)
		if err != nil {
			return err
		}
		if saved == nil && done != nil {
			last, err := lastLifecycleRun(tx)
			if err != nil || (!last.IsZero() && done(last)) {
				return err
			}
		}
		epoch, err := s.takeLifecycleLease(tx)
		if err != nil {
			return err
		}
		if saved != nil {
			saved.epoch = epoch
			state, resumed = saved, true
			return nil
		}
		state = &lifecycleState{Now: now.UTC(), Phase: "objects", epoch: epoch}
		return putLifecycleState(tx, state)
	})
	if err != nil && !errors.Is(err, ErrLifecycleBusy) {
		err = fmt.Errorf("lifecycle: start run: %w", err)
	}
	return state, resumed, err
}

func getLifecycleState(tx meta.Tx) (*lifecycleState, error) {
	return getSystemJSON[lifecycleState](tx, lifecycleStateKey)
}

func putLifecycleState(tx meta.Tx, st *lifecycleState) error {
	return putSystemJSON(tx, lifecycleStateKey, st)
}

// lastLifecycleRun is the clock reading of the last completed run; zero if
// none completed.
func lastLifecycleRun(tx meta.Tx) (time.Time, error) {
	var last time.Time
	raw, err := meta.GetSystem(tx, lifecycleLastKey)
	if err != nil || len(raw) == 0 {
		return last, err
	}
	if err := last.UnmarshalText(raw); err != nil {
		return time.Time{}, fmt.Errorf("lifecycle: last run: %w", err)
	}
	return last, nil
}

// saveLifecycleState commits the run's progress; a leased run's save
// checks and renews its lease in the same transaction, so a run that lost
// it moves nothing.
func (s *Service) saveLifecycleState(ctx context.Context, st *lifecycleState) error {
	if err := s.update(ctx, func(tx meta.Tx) error {
		if st.epoch != 0 {
			l, err := s.heldLifecycleLease(tx, st.epoch)
			if err != nil {
				return err
			}
			l.Expires = s.now().Add(s.lifecycleLeaseDuration())
			if err := putLifecycleLease(tx, l); err != nil {
				return err
			}
		}
		return putLifecycleState(tx, st)
	}); err != nil {
		return fmt.Errorf("lifecycle: save progress: %w", err)
	}
	return nil
}

// lifecycleBucket runs one bucket's rules from state's position on.
func (s *Service) lifecycleBucket(ctx context.Context, state *lifecycleState, logf LifecycleLogger, st *LifecycleStats) error {
	for state.Phase == "objects" {
		keys, done, err := s.lifecycleCandidates(ctx, state)
		if err != nil {
			return err
		}
		for _, key := range keys {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.lifecycleKey(ctx, state.Bucket, key, state.Now, logf, st); err != nil {
				return err
			}
		}
		if done {
			state.Phase, state.After = "uploads", ""
		}
		if err := s.saveLifecycleState(ctx, state); err != nil {
			return err
		}
	}
	var ups []*meta.Upload
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		ups = ups[:0]
		b, err := meta.GetBucket(tx, state.Bucket)
		if err != nil || b == nil {
			return err
		}
		return meta.ScanUploads(tx, state.Bucket, "", func(u *meta.Upload) bool {
			if _, ok := uploadRule(b.Lifecycle, u, state.Now); ok {
				ups = append(ups, u)
			}
			return true
		})
	})
	if err != nil {
		return fmt.Errorf("lifecycle: scan uploads of %s: %w", state.Bucket, err)
	}
	for i, u := range ups {
		if err := ctx.Err(); err != nil {
			return err
		}
		if state.epoch != 0 && i > 0 && i%lifecycleBatch == 0 {
			// Renew the lease as a batch of keys does.
			if err := s.saveLifecycleState(ctx, state); err != nil {
				return err
			}
		}
		if err := s.lifecycleUpload(ctx, u, state.Now, logf, st); err != nil {
			return err
		}
	}
	return nil
}

// lifecycleCandidates scans up to lifecycleBatch keys after state.After and
// returns those the rules act on; done when the bucket's keys are
// exhausted. state.After moves to the last key scanned.
func (s *Service) lifecycleCandidates(ctx context.Context, state *lifecycleState) ([]string, bool, error) {
	var keys []string
	var last string
	done := true
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		keys, last, done = keys[:0], state.After, true
		b, err := meta.GetBucket(tx, state.Bucket)
		if err != nil || b == nil {
			return err
		}
		var group []*meta.Version // the versions of one key, newest first
		seen := 0
		flush := func() {
			if len(planKey(b.Lifecycle, group, state.Now)) > 0 {
				keys = append(keys, group[0].Key)
			}
			last, group = group[0].Key, nil
			seen++
		}
		from := state.After
		if from != "" {
			from += "\x01" // past every version of the last key done (stored as key, 0, seq)
		}
		err = meta.ScanVersions(tx, state.Bucket, from, func(v *meta.Version) bool {
			if len(group) > 0 && group[0].Key != v.Key {
				if flush(); seen >= lifecycleBatch {
					done = false
					return false
				}
			}
			group = append(group, v)
			return true
		})
		if err == nil && done && len(group) > 0 {
			flush()
		}
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("lifecycle: scan %s: %w", state.Bucket, err)
	}
	state.After = last
	return keys, done, nil
}

// lifecycleKey applies the rules to one key in one transaction that
// decides again, from what it reads, what to do.
func (s *Service) lifecycleKey(ctx context.Context, bucket, key string, now time.Time, logf LifecycleLogger, st *LifecycleStats) error {
	type done struct {
		a   keyAction
		res *DeleteResult
	}
	var did []done
	var garbage []string
	var b *meta.Bucket
	err := s.update(ctx, func(tx meta.Tx) error {
		did, garbage = nil, nil
		var err error
		if b, err = meta.GetBucket(tx, bucket); err != nil || b == nil {
			return err
		}
		vers, err := meta.Versions(tx, bucket, key)
		if err != nil {
			return err
		}
		for _, a := range planKey(b.Lifecycle, vers, now) {
			res, g, err := s.deleteInTx(tx, bucket, key, a.versionID)
			if err != nil {
				return err
			}
			did, garbage = append(did, done{a, res}), append(garbage, g...)
		}
		return nil
	})
	if err != nil {
		return internalErr("lifecycle: expire "+bucket+"/"+key, err)
	}
	s.blobs.Remove(garbage...)
	for _, d := range did {
		switch {
		case d.a.versionID == "":
			st.Expired++
			s.cfg.Metrics.LifecycleAction(metrics.LifecycleExpire)
		case d.res.DeleteMarker:
			st.Versions++
			s.cfg.Metrics.LifecycleAction(metrics.LifecycleExpireDeleteMarker)
		default:
			st.Versions++
			s.cfg.Metrics.LifecycleAction(metrics.LifecycleExpireNoncurrent)
		}
		uri := objectPath(bucket, key)
		if d.a.versionID != "" {
			uri += "?versionId=" + url.QueryEscape(d.a.versionID)
		}
		s.logLifecycle(ctx, b, logf, oss.OpExpireObject, key, uri, d.a.size, d.res.Delta, d.a.class, now)
	}
	return nil
}

// lifecycleUpload aborts u if a rule still says so.
func (s *Service) lifecycleUpload(ctx context.Context, u *meta.Upload, now time.Time, logf LifecycleLogger, st *LifecycleStats) error {
	var garbage []string
	var b *meta.Bucket
	aborted := false
	err := s.update(ctx, func(tx meta.Tx) error {
		garbage, aborted = nil, false
		var err error
		if b, err = meta.GetBucket(tx, u.Bucket); err != nil || b == nil {
			return err
		}
		cur, err := meta.GetUpload(tx, u.Bucket, u.Key, u.UploadID)
		if err != nil || cur == nil {
			return err
		}
		if _, ok := uploadRule(b.Lifecycle, cur, now); !ok {
			return nil
		}
		garbage, err = dropUpload(tx, cur)
		aborted = err == nil
		return err
	})
	if err != nil {
		return internalErr("lifecycle: abort upload", err)
	}
	s.blobs.Remove(garbage...)
	if aborted {
		st.Aborted++
		s.cfg.Metrics.LifecycleAction(metrics.LifecycleAbortMultipart)
		uri := objectPath(u.Bucket, u.Key) + "?uploadId=" + url.QueryEscape(u.UploadID)
		s.logLifecycle(ctx, b, logf, oss.OpAbortMultipartUpload, u.Key, uri, osslog.Absent, 0, u.Template.StorageClass, now)
	}
	return nil
}

// objectPath is the path-style request path of bucket/key, each segment
// of the key escaped and its slashes kept, as a client would send it.
func objectPath(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + bucket + "/" + strings.Join(segs, "/")
}

// logLifecycle appends the access-log record of one lifecycle action when
// the bucket has logging on. OSS does not document what it writes for
// lifecycle actions; ossd writes the line a DELETE by the service itself
// would produce: no remote address, requester or access key, the
// operation ExpireObject (or AbortMultipartUpload), user agent
// "ossd-lifecycle", status 204. A failed append is logged and the run
// goes on: the deletion has committed already.
func (s *Service) logLifecycle(ctx context.Context, b *meta.Bucket, logf LifecycleLogger, op oss.Op, key, uri string, size, delta int64, class string, now time.Time) {
	if logf == nil || b == nil || b.Logging == nil {
		return
	}
	var id [12]byte
	sec := uint32(now.Unix())
	n := lifecycleSeq.Add(1)
	copy(id[:], []byte{byte(sec >> 24), byte(sec >> 16), byte(sec >> 8), byte(sec), 'L', 'I', 'F', 'E', byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	if delta == 0 {
		delta = osslog.AbsentDelta
	}
	r := &accesslog.Record{
		Line: osslog.Line{
			Reserved1: "-", Reserved2: "-", Time: s.now(),
			RequestURI: "DELETE " + uri + " HTTP/1.1", HTTPStatus: 204,
			UserAgent: LifecycleUserAgent, RequestID: strings.ToUpper(hex.EncodeToString(id[:])), LoggingFlag: "true",
			Operation: string(op), Bucket: b.Name, Key: key, ObjectSize: size,
			UserID: b.Owner, DeltaDataSize: delta, StorageClass: strings.ToLower(class),
		},
		SourceBucket: b.Name, TargetBucket: b.Logging.TargetBucket, TargetPrefix: b.Logging.TargetPrefix,
	}
	if err := logf(ctx, r); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("lifecycle: access-log record not written", "bucket", b.Name, "key", key, "op", op, "err", err)
	}
}

// Clock is the lifecycle scheduler's time source; tests inject a fake one
// (accesslog.FakeClock fits) so that days pass without sleeping.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// LifecycleSchedule configures StartLifecycle.
type LifecycleSchedule struct {
	Clock Clock
	// Interval between runs; zero means OSS's schedule: daily, starting
	// at 00:00 UTC (08:00 in OSS's China regions, by which OSS has
	// processed the previous day's expirations).
	Interval time.Duration
	Log      LifecycleLogger
	// Done, if set, is called after each run (tests wait on it).
	Done func(LifecycleStats, error)
}

// lifecycleOwed reports whether a run is due at start: one a crash
// interrupted, or, on the daily schedule, the run of a midnight that
// passed while the server was down (a server that never ran the rules
// owes nothing: it waits for the next midnight).
func (s *Service) lifecycleOwed(ctx context.Context, sc LifecycleSchedule) bool {
	owed := false
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		state, err := getLifecycleState(tx)
		if err != nil || state != nil {
			owed = state != nil
			return err
		}
		if sc.Interval > 0 {
			return nil
		}
		last, err := lastLifecycleRun(tx)
		owed = !last.IsZero() && last.Before(sc.Clock.Now().UTC().Truncate(24*time.Hour))
		return err
	})
	return owed && err == nil
}

// ranSince reports whether a run that started at last (another node's, on
// a shared store) is the run due at now: on the daily schedule, one that
// started at or after today's midnight; under an interval, one that
// started less than an interval ago. So N nodes make one run a day, or
// about one per interval, not N.
func (sc LifecycleSchedule) ranSince(last, now time.Time) bool {
	if sc.Interval > 0 {
		return now.Sub(last) < sc.Interval
	}
	return !last.Before(now.UTC().Truncate(24 * time.Hour))
}

// NextLifecycleRun is when a run after now starts under interval.
func NextLifecycleRun(now time.Time, interval time.Duration) time.Time {
	if interval > 0 {
		return now.Add(interval)
	}
	return now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
}

// StartLifecycle runs the lifecycle in the background until ctx ends; the
// returned function waits for it to stop. A run a crash interrupted is
// resumed at once.
//
// On a shared store every node keeps the schedule, and a node skips the
// runs another node has made (ranSince) or is making (ErrLifecycleBusy).
// A node that found a run in progress elsewhere looks again a lease
// duration later (or at its next scheduled time, if sooner): if the holder
// died, its lease has expired by then and this node resumes the run from
// its saved progress, the same day.
func (s *Service) StartLifecycle(ctx context.Context, sc LifecycleSchedule) (wait func()) {
	stopped := make(chan struct{})
	var done func(last time.Time) bool
	if s.shared {
		done = func(last time.Time) bool { return sc.ranSince(last, sc.Clock.Now()) }
	}
	run := func() (busy bool) {
		st, err := s.runLifecycle(ctx, sc.Clock.Now(), sc.Log, done)
		switch {
		case errors.Is(err, ErrLifecycleBusy):
			s.log.Info("lifecycle: run skipped, another node is running the lifecycle; looking again later", "in", s.lifecycleLeaseDuration(), "err", err)
		case errors.Is(err, ErrLifecycleLeaseLost):
			// Logged where it was found; the other node carries on.
		case err != nil && ctx.Err() == nil:
			s.log.Warn("lifecycle run failed; it resumes at the next run", "err", err)
		case st.Skipped:
			s.log.Debug("lifecycle: run skipped, another node made it")
		case st.Expired+st.Versions+st.Aborted > 0:
			s.log.Info("lifecycle run", "expired", st.Expired, "versions", st.Versions, "aborted", st.Aborted, "resumed", st.Resumed)
		}
		if sc.Done != nil && ctx.Err() == nil {
			sc.Done(st, err)
		}
		return errors.Is(err, ErrLifecycleBusy)
	}
	go func() {
		defer close(stopped)
		defer s.releaseLifecycleLease()
		due := s.lifecycleOwed(ctx, sc)
		for {
			busy := due && run()
			now := sc.Clock.Now()
			wait := NextLifecycleRun(now, sc.Interval).Sub(now)
			if busy {
				wait = min(wait, s.lifecycleLeaseDuration())
			}
			select {
			case <-ctx.Done():
				return
			case <-sc.Clock.After(wait):
			}
			due = true
		}
	}()
	return func() { <-stopped }
}
