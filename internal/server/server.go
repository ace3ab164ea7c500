// Package server assembles an ossd from its parts: metadata store, blob
// store, service, access log and HTTP handler. cmd/ossd and ossdtest both
// build their servers here, so tests run the same wiring users run.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/httpapi"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
	"github.com/ossd/ossd/internal/meta/pgmeta"
	"github.com/ossd/ossd/internal/metrics"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/internal/vfs"
)

// Config configures a Server.
type Config struct {
	DataDir string
	// BlobDir is the directory of the object bytes (--blobs); empty means
	// <DataDir>/blobs. Several nodes point it at one shared directory: blob
	// names are random 128-bit ids, so nodes never pick the same one, and
	// every file is created exclusively (see blob.FS.CreateNew).
	BlobDir string
	Region  string
	Domains []string
	Root    User
	// RootGenerated says Root's key pair was made up for this data
	// directory just now (RootCredentials' generated): a node joining a
	// metadata store other nodes use adopts the stored pair instead.
	RootGenerated bool
	Users         []User
	Now           func() time.Time
	Logger        *slog.Logger

	// LogInterval is how often access logs are delivered (default 1h).
	LogInterval time.Duration
	// LogLocation is the time zone of log lines and log object names
	// (default UTC+8, as OSS's China regions).
	LogLocation *time.Location
	// LogSync is the access-log durability mode (accesslog.Config's
	// SyncInterval): how long a written record may wait for its fdatasync.
	// Zero means DefaultLogSync; LogSyncAlways (negative) fsyncs each
	// record before its response completes.
	LogSync time.Duration
	// LogClock drives delivery; tests inject a fake one.
	LogClock accesslog.Clock
	// LogFS is the access-log journal's filesystem; tests inject failures.
	LogFS accesslog.FS
	// NodeID names this node: its journal, and the UniqueString of the log
	// objects its records are delivered in (--node-id). Empty: the id kept
	// in <DataDir>/node-id, generated on first start.
	NodeID string
	// LogDir (--log-dir) is a directory shared by several nodes (over one
	// metadata store) holding one journal per node, <LogDir>/<node id>;
	// each journal is delivered under a lease, and a live node takes over
	// the journal of a dead one. Empty: the journal is <DataDir>/accesslog,
	// this node's alone.
	LogDir string
	// LogLease is the lease duration of a journal in LogDir (default
	// accesslog.DefaultLeaseDuration): a dead node's records wait about
	// this long before another node delivers them.
	LogLease time.Duration

	// LifecycleInterval is the time between lifecycle runs; zero means
	// OSS's schedule, daily from 00:00 UTC.
	LifecycleInterval time.Duration
	// LifecycleClock drives the lifecycle runs (default: the wall clock);
	// tests inject a fake one. LifecycleDone is called after each run.
	LifecycleClock service.Clock
	LifecycleDone  func(service.LifecycleStats, error)

	// BodyReadTimeout ends a request whose body sends no byte for this
	// long (RequestTimeout, connection closed); BodyWriteTimeout ends a
	// response the client takes no byte of for this long. Zero means
	// DefaultBodyTimeout; negative disables.
	BodyReadTimeout, BodyWriteTimeout time.Duration

	// UnblockNewBuckets creates buckets with Block Public Access off
	// (--block-public-access=false), for code written before OSS turned it
	// on for new buckets; the default is OSS's: on.
	UnblockNewBuckets bool

	// BlobFS is the object data files' filesystem (default: the OS's);
	// tests inject failures and crashes (internal/faultfs).
	BlobFS blob.FS
	// Meta is the metadata store: empty for the embedded bbolt file
	// <DataDir>/meta.db, or a postgres:// URL of a PostgreSQL database
	// several ossd nodes share (internal/meta/pgmeta).
	Meta string
	// WrapMeta, if set, wraps the metadata store; tests use it to make
	// commits fail on demand. bbolt opens its file itself, so metadata
	// faults are injected at this interface rather than at file level.
	WrapMeta func(meta.Store) meta.Store

	// NoMetrics turns the metrics off (for benchmarks that measure what
	// they cost): nothing is counted and /-/ossd/metrics answers 404.
	NoMetrics bool

	// CallbackAllow lists the otherwise forbidden addresses (loopback,
	// private, link-local, …) upload callbacks may reach: CIDRs, addresses
	// and host:port pairs (--callback-allow).
	CallbackAllow []string
	// CallbackClient, if set, sends upload callbacks instead of the
	// guarded client (tests).
	CallbackClient *http.Client
}

// DefaultLogSync is the default access-log durability mode: records are
// written before their responses complete (a killed process loses none)
// and synced at most a second later (a power cut may lose that second).
const DefaultLogSync = time.Second

// MaxLogSync is the longest Config.LogSync.
const MaxLogSync = accesslog.MaxSyncInterval

