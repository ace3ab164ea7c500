package accesslog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The journal is a directory of segment files named <first ID, 16 hex
// digits>.seg. A segment is a 16-byte header (magic, first ID) followed by
// frames:
//
//	u32 length of payload   (little-endian)
//	u32 CRC-32C of payload  (little-endian)
//	payload                 (see record.go)
//
// Record IDs increase strictly through the journal; they may skip values
// (the IDs of a batch whose write failed are not reused). Only the newest
// segment is written to; it is replaced by a new one when it reaches
// Config.SegmentSize, and every segment but the newest has been fsynced
// whole before the next was created, so only the newest can end in a torn
// frame.
//
// A segment is zero-filled ahead of the frames (a stretch of up to
// zeroAhead bytes written and synced when the segment is created or the
// frames reach the end of it). A group commit then overwrites blocks that
// are already allocated and written, so its sync flushes data only: no
// size or extent change has to go through the filesystem's own journal,
// which is most of what an append+fsync costs. A frame length of zero
// ends a segment's frames, so the zeros read as "no more records".
const (
	segMagic        = "OSSDJRN1"
	segHeaderSize   = 16
	frameHeaderSize = 8
	segSuffix       = ".seg"
	indexEvery      = 64 << 10 // bytes of segment between two sparse-index entries
	zeroAhead       = 1 << 20  // bytes zero-filled at a time past the frames
)

// zeros is a source of zero bytes for filling segments ahead of the frames.
var zeros = make([]byte, 256<<10)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by Open when the journal holds damage that a crash
// cannot explain (a bad frame before the end of the newest segment, IDs out
// of order, a bad header). Open refuses rather than drop records.
var ErrCorrupt = errors.New("accesslog: journal corrupt")

type segment struct {
	base uint64
	path string
	// Guarded by journal.mu; written only by the writer (or at open).
	last  uint64 // ID of the last durable record; base-1 when empty
	size  int64  // bytes durable (header included)
	index []indexEntry
}

// indexEntry says the frame of record id starts at off. Entries are sparse
// (about one per indexEvery bytes) and only at batch starts.
type indexEntry struct {
	id  uint64
	off int64
}

// batch is the unit of group commit: the frames of the records appended
// while the previous batch was being written, written with one WriteAt and
// made durable with one Sync.
type batch struct {
	buf  []byte    // frames
	recs []*Record // the callers' records, valid until done closes
	// provisional lists the IDs of the batch's provisional records (not in
	// recs): durableBatch holds them back from delivery until settled.
	provisional []uint64
	first, last uint64
	done        chan struct{}
	err         error // set before done closes
}

