// Package pgmeta is a meta.Store on PostgreSQL, for several ossd nodes
// sharing one metadata database (ossd --meta postgres://…).
//
// Every space lives in one table, ossd_kv(space, k bytea, v bytea) with
// primary key (space, k): bytea compares byte by byte, which is the order
// meta.Store promises (a text key under a locale collation would not be).
// The table is created at Open, under an advisory lock so that nodes
// starting together do not race on the catalogue.
//
// Write transactions are SERIALIZABLE, so the catalogue's read-modify-write
// rules hold across nodes without locks of their own; a transaction that
// PostgreSQL aborts for a serialization failure (40001) or a deadlock
// (40P01) is run again, as meta.Store allows. Reads are REPEATABLE READ
// READ ONLY snapshots on the same server (there are no replicas here), so a
// View sees every Update that returned on any node before it started.
//
// Round trips: a Tx queues Put and Delete and sends them with its next read
// or with COMMIT, in one pipeline (BEGIN travels with the first statement),
// so a typical PutObject transaction costs one round trip per read plus
// one. Concurrent Updates may also share a transaction (see Update).
package pgmeta

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ossd/ossd/internal/meta"
)

// Options tune a Store; the zero value is the default.
type Options struct {
	// MaxBatch is the most Updates one transaction may carry (default 32);
	// 1 turns batching off: each Update is a transaction of its own, run
	// at once by its caller, concurrently with the others.
	MaxBatch int
	// Committers is how many batches of one Store may run at once
	// (default 1; see Update).
	Committers int
	// TxTimeout bounds one transaction attempt, from taking a connection
	// to COMMIT (default 30s). A server that stops answering then fails
	// requests with meta.ErrUnavailable instead of hanging them.
	TxTimeout time.Duration
	// MaxAttempts bounds the runs of one Update that keep failing on
	// serialization conflicts (default 50).
	MaxAttempts int
	// EscalateAfter is how many conflicts an Update running alone may
	// meet before its next attempts run exclusively (default 4; see
	// runAlone).
	EscalateAfter int
}

// Store is a meta.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	desc string // the URL without its password, for logs and the banner
	node string // meta.NodeTx: drawn at random by Open

	mu         sync.Mutex
	pending    []*call
	committers int // goroutines running batches
	closed     bool
	running    sync.WaitGroup

	stats struct {
		commits, conflicts, batches, batched, aborted, exclusive atomic.Int64
	}
}

// call is one Update waiting for a committer.
type call struct {
	ctx  context.Context
	fn   func(meta.Tx) error
	done chan error
}

// Stats counts what a Store did since Open, for tests and benchmarks.
type Stats struct {
	Commits   int64 // transactions committed
	Conflicts int64 // attempts PostgreSQL aborted with 40001 or 40P01 (each was run again)
	Batches   int64 // transactions that carried more than one Update
	Batched   int64 // Updates committed in such transactions
	Aborted   int64 // batches given up as a whole (their Updates then ran alone)
	Exclusive int64 // attempts run exclusively, after EscalateAfter conflicts
}

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	return Stats{s.stats.commits.Load(), s.stats.conflicts.Load(), s.stats.batches.Load(), s.stats.batched.Load(), s.stats.aborted.Load(), s.stats.exclusive.Load()}
}

const schema = `CREATE TABLE IF NOT EXISTS ossd_kv (
	space text COLLATE "C" NOT NULL,
	k bytea NOT NULL,
	v bytea NOT NULL,
	PRIMARY KEY (space, k)
)`

// schemaLock is the advisory lock key Open holds while creating the
// schema: CREATE TABLE IF NOT EXISTS is not safe against a concurrent one
// (both may pass the check; one fails on pg_type's unique index).
const schemaLock = 0x05_5d_6d_65_74_61 // "ossd meta"

