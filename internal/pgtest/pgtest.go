// Package pgtest starts a real, throwaway PostgreSQL for tests: initdb into
// a temporary directory, a server on a free 127.0.0.1 port with its unix
// socket in that directory, one database per test. Tests that need
// PostgreSQL skip, saying how to install it, when it is absent; .ci/run
// installs it.
//
// PostgreSQL refuses to run as root. When the tests run as root (CI, this
// project's containers) initdb, pg_ctl and the server run as the
// "postgres" user that Debian's package creates, through runuser; the
// server's directory is made in the system temporary directory (not
// t.TempDir, whose parents are private to root) and owned by that user.
//
// OSSD_TEST_POSTGRES=postgres://user@host:port/db?… makes URL create its
// databases on that server instead of starting one (the user must be
// allowed to CREATE DATABASE). Start always starts its own server, because
// its callers stop and restart it.
//
// Use:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		url := pgtest.URL(t) // an empty database, dropped after the test
//		...
//	}
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable that points the tests at an
// existing server.
const EnvURL = "OSSD_TEST_POSTGRES"

// SkipMessage is what a test says when it skips for want of PostgreSQL.
const SkipMessage = "PostgreSQL not installed: apt-get install postgresql; .ci/run installs it"

// Bin returns the directory holding initdb and pg_ctl: PATH first, then
// the newest /usr/lib/postgresql/*/bin (Debian does not put them on PATH).
func Bin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first: "15" > "9.6" numerically, not lexically.
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "pg_ctl")) && isFile(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", errors.New(SkipMessage)
}

func majorOf(binDir string) int {
	v := filepath.Base(filepath.Dir(binDir))
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Server is a PostgreSQL server this package started. Its methods are safe
// for concurrent use.
type Server struct {
	bin  string // directory of initdb, pg_ctl
	dir  string // owns data/, the socket and the log
	port int
	// runAs is the user the server runs as when the tests run as root
	// ("postgres"); empty otherwise.
	runAs string
	mu    sync.Mutex
}

// Start starts a server of its own for t, stopped when t ends. It skips t
// when PostgreSQL is not installed. Use it when a test stops or restarts
// the server; otherwise URL shares one server per test binary.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if errors.Is(err, errNotInstalled) {
		t.Skip(SkipMessage)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Destroy)
	return s
}

var errNotInstalled = errors.New(SkipMessage)