type journal struct {
	fs      FS
	dir     string
	segSize int64
	// syncEvery selects the durability mode. Zero is "always": a writer
	// goroutine group-commits batches and every Append returns after the
	// fsync covering its record. Above zero (the default mode), Append
	// writes its frame itself, in the caller's goroutine, and returns; a
	// background syncer makes what was written durable every syncEvery.
	syncEvery time.Duration
	// onDurable is called after a batch is durable: by the writer before
	// its callers are released (always), by the syncer (default mode), in
	// ID order, never concurrently.
	onDurable func(*batch)
	logger    *slog.Logger
	// onSync, if set, observes each fdatasync of records (Config.OnSync).
	onSync func(time.Duration, error)

	mu      sync.Mutex
	cur     *batch // batch being filled; nil when none
	nextID  uint64
	closed  bool
	segs    []*segment // by base; the last is the active one
	freeBuf []byte     // recycled batch buffers
	freeRec []*Record

	// Owned by the writer goroutine.
	f      File     // the active segment
	act    *segment // the active segment
	end    int64    // bytes of the active segment's file: zeros from act.size on
	broken error    // a write or sync failed and the tail is not yet cut back

	batches atomic.Int64 // batches made durable (for benchmarks)

	// Default mode only. In that mode f, act and end are guarded by mu (the
	// appenders write under it); syncMu serialises syncs, rotation and
	// recovery, and is taken before mu. onDurable (which takes the Log's
	// mutex) may run with mu held: the Log never calls into the journal
	// with its own mutex held.
	syncMu  sync.Mutex
	pend    []byte        // frames written since the last sync that succeeded
	pendOff int64         // offset of pend[0] in the active segment
	spare   []byte        // a recycled pend buffer
	written atomic.Uint64 // ID of the last record written (read without mu)
	failed  error         // a write or sync failed: Append refuses until recovered
	// syncErrs counts failed syncs (default mode), for Status and tests.
	syncErrs atomic.Int64

	wake   chan struct{}
	exited chan struct{}
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func segName(base uint64) string { return fmt.Sprintf("%016x%s", base, segSuffix) }

// openJournal replays the segments in dir, calling visit for each durable
// record in ID order, truncates a torn tail, starts a new active segment
// and the writer. minNext is a lower bound for the next ID (from the
// delivery state, so IDs never repeat even when every segment was deleted).
func openJournal(fs FS, dir string, segSize int64, syncEvery time.Duration, logger *slog.Logger, minNext uint64, onDurable func(*batch), onSync func(time.Duration, error), visit func(id uint64, payload []byte) error) (*journal, error) {
	if err := fs.MkdirAll(dir); err != nil {
		return nil, err
	}
	j := &journal{fs: fs, dir: dir, segSize: segSize, syncEvery: syncEvery, onDurable: onDurable, onSync: onSync, logger: logger,
		wake: make(chan struct{}, 1), exited: make(chan struct{})}
	names, err := fs.List(dir)
	if err != nil {
		return nil, err
	}
	var bases []uint64
	for _, n := range names {
		hex, ok := strings.CutSuffix(n, segSuffix)
		if !ok || len(hex) != 16 {
			continue
		}
		b, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			continue
		}
		bases = append(bases, b)
	}
	slices.Sort(bases)

	// A segment no longer than its header was being created when the
	// process died (or its creation failed): records go in only after the
	// header is synced, so it holds none. Its header may be short, or zeros
	// (the size reached the disk, the data did not). Remove it.
	var removed bool
	kept := bases[:0]
	for _, b := range bases {
		path := filepath.Join(dir, segName(b))
		empty, err := headerOnly(fs, path, b)
		if err != nil {
			return nil, err
		}
		if empty {
			if err := fs.Remove(path); err != nil {
				return nil, err
			}
			removed = true
			continue
		}
		kept = append(kept, b)
	}
	if removed {
		if err := fs.SyncDir(dir); err != nil {
			return nil, err
		}
	}

	var lastID uint64
	for i, b := range kept {
		seg, err := j.replaySegment(b, i == len(kept)-1, &lastID, visit)
		if err != nil {
			return nil, err
		}
		j.segs = append(j.segs, seg)
	}

	j.nextID = max(lastID+1, minNext, 1)
	if n := len(j.segs); n > 0 && j.segs[n-1].last < j.segs[n-1].base {
		// The newest segment is empty. Its name may be the next ID (IDs
		// never go back): startSegment re-creates it under that name.
		empty := j.segs[n-1]
		j.segs = j.segs[:n-1]
		j.nextID = max(j.nextID, empty.base)
		if empty.base != j.nextID {
			if err := fs.Remove(empty.path); err != nil {
				return nil, err
			}
		}
	}
	if err := j.startSegment(j.nextID, false); err != nil {
		return nil, err
	}
	j.written.Store(j.nextID - 1)
	if syncEvery > 0 {
		go j.syncLoop()
	} else {
		go j.run()
	}
	return j, nil
}

// headerOnly reports whether segment base at path holds no record and no
// valid header: shorter than a header, or a header that is not valid
// followed by nothing but zeros (the file and its zero fill reached the
// disk, the header did not). A segment with records is never all zeros
// after its header, so this cannot mistake one for an empty segment.
func headerOnly(fs FS, path string, base uint64) (bool, error) {
	f, err := fs.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return false, err
	}
	if size < segHeaderSize {
		return true, nil
	}
	hdr, err := readRange(f, 0, segHeaderSize)
	if err != nil {
		return false, err
	}
	if string(hdr[:8]) == segMagic && le64(hdr[8:]) == base {
		return false, nil
	}
	rest, err := readRange(f, segHeaderSize, size)
	if err != nil {
		return false, err
	}
	return allZero(rest), nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// replaySegment reads one segment. Zeros after the last frame are the zero
