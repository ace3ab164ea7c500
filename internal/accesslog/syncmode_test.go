package accesslog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A sync interval no test reaches: the syncer's ticks never fire, and the
// tests decide when a sync happens (syncNow, Flush, Close).
const noTick = MaxSyncInterval

func defaultMode(c *Config) { c.SyncInterval = noTick }

// kill abandons the Log as kill -9 would: what was written to the journal
// file survives (the kernel's page cache), synced or not.
func (e *env) kill() {
	e.t.Helper()
	old := e.l
	e.fs = e.fs.KillClone()
	old.Close() // writes only to the abandoned FS
	e.open()
}

func (e *env) appendAll(prefix string, n int, minute int) []string {
	e.t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		e.append(rec(id, "src", "logs", "", at(10, minute, i%60)))
		ids = append(ids, id)
	}
	return ids
}

// TestDefaultModeAppendDoesNotSync: in the default mode an Append returns
// with its record written and nothing synced; a killed process loses none
// of them and delivers each once.
func TestDefaultModeAppendDoesNotSync(t *testing.T) {
	e := newEnv(t, defaultMode, "logs")
	syncs := 0
	e.fs.onSync = func(path string) {
		if strings.HasSuffix(path, segSuffix) {
			syncs++
		}
	}
	ids := e.appendAll("k", 50, 1)
	if syncs != 0 {
		t.Fatalf("%d journal syncs during 50 appends in the default mode, want 0", syncs)
	}
	e.kill()
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, ids)
}

// TestDefaultModePowerLoss: a power cut loses at most the records written
// since the last sync, duplicates none, and the journal opens and delivers
// afterwards — also when the cut comes after a delivery, and whatever
// part of the un-synced namespace changes and sizes reached the disk.
func TestDefaultModePowerLoss(t *testing.T) {
	for name, policy := range crashPolicies(7) {
		for _, deliverFirst := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/deliver=%v", name, deliverFirst), func(t *testing.T) {
				e := newEnv(t, func(c *Config) { defaultMode(c); c.SegmentSize = 4 << 10 }, "logs")
				synced := e.appendAll("s", 40, 1) // several segments: rotation happens in the syncer
				if err := e.l.j.syncNow(); err != nil {
					t.Fatal(err)
				}
				if deliverFirst {
					if err := e.l.Flush(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				unsynced := e.appendAll("u", 25, 2)
				e.crashWith(policy)
				after := e.appendAll("a", 3, 3)
				if err := e.l.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				got := e.sink.lines(t)
				for _, id := range append(synced, after...) {
					if got[id] != 1 {
						t.Errorf("synced record %s delivered %d times, want 1", id, got[id])
					}
				}
				lost := 0
				for _, id := range unsynced {
					switch got[id] {
					case 0:
						lost++
					case 1:
					default:
						t.Errorf("record %s delivered %d times", id, got[id])
					}
				}
				if want := len(synced) + len(after) + len(unsynced) - lost; len(got) != want {
					t.Errorf("%d distinct lines delivered, want %d (unexpected records)", len(got), want)
				}
				t.Logf("%d of %d records written after the last sync lost", lost, len(unsynced))
			})
		}
	}
}

// TestDefaultModeFailedSync: a failed background fdatasync is not retried
// as if the data were safe. The filesystem here drops the pages it could
// not write (as Linux may); the journal refuses appends until it has
// written the records in doubt again and synced them, and then nothing is
// lost, even by a power cut right after.
func TestDefaultModeFailedSync(t *testing.T) {
	e := newEnv(t, defaultMode, "logs")
	e.fs.dropOnFailedSync = true
	before := e.appendAll("b", 10, 1)
	failSyncs := 0
	e.fs.inject = func(op, path string) error { // called with e.fs.mu held
		if op == "sync" && failSyncs > 0 && strings.HasSuffix(path, segSuffix) {
			failSyncs--
			return syscall.EIO
		}
		return nil
	}
	e.fs.mu.Lock()
	failSyncs = 2 // the sync and the first recovery attempt
	e.fs.mu.Unlock()
	if err := e.l.j.syncNow(); !errors.Is(err, ErrJournalUnavailable) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("syncNow with a failing fdatasync = %v", err)
	}
	if err := e.l.Append(context.Background(), rec("refused", "src", "logs", "", at(10, 2, 0))); !errors.Is(err, ErrJournalUnavailable) {
		t.Fatalf("Append while the journal is failed = %v, want ErrJournalUnavailable", err)
	}
	if err := e.l.j.syncNow(); !errors.Is(err, ErrJournalUnavailable) {
		t.Fatalf("recovery while syncs still fail = %v", err)
	}
	if err := e.l.j.syncNow(); err != nil {
		t.Fatalf("recovery once syncs work again = %v", err)
	}
	after := e.appendAll("a", 5, 3)
	if err := e.l.j.syncNow(); err != nil {
		t.Fatal(err)
	}
	e.crash() // power cut: only synced data survives
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, append(before, after...))
}