func start() (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, errNotInstalled
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root and there is no postgres user to run PostgreSQL as (PostgreSQL refuses root): %w", err)
		}
		s.runAs = "postgres"
	}
	s.dir, err = os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	if s.runAs != "" {
		if out, err := exec.Command("chown", s.runAs, s.dir).CombinedOutput(); err != nil {
			os.RemoveAll(s.dir)
			return nil, fmt.Errorf("pgtest: chown %s: %v: %s", s.dir, err, out)
		}
	}
	if err := s.run("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	// Settings for a small shared test machine. fsync stays on: the
	// benchmarks measure commits as they would cost in production.
	conf := "listen_addresses = '127.0.0.1'\n" +
		"unix_socket_directories = '" + s.dir + "'\n" +
		"max_connections = 200\n" +
		"shared_buffers = 32MB\n" +
		"max_prepared_transactions = 0\n" +
		"log_min_messages = warning\n"
	f, err := os.OpenFile(filepath.Join(s.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("pgtest: configure: %w", err)
	}
	// A free port can be taken between the probe and the server's bind:
	// try a few.
	for range 5 {
		s.port, err = freePort()
		if err != nil {
			break
		}
		if err = s.Restart(); err == nil {
			s.watch()
			return s, nil
		}
	}
	os.RemoveAll(s.dir)
	return nil, err
}

// watch starts a watchdog that stops the server and removes its directory
// once this process is gone, for a test binary that dies without running
// its cleanups (a panic, a -timeout, kill -9): a PostgreSQL server outlives
// the process that started it. A clean exit has already done both; the
// watchdog's second stop fails quietly.
func (s *Server) watch() {
	stop := filepath.Join(s.bin, "pg_ctl") + " stop -D '" + s.data() + "' -m immediate"
	if s.runAs != "" {
		stop = "runuser -u " + s.runAs + " -- " + stop
	}
	script := "while kill -0 " + strconv.Itoa(os.Getpid()) + " 2>/dev/null; do sleep 1; done; " +
		stop + " >/dev/null 2>&1; rm -rf '" + s.dir + "'"
	cmd := exec.Command("sh", "-c", script)
	// No stdin, stdout or stderr of ours: go test waits for the test
	// binary's output to close, and must not wait for the watchdog.
	if cmd.Start() == nil {
		go cmd.Wait() // reap it if it ends first (it does not)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// run runs a PostgreSQL program from s.bin as s.runAs.
func (s *Server) run(prog string, args ...string) error {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir // runuser keeps the cwd; root's may be unreadable to postgres
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: %s %s: %v\n%s", prog, strings.Join(args, " "), err, out.Bytes())
	}
	return nil
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Dir is the server's directory: data/ (PGDATA), the socket and log.
func (s *Server) Dir() string { return s.dir }

// URL returns the postgres:// URL of database db on s (superuser
// "postgres", no password).
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Stop stops the server with pg_ctl's mode: "fast" (roll back sessions,
// checkpoint), "immediate" (like a crash: recovery at the next start) or
// "smart".
func (s *Server) Stop(mode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run("pg_ctl", "stop", "-D", s.data(), "-m", mode, "-w")
}

// Restart starts the stopped server again, on the same port and data, and
// returns when it accepts connections.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run("pg_ctl", "start", "-D", s.data(), "-w", "-t", "60",
		"-l", filepath.Join(s.dir, "log"), "-o", "-p "+strconv.Itoa(s.port))
}

// Destroy stops the server (fast) and removes its directory.
func (s *Server) Destroy() {
	_ = s.Thaw()       // a frozen server would not stop
	_ = s.Stop("fast") // already stopped is fine
	os.RemoveAll(s.dir)
}

// NewDatabase creates an empty database on s for t, dropped when t ends,
// and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, s.URL("postgres"))
}

// newDatabase creates a database through the server at admin and returns
// its URL; t's cleanup drops it.
func newDatabase(t testing.TB, admin string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "ossd_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect %s: %v", redact(admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return // the test stopped the server for good; it goes with its directory
		}
		defer conn.Close(ctx)
		// WITH (FORCE): a store the test forgot to close must not keep
		// the database (and the next package's run) alive.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// redact hides a URL's password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// The server URL uses, started on first use and stopped by Main.
var shared struct {
	mu   sync.Mutex
	main bool // Main is running the tests: it will stop srv
	srv  *Server
	err  error
}

// URL returns the URL of a new, empty database for t, dropped when t ends:
// on the server OSSD_TEST_POSTGRES names, else on a server shared by the
// test binary (started on first use, stopped by Main). It skips t when
// PostgreSQL is not installed.
func URL(t testing.TB) string {
	t.Helper()
	if env := os.Getenv(EnvURL); env != "" {
		return newDatabase(t, env)
	}
	shared.mu.Lock()
	if !shared.main {
		shared.mu.Unlock()
		t.Fatal("pgtest.URL needs TestMain to call pgtest.Main, which stops the shared server")
	}
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = start()
	}
	srv, err := shared.srv, shared.err
	shared.mu.Unlock()
	if errors.Is(err, errNotInstalled) {
		t.Skip(SkipMessage)
	}
	if err != nil {
		t.Fatal(err)
	}
	return srv.NewDatabase(t)
}

// Main runs the tests and then stops the shared server; a package that
// calls URL uses it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	if shared.srv != nil {
		shared.srv.Destroy()
		shared.srv = nil
	}
	shared.mu.Unlock()
	return code
}
