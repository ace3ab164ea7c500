package accesslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrJournalUnavailable is wrapped by Append when the record could not
	// be made durable (a write or fsync failed, e.g. the disk is full). The
	// request must then be refused: ossd never acknowledges a request it
	// cannot log.
	ErrJournalUnavailable = errors.New("accesslog: journal unavailable")
	// ErrTargetMissing is what a Sink wraps when the target bucket does not
	// exist. Delivery keeps the records and retries.
	ErrTargetMissing = errors.New("accesslog: target bucket does not exist")
	// ErrInvalidRecord is wrapped by Append for a record that cannot be
	// logged: no source or target bucket, or larger than 4 MiB encoded.
	ErrInvalidRecord = errors.New("accesslog: invalid record")
	// ErrClosed is returned by calls on a closed Log.
	ErrClosed = errors.New("accesslog: log closed")
)

// Sink stores delivered log objects. internal/server implements it over the
// object service; deliveries through it must not themselves be logged.
type Sink interface {
	// PutLogObject stores body (size bytes) as object key in bucket,
	// durably, overwriting any object of that name: delivery relies on the
	// overwrite to make a redone batch land on the same object. It returns
	// an error wrapping ErrTargetMissing when the bucket does not exist.
	// It is called from several goroutines at once, for different keys.
	PutLogObject(ctx context.Context, bucket, key string, body io.Reader, size int64) error
}

// Config configures a Log. Dir and Sink are required.
type Config struct {
	// Dir holds the journal segments and the delivery state. It belongs to
	// one Log at a time.
	Dir string
	// FS is the filesystem of Dir; nil means the OS filesystem.
	FS FS
	// Clock drives delivery; nil means the system clock.
	Clock Clock
	// Sink receives the log objects.
	Sink Sink
	// NodeID is the id of the node whose journal Dir is: it goes into the
	// UniqueString of the log objects' names, so that several nodes'
	// objects never share a name. "" gives the names of ossd before node
	// ids (16 hex digits). A journal keeps its node id: the ids of plans in
	// flight are kept with them, so a change renames only what was never
	// put.
	NodeID string
	// Lease, when set, is this process's lease of the journal (its owner's,
	// or a takeover's; see lease.go). The delivery state then lives in the
	// lease's store, saved only while the lease holds, every log object is
	// put with the lease's fence in its context, and Append refuses records
	// while the lease is not known to hold. nil: the journal is this
	// process's alone (one node), as before node ids.
	Lease *Lease
	// Interval is the delivery period (default 1h, at least 1s). Ticks are
	// aligned to multiples of Interval in Location: hourly delivery happens
	// at the top of each hour, for everything appended before it.
	Interval time.Duration
	// Location is the time zone of the hours that group records, of the
	// object names and of the time column of delivered lines. Default
	// UTC+8 (Beijing time, as OSS). It must not change while records are
	// pending delivery: a redone batch would be named differently.
	Location *time.Location
	// Logger receives delivery problems; nil means slog.Default().
	Logger *slog.Logger
	// SegmentSize is the size at which a journal segment is sealed and a
	// new one started (default 64 MiB).
	SegmentSize int64
	// MaxBatch caps the records one delivery round reads into memory, and
	// so the lines of one log object (default 262144, about 100 MiB). A
	// round takes a window of the journal from the oldest pending record
	// with at most MaxBatch records; a stream with records in the window
	// gets one object per hour of them.
	MaxBatch int
	// RetryMin and RetryMax bound the exponential backoff after a failed
	// delivery (default 1s and 5m).
	RetryMin, RetryMax time.Duration
	// PutConcurrency is the number of log objects put at once (default 4).
	PutConcurrency int
	// SubscriberBuffer is the channel capacity of each Subscribe (default
	// 1024); records a slow subscriber has no room for are dropped.
	SubscriberBuffer int
	// SyncInterval selects the durability mode of appended records.
	//
	// Zero is "always": Append returns after the fsync that covers the
	// record (shared by concurrent appends: group commit). Nothing
	// acknowledged is lost, by a killed process or a power cut.
	//
	// Above zero (ossd's default, 1s): Append writes the record into the
	// journal file — the kernel's page cache — in the caller's goroutine
	// and returns; a background syncer makes written records durable
	// (fdatasync) at most SyncInterval later. A killed process loses
	// nothing; a power cut or kernel crash may lose the records written in
	// the last SyncInterval, never duplicates one. Delivery only ever
	// plans records that are durable. At most 10s.
	SyncInterval time.Duration

	// OnSync, if set, is told how long each fdatasync of records took and
	// whether it failed (the default mode's syncer and its recoveries, or
	// each group commit in the always mode): a metrics hook. It runs on the
	// syncing goroutine, possibly with journal locks held, so it must be
	// quick and must not call the Log.
	OnSync func(d time.Duration, err error)
	// OnDeliveryFailure, if set, is called for each failed delivery
	// attempt of a stream's log objects to target (the records are kept
	// and retried): a metrics hook. It runs with the Log's lock held, so it
	// must be quick and must not call the Log.
	OnDeliveryFailure func(target string)
	// OnSettle, if set, is told how each provisional record was settled
	// (Provisional.Settle): replaced false when it stood as written, true
	// when it was withdrawn and the final record logged instead. A
	// metrics hook: it runs on the settling request's goroutine.
	OnSettle func(replaced bool)

	// hook, in tests, is called at each step of a delivery round; a non-nil
	// error aborts the round there, as a crash would.
	hook func(step string) error
	// settleWait, in tests, replaces maxSettleWait.
	settleWait time.Duration
}

