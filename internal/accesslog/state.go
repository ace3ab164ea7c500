package accesslog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
)

// The delivery state lives in one small file, STATE, replaced atomically
// (write STATE.tmp, fsync, rename over STATE, fsync the directory) after
// every change that a crash must not forget: a batch plan before any of its
// objects is put, and the cursors after its objects are stored.
const (
	stateName    = "STATE"
	stateTmpName = "STATE.tmp"
	stateVersion = 1
)

// persisted is the content of STATE.
type persisted struct {
	Version int `json:"version"`
	// Floor: every record with ID <= Floor is delivered. Segments whose
	// records are all <= Floor may be deleted.
	Floor uint64 `json:"floor"`
	// Durable is the highest record ID durable when the state was written;
	// new IDs are always above it.
	Durable uint64            `json:"durable"`
	Streams []persistedStream `json:"streams,omitempty"`
}

// persistedStream is a stream whose progress Floor does not capture: its
// cursor is above Floor, or it has a batch in flight.
type persistedStream struct {
	Target string `json:"target"`
	Prefix string `json:"prefix"`
	Source string `json:"source"`
	// Cursor: this stream's records with ID <= Cursor are delivered.
	Cursor uint64 `json:"cursor"`
	// PlanLo, PlanHi: the batch in flight is exactly this stream's records
	// with PlanLo < ID <= PlanHi. It is redone as is after a crash, giving
	// the same objects under the same names. Zero when none.
	PlanLo uint64 `json:"planLo,omitempty"`
	PlanHi uint64 `json:"planHi,omitempty"`
	// PlanNode is the node id in the names of the plan's objects; absent
	// in states of ossd before node ids, whose names had none.
	PlanNode string `json:"planNode,omitempty"`
}

func readState(fs FS, dir string) (*persisted, error) {
	f, err := fs.Open(filepath.Join(dir, stateName))
	if errors.Is(err, iofs.ErrNotExist) {
		return &persisted{Version: stateVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, err
	}
	return parseState(data)
}

func parseState(data []byte) (*persisted, error) {
	var st persisted
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, stateName, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%w: %s: version %d, want %d", ErrCorrupt, stateName, st.Version, stateVersion)
	}
	return &st, nil
}

// readState reads the delivery state: from the store when the journal is
// leased (the state file of a journal that was not leased before is read
// once, then the store's copy wins), else from STATE.
func (l *Log) readState() (*persisted, error) {
	if l.cfg.Lease == nil {
		return readState(l.cfg.FS, l.cfg.Dir)
	}
	data, err := l.cfg.Lease.loadState(context.Background())
	if err != nil {
		return nil, fmt.Errorf("accesslog: reading the delivery state: %w", err)
	}
	if data == nil {
		return readState(l.cfg.FS, l.cfg.Dir)
	}
	return parseState(data)
}

// writeState makes st the durable state: in the store, fenced by the lease,
// when the journal is leased; else in STATE.
func (l *Log) writeState(st *persisted) error {
	if l.cfg.Lease == nil {
		return writeState(l.cfg.FS, l.cfg.Dir, st)
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return l.cfg.Lease.saveState(context.Background(), data)
}

// writeState makes st the durable state. When it returns an error the
// durable state is either the previous one or st; callers act as if it were
// the previous one (redo is safe, deleting segments is not).
func writeState(fs FS, dir string, st *persisted) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, final := filepath.Join(dir, stateTmpName), filepath.Join(dir, stateName)
	// A STATE.tmp left by a crash is garbage: Create truncates it.
	f, err := fs.Create(tmp)
	if err != nil {
		return err
	}
	// Failure here leaves STATE untouched.
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return err
	}
	// The new content must be durable before a name points at it, or a
	// crash after the rename could leave STATE empty or partial.
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// The switch: after a crash STATE is either the old or the new file,
	// each complete.
	if err := fs.Rename(tmp, final); err != nil {
		return err
	}
	// Until the directory is synced a crash may bring the old state back.
	// That is safe (the old plan is redone, rewriting the same objects),
	// but only after this returns may segments be deleted on the strength
	// of the new Floor.
	return fs.SyncDir(dir)
}
