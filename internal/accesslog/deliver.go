package accesslog

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A stream is the records of one (target bucket, target prefix, source
// bucket): the unit of delivery progress. Records are grouped into log
// objects per stream and per hour.
type stream struct {
	key                    string // streamKey(target, prefix, source)
	target, prefix, source string

	// cursor: this stream's records with ID <= max(cursor, Log.floor) are
	// delivered.
	cursor uint64
	// chunks are the durable, undelivered records, in ID order, in runs
	// that never straddle a multiple of Log.granule. A plan takes whole
	// chunks from the front.
	chunks  []chunk
	pending int64
	sealed  bool  // the last chunk is in a plan: start a new one
	plan    *plan // the batch in flight, if any
	// unsettled are the IDs, ascending, of provisional records in chunks
	// whose requests have not settled them (Provisional): no plan reaches
	// the first of them (bound).
	unsettled []uint64

	failures      int
	lastErr       error
	lastErrAt     time.Time
	nextAttempt   time.Time
	lastObject    string
	lastDelivered time.Time
	lastSeq       uint64 // Log.objects when lastObject was stored
}

type chunk struct {
	first, last uint64
	n           int
	minSec      int64 // earliest request time in the chunk
	minNsec     int32
}

// plan is a batch: this stream's records with lo < ID <= hi, n of them.
// Once saved in STATE it is only ever executed as is, until it succeeds:
// that is what makes a redo after a crash produce the same objects.
type plan struct {
	lo, hi uint64
	n      int
	saved  bool // STATE holds it
	// node is the node id in the names of the plan's objects: the
	// journal's (Config.NodeID) when planned, kept in STATE with the plan
	// so that a redo names them alike.
	node string
}

// streamKey is the raw form of the three routing strings, as they appear
// in a journal payload.
func streamKey(target, prefix, source string) string {
	b := appendStr(nil, target)
	b = appendStr(b, prefix)
	return string(appendStr(b, source))
}

func (l *Log) streamLocked(key string) *stream {
	s := &stream{key: key}
	s.target, s.prefix, s.source = splitKey(key)
	l.streams[key] = s
	return s
}

func (s *stream) add(id uint64, sec int64, nsec int32, granule uint64) {
	n := len(s.chunks)
	if n == 0 || s.sealed || (id-1)/granule != (s.chunks[n-1].last-1)/granule ||
		(s.plan != nil && s.chunks[n-1].last <= s.plan.hi && id > s.plan.hi) {
		s.chunks = append(s.chunks, chunk{first: id, last: id, n: 1, minSec: sec, minNsec: nsec})
		s.sealed = false
	} else {
		c := &s.chunks[n-1]
		c.last = id
		c.n++
		if sec < c.minSec || sec == c.minSec && nsec < c.minNsec {
			c.minSec, c.minNsec = sec, nsec
		}
	}
	s.pending++
}

// firstPending is the ID of the oldest undelivered record (0 if none).
func (s *stream) firstPending() uint64 {
	if len(s.chunks) == 0 {
		return 0
	}
	return s.chunks[0].first
}

// planThrough gives s the plan of its front chunks up to ID end, if any.
func (s *stream) planThrough(end uint64, node string) *plan {
	n, k := 0, 0
	for k < len(s.chunks) && s.chunks[k].last <= end {
		n += s.chunks[k].n
		k++
	}
	if k == 0 {
		return nil
	}
	if k == len(s.chunks) {
		s.sealed = true // later records start a new chunk
	}
	s.plan = &plan{lo: s.chunks[0].first - 1, hi: s.chunks[k-1].last, n: n, node: node}
	return s.plan
}

// commitLocked marks s's plan delivered.
func (s *stream) commitLocked() {
	p := s.plan
	k := 0
	for k < len(s.chunks) && s.chunks[k].last <= p.hi {
		k++
	}
	s.chunks = s.chunks[k:]
	s.pending -= int64(p.n)
	s.cursor = p.hi
	s.plan = nil
	if len(s.chunks) == 0 {
		s.sealed = false
		s.chunks = nil
	}
}

// snapshotLocked is the state to persist now. Floor is the highest ID below
// which every record is delivered.
func (l *Log) snapshotLocked() (*persisted, []*plan) {
	st := &persisted{Version: stateVersion, Durable: l.durable, Floor: l.durable}
	for _, s := range l.streams {
		if len(s.chunks) > 0 {
			st.Floor = min(st.Floor, s.chunks[0].first-1)
		}
	}
	st.Floor = max(st.Floor, l.floor)
	var plans []*plan
	for _, s := range l.streams {
		if s.cursor <= st.Floor && s.plan == nil {
			continue
		}
		ps := persistedStream{Target: s.target, Prefix: s.prefix, Source: s.source, Cursor: s.cursor}
		if s.plan != nil {
			ps.PlanLo, ps.PlanHi, ps.PlanNode = s.plan.lo, s.plan.hi, s.plan.node
			plans = append(plans, s.plan)
		}
		st.Streams = append(st.Streams, ps)
	}
	slices.SortFunc(st.Streams, func(a, b persistedStream) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Prefix, b.Prefix))
	})
	return st, plans
}

