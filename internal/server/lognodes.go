package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/meta"
)

// nodeIDFile holds the generated node id in the data directory, so that a
// node keeps its id (and so its journal and its log object names) across
// restarts.
const nodeIDFile = "node-id"

// ResolveNodeID returns the node id: given (--node-id) when set, else the
// one stored in <data>/node-id, generated and stored (write, fsync, rename,
// fsync the directory) on first start.
func ResolveNodeID(dataDir, given string) (string, error) {
	if given != "" {
		if err := accesslog.CheckNodeID(given); err != nil {
			return "", fmt.Errorf("--node-id: %w", err)
		}
		return given, nil
	}
	path := filepath.Join(dataDir, nodeIDFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := strings.TrimSpace(string(raw))
		if err := accesslog.CheckNodeID(id); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return id, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	id := accesslog.NewNodeID()
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("store the node id: %w", err)
	}
	return id, nil
}

// MinLogLease is the shortest Config.LogLease: renewals, every third of it,
// must fit a metadata transaction with room to spare.
const MinLogLease = time.Second

// openAccessLog opens this node's journal. Without a shared log directory
// it is <data>/accesslog, this process's alone (no lease: one node, as
// before). With one (--log-dir), it is <log-dir>/<node id> under a lease in
// the metadata store, and the node takes over the journals of dead nodes
// there (accesslog.Node).
func openAccessLog(ctx context.Context, cfg Config, m meta.Store, logCfg accesslog.Config) (*accesslog.Log, *accesslog.Node, error) {
	logCfg.NodeID = cfg.NodeID
	if cfg.LogLease != 0 && cfg.LogLease < MinLogLease {
		return nil, nil, fmt.Errorf("--log-lease %v: at least %v", cfg.LogLease, MinLogLease)
	}
	if cfg.LogDir == "" {
		logCfg.Dir = filepath.Join(cfg.DataDir, "accesslog")
		l, err := accesslog.Open(logCfg)
		return l, nil, err
	}
	if err := checkLocalJournal(filepath.Join(cfg.DataDir, "accesslog"), logCfg); err != nil {
		return nil, nil, err
	}
	clock := cfg.LogClock
	if clock == nil {
		clock = accesslog.SystemClock{}
	}
	n, err := accesslog.OpenNode(ctx, accesslog.NodeConfig{
		Leases: &accesslog.Leases{Store: m, Node: cfg.NodeID, Duration: cfg.LogLease, Clock: clock},
		Root:   cfg.LogDir,
		Log:    logCfg,
	})
	if err != nil {
		return nil, nil, err
	}
	return n.Log(), n, nil
}

// checkLocalJournal refuses to start with a shared log directory while the
// journal this node kept in its data directory before still holds records:
// nothing would deliver them, and their record ids, numbered like the new
// journal's, would give names the new journal's objects could overwrite.
func checkLocalJournal(dir string, logCfg accesslog.Config) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	logCfg.Dir = dir
	l, err := accesslog.Open(logCfg)
	if err != nil {
		return fmt.Errorf("open the access-log journal %s: %w", dir, err)
	}
	defer l.Close()
	for _, b := range l.Status() {
		if b.Pending > 0 {
			return fmt.Errorf("the access-log journal %s holds records not yet delivered (bucket %s): start once without --log-dir and run `ossd logs flush`, then start with --log-dir", dir, b.Bucket)
		}
	}
	return nil
}