// Open connects to the database at url (postgres://user:password@host:port/db?…,
// or any form pgx accepts) and creates the schema if it is missing. A
// server that cannot be reached is an error wrapping meta.ErrUnavailable.
func Open(ctx context.Context, url string) (*Store, error) { return OpenOptions(ctx, url, Options{}) }

// OpenOptions is Open with options.
func OpenOptions(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 32
	}
	if opts.Committers <= 0 {
		opts.Committers = 1
	}
	if opts.TxTimeout <= 0 {
		opts.TxTimeout = 30 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 50
	}
	if opts.EscalateAfter <= 0 {
		opts.EscalateAfter = 4
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors may quote the URL, password included.
		return nil, errors.New("pgmeta: cannot parse the PostgreSQL URL (postgres://user:password@host:port/database?…)")
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default is max(4, CPUs): too few for a server whose
		// requests each hold a connection for a transaction.
		cfg.MaxConns = 32
	}
	var node [8]byte
	crand.Read(node[:])
	s := &Store{opts: opts, desc: Describe(cfg.ConnConfig), node: hex.EncodeToString(node[:])}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgmeta: %s: %w", s.desc, err)
	}
	if err := s.createSchema(ctx); err != nil {
		s.pool.Close()
		if unavailable(err) {
			return nil, fmt.Errorf("%w: cannot reach PostgreSQL at %s: %w", meta.ErrUnavailable, s.desc, err)
		}
		return nil, fmt.Errorf("pgmeta: create schema in %s: %w", s.desc, err)
	}
	return s, nil
}

func (s *Store) createSchema(ctx context.Context) error {
	// CREATE TABLE IF NOT EXISTS needs the CREATE privilege even when the
	// table exists: a user given only SELECT, INSERT, UPDATE and DELETE on
	// a table made for it must not need it.
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass('ossd_kv') IS NOT NULL").Scan(&exists); err != nil || exists {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(schemaLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
}

// Describe renders a connection's target for people: postgres://user@host:port/db,
// never the password.
func Describe(c *pgx.ConnConfig) string {
	return "postgres://" + c.User + "@" + net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))) + "/" + c.Database
}

// Shared implements meta.Shared: other nodes commit to the same database.
func (s *Store) Shared() bool { return true }

// String is the database the Store uses, without a password.
func (s *Store) String() string { return s.desc }

// View implements meta.Store: fn runs in a REPEATABLE READ READ ONLY
// transaction, a snapshot taken at its first statement.
func (s *Store) View(ctx context.Context, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TxTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.wrap(err)
	}
	t := &pgTx{s: s, ctx: ctx, conn: conn.Conn(), readOnly: true}
	t.queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	ferr := safely(fn, t)
	t.queue("COMMIT") // read-only: COMMIT and ROLLBACK are the same
	err = t.flush()
	s.release(conn, err)
	if ferr != nil {
		return ferr
	}
	return s.wrap(err)
}

// Update implements meta.Store.
//
// Updates are queued and run by one committer goroutine (Committers), a
// batch at a time: each batch takes every Update queued while the previous
// one ran (up to MaxBatch) into one transaction, each fn after a SAVEPOINT;
// an fn that fails is rolled back to it, so its error and its writes are
// its own, and one COMMIT (one WAL flush) serves the others. An idle store
// commits each Update at once.
//
// Why one committer: PostgreSQL's serializable isolation tracks what a
// transaction read by B-tree page, so two transactions that read and
// insert neighbouring keys (two PUTs of k1 and k2, which share a leaf
// page) conflict although they touch different rows, and one is rolled
// back. With every Update of the process running concurrently, as
// MaxBatch 1 does, that cost 2 to 6 reruns per Update at 8 to 64 writers
// (BenchmarkUpdate). Updates in one batch cannot conflict with each other;
// only batches of other nodes can. A batch that conflicts is run again
// whole, and after three conflicts in halves, down to single Updates.
func (s *Store) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &call{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	if s.opts.MaxBatch == 1 {
		s.running.Add(1)
		s.mu.Unlock()
		defer s.running.Done()
		return s.runAlone(c)
	}
	s.pending = append(s.pending, c)
	if s.committers < s.opts.Committers {
		s.committers++
		s.running.Add(1)
		go s.commitLoop()
	}
	s.mu.Unlock()
	return <-c.done
}