// save writes st and marks plans saved.
func (l *Log) save(st *persisted, plans []*plan) error {
	if err := l.writeState(st); err != nil {
		return fmt.Errorf("accesslog: saving delivery state: %w", err)
	}
	l.mu.Lock()
	for _, p := range plans {
		p.saved = true
	}
	l.floor = max(l.floor, st.Floor)
	for id := range l.cancelled {
		if id <= l.floor {
			delete(l.cancelled, id)
		}
	}
	l.mu.Unlock()
	return nil
}

func (l *Log) hook(step string) error {
	if l.cfg.hook == nil {
		return nil
	}
	return l.cfg.hook(step)
}

type roundOpts struct {
	tick  bool   // deliver healthy streams (a tick); else only due retries
	force bool   // ignore backoff (Flush)
	limit uint64 // only streams with a pending record <= limit
	skip  map[*stream]error
}

// round runs one delivery round: pick streams and plan their batches, save
// the plans, build the objects from the journal, put them, then commit the
// cursors of the streams whose objects were all stored and save again. ran
// reports whether any stream was tried; failed holds the streams whose
// delivery failed. err is a local failure (state, journal, ctx): the round
// stopped and nothing was marked failed.
//
// A round either redoes saved plans (retries, or a round a crash
// interrupted), as they are, or plans a window of the journal: whole
// granules from the oldest pending record of the eligible streams, as many
// as hold at most MaxBatch of their records, each stream's plan being its
// records in the window. So a round reads about MaxBatch records, once,
// whatever the number of streams.
//
// The steps and what a crash after each leaves:
//
//	plan saved     → redo the same plans after Open: same objects, same names
//	objects put    → redo overwrites the stored ones with identical bytes
//	cursors saved  → done; only segment deletion is left, redone at Open
func (l *Log) round(ctx context.Context, o roundOpts) (ran bool, failed map[*stream]error, err error) {
	l.mu.Lock()
	now := l.cfg.Clock.Now()
	var cands []*stream
	for _, s := range l.streams {
		if s.plan == nil && (len(s.chunks) == 0 || s.chunks[0].last > s.bound()) {
			continue // nothing, or nothing that may be planned yet
		}
		if _, skip := o.skip[s]; skip {
			continue
		}
		if o.limit != 0 && s.firstPending() > o.limit {
			continue
		}
		if !o.force {
			if s.lastErr != nil && now.Before(s.nextAttempt) || s.lastErr == nil && !o.tick {
				continue
			}
		}
		cands = append(cands, s)
	}
	slices.SortFunc(cands, func(a, b *stream) int { return cmp.Compare(a.firstPending(), b.firstPending()) })
	var picked []*stream
	budget, unsaved := 0, false
	for _, s := range cands {
		if p := s.plan; p != nil && (len(picked) == 0 || budget+p.n <= l.cfg.MaxBatch) {
			picked = append(picked, s)
			budget += p.n
			unsaved = unsaved || !p.saved
		}
	}
	if len(picked) == 0 && len(cands) > 0 {
		end := l.windowLocked(cands)
		for _, s := range cands {
			if s.planThrough(min(end, s.bound()), l.cfg.NodeID) != nil {
				picked = append(picked, s)
				unsaved = true
			}
		}
	}
	var st *persisted
	var stPlans []*plan
	if unsaved {
		st, stPlans = l.snapshotLocked()
	}
	l.mu.Unlock()
	if len(picked) == 0 {
		return false, nil, nil
	}

	// 1. Persist the plans before any object of theirs is put.
	if st != nil {
		if err := l.save(st, stPlans); err != nil {
			return true, nil, err
		}
	}
	if err := l.hook("plan-saved"); err != nil {
		return true, nil, err
	}

	// 2. Build the objects from the journal.
	objs, err := l.build(picked)
	if err != nil {
		return true, nil, err
	}

	// 3. Put them.
	errs, err := l.putAll(ctx, objs)
	if err != nil {
		return true, nil, err
	}
	if err := l.hook("before-commit"); err != nil {
		return true, nil, err
	}

	// 4. Commit the streams whose objects are all stored.
	l.mu.Lock()
	now = l.cfg.Clock.Now()
	failed = make(map[*stream]error)
	for i, ob := range objs {
		if errs[i] != nil {
			if _, seen := failed[ob.s]; !seen {
				failed[ob.s] = errs[i]
			}
		}
	}
	committed := false
	for _, s := range picked {
		if err := failed[s]; err != nil {
			l.failLocked(s, err, now)
			continue
		}
		s.commitLocked()
		committed = true
		if s.lastErr != nil {
			l.log.Info("access log delivery resumed", "source", s.source, "target", s.target, "prefix", s.prefix)
		}
		s.failures, s.lastErr, s.nextAttempt = 0, nil, time.Time{}
	}
	for _, ob := range objs {
		if failed[ob.s] == nil {
			l.objects++
			ob.s.lastObject, ob.s.lastDelivered, ob.s.lastSeq = ob.name, now, l.objects
		}
	}
	if committed {
		st, stPlans = l.snapshotLocked()
	}
	l.mu.Unlock()
	if !committed {
		return true, failed, nil
	}
	if err := l.save(st, stPlans); err != nil {
		// The objects are stored but a crash now would redo them (same
		// names, same bytes); segments stay until a save succeeds.
		return true, failed, err
	}
	if err := l.hook("after-commit"); err != nil {
		return true, failed, err
	}
	// 5. Delete what is delivered.
	if err := l.j.removeThrough(st.Floor); err != nil {
		l.log.Warn("removing delivered journal segments", "err", err)
	}
	return true, failed, nil
}