// fill. A torn or corrupt frame at the end of the newest segment is where
// a crash interrupted a write: the segment is truncated there (and synced)
// so that it can be sealed. Anywhere else it is corruption.
func (j *journal) replaySegment(base uint64, newest bool, lastID *uint64, visit func(uint64, []byte) error) (*segment, error) {
	seg := &segment{base: base, path: filepath.Join(j.dir, segName(base)), last: base - 1}
	f, err := j.fs.Open(seg.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, err
	}
	if string(data[:8]) != segMagic || le64(data[8:]) != base {
		return nil, fmt.Errorf("%w: %s: bad segment header", ErrCorrupt, seg.path)
	}
	off := segHeaderSize
	var lastIndexed int = -indexEvery
	for off < len(data) {
		payload, ok := frameAt(data, off)
		if !ok {
			break
		}
		h, err := decodeHead(payload)
		if err != nil {
			return nil, fmt.Errorf("%w: %s at %d: %v", ErrCorrupt, seg.path, off, err)
		}
		if h.id <= *lastID || h.id < base {
			return nil, fmt.Errorf("%w: %s at %d: record ID %d after %d", ErrCorrupt, seg.path, off, h.id, *lastID)
		}
		if err := visit(h.id, payload); err != nil {
			return nil, err
		}
		if off-lastIndexed >= indexEvery {
			seg.index = append(seg.index, indexEntry{h.id, int64(off)})
			lastIndexed = off
		}
		*lastID, seg.last = h.id, h.id
		off += frameHeaderSize + len(payload)
	}
	seg.size = int64(off)
	if off < len(data) && !allZero(data[off:]) {
		if !newest {
			return nil, fmt.Errorf("%w: %s: bad frame at %d of %d bytes in a sealed segment", ErrCorrupt, seg.path, off, len(data))
		}
		// Torn tail: cut it and make the cut durable before anything is
		// appended after it.
		if err := f.Truncate(int64(off)); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
	}
	return seg, nil
}

// frameAt returns the payload of the frame at off, or false when the frame
// is incomplete or fails its CRC.
func frameAt(data []byte, off int) ([]byte, bool) {
	if len(data)-off < frameHeaderSize {
		return nil, false
	}
	n := int(le32(data[off:]))
	crc := le32(data[off+4:])
	if n < minPayload || n > maxPayload || n > len(data)-off-frameHeaderSize {
		return nil, false
	}
	p := data[off+frameHeaderSize : off+frameHeaderSize+n]
	if crc32.Checksum(p, castagnoli) != crc {
		return nil, false
	}
	return p, true
}

// readAll reads the whole file.
func readAll(f File) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	return readRange(f, 0, size)
}

func readRange(f File, start, end int64) ([]byte, error) {
	buf := make([]byte, end-start)
	for off := 0; off < len(buf); {
		n, err := f.ReadAt(buf[off:], start+int64(off))
		off += n
		if err != nil && off < len(buf) {
			return nil, err
		}
	}
	return buf, nil
}

// startSegment creates segment base, makes it and its directory entry
// durable, and makes it the active segment. On failure the partial file is
// removed (best effort; replay removes it otherwise). locked says the
// caller holds mu.
func (j *journal) startSegment(base uint64, locked bool) error {
	path := filepath.Join(j.dir, segName(base))
	f, err := j.fs.Create(path)
	if err != nil {
		return err
	}
	var hdr [segHeaderSize]byte
	copy(hdr[:], segMagic)
	binary.LittleEndian.PutUint64(hdr[8:], base)
	fail := func(err error) error {
		f.Close()
		j.fs.Remove(path)
		return err
	}
	// The header must be durable before any record is written after it;
	// the zero fill goes with it.
	if _, err := f.WriteAt(hdr[:], 0); err != nil {
		return fail(err)
	}
	end, err := fillZeros(f, segHeaderSize, j.fillSize())
	if err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	// The name must be durable too, or a crash could lose the segment with
	// records acknowledged in it.
	if err := j.fs.SyncDir(j.dir); err != nil {
		return fail(err)
	}
	if j.f != nil {
		j.f.Close() // the old segment is durable whole: every batch in it was synced
	}
	seg := &segment{base: base, path: path, last: base - 1, size: segHeaderSize}
	j.f, j.act, j.end = f, seg, end
	if !locked {
		j.mu.Lock()
		defer j.mu.Unlock()
	}
	j.segs = append(j.segs, seg)
	return nil
}