// LogSyncAlways in Config.LogSync fsyncs every access-log record before its
// response completes.
const LogSyncAlways = time.Duration(-1)

// DefaultLogLease is the default Config.LogLease.
const DefaultLogLease = accesslog.DefaultLeaseDuration

// DefaultBodyTimeout is the default body idle timeout, each way: long
// enough for any live client, short enough that stalled ones are freed.
const DefaultBodyTimeout = 2 * time.Minute

// zeroNegative applies Config's convention for durations: zero means def,
// negative means 0 (the lower layer's "off" or "always").
func zeroNegative(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// MetaTimeout bounds the wait for the metadata store at start-up (a
// PostgreSQL server that does not answer).
const MetaTimeout = 15 * time.Second

// openMeta opens the store cfg.Meta names.
func openMeta(cfg Config) (meta.Store, error) {
	if cfg.Meta == "" {
		return boltmeta.Open(filepath.Join(cfg.DataDir, "meta.db"))
	}
	if !IsPostgresURL(cfg.Meta) {
		return nil, fmt.Errorf("metadata store: want a postgres://user@host:port/database URL, or nothing for the embedded store")
	}
	ctx, cancel := context.WithTimeout(context.Background(), MetaTimeout)
	defer cancel()
	s, err := pgmeta.Open(ctx, cfg.Meta)
	if err != nil {
		return nil, err // says "metadata store unavailable: cannot reach PostgreSQL at …"
	}
	return s, nil
}

// IsPostgresURL reports whether u names a PostgreSQL database.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// DescribeMeta says which metadata store cfg uses, for the banner and
// logs: never a password.
func DescribeMeta(cfg Config) string {
	if cfg.Meta == "" {
		return "bbolt " + filepath.Join(cfg.DataDir, "meta.db")
	}
	u, err := url.Parse(cfg.Meta)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery = "" // may hold password=…
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return "PostgreSQL " + u.String()
}

// Server is an assembled ossd.
type Server struct {
	cfg     Config
	meta    meta.Store
	Service *service.Service
	handler *httpapi.Handler
	// log is the access log (journal and delivery) without a shared log
	// directory; with one it is node.Log() (see Log).
	log *accesslog.Log
	// node, with a shared log directory, holds the journal's lease and
	// takes over dead nodes' journals; nil otherwise.
	node *accesslog.Node
	// Metrics are the server's Prometheus metrics (/-/ossd/metrics).
	Metrics *metrics.Metrics
	sink    *journalSink
	root    User
	// stopSweep cancels the start-up blob sweep and waits for it.
	stopSweep func()
	stopLog   context.CancelFunc
	// stopLifecycle stops the lifecycle runner and waits for it.
	stopLifecycle func()
}

// DefaultDomains are the base domains of virtual-hosted addressing.
func DefaultDomains(region string) []string {
	return []string{"localhost", "oss-" + region + ".aliyuncs.com", "oss-" + region + "-internal.aliyuncs.com"}
}

// New opens the data directory and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "cn-hangzhou"
	}
	if cfg.Domains == nil {
		cfg.Domains = DefaultDomains(cfg.Region)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	m, err := openMeta(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.WrapMeta != nil {
		m = cfg.WrapMeta(m)
	}
	if cfg.BlobFS == nil {
		cfg.BlobFS = vfs.OS{}
	}
	if cfg.BlobDir == "" {
		cfg.BlobDir = filepath.Join(cfg.DataDir, "blobs")
	}
	bs, err := blob.OpenFS(cfg.BlobFS, cfg.BlobDir)
	if err != nil {
		m.Close()
		return nil, err
	}
	cfg.Root, cfg.RootGenerated, err = agreeRoot(context.Background(), m, cfg.DataDir, cfg.Root, cfg.RootGenerated, cfg.Logger)
	if err != nil {
		m.Close()
		return nil, err
	}
	accts, err := newAccounts(append([]User{cfg.Root}, cfg.Users...))
	if err != nil {
		m.Close()
		return nil, err
	}
	cbPolicy, err := httpapi.NewCallbackPolicy(cfg.CallbackAllow)
	if err != nil {
		m.Close()
		return nil, err
	}
	if err := meta.InitUsage(context.Background(), m); err != nil {
		m.Close()
		return nil, fmt.Errorf("bucket usage records: %w", err)
	}
	var mx *metrics.Metrics
	if !cfg.NoMetrics {
		mx = metrics.New()
	}
	// The node id names this node's journal and the holder of the
	// lifecycle run lease on a shared store.
	if cfg.NodeID, err = ResolveNodeID(cfg.DataDir, cfg.NodeID); err != nil {
		m.Close()
		return nil, err
	}
	svc := service.New(service.Config{Region: cfg.Region, Now: cfg.Now, Logger: cfg.Logger, UnblockNewBuckets: cfg.UnblockNewBuckets, Metrics: mx, NodeID: cfg.NodeID}, m, bs)
	started := time.Now()
	sweepCtx, cancelSweep := context.WithCancel(context.Background())
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		// Blobs left by writes a crash interrupted: removed in the
		// background so start-up does not wait for a full scan.
		n, err := svc.Sweep(sweepCtx, started)
		if err != nil && sweepCtx.Err() == nil {
			cfg.Logger.Warn("blob sweep failed", "err", err)
		} else if n > 0 {
			cfg.Logger.Info("removed unreferenced blobs", "count", n)
		}
	}()
	s := &Server{cfg: cfg, meta: m, Service: svc, Metrics: mx, root: cfg.Root, stopSweep: func() { cancelSweep(); <-sweepDone }}
	logCfg := accesslog.Config{
		FS: cfg.LogFS, Clock: cfg.LogClock, Sink: objectSink{svc},
		Interval: cfg.LogInterval, Location: cfg.LogLocation, Logger: cfg.Logger, SyncInterval: zeroNegative(cfg.LogSync, DefaultLogSync),
	}
	if mx != nil {
		logCfg.OnSync, logCfg.OnDeliveryFailure, logCfg.OnSettle = mx.ObserveSync, mx.DeliveryFailed, mx.ProvisionalSettled
	}
	// A node that comes back while another delivers its journal gets it
	// back within a third of the lease; longer means another live process
	// runs with this node id.
	octx, ocancel := context.WithTimeout(context.Background(), 3*max(cfg.LogLease, accesslog.DefaultLeaseDuration))
	al, node, err := openAccessLog(octx, cfg, m, logCfg)
	ocancel()
	if err != nil {
		s.stopSweep()
		m.Close()
		return nil, fmt.Errorf("open access log: %w", err)
	}
	s.node = node
	if node == nil {
		s.log = al
	}
	sink := &journalSink{log: s.Log}
	s.sink = sink
	mx.Register(stateCollector{s})
	s.handler = httpapi.New(httpapi.Config{
		Service: svc, Accounts: accts, Region: cfg.Region, Domains: cfg.Domains, Now: cfg.Now, Logger: cfg.Logger,
		LogSink: sink, Admin: s.adminHandler(accts), Metrics: mx,
		BodyReadTimeout: zeroNegative(cfg.BodyReadTimeout, DefaultBodyTimeout), BodyWriteTimeout: zeroNegative(cfg.BodyWriteTimeout, DefaultBodyTimeout),
		CallbackPolicy: cbPolicy, CallbackClient: cfg.CallbackClient,
	})
	ctx, cancel := context.WithCancel(context.Background())
	s.stopLog = cancel
	al.Start(ctx)
	if node != nil {
		node.Start(ctx)
	}
	lclock := cfg.LifecycleClock
	if lclock == nil {
		lclock = accesslog.SystemClock{}
	}
	lctx, lcancel := context.WithCancel(context.Background())
	lwait := svc.StartLifecycle(lctx, service.LifecycleSchedule{Clock: lclock, Interval: cfg.LifecycleInterval, Log: sink.Log, Done: cfg.LifecycleDone})
	s.stopLifecycle = func() { lcancel(); lwait() }
	return s, nil
}