// windowLocked returns the last ID of the window a round plans: whole
// granules from the oldest pending record of cands, as many as hold at most
// MaxBatch of their records (at least one).
func (l *Log) windowLocked(cands []*stream) uint64 {
	counts := make(map[uint64]int)
	for _, s := range cands {
		for _, c := range s.chunks {
			if c.last > s.bound() {
				break
			}
			counts[(c.first-1)/l.granule] += c.n
		}
	}
	granules := slices.Sorted(maps.Keys(counts))
	last, total := granules[0], counts[granules[0]]
	for _, g := range granules[1:] {
		if total+counts[g] > l.cfg.MaxBatch {
			break
		}
		last, total = g, total+counts[g]
	}
	return (last + 1) * l.granule
}

// failLocked records a failed delivery of s and schedules its retry with
// capped exponential backoff. The reason is logged once per failing spell,
// not per retry.
func (l *Log) failLocked(s *stream, err error, now time.Time) {
	s.failures++
	d := l.cfg.RetryMax
	if s.failures <= 30 {
		d = min(l.cfg.RetryMin<<(s.failures-1), l.cfg.RetryMax)
	}
	s.nextAttempt = now.Add(d)
	if s.lastErr == nil {
		l.log.Warn("access log delivery failing; records are kept and retried",
			"source", s.source, "target", s.target, "prefix", s.prefix,
			"pending", s.pending, "err", err)
	}
	s.lastErr, s.lastErrAt = err, now
	if l.cfg.OnDeliveryFailure != nil {
		l.cfg.OnDeliveryFailure(s.target)
	}
}