// Log is the access log of one ossd process: a durable journal of records
// and the delivery of those records as log objects. Its methods are safe for
// concurrent use.
type Log struct {
	cfg Config
	log *slog.Logger
	j   *journal

	// roundMu serialises delivery rounds (ticks, retries and Flush).
	roundMu sync.Mutex

	mu      sync.Mutex
	streams map[string]*stream // by stream key
	durable uint64             // highest durable record ID
	// cancelled holds the IDs above the floor of records withdrawn by a
	// cancel frame: delivery skips them when it reads the journal.
	cancelled map[uint64]struct{}
	// durableN mirrors durable for readers that must not take mu.
	durableN atomic.Uint64
	floor    uint64        // Floor of the last state written
	granule  uint64        // chunks never straddle a multiple of granule (record IDs)
	objects  uint64        // log objects stored since Open
	waits    int           // times the delivery loop started waiting (tests)
	waitsCh  chan struct{} // closed and replaced when waits changes
	// settledCh is closed and replaced when a provisional record is
	// settled (Flush waits for those in flight).
	settledCh chan struct{}

	subsMu     sync.Mutex
	subs       map[*subscriber]struct{}
	nsubs      atomic.Int32
	subsClosed bool

	kick      chan struct{} // a retry was scheduled outside the loop
	stop      chan struct{}
	started   atomic.Bool
	loopDone  chan struct{}
	closeOnce sync.Once
	closed    atomic.Bool
}

type subscriber struct {
	ch      chan *Record
	dropped int64 // guarded by subsMu
}