var errClosed = errors.New("pgmeta: store closed")

// commitLoop runs the pending calls, a batch at a time, until none is left.
func (s *Store) commitLoop() {
	defer s.running.Done()
	for {
		s.mu.Lock()
		n := min(len(s.pending), s.opts.MaxBatch)
		if n == 0 {
			s.committers--
			s.mu.Unlock()
			return
		}
		calls := make([]*call, n)
		copy(calls, s.pending)
		s.pending = s.pending[n:]
		if len(s.pending) == 0 {
			s.pending = nil // let the backing array go
		}
		s.mu.Unlock()
		s.runBatch(calls)
	}
}

// runBatch runs calls in one transaction, again on a conflict, and in
// halves after three.
func (s *Store) runBatch(calls []*call) {
	if len(calls) == 1 {
		calls[0].done <- s.runAlone(calls[0])
		return
	}
	for n := 0; n < 3; n++ {
		if n > 0 {
			backoff(n)
		}
		errs, err := s.attempt(calls)
		if err == nil {
			s.stats.batches.Add(1)
			s.stats.batched.Add(int64(len(calls)))
			for i, c := range calls {
				c.done <- errs[i]
			}
			return
		}
		if !retryable(err) {
			for _, c := range calls {
				c.done <- err
			}
			return
		}
	}
	s.stats.aborted.Add(1)
	half := len(calls) / 2
	s.runBatch(calls[:half])
	s.runBatch(calls[half:])
}

// backoff waits before attempt n+1 of a transaction that conflicted:
// conflicting transactions that start again at once tend to conflict
// again, so they are spread out, a little more each time.
func backoff(n int) {
	time.Sleep(time.Duration(rand.Int64N(int64(min(n, 10)) * int64(time.Millisecond))))
}

