// Package accesslog is ossd's bucket access logging: it makes each request's
// [Record] durable before the request completes, and delivers the records
// as OSS-format log objects into the target buckets, none lost and none
// twice, across crashes (kill -9 included).
//
// It depends only on the osslog line format, the standard library, the
// interfaces it declares: [Sink] (where log objects go; internal/server wires
// it to the object service), [Clock] and [FS], and, for journals shared by
// several nodes, the metadata store's [meta.Store] (leases, below).
//
// # Appending: two durability modes
//
// In the default mode (Config.SyncInterval > 0, ossd's --log-sync 1s),
// [Log.Append] runs in the request's own goroutine: it encodes the record
// into a frame and, under the journal's mutex, writes it at the end of the
// active segment with one write, then returns. Nothing waits for another
// goroutine or for the disk: the record is in the kernel's page cache, so
// a killed process (kill -9, a panic, the OOM killer) cannot lose it. A
// syncer goroutine makes what was written durable with one fdatasync every
// SyncInterval (the appenders keep writing meanwhile), and only then are
// the records pending delivery: delivery never plans a record a power cut
// could still take back. A power cut or kernel crash may lose the records
// of the last SyncInterval; what survives is a prefix of what was written
// (a torn tail is cut at Open, below), so nothing is duplicated.
//
// In the always mode (SyncInterval 0), Append queues the frame in the
// batch being filled; a single writer goroutine takes the whole batch,
// writes it with one write and makes it durable with one fsync, then
// releases every caller of the batch: group commit. While one batch is
// being synced the next one fills, so under load one fsync covers many
// requests. Append returns only after the fsync that covers its record.
//
// A write request would then wait for two flushes in a row: its metadata
// commit's, then its record's. [Log.AppendProvisional] lets the two
// overlap: the HTTP layer appends a PutObject's record as soon as the
// commit's transaction has accepted the write (the record is then what the
// request will log if the commit succeeds), and the journal syncs it while
// the metadata store syncs the commit. When the request ends,
// [Provisional.Settle] compares the final record with the provisional one
// (request_time and server_cost_time aside, which keep the values measured
// at the append): the same, it stands; otherwise (the commit failed, or
// said otherwise) a cancel frame withdrawing it and the final record are
// appended in one batch, and the request waits for their sync. Delivery
// never plans a provisional record, nor what comes after it in its
// stream, until it is settled: a provisional record starts a chunk of its
// own (merged back when settled), a plan ends before it, and a delivery
// round first waits (up to 10 s) for those in flight. Cancelled records
// are skipped when a batch is read, and Open replays cancel frames.
//
// The journal is append-only segment files in Config.Dir, named by the ID of
// their first record. Each frame is [u32 length][u32 CRC-32C][payload], the
// payload a binary encoding of the record starting with its ID, or of a
// cancel frame (which has an ID of its own) (record.go). IDs increase
// strictly. A journal with cancel frames cannot be read by an ossd older
// than them (it stops at Open with ErrCorrupt). A segment is sealed at Config.SegmentSize (by the
// writer, or in the default mode by the syncer once everything in it is
// synced); the next one is created (header written, file and directory
// fsynced) before any record goes into it. At Open a torn or corrupt frame
// at the end of the newest segment — a crash in the middle of a write, or
// in the default mode un-synced frames a power cut left half on disk — is
// cut off (and the cut synced); anywhere else it is corruption and Open
// fails rather than drop records silently.
//
// # Full disk and other write errors
//
// Always mode: when the write or the fsync of a batch fails (ENOSPC, EIO),
// every Append of the batch returns an error wrapping
// [ErrJournalUnavailable], and the HTTP layer refuses those requests with an
// OSS error: ossd never acknowledges a request whose log record is not
// durable. The writer then truncates the segment back to its last synced
// byte and syncs, before it writes anything else, so no record a caller
// was told failed can surface after a crash, and none is written after
// garbage. Later batches retry (first the truncation if it failed too):
// when space comes back, Append works again, with no restart. Records
// acknowledged earlier are not affected: they were synced before the
// failure.
//
// Default mode: a failed write fails its Append (the request is refused)
// and marks the journal failed. A failed fdatasync in the syncer cannot be
// pinned on a request — those were acknowledged — and must not be retried
// as if the data were safe: after a failed fsync Linux may have dropped the
// dirty pages it could not write, and a second fsync then succeeds with
// nothing written (PostgreSQL's "fsyncgate"). So the syncer keeps a copy of
// every frame written since the last good sync; on failure the journal
// refuses appends (requests to logged buckets get 503) and, on each tick,
// cuts the segment back to the last whole frame, writes the kept frames
// again at their offsets and syncs. Only when that succeeds does it take
// records again. What is lost then: nothing, unless the machine also loses
// power before the recovery succeeds (then the records of the interval
// before the failure, as for any power cut), or the process is killed
// while the disk keeps failing (the kept copy dies with it, and the page
// cache may no longer hold those frames).
//
// # Delivering
//
// Records are grouped into streams by (target bucket, target prefix, source
// bucket), the logging configuration captured with each record, so changing
// or deleting a bucket's logging configuration never drops or re-routes
// records already appended. A delivery round, on each Interval tick of the
// Clock (aligned in Config.Location: hourly means on the hour), on a retry,
// or on [Log.Flush], does per stream:
//
//  1. plan: the batch is the stream's records with lo < ID <= hi. A round
//     plans a window of the journal from the oldest pending record holding
//     at most MaxBatch records, so every stream with records in the window
//     gets a batch and each record is read about once. The plans are saved
//     in the state file before anything else.
//  2. build: read the batch from the journal; one object per hour of request
//     time in Location, lines in request-time order, each "\n"-terminated.
//     The object is named
//     <TargetPrefix><SourceBucket>YYYY-mm-DD-HH-MM-SS-<UniqueString>
//     where the time is the start of the records' hour (so 10:59:59 and
//     11:00:00 land in different objects, and a name tells which hour its
//     lines are from) and UniqueString is the journal's node id
//     (Config.NodeID) in upper case followed by the ID of the object's
//     first record in 16 upper-case hex digits: unique across nodes (each
//     numbers its own records from 1), and a function of the plan alone
//     (the node id is saved with the plan).
//  3. put every object through the Sink (which overwrites).
//  4. commit: the stream's cursor moves to hi in the state file.
//  5. delete the journal segments all of whose records are delivered.
//
// The state file (STATE: a floor below which every record is delivered,
// and the cursor and in-flight plan of each stream above it) is replaced
// atomically: write STATE.tmp, fsync, rename over STATE, fsync the
// directory (state.go).
//
// A failed put (a missing target bucket, [ErrTargetMissing], or any Sink
// error) fails only that stream: its records stay in the journal, its plan
// stays as it was, and it is retried with exponential backoff from
// RetryMin, capped at RetryMax; the reason is logged once per failing
// spell (and the recovery once), and shown in [Log.Status]. Other streams
// go on.
//
// # Why nothing is lost or duplicated
//
// No loss (always mode; in the default mode the same holds from the sync
// on, which delivery waits for): a record is acknowledged only after its
// fsync; segments are deleted only after a state whose floor covers all
// their records has been made durable, and that floor only covers records
// of committed plans, which are committed only after the Sink said every
// object is stored durably. IDs that a power cut took back (default mode)
// may be given again after the restart; they were never delivered, so no
// object name repeats.
//
// No duplicate: a record belongs to exactly one stream and, once planned,
// to exactly one plan, which is never re-cut: the plan is durable before
// its first put, and after a crash at any later point Open finds it and the
// next round executes it again with the same record range. The records in
// that range are immutable (they were durable when planned), and the line
// encoding, the hour grouping and the names depend only on them and on
// Location, so the redo produces the same objects under the same names,
// and the Sink's overwrite replaces what the interrupted run stored. A crash
// before the plan is saved leaves nothing in the target buckets, so a
// different plan then is harmless. Naming an object after its first record
// is a second line of defence: a plan always starts at the stream's oldest
// undelivered record, so even a re-cut plan would overwrite, not duplicate,
// the objects of an interrupted one (the crash tests check the stronger
// property: a redo rewrites identical bytes). A crash after the commit is
// saved leaves the cursor past the batch: it is not redone.
//
// The fsync points, in order of a record's life: the batch write (Append
// returns after it, always mode) or the syncer's (default mode; delivery
// syncs first too, so a tick or a flush delivers everything written before
// it); a new segment's header and its directory entry, before
// records go in; the torn-tail truncation at Open and after a failed write;
// the state file (plan, then commit), each write-fsync-rename-fsync-dir.
//
// # Several nodes: one journal each, leases, takeover
//
// Nodes that share a metadata store keep their journals in one shared
// directory, Root/<node id> ([Node]). Each journal has at most one
// deliverer at a time, the holder of its lease: a row of the store with a
// holder, an epoch and an expiry (lease.go). The owner holds it while alive
// and renews it every third of its duration; a node that finds another's
// lease expired takes the journal over (epoch + 1), opens it, delivers
// everything under the owner's names (its plans are in the shared state,
// so a batch the dead node had begun is redone as is: its objects are
// overwritten, not duplicated), and releases it; the owner, back, takes it
// again (asking a live holder to hand it back at its next renewal).
//
// The state of a leased journal lives in the store, not in STATE: it is
// saved only in a transaction that finds the lease at the saver's epoch,
// and every log object is committed with the same check ([FenceOf]), so a
// process that lost its lease — paused past the expiry, then woken — can
// neither store an object nor record progress. Appends are not store
// transactions: a holder refuses records (503 upstream) as soon as its
// lease has gone three quarters of its duration without a renewal, before
// anyone may take it over; clocks must agree within the remaining quarter.
// Such a process resumes on its own: a renewal that finds its lease
// untouched (same holder, same epoch: nobody else delivered) keeps it; one
// that finds it taken makes the node reclaim its journal as a restart
// would (Node.Step): close it, ask for it back, re-open it under the lease
// at a new epoch.
//
// A provisional record is durable before its request is answered, as any
// record in the always mode, so nothing acknowledged is lost; a withdrawn
// one is never delivered, because its cancel frame is durable before the
// request is answered, before any plan can cover it, and is replayed by
// Open. What a crash can leave: a provisional record never settled (the
// process died while its request was committing, before any answer) is
// kept as written, so the line of a request that was never answered may
// say it succeeded when its commit failed. If the cancel frame cannot be
// written (the journal fails), the request is not acknowledged (its
// response is cut off, as for any record that cannot be written), the
// withdrawal is retried in the background, and the record's stream waits
// for it; if the process stops first, the record stays as written.
//
// What is not promised: a record whose Append failed may still appear if
// the process dies between the failed write and its truncation (the write
// error may have been partial); the line then logs a request the client saw
// fail, which is better than the reverse. A target bucket that never comes
// back keeps its records, and the journal segments holding them, forever:
// Status shows it.
package accesslog