// Open opens (creating if needed) the log in cfg.Dir: it replays the
// journal, cutting off a torn tail, and resumes the delivery state, so that
// a batch interrupted by a crash is redone exactly. Delivery runs only
// after Start, or on Flush.
func Open(cfg Config) (*Log, error) {
	if cfg.Dir == "" || cfg.Sink == nil {
		return nil, errors.New("accesslog: Config.Dir and Config.Sink are required")
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Interval < time.Second {
		return nil, fmt.Errorf("accesslog: Interval %v is below 1s", cfg.Interval)
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("UTC+8", 8*3600)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SegmentSize <= 0 {
		cfg.SegmentSize = 64 << 20
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1 << 18
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Minute, cfg.RetryMin)
	}
	if cfg.PutConcurrency <= 0 {
		cfg.PutConcurrency = 4
	}
	if cfg.SubscriberBuffer <= 0 {
		cfg.SubscriberBuffer = 1024
	}
	if cfg.SyncInterval < 0 || cfg.SyncInterval > MaxSyncInterval {
		return nil, fmt.Errorf("accesslog: SyncInterval %v is outside 0 (always) .. %v", cfg.SyncInterval, MaxSyncInterval)
	}
	l := &Log{
		cfg:       cfg,
		cancelled: make(map[uint64]struct{}),
		log:       cfg.Logger.With("component", "accesslog"),
		streams:   make(map[string]*stream),
		waitsCh:   make(chan struct{}),
		settledCh: make(chan struct{}),
		subs:      make(map[*subscriber]struct{}),
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		loopDone:  make(chan struct{}),
	}
	l.granule = uint64(min(4096, cfg.MaxBatch))
	if err := cfg.FS.MkdirAll(cfg.Dir); err != nil {
		return nil, err
	}
	if cfg.NodeID != "" {
		if err := CheckNodeID(cfg.NodeID); err != nil {
			return nil, fmt.Errorf("accesslog: %w", err)
		}
	}
	st, err := l.readState()
	if err != nil {
		return nil, err
	}
	l.floor = st.Floor
	for _, ps := range st.Streams {
		s := l.streamLocked(streamKey(ps.Target, ps.Prefix, ps.Source))
		s.cursor = ps.Cursor
		if ps.PlanHi != 0 {
			s.plan = &plan{lo: ps.PlanLo, hi: ps.PlanHi, saved: true, node: ps.PlanNode}
		}
	}
	var lastID uint64
	j, err := openJournal(cfg.FS, cfg.Dir, cfg.SegmentSize, cfg.SyncInterval, l.log, st.Durable+1, l.durableBatch, cfg.OnSync, func(id uint64, p []byte) error {
		h, err := decodeHead(p)
		if err != nil {
			return err
		}
		lastID = id
		s := l.streams[string(h.key)]
		if s == nil {
			s = l.streamLocked(string(h.key))
		}
		if h.kind == recCancel {
			// The record it withdraws came earlier in the journal: it is
			// in s unless already delivered (it never is: a provisional
			// record waits for its outcome before it can be planned).
			c, err := cancelled(p, h)
			if err != nil {
				return fmt.Errorf("%w: record %d: %v", ErrCorrupt, id, err)
			}
			if c > max(l.floor, s.cursor) {
				l.cancelLocked(s, c, true)
			}
			return nil
		}
		if id > max(l.floor, s.cursor) {
			s.add(id, h.sec, h.nsec, l.granule)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	l.j = j
	l.durable = max(lastID, st.Durable)
	l.durableN.Store(l.durable)
	for _, s := range l.streams {
		if p := s.plan; p != nil {
			for _, c := range s.chunks {
				if c.last <= p.hi {
					p.n += c.n
				}
			}
			if p.n == 0 { // nothing left of it (cannot happen unless edited)
				s.plan = nil
			}
		}
	}
	if err := j.removeThrough(l.floor); err != nil {
		l.log.Warn("removing delivered journal segments", "err", err)
	}
	return l, nil
}

// MaxSyncInterval is the longest Config.SyncInterval: what a power cut may
// lose stays bounded by a figure users can reason about.
const MaxSyncInterval = 10 * time.Second

// Append writes r to the journal. In the always mode (Config.SyncInterval
// zero) it returns once r is durable: after the fsync of the batch holding
// it, shared with the concurrent callers (group commit). In the default
// mode it returns once r is written to the journal file, from which a
// killed process cannot take it; the syncer makes it durable within
// SyncInterval. On a write or fsync failure (or while the journal has not
// recovered from one) it returns an error wrapping ErrJournalUnavailable;
// the request should then be refused. ctx is only checked before the
// record is queued: once queued it is written, whatever happens to ctx, so
// that the caller learns the truth.
//
// The caller may reuse r after Append returns.
func (l *Log) Append(ctx context.Context, r *Record) error {
	if err := l.check(ctx, r); err != nil {
		return err
	}
	if l.j.syncEvery > 0 {
		if err := l.j.appendNow(r); err != nil {
			return err
		}
		if l.nsubs.Load() > 0 {
			l.publish([]*Record{r})
		}
		return nil
	}
	b, _, err := l.j.add(r, false, nil)
	if err != nil {
		return err
	}
	<-b.done
	return b.err
}

// durableBatch runs after b is durable — on the writer goroutine before its
// callers return (always mode), or on the syncer (default mode) — and makes
// b's records pending delivery. A provisional record is held back from
// planning until it is settled; a cancel frame takes the record it cancels
// out of its stream. In the always mode durableBatch also shows the
// records to subscribers (the default mode does that in Append: b.recs is
// nil; a provisional record is shown when it is confirmed).
func (l *Log) durableBatch(b *batch) {
	l.mu.Lock()
	for off := 0; off < len(b.buf); {
		n := int(le32(b.buf[off:]))
		p := b.buf[off+frameHeaderSize : off+frameHeaderSize+n]
		h, _ := decodeHead(p) // encoded by us
		off += frameHeaderSize + n
		s := l.streams[string(h.key)]
		if s == nil {
			s = l.streamLocked(string(h.key))
		}
		if h.kind == recCancel {
			id, _ := cancelled(p, h)
			l.cancelLocked(s, id, false)
			continue
		}
		if slices.Contains(b.provisional, h.id) {
			// In a chunk of its own, so that the records before it can be
			// planned while it waits (settle merges it back).
			s.sealed = true
			s.add(h.id, h.sec, h.nsec, l.granule)
			s.unsettled = append(s.unsettled, h.id)
			continue
		}
		s.add(h.id, h.sec, h.nsec, l.granule)
	}
	l.durable = b.last
	l.durableN.Store(b.last)
	l.mu.Unlock()
	if l.nsubs.Load() > 0 {
		l.publish(b.recs)
	}
}

// Subscribe returns a channel of the records appended from now on (made
// durable, in the always mode; written to the journal, in the default one),
// until ctx is done or the Log is closed (then the channel is closed). A
// subscriber that falls behind by more than Config.SubscriberBuffer records
// misses records: Append never waits for subscribers. The records are
// copies shared by all subscribers: do not modify them.
func (l *Log) Subscribe(ctx context.Context) <-chan *Record {
	sub := &subscriber{ch: make(chan *Record, l.cfg.SubscriberBuffer)}
	l.subsMu.Lock()
	if l.subsClosed {
		l.subsMu.Unlock()
		close(sub.ch)
		return sub.ch
	}
	l.subs[sub] = struct{}{}
	l.nsubs.Add(1)
	l.subsMu.Unlock()
	context.AfterFunc(ctx, func() { l.unsubscribe(sub) })
	return sub.ch
}

func (l *Log) unsubscribe(sub *subscriber) {
	l.subsMu.Lock()
	defer l.subsMu.Unlock()
	if _, ok := l.subs[sub]; !ok {
		return
	}
	delete(l.subs, sub)
	l.nsubs.Add(-1)
	close(sub.ch)
	if sub.dropped > 0 {
		l.log.Debug("access log subscriber dropped records", "dropped", sub.dropped)
	}
}

func (l *Log) publish(recs []*Record) {
	for _, r := range recs {
		c := *r
		c.Extra = slices.Clone(r.Extra)
		l.subsMu.Lock()
		for sub := range l.subs {
			select {
			case sub.ch <- &c:
			default:
				sub.dropped++
			}
		}
		l.subsMu.Unlock()
	}
}

// BucketStatus is the delivery state of one source bucket.
type BucketStatus struct {
	Bucket        string    // source bucket
	Pending       int64     // records appended and not yet delivered
	OldestPending time.Time // request time of the oldest pending record; zero if none
	LastError     error     // why the last delivery failed; nil once one succeeds
	LastErrorTime time.Time
	LastObject    string    // "target-bucket/key" of the last object delivered
	LastDelivered time.Time // when LastObject was stored
	NextAttempt   time.Time // when a failed delivery is retried; zero: at the next tick
}

// JournalStatus is the state of the journal as a whole.
type JournalStatus struct {
	// SyncInterval is Config.SyncInterval: 0 for the always mode.
	SyncInterval time.Duration
	// Written is the ID of the last record written; Durable of the last
	// record synced. Written > Durable only in the default mode, between
	// two syncs: those records would be lost by a power cut now.
	Written, Durable uint64
	// Failed is why the journal refuses appends, nil when it takes them.
	Failed error
	// SyncFailures counts failed syncs and recovery attempts since Open.
	SyncFailures int64
}

// JournalStatus reports the journal's durability mode and state.
func (l *Log) JournalStatus() JournalStatus {
	j := l.j
	j.mu.Lock()
	st := JournalStatus{SyncInterval: j.syncEvery, Written: j.written.Load(), Failed: j.failed, SyncFailures: j.syncErrs.Load()}
	j.mu.Unlock()
	l.mu.Lock()
	st.Durable = l.durable
	l.mu.Unlock()
	if st.SyncInterval == 0 { // always mode: written means synced
		st.Written = max(st.Written, st.Durable)
	}
	return st
}

// Unsynced is the number of records written but not yet durable: what a
// power cut now would lose (always 0 in the always mode). It takes no lock,
// so it may be called at any instant, e.g. while a test holds every
// filesystem operation still to take a crash snapshot.
func (l *Log) Unsynced() uint64 {
	if l.j.syncEvery == 0 {
		return 0
	}
	w, d := l.j.written.Load(), l.durableN.Load()
	if w < d {
		return 0
	}
	return w - d
}

// Sync makes every record written so far durable now (default mode; a
// no-op in the always mode). The syncer does the same every SyncInterval.
func (l *Log) Sync() error { return l.j.syncNow() }

// Status reports every source bucket seen since Open, sorted by name.
func (l *Log) Status() []BucketStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	by := make(map[string]*BucketStatus)
	lastSeq := make(map[string]uint64)
	for _, s := range l.streams {
		b := by[s.source]
		if b == nil {
			b = &BucketStatus{Bucket: s.source}
			by[s.source] = b
		}
		b.Pending += s.pending
		for _, c := range s.chunks {
			if t := time.Unix(c.minSec, int64(c.minNsec)); b.OldestPending.IsZero() || t.Before(b.OldestPending) {
				b.OldestPending = t
			}
		}
		if s.lastErr != nil && (b.LastError == nil || s.lastErrAt.After(b.LastErrorTime)) {
			b.LastError, b.LastErrorTime = s.lastErr, s.lastErrAt
		}
		if s.lastErr != nil && (b.NextAttempt.IsZero() || s.nextAttempt.Before(b.NextAttempt)) {
			b.NextAttempt = s.nextAttempt
		}
		if s.lastSeq > lastSeq[s.source] {
			b.LastObject, b.LastDelivered, lastSeq[s.source] = s.target+"/"+s.lastObject, s.lastDelivered, s.lastSeq
		}
	}
	out := make([]BucketStatus, 0, len(by))
	for _, b := range by {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b BucketStatus) int { return strings.Compare(a.Bucket, b.Bucket) })
	return out
}

// Start runs delivery on the clock until ctx is done or Close: at every
// Interval tick it delivers what was appended before the tick, and it
// retries failed deliveries when their backoff expires. Start returns at
// once; calling it again does nothing.
func (l *Log) Start(ctx context.Context) {
	if l.closed.Load() || !l.started.CompareAndSwap(false, true) {
		return
	}
	go l.loop(ctx)
}

// Close stops delivery (waiting for a round in progress, whose puts are
// cancelled), writes the records already queued, and closes the journal and
// the subscriber channels. Records not yet delivered stay in the journal
// for the next Open. Call Flush first to deliver them now.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		close(l.stop)
		if l.started.Load() {
			<-l.loopDone
		}
		l.roundMu.Lock() // wait for a Flush in progress
		l.j.close()
		l.roundMu.Unlock()
		l.subsMu.Lock()
		l.subsClosed = true
		for sub := range l.subs {
			delete(l.subs, sub)
			close(sub.ch)
		}
		l.nsubs.Store(0)
		l.subsMu.Unlock()
	})
	return nil
}