// object is one log object of a round.
type object struct {
	s     *stream
	node  string // node id of the names
	name  string
	first uint64 // smallest record ID in it
	hour  int64  // Unix time of its hour start
	start time.Time
	size  int       // bytes of its lines
	refs  []lineRef // its lines in the plan's buffer
	// sorted is false once a record came earlier (by request time) than
	// the one before it.
	sorted bool
	body   []byte
}

type lineRef struct {
	sec      int64
	nsec     int32
	id       uint64
	off, end int
}

// build reads the records of the picked streams' plans from the journal,
// in one pass, and encodes them into objects: one per stream and hour,
// lines in request-time order. A plan's lines are encoded into one buffer,
// then copied out per object in order.
func (l *Log) build(picked []*stream) ([]*object, error) {
	type exec struct {
		s     *stream
		lo    uint64
		hi    uint64
		n     int
		node  string
		objs  []*object
		count int
		buf   []byte // the lines of all objs, in ID order
	}
	l.mu.Lock()
	byKey := make(map[string]*exec, len(picked))
	var ranges [][2]uint64
	for _, s := range picked {
		byKey[s.key] = &exec{s: s, lo: s.plan.lo, hi: s.plan.hi, n: s.plan.n, node: s.plan.node}
		ranges = append(ranges, [2]uint64{s.plan.lo, s.plan.hi})
	}
	var withdrawn map[uint64]struct{} // cancelled records: not lines
	if len(l.cancelled) > 0 {
		withdrawn = maps.Clone(l.cancelled)
	}
	l.mu.Unlock()
	// Read each stretch of the journal once: merge overlapping ranges.
	slices.SortFunc(ranges, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	merged := ranges[:1]
	for _, r := range ranges[1:] {
		if m := &merged[len(merged)-1]; r[0] <= m[1] {
			m[1] = max(m[1], r[1])
		} else {
			merged = append(merged, r)
		}
	}

	loc := l.cfg.Location
	var hc hourCache
	var rec Record
	visit := func(id uint64, p string) error {
		h, err := decodeHead(p)
		if err != nil {
			return err
		}
		e := byKey[h.key]
		if e == nil || id <= e.lo || id > e.hi || h.kind != recVersion {
			return nil
		}
		if _, ok := withdrawn[id]; ok {
			return nil
		}
		hour, start := hc.of(h.sec, loc)
		var ob *object
		for _, o := range e.objs {
			if o.hour == hour {
				ob = o
				break
			}
		}
		if ob == nil {
			ob = &object{s: e.s, node: e.node, first: id, hour: hour, start: start, sorted: true}
			e.objs = append(e.objs, ob)
		}
		if _, err := decodeRecord(p, &rec, loc); err != nil {
			return fmt.Errorf("%w: record %d: %v", ErrCorrupt, id, err)
		}
		off := len(e.buf)
		e.buf = rec.Line.Append(e.buf)
		e.buf = append(e.buf, '\n')
		if e.count == 0 { // size the buffer once, guessing from the first line
			e.buf = slices.Grow(e.buf, (len(e.buf)+len(e.buf)/8)*(e.n-1))
		}
		ob.size += len(e.buf) - off
		if n := len(ob.refs); n > 0 {
			prev := ob.refs[n-1]
			if h.sec < prev.sec || h.sec == prev.sec && h.nsec < prev.nsec {
				ob.sorted = false
			}
		}
		ob.refs = append(ob.refs, lineRef{h.sec, h.nsec, id, off, len(e.buf)})
		e.count++
		return nil
	}
	for _, r := range merged {
		if err := l.j.scan(r[0], r[1], visit); err != nil {
			return nil, err
		}
	}
	var objs []*object
	for _, s := range picked {
		e := byKey[s.key]
		if e.count != e.n {
			// The plan promised records the journal does not have: never
			// put a partial batch under a name a redo would reuse.
			return nil, fmt.Errorf("%w: stream %s→%s: found %d of %d records in (%d, %d]",
				ErrCorrupt, s.source, s.target, e.count, e.n, e.lo, e.hi)
		}
		slices.SortFunc(e.objs, func(a, b *object) int { return cmp.Compare(a.hour, b.hour) })
		for _, ob := range e.objs {
			ob.finish(e.buf)
			objs = append(objs, ob)
		}
	}
	return objs, nil
}

// finish orders the lines by request time (then ID) and names the object:
// <prefix><source>YYYY-mm-DD-HH-MM-SS-<NODE ID><first record ID, 16 hex
// digits>, where the time is the start of the records' hour in
// Config.Location. The name depends only on the plan, so a redo lands on
// the same object.
func (ob *object) finish(buf []byte) {
	if !ob.sorted {
		slices.SortFunc(ob.refs, func(a, b lineRef) int {
			return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), cmp.Compare(a.id, b.id))
		})
	}
	ob.body = make([]byte, 0, ob.size)
	for _, r := range ob.refs {
		ob.body = append(ob.body, buf[r.off:r.end]...)
	}
	ob.refs = nil
	name := make([]byte, 0, len(ob.s.prefix)+len(ob.s.source)+36+len(ob.node))
	name = append(name, ob.s.prefix...)
	name = append(name, ob.s.source...)
	name = ob.start.AppendFormat(name, "2006-01-02-15-04-05")
	name = append(name, '-')
	ob.name = string(appendUnique(name, ob.node, ob.first))
}