// TestDefaultModeFailedWrite: a failed write (a full disk) fails that
// Append; later appends are refused until the syncer has cut the partial
// frame off and synced; then appends work again with no restart and every
// acknowledged record is delivered once, across a power cut.
func TestDefaultModeFailedWrite(t *testing.T) {
	e := newEnv(t, defaultMode, "logs")
	before := e.appendAll("b", 5, 1)
	full := true
	e.fs.inject = func(op, path string) error {
		if op == "write" && full && strings.HasSuffix(path, segSuffix) {
			return syscall.ENOSPC
		}
		return nil
	}
	if err := e.l.Append(context.Background(), rec("w1", "src", "logs", "", at(10, 2, 0))); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk = %v", err)
	}
	if err := e.l.Append(context.Background(), rec("w2", "src", "logs", "", at(10, 2, 1))); !errors.Is(err, ErrJournalUnavailable) {
		t.Fatalf("Append after a failed write = %v", err)
	}
	e.fs.mu.Lock()
	full = false
	e.fs.mu.Unlock()
	if err := e.l.j.syncNow(); err != nil {
		t.Fatalf("recovery = %v", err)
	}
	after := e.appendAll("a", 5, 3)
	if err := e.l.j.syncNow(); err != nil {
		t.Fatal(err)
	}
	e.crash()
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, append(before, after...))
}

// TestDefaultModeSyncerRuns: the background syncer makes records durable
// without anyone asking (a real interval, short), and Close syncs the rest.
func TestDefaultModeSyncerRuns(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SyncInterval = time.Millisecond }, "logs")
	ids := e.appendAll("r", 3, 1)
	for e.l.j.batches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	more := e.appendAll("m", 3, 2)
	e.reopen() // Close syncs
	e.crash()
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, append(ids, more...))
}

func TestSyncIntervalBounds(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, MaxSyncInterval + time.Millisecond} {
		if _, err := Open(Config{Dir: t.TempDir(), Sink: newMemSink(), SyncInterval: d}); err == nil {
			t.Errorf("Open with SyncInterval %v: no error", d)
		}
	}
}

// TestDefaultModeRotationSyncsTail: records written while the syncer's
// fdatasync runs are in the segment being sealed; the segment must be
// synced whole before the next one starts, or a power cut after a later
// "successful" sync would lose records that Sync said were durable.
func TestDefaultModeRotationSyncsTail(t *testing.T) {
	e := newEnv(t, func(c *Config) { defaultMode(c); c.SegmentSize = 2 << 10 }, "logs")
	// Fill the segment to within two records of its size, not past it: a
	// full segment wakes the background syncer, which would then race the
	// hook below (and, firing it in its sealing sync, which holds the
	// journal's mutex, deadlock on the hook's appends).
	size := func() int64 {
		e.l.j.mu.Lock()
		defer e.l.j.mu.Unlock()
		return e.l.j.act.size
	}
	var ids []string
	for i, prev := 0, size(); ; i++ {
		id := fmt.Sprintf("a%d", i)
		e.append(rec(id, "src", "logs", "", at(10, 1, i%60)))
		ids = append(ids, id)
		now := size()
		if now+2*(now-prev) >= 2<<10 {
			break
		}
		prev = now
	}
	var during []string
	once := true
	e.fs.afterSync = func(path string) {
		if once && strings.HasSuffix(path, segSuffix) {
			once = false
			during = e.appendAll("d", 3, 2) // written while the sync runs
		}
	}
	if err := e.l.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := e.l.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := e.l.Unsynced(); n != 0 {
		t.Fatalf("Unsynced = %d after two syncs, want 0", n)
	}
	if len(e.fs.segments()) < 2 {
		t.Fatalf("segments %v: the full segment was not sealed", e.fs.segments())
	}
	t.Logf("written while syncing: %v; segments %v", during, e.fs.segments())
	e.crash()
	if err := e.l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, e.sink, append(ids, during...))
}