// runAlone runs c in transactions of its own until one commits, c's fn
// fails, or a failure is not worth another attempt.
//
// A transaction that keeps meeting conflicts can starve: PostgreSQL lets
// the first of two conflicting transactions to commit win, and the batches
// of other nodes, longer and always in flight, win every time (an Update
// gave up after 50 attempts in BenchmarkPutTwoNodes/hot-records). So after
// EscalateAfter conflicts its attempts run exclusively: every write
// transaction of every node holds a shared advisory lock (taken with BEGIN,
// no round trip of its own), and an exclusive attempt first takes that lock
// exclusively, for its session, before its transaction starts: it waits for
// the transactions in flight, keeps new ones out, and then has nothing to
// conflict with.
func (s *Store) runAlone(c *call) error {
	var err error
	for n := 0; n < s.opts.MaxAttempts; n++ {
		if n > 0 {
			backoff(n)
		}
		var errs []error
		errs, err = s.attemptMode(n >= s.opts.EscalateAfter, []*call{c})
		if err == nil {
			return errs[0]
		}
		if !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("%w: gave up after %d attempts: %w", meta.ErrUnavailable, s.opts.MaxAttempts, err)
}

// attempt runs calls in one SERIALIZABLE transaction. errs[i] is the
// error of calls[i]'s fn (nil: its writes are in the commit). err is the
// transaction's own failure: then nothing committed, unless err says the
// outcome is unknown (the connection broke during COMMIT); retryable(err)
// tells whether running the calls again may succeed.
func (s *Store) attempt(calls []*call) (errs []error, err error) {
	return s.attemptMode(false, calls)
}

// writeLock is the advisory lock every write transaction holds shared and
// an exclusive attempt holds exclusively (see runAlone).
const writeLock = schemaLock + 1

// attemptMode is attempt, exclusive or not.
func (s *Store) attemptMode(exclusive bool, calls []*call) (errs []error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.TxTimeout)
	defer cancel()
	// A lone Update waits for a connection no longer than its ctx allows.
	actx := ctx
	if len(calls) == 1 {
		var stop func() bool
		actx, stop = mergeCancel(ctx, calls[0].ctx)
		defer stop()
	}
	conn, err := s.pool.Acquire(actx)
	if err != nil {
		if cerr := calls[0].ctx.Err(); len(calls) == 1 && cerr != nil {
			return nil, cerr
		}
		return nil, s.wrap(err)
	}
	t := &pgTx{s: s, ctx: ctx, conn: conn.Conn()}
	if exclusive {
		// A session lock, taken before the transaction's snapshot: one
		// taken inside it would leave the snapshot older than the
		// commits it waited for.
		s.stats.exclusive.Add(1)
		if _, err := t.conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(writeLock)); err != nil {
			s.discard(conn)
			return nil, s.wrap(err)
		}
	}
	// finish ends the attempt's use of conn; an exclusive one unlocks
	// first, or ends the session (which unlocks) when it cannot: a pooled
	// connection must not keep the lock.
	finish := func(err error) {
		if exclusive {
			c := conn.Conn()
			if c.PgConn().TxStatus() != 'I' {
				if _, e := c.Exec(ctx, "ROLLBACK"); e != nil {
					s.discard(conn)
					return
				}
			}
			if _, e := c.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(writeLock)); e != nil {
				s.discard(conn)
				return
			}
		}
		s.release(conn, err)
	}
	t.queue("BEGIN ISOLATION LEVEL SERIALIZABLE")
	t.queue("SELECT pg_advisory_xact_lock_shared($1)", int64(writeLock))
	errs = make([]error, len(calls))
	multi := len(calls) > 1
	ran := 0
	for i, c := range calls {
		if err := c.ctx.Err(); err != nil {
			errs[i] = err // canceled before it started: not run
			continue
		}
		sp := "s" + strconv.Itoa(i)
		if multi {
			t.queue("SAVEPOINT " + sp)
		}
		ferr := safely(c.fn, t)
		if t.err != nil {
			// A statement failed: the transaction is aborted, whatever fn
			// made of the error.
			break
		}
		if ferr != nil {
			errs[i] = ferr
			if multi {
				t.queue("ROLLBACK TO SAVEPOINT " + sp)
				t.cache = nil // what fn wrote is undone
			}
			continue
		}
		ran++
	}
	if t.err == nil && ran > 0 {
		t.queue("COMMIT")
		if err := t.flush(); err != nil {
			broken := t.conn.IsClosed()
			finish(err)
			if broken && !pgconn.SafeToRetry(err) {
				// The COMMIT may or may not have reached the server.
				return nil, fmt.Errorf("%w: commit outcome unknown: %w", meta.ErrUnavailable, err)
			}
			if retryable(err) {
				s.stats.conflicts.Add(1)
			}
			return nil, s.wrap(err)
		}
		s.stats.commits.Add(1)
		finish(nil)
		return errs, nil
	}
	if !t.sent {
		// Nothing reached the server (every fn failed before reading):
		// there is no transaction to roll back.
		finish(nil)
		return errs, nil
	}
	err = t.err
	t.err = nil
	t.b = pgx.Batch{} // writes of a failed fn: no use sending them
	t.queue("ROLLBACK")
	if rerr := t.flush(); err == nil {
		err = rerr
	}
	finish(err)
	if err == nil {
		return errs, nil // every fn failed or was canceled: nothing to commit
	}
	if retryable(err) {
		s.stats.conflicts.Add(1)
	}
	return nil, s.wrap(err)
}

// mergeCancel returns a context done when either a or b is.
func mergeCancel(a, b context.Context) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() bool { cancel(); return stop() }
}