// hourCache maps a Unix time to the start of its hour in a location,
// remembering the last hour.
type hourCache struct {
	start, end int64
	t          time.Time
}

func (c *hourCache) of(sec int64, loc *time.Location) (int64, time.Time) {
	if sec >= c.start && sec < c.end {
		return c.start, c.t
	}
	t := time.Unix(sec, 0).In(loc)
	y, m, d := t.Date()
	c.t = time.Date(y, m, d, t.Hour(), 0, 0, 0, loc)
	c.start = c.t.Unix()
	c.end = c.start + 3600
	if sec < c.start || sec >= c.end { // a zone transition; do not cache
		c.end = c.start
	}
	return c.start, c.t
}

var errCrashed = errors.New("accesslog: round aborted by test hook")

// putAll stores objs through the Sink, PutConcurrency at a time. errs[i] is
// the Sink's error for objs[i]. err is set when ctx ended or a test hook
// aborted the round; errs is then meaningless.
func (l *Log) putAll(ctx context.Context, objs []*object) (errs []error, err error) {
	errs = make([]error, len(objs))
	ls := l.cfg.Lease
	if ls != nil {
		ctx = WithFence(ctx, ls.Fence)
	}
	var next atomic.Int64
	var abort atomic.Value
	var wg sync.WaitGroup
	for range min(l.cfg.PutConcurrency, len(objs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(objs) || abort.Load() != nil || ctx.Err() != nil {
					return
				}
				ob := objs[i]
				if ls != nil && !ls.Valid() {
					// The commit's fence would refuse it too, unless the
					// lease was merely not renewed: either way, stop.
					abort.CompareAndSwap(nil, fmt.Errorf("%w: journal %s: not renewed in time", ErrLeaseLost, ls.Journal()))
					return
				}
				errs[i] = l.cfg.Sink.PutLogObject(ctx, ob.s.target, ob.name, bytes.NewReader(ob.body), int64(len(ob.body)))
				if errors.Is(errs[i], ErrLeaseLost) {
					abort.CompareAndSwap(nil, errs[i])
					return
				}
				if errs[i] == nil {
					if err := l.hook("object-put"); err != nil {
						abort.CompareAndSwap(nil, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if e := abort.Load(); e != nil {
		return nil, e.(error)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return errs, nil
}

// Flush delivers every record appended before the call, now, ignoring
// backoff. It returns when their objects are stored, or with the joined
// per-stream errors (each wrapping the Sink's error, e.g. ErrTargetMissing)
// of the streams that could not be delivered; those stay pending and are
// retried.
func (l *Log) Flush(ctx context.Context) error {
	l.roundMu.Lock()
	defer l.roundMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	// Records written but not yet synced (default mode) are synced now, so
	// that "appended before the call" is all delivered. If the journal is
	// failing, what is durable is still delivered and the error reported.
	syncErr := l.j.syncNow()
	l.mu.Lock()
	limit := l.durable
	l.mu.Unlock()
	l.awaitSettled(ctx, limit)
	failed := make(map[*stream]error)
	for {
		ran, f, err := l.round(ctx, roundOpts{force: true, limit: limit, skip: failed})
		for s, e := range f {
			failed[s] = e
		}
		if err != nil {
			return err
		}
		if !ran {
			break
		}
	}
	if len(failed) > 0 { // let the loop schedule the retries
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	var errs []error
	if syncErr != nil {
		errs = append(errs, fmt.Errorf("accesslog: syncing the journal before delivery: %w", syncErr))
	}
	for s, e := range failed {
		errs = append(errs, fmt.Errorf("accesslog: delivering logs of bucket %q to bucket %q: %w", s.source, s.target, e))
	}
	slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// deliver runs rounds until every stream due has delivered what was
// durable when it started.
func (l *Log) deliver(ctx context.Context, tick bool) {
	l.roundMu.Lock()
	defer l.roundMu.Unlock()
	// A tick delivers everything written before it: sync what the syncer
	// has not reached yet (default mode). A failure is logged by the
	// journal; what is durable is delivered all the same.
	l.j.syncNow()
	l.mu.Lock()
	limit := l.durable
	l.mu.Unlock()
	l.awaitSettled(ctx, limit)
	failed := make(map[*stream]error)
	for ctx.Err() == nil {
		ran, f, err := l.round(ctx, roundOpts{tick: tick, limit: limit, skip: failed})
		for s, e := range f {
			failed[s] = e
		}
		if err != nil {
			if ctx.Err() == nil {
				l.log.Error("access log delivery round failed", "err", err)
			}
			return
		}
		if !ran {
			return
		}
	}
}

// nextTick is the first multiple of Interval after now, counted in
// Location (so hourly ticks fall on the hour there).
func (l *Log) nextTick(now time.Time) time.Time {
	d := int64(l.cfg.Interval)
	_, off := now.In(l.cfg.Location).Zone()
	local := now.UnixNano() + int64(off)*int64(time.Second)
	next := (local/d + 1) * d
	return time.Unix(0, next-int64(off)*int64(time.Second))
}

// nextRetry is the earliest retry due (zero if none).
func (l *Log) nextRetry() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var t time.Time
	for _, s := range l.streams {
		if s.lastErr != nil && (len(s.chunks) > 0 || s.plan != nil) && (t.IsZero() || s.nextAttempt.Before(t)) {
			t = s.nextAttempt
		}
	}
	return t
}

func (l *Log) loop(ctx context.Context) {
	defer close(l.loopDone)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // Close cancels the round in progress
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	clock := l.cfg.Clock
	tickAt := l.nextTick(clock.Now())
	var timer <-chan time.Time
	var timerAt time.Time
	for {
		wake := tickAt
		if r := l.nextRetry(); !r.IsZero() && r.Before(wake) {
			wake = r
		}
		if timer == nil || wake.Before(timerAt) {
			timer, timerAt = clock.After(wake.Sub(clock.Now())), wake
		}
		l.noteWait()
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
			continue
		case <-timer:
			timer = nil
		}
		now := clock.Now()
		tick := !now.Before(tickAt)
		if tick {
			tickAt = l.nextTick(now)
		}
		l.deliver(ctx, tick)
	}
}

// noteWait counts the delivery loop's waits, so that tests can tell when a
// tick has been handled.
func (l *Log) noteWait() {
	l.mu.Lock()
	l.waits++
	close(l.waitsCh)
	l.waitsCh = make(chan struct{})
	l.mu.Unlock()
}