// RunLifecycle runs the lifecycle rules once, now (as on the lifecycle
// clock), and returns what the run did; ossdtest uses it.
func (s *Server) RunLifecycle(ctx context.Context) (service.LifecycleStats, error) {
	now := time.Now()
	if s.cfg.LifecycleClock != nil {
		now = s.cfg.LifecycleClock.Now()
	}
	return s.Service.RunLifecycle(ctx, now, (&journalSink{log: s.Log}).Log)
}

// Log is the access log (journal and delivery). With a shared log
// directory it is replaced when the node reclaims its journal from a node
// that took it over (accesslog.Node.Log): get it at each use.
func (s *Server) Log() *accesslog.Log {
	if s.node != nil {
		return s.node.Log()
	}
	return s.log
}

// NodeID is this node's id (Config.NodeID, or the one kept in the data
// directory).
func (s *Server) NodeID() string { return s.cfg.NodeID }

// Handler is the OSS API handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Root is the root account this server answers as: the data directory's,
// or, on a metadata store other nodes started first, the stored one.
// RootGenerated reports that its key pair was made up at this start.
func (s *Server) Root() (u User, generated bool) { return s.cfg.Root, s.cfg.RootGenerated }

// Close releases the data directory.
// Records already appended stay in the journal and are delivered after the
// next start.
func (s *Server) Close() error {
	s.stopLifecycle()
	s.stopSweep()
	s.stopLog()
	var lerr error
	if s.node != nil {
		// Closes the journal and releases its lease (and hands back the
		// journals taken over).
		lerr = s.node.Close()
	} else {
		lerr = s.log.Close()
	}
	if err := s.meta.Close(); err != nil {
		return err
	}
	return lerr
}