// add encodes r into the batch being filled and returns that batch and r's
// ID; the caller waits on the batch's done channel. With c set, a frame
// cancelling record c.id goes first, in the same batch (so the cancel is
// durable no later than r, and a torn tail cannot keep r without it). A
// provisional record (Provisional) is not shown to subscribers when it is
// durable, nor released to delivery: its caller settles it first.
func (j *journal) add(r *Record, provisional bool, c *cancelRef) (*batch, uint64, error) {
	fp := framePool.Get().(*[]byte)
	frame := (*fp)[:0]
	if c != nil {
		frame = append(frame, 0, 0, 0, 0, 0, 0, 0, 0)
		frame = appendCancel(frame, 0, c)
		binary.LittleEndian.PutUint32(frame, uint32(len(frame)-frameHeaderSize))
	}
	at := len(frame)
	frame = append(frame, 0, 0, 0, 0, 0, 0, 0, 0) // length and CRC, filled below and by the writer
	frame = appendPayload(frame, 0, r)
	n := len(frame) - at - frameHeaderSize
	if n > maxPayload {
		framePool.Put(fp)
		return nil, 0, fmt.Errorf("%w: encodes to %d bytes, limit %d", ErrInvalidRecord, n, maxPayload)
	}
	binary.LittleEndian.PutUint32(frame[at:], uint32(n))

	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		framePool.Put(fp)
		return nil, 0, ErrClosed
	}
	first := j.nextID
	if c != nil {
		binary.LittleEndian.PutUint64(frame[frameHeaderSize+idOffset:], j.nextID)
		j.nextID++
	}
	id := j.nextID
	j.nextID++
	binary.LittleEndian.PutUint64(frame[at+frameHeaderSize+idOffset:], id)
	b := j.cur
	if b == nil {
		b = &batch{first: first, done: make(chan struct{}), buf: j.freeBuf[:0], recs: j.freeRec[:0]}
		j.freeBuf, j.freeRec = nil, nil
		j.cur = b
	}
	b.last = id
	b.buf = append(b.buf, frame...)
	if provisional {
		b.provisional = append(b.provisional, id)
	} else {
		b.recs = append(b.recs, r)
	}
	j.mu.Unlock()

	*fp = frame
	framePool.Put(fp)
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return b, id, nil
}

// run is the writer: it takes the batch being filled, writes and syncs it,
// and releases its callers, until close.
func (j *journal) run() {
	defer close(j.exited)
	for range j.wake {
		j.mu.Lock()
		b, closed := j.cur, j.closed
		j.cur = nil
		j.mu.Unlock()
		if b != nil {
			j.commit(b)
		}
		if closed {
			j.f.Close()
			return
		}
	}
}

func (j *journal) commit(b *batch) {
	if err := j.write(b); err != nil {
		b.err = fmt.Errorf("%w: %w", ErrJournalUnavailable, err)
	} else {
		j.onDurable(b)
	}
	buf, recs := b.buf[:0], b.recs[:0]
	clear(recs[:cap(recs)])
	b.buf, b.recs = nil, nil
	close(b.done)
	j.mu.Lock()
	if cap(buf) <= 4<<20 {
		j.freeBuf, j.freeRec = buf, recs
	}
	j.mu.Unlock()
}