// release returns conn to the pool, ending a transaction a failed COMMIT
// left open (pgxpool would close the connection rather than reuse it), or
// closes it when err leaves it in an unknown state.
func (s *Store) release(conn *pgxpool.Conn, err error) {
	c := conn.Conn()
	var pe *pgconn.PgError
	switch {
	case c.IsClosed():
	case err != nil && !errors.As(err, &pe):
		// Not a server's answer (a timeout, a broken pipe): the
		// protocol state is unknown.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.Close(ctx)
		cancel()
	case c.PgConn().TxStatus() != 'I':
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.TxTimeout)
		if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
			c.Close(ctx)
		}
		cancel()
	}
	conn.Release()
}

// discard closes conn (ending its session) and gives it back to the pool,
// which drops it.
func (s *Store) discard(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	conn.Conn().Close(ctx)
	cancel()
	conn.Release()
}

// wrap marks errors that mean the database cannot be used right now.
func (s *Store) wrap(err error) error {
	if err == nil || errors.Is(err, meta.ErrUnavailable) {
		return err
	}
	if unavailable(err) || retryable(err) {
		return fmt.Errorf("%w: PostgreSQL at %s: %w", meta.ErrUnavailable, s.desc, err)
	}
	return fmt.Errorf("pgmeta: %w", err)
}

// retryable: PostgreSQL rolled the transaction back because of concurrent
// ones; running it again may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// unavailable: the server cannot be reached, is shutting down or starting,
// is out of connections, or did not answer in time.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up (a client went away): not the server's fault
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || // connection exception
			pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || // shutdown, crash, starting
			pe.Code == "53300" // too many connections
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "unexpected EOF")
}

// safely turns a panic in fn into an error, so that one bad request cannot
// take a committer (and the Updates batched with it) down.
func safely(fn func(meta.Tx) error, t *pgTx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("metadata update panicked: %v", p)
		}
	}()
	return fn(t)
}

// Close implements meta.Store: it waits for running Updates, then closes
// the connections.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.running.Wait()
	s.pool.Close()
	return nil
}

// pgTx is a transaction on one connection. Statements whose results are
// not needed (BEGIN, Put, Delete, SAVEPOINT) are queued and sent with the
// next one whose result is, in one pipeline.
type pgTx struct {
	s        *Store
	ctx      context.Context
	conn     *pgx.Conn
	readOnly bool
	b        pgx.Batch
	sent     bool // a statement went to the server: the transaction is open
	cache    map[string][]byte
	// err is the first statement error: PostgreSQL has aborted the
	// transaction, so every later statement fails with it.
	err error
}

var spaces = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range meta.Spaces {
		m[s] = true
	}
	return m
}()

var errReadOnly = errors.New("pgmeta: write in a read-only transaction")

// Node implements meta.NodeTx.
func (t *pgTx) Node() string { return t.s.node }

func (t *pgTx) queue(sql string, args ...any) { t.b.Queue(sql, args...) }

// flush sends the queued statements.
func (t *pgTx) flush() error { return t.query("", nil, nil) }