// write makes b durable at the end of the active segment.
func (j *journal) write(b *batch) error {
	if j.broken != nil {
		if err := j.cutBack(); err != nil {
			return fmt.Errorf("journal still failing (%v); cutting back the failed write: %w", j.broken, err)
		}
	}
	if j.act.size >= j.segSize && j.act.last >= j.act.base {
		if err := j.startSegment(b.first, false); err != nil {
			return fmt.Errorf("start segment: %w", err)
		}
	}
	for off := 0; off < len(b.buf); {
		n := int(binary.LittleEndian.Uint32(b.buf[off:]))
		p := b.buf[off+frameHeaderSize : off+frameHeaderSize+n]
		binary.LittleEndian.PutUint32(b.buf[off+4:], crc32.Checksum(p, castagnoli))
		off += frameHeaderSize + n
	}
	seg, off := j.act, j.act.size
	if need := off + int64(len(b.buf)); need > j.end {
		// Extend the zero fill; the sync below makes it durable with the
		// batch. A failure here leaves at most zeros past the frames.
		end, err := fillZeros(j.f, j.end, max(need, j.end+j.fillSize()))
		j.end = end
		if err != nil {
			j.broken = err
			j.cutBack()
			return err
		}
	}
	// A failed write may leave part of the batch on disk; a failed sync
	// leaves its durability unknown (and, on Linux, may have dropped the
	// dirty pages). Either way the callers are told the records are not
	// logged, and the tail is cut back to the last durable byte before
	// anything else is written (cutBack).
	if _, err := j.f.WriteAt(b.buf, off); err != nil {
		j.broken = err
		j.cutBack()
		return err
	}
	if err := j.timedSync(j.f); err != nil {
		j.broken = err
		j.cutBack()
		return err
	}
	j.mu.Lock()
	if len(seg.index) == 0 || off-seg.index[len(seg.index)-1].off >= indexEvery {
		seg.index = append(seg.index, indexEntry{b.first, off})
	}
	seg.size = off + int64(len(b.buf))
	seg.last = b.last
	j.mu.Unlock()
	j.batches.Add(1)
	return nil
}

// cutBack truncates the active segment to its last durable byte and syncs,
// clearing broken on success. Records written before stay durable: they
// were synced before the failure. The zero fill goes too (truncating frees
// space, where overwriting with zeros could need it); the next write
// fills again.
func (j *journal) cutBack() error {
	if err := j.f.Truncate(j.act.size); err != nil {
		return err
	}
	j.end = j.act.size
	if err := j.f.Sync(); err != nil {
		return err
	}
	j.broken = nil
	return nil
}

// fillSize is how far ahead of the frames a segment is zero-filled: no
// more than a segment holds, so that small test segments stay small.
func (j *journal) fillSize() int64 { return max(min(j.segSize, zeroAhead), 4<<10) }

// fillZeros writes zeros to f from off up to end and returns how far it got.
func fillZeros(f File, off, end int64) (int64, error) {
	for off < end {
		n, err := f.WriteAt(zeros[:min(int64(len(zeros)), end-off)], off)
		off += int64(n)
		if err != nil {
			return off, err
		}
	}
	return off, nil
}

// close stops the writer after the batch being filled is written.
func (j *journal) close() {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		<-j.exited
		return
	}
	j.closed = true
	j.mu.Unlock()
	// A wake-up already pending is as good as this one: the loop reads
	// closed after every wake-up.
	select {
	case j.wake <- struct{}{}:
	default:
	}
	<-j.exited
}

// scan calls fn for every record with lo < ID <= hi, in ID order. Only
// durable records are visited. The payload is a substring of a string
// holding a stretch of the segment, so fn may decode into substrings
// without allocating; it must not retain them.
func (j *journal) scan(lo, hi uint64, fn func(id uint64, payload string) error) error {
	type view struct {
		seg   *segment
		size  int64
		index []indexEntry
	}
	j.mu.Lock()
	var views []view
	for _, s := range j.segs {
		if s.last > lo && s.base <= hi && s.last >= s.base {
			views = append(views, view{s, s.size, s.index})
		}
	}
	j.mu.Unlock()
	byID := func(e indexEntry, id uint64) int { return cmpU64(e.id, id) }
	for _, v := range views {
		// Start at the last index entry at or before lo+1, stop at the
		// first one past hi.
		start, end := int64(segHeaderSize), v.size
		if i, found := slices.BinarySearchFunc(v.index, lo+1, byID); found {
			start = v.index[i].off
		} else if i > 0 {
			start = v.index[i-1].off
		}
		if i, _ := slices.BinarySearchFunc(v.index, hi+1, byID); i < len(v.index) {
			end = v.index[i].off
		}
		if err := j.scanSegment(v.seg.path, start, end, lo, hi, fn); err != nil {
			return err
		}
	}
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (j *journal) scanSegment(path string, start, end int64, lo, hi uint64, fn func(uint64, string) error) error {
	f, err := j.fs.Open(path)
	if err != nil {
		return err
	}
	data, err := readRange(f, start, end)
	f.Close()
	if err != nil {
		return err
	}
	// Check every frame first, then decode from one string copy of the
	// stretch (crc32 wants bytes; decoding wants strings).
	for off := 0; off < len(data); {
		p, ok := frameAt(data, off)
		if !ok {
			return fmt.Errorf("%w: %s: bad frame at %d", ErrCorrupt, path, start+int64(off))
		}
		off += frameHeaderSize + len(p)
	}
	text := string(data)
	for off := 0; off < len(text); {
		n := int(le32(text[off:]))
		p := text[off+frameHeaderSize : off+frameHeaderSize+n]
		off += frameHeaderSize + n
		id := le64(p[idOffset:])
		if id > hi {
			break
		}
		if id > lo {
			if err := fn(id, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeThrough deletes the sealed segments whose records all have IDs <=
// floor (all delivered). The active segment is never removed: its name
// carries the next ID across restarts. A removal lost in a crash is
// harmless: the segment comes back and its records are known delivered.
func (j *journal) removeThrough(floor uint64) error {
	j.mu.Lock()
	var drop []*segment
	keep := j.segs[:0]
	for i, s := range j.segs {
		if i < len(j.segs)-1 && s.last <= floor {
			drop = append(drop, s)
		} else {
			keep = append(keep, s)
		}
	}
	clear(j.segs[len(keep):])
	j.segs = keep
	j.mu.Unlock()
	var errs []error
	for _, s := range drop {
		if err := j.fs.Remove(s.path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// appendNow is Append in the default mode: the caller's goroutine encodes
// the frame and writes it at the end of the active segment under mu, one
// write, and returns. The record is then in the kernel's page cache: a
// killed process cannot lose it, a power cut can until the syncer's next
// fdatasync. Nothing here waits for another goroutine.
func (j *journal) appendNow(r *Record) error {
	fp := framePool.Get().(*[]byte)
	defer framePool.Put(fp)
	frame := append((*fp)[:0], 0, 0, 0, 0, 0, 0, 0, 0)
	frame = appendPayload(frame, 0, r)
	*fp = frame
	n := len(frame) - frameHeaderSize
	if n > maxPayload {
		return fmt.Errorf("%w: encodes to %d bytes, limit %d", ErrInvalidRecord, n, maxPayload)
	}
	binary.LittleEndian.PutUint32(frame, uint32(n))

	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	if j.failed != nil {
		return fmt.Errorf("%w: %w", ErrJournalUnavailable, j.failed)
	}
	id := j.nextID
	j.nextID++
	binary.LittleEndian.PutUint64(frame[frameHeaderSize+idOffset:], id)
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(frame[frameHeaderSize:], castagnoli))
	// No zero fill ahead here (the always mode's writer does it to keep its
	// per-batch fdatasync off the filesystem's journal): one sync a second
	// can afford a size change, and the fill would double what is written.
	seg, off := j.act, j.act.size
	if _, err := j.f.WriteAt(frame, off); err != nil {
		j.fail(err)
		return fmt.Errorf("%w: %w", ErrJournalUnavailable, err)
	}
	if len(seg.index) == 0 || off-seg.index[len(seg.index)-1].off >= indexEvery {
		seg.index = append(seg.index, indexEntry{id, off})
	}
	seg.size = off + int64(len(frame))
	seg.last = id
	if len(j.pend) == 0 {
		j.pendOff = off
	}
	j.pend = append(j.pend, frame...)
	j.written.Store(id)
	if seg.size >= j.segSize {
		select { // the syncer seals the segment and starts the next one
		case j.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// fail marks the journal failed (mu held): appends are refused until the
// syncer has rewritten and synced what was in doubt (recoverLocked).
func (j *journal) fail(err error) {
	if j.failed == nil {
		j.logger.Error("access-log journal failed: refusing requests to logged buckets until it recovers", "err", err)
	}
	j.failed = err
}

// syncLoop is the default mode's syncer: every syncEvery it makes the
// records written since the last sync durable, seals a full segment, and
// retries the recovery of a failed journal; on close it syncs a last time.
func (j *journal) syncLoop() {
	defer close(j.exited)
	t := time.NewTicker(j.syncEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-j.wake:
		}
		j.mu.Lock()
		closed := j.closed
		j.mu.Unlock()
		j.syncNow() // a failure is logged by fail and retried on the next tick
		if closed {
			j.mu.Lock()
			j.f.Close()
			j.mu.Unlock()
			return
		}
	}
}

// syncNow makes every record written before the call durable and passes
// them to onDurable (default mode; a no-op in always mode, where nothing
// is acknowledged before its sync). The appenders go on writing during the
// fdatasync: it runs without mu.
//
// A failed fdatasync is not retried as if the data were safe: on Linux the
// kernel may have dropped the dirty pages it could not write and reports
// the error once (PostgreSQL's "fsyncgate"). The frames in doubt — those of
// the failed sync and everything written after — are kept in memory, the
// journal refuses appends, and recovery writes them again at their offsets
// and syncs before the journal takes records again.
func (j *journal) syncNow() error {
	if j.syncEvery == 0 {
		return nil
	}
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	j.mu.Lock()
	if j.failed != nil {
		err := j.recoverLocked()
		j.mu.Unlock()
		return err
	}
	if len(j.pend) == 0 {
		err := j.rotateLocked()
		j.mu.Unlock()
		return err
	}
	buf, off, last, f := j.pend, j.pendOff, j.written.Load(), j.f
	j.pend, j.spare = j.spare[:0], nil
	j.mu.Unlock()

	err := j.timedSync(f)

	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.syncErrs.Add(1)
		j.pend = append(buf, j.pend...)
		j.pendOff = off
		j.fail(fmt.Errorf("fdatasync: %w", err))
		return fmt.Errorf("%w: %w", ErrJournalUnavailable, err)
	}
	j.batches.Add(1)
	j.onDurable(&batch{buf: buf, last: last})
	// The buffer is kept for the next interval (it holds about as much
	// then), unless a burst made it far larger than a busy second needs.
	if cap(buf) <= 64<<20 {
		j.spare = buf[:0]
	}
	return j.rotateLocked()
}

// timedSync syncs f, the active segment, for records, and reports the
// sync to onSync.
func (j *journal) timedSync(f File) error {
	if j.onSync == nil {
		return f.Sync()
	}
	start := time.Now()
	err := f.Sync()
	j.onSync(time.Since(start), err)
	return err
}

// rotateLocked (syncMu and mu held, the journal not failed) seals a full
// active segment and starts the next, so that every segment but the newest
// is durable whole. Frames written while the caller's sync ran are synced
// here first, with the appenders held off (once a segment).
func (j *journal) rotateLocked() error {
	if j.act.size < j.segSize || j.act.last < j.act.base || j.closed {
		return nil
	}
	if len(j.pend) > 0 {
		if err := j.timedSync(j.f); err != nil {
			j.syncErrs.Add(1)
			j.fail(fmt.Errorf("fdatasync before sealing the segment: %w", err))
			return fmt.Errorf("%w: %w", ErrJournalUnavailable, err)
		}
		j.batches.Add(1)
		j.onDurable(&batch{buf: j.pend, last: j.written.Load()})
		j.pend = j.pend[:0]
	}
	if err := j.startSegment(j.nextID, true); err != nil {
		j.fail(fmt.Errorf("start segment: %w", err))
		return fmt.Errorf("%w: start segment: %w", ErrJournalUnavailable, err)
	}
	return nil
}

// recoverLocked (syncMu and mu held) brings a failed journal back: it cuts
// the active segment back to the end of the last frame written whole (a
// failed write may have left part of one), writes the frames in doubt again
// — which dirties their pages again, whatever the kernel did with them
// after the failed sync — and syncs. Only then are appends taken again.
func (j *journal) recoverLocked() error {
	err := j.f.Truncate(j.act.size)
	if err == nil {
		j.end = j.act.size
		if len(j.pend) > 0 {
			_, err = j.f.WriteAt(j.pend, j.pendOff)
		}
	}
	if err == nil {
		err = j.timedSync(j.f)
	}
	if err != nil {
		j.syncErrs.Add(1)
		return fmt.Errorf("%w: still failing: %w", ErrJournalUnavailable, err)
	}
	if len(j.pend) > 0 {
		j.batches.Add(1)
		j.onDurable(&batch{buf: j.pend, last: j.written.Load()})
	}
	j.logger.Info("access-log journal recovered: the records in doubt were written again and synced", "records_bytes", len(j.pend))
	j.pend, j.failed = j.pend[:0], nil
	return j.rotateLocked()
}