// query sends the queued statements and then q (if not empty), calling
// row for each of q's rows.
func (t *pgTx) query(q string, args []any, row func(pgx.Rows) error) error {
	if t.err != nil {
		return t.err
	}
	if q != "" {
		t.b.Queue(q, args...)
	}
	n := t.b.Len()
	if n == 0 {
		return nil
	}
	b := t.b // the results read the batch as they go: give them their own
	t.b = pgx.Batch{}
	t.sent = true
	br := t.conn.SendBatch(t.ctx, &b)
	var err error
	execs := n
	if q != "" {
		execs--
	}
	for range execs {
		if _, e := br.Exec(); e != nil && err == nil {
			err = e
		}
	}
	if q != "" && err == nil {
		var rows pgx.Rows
		if rows, err = br.Query(); err == nil {
			for rows.Next() {
				if err = row(rows); err != nil {
					break
				}
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
	}
	if e := br.Close(); err == nil {
		err = e
	}
	if err != nil {
		// fn sees, and may return, this error: it says what kind it is.
		err = t.s.wrap(err)
	}
	t.err = err
	return err
}

func (t *pgTx) Get(space string, key []byte) ([]byte, error) {
	if !spaces[space] {
		return nil, meta.ErrUnknownSpace
	}
	if t.err != nil {
		return nil, t.err
	}
	ck := cacheKey(space, key)
	if c, ok := t.cache[ck]; ok {
		return c, nil
	}
	var v []byte
	found := false
	err := t.query("SELECT v FROM ossd_kv WHERE space = $1 AND k = $2", []any{space, nonNil(key)}, func(r pgx.Rows) error {
		found = true
		return r.Scan(&v)
	})
	if err != nil {
		return nil, err
	}
	if found && v == nil {
		v = []byte{} // present but empty is not absent
	}
	t.remember(ck, v)
	return v, nil
}

// The Tx remembers what it read and wrote by key, so that the records
// every Update of a batch reads (the bucket's, the node's usage record)
// cost one round trip per batch, not one per Update. The transaction's
// snapshot is fixed and its reads are already registered for serializable
// checking, so a remembered value is the one a second read would return.
// A rollback to a savepoint forgets everything.
func cacheKey(space string, key []byte) string { return space + "\x00" + string(key) }

func (t *pgTx) remember(ck string, v []byte) {
	if t.cache == nil {
		t.cache = make(map[string][]byte)
	}
	t.cache[ck] = v // nil: absent
}

// writable says whether a write to space may be queued.
func (t *pgTx) writable(space string) error {
	switch {
	case !spaces[space]:
		return meta.ErrUnknownSpace
	case t.readOnly:
		return errReadOnly
	}
	return t.err
}

func (t *pgTx) Put(space string, key, value []byte) error {
	if err := t.writable(space); err != nil {
		return err
	}
	// Queued, not sent: copy what the caller may change after Put returns.
	v := append([]byte{}, value...)
	t.queue("INSERT INTO ossd_kv (space, k, v) VALUES ($1, $2, $3) ON CONFLICT (space, k) DO UPDATE SET v = EXCLUDED.v",
		space, append([]byte{}, key...), v)
	t.remember(cacheKey(space, key), v)
	return nil
}

func (t *pgTx) Delete(space string, key []byte) error {
	if err := t.writable(space); err != nil {
		return err
	}
	t.queue("DELETE FROM ossd_kv WHERE space = $1 AND k = $2", space, append([]byte{}, key...))
	t.remember(cacheKey(space, key), nil)
	return nil
}

// Ascend reads the space a page at a time by keyset (k > the last key
// seen), pages growing from a few keys (most scans stop at the first:
// Latest, BucketEmpty) to maxPage, so a listing never loads a whole space.
func (t *pgTx) Ascend(space string, start []byte, fn func(k, v []byte) bool) error {
	if !spaces[space] {
		return meta.ErrUnknownSpace
	}
	type kv struct{ k, v []byte }
	var page []kv
	from, op := nonNil(start), ">="
	for limit := firstPage; ; limit = min(limit*4, maxPage) {
		page = page[:0]
		err := t.query("SELECT k, v FROM ossd_kv WHERE space = $1 AND k "+op+" $2 ORDER BY k LIMIT $3",
			[]any{space, from, limit}, func(r pgx.Rows) error {
				var e kv
				err := r.Scan(&e.k, &e.v)
				page = append(page, e)
				return err
			})
		if err != nil {
			return err
		}
		for _, e := range page {
			if !fn(e.k, e.v) {
				return nil
			}
		}
		if len(page) < limit {
			return nil
		}
		from, op = page[len(page)-1].k, ">"
	}
}

const (
	firstPage = 8
	maxPage   = 512
)

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{} // NULL would match no key
	}
	return b
}
