// Package ossdtest starts a real, in-process ossd for Go tests, the way
// net/http/httptest starts an HTTP server: a fresh data directory, a
// loopback listener, and credentials for the official SDKs.
//
//	srv := ossdtest.Start(t)
//	cfg := oss.LoadDefaultConfig().
//		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret)).
//		WithEndpoint(srv.Endpoint).WithRegion(srv.Region)
package ossdtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/server"
	"github.com/ossd/ossd/internal/service"
)

// Server is a running ossd.
type Server struct {
	// Endpoint is "http://127.0.0.1:<port>".
	Endpoint        string
	Region          string
	AccessKeyID     string
	AccessKeySecret string
	// AccountID is the root account's id (bucket owner id).
	AccountID string
	// DataDir is the server's data directory.
	DataDir string
	// MonitorEndpoint serves /-/ossd/metrics, /-/ossd/health and
	// /-/ossd/ready without a signature (Options.Monitor; else empty).
	MonitorEndpoint string

	srv  *server.Server
	http *httptest.Server
	mon  *httptest.Server
}

// User is an extra account: id, display name and one access key pair.
type User = server.User

// LogSyncAlways in Options.LogSync syncs each access-log record before its
// response completes (ossd --log-sync always).
const LogSyncAlways = server.LogSyncAlways

// Options adjust Start.
type Options struct {
	Region  string
	DataDir string // default: t.TempDir()
	Users   []User
	Now     func() time.Time
	// LogInterval is the access-log delivery interval (default 1h).
	LogInterval time.Duration
	// LogSync is the access-log durability mode (ossd --log-sync): zero
	// for the default (records synced within 1 s), LogSyncAlways to sync
	// each record before its response completes.
	LogSync time.Duration
	// LogClock drives access-log delivery (a fake clock in tests).
	LogClock Clock
	// LifecycleClock drives the lifecycle's daily runs (a fake clock in
	// tests: advance it past 00:00 UTC and a run starts). LifecycleInterval
	// replaces the daily schedule; LifecycleDone is called after each run.
	LifecycleClock    Clock
	LifecycleInterval time.Duration
	LifecycleDone     func(LifecycleStats, error)
	// TLS serves HTTPS with a test certificate; use HTTPClient, which
	// trusts it.
	TLS bool
	// UnblockNewBuckets creates buckets with Block Public Access off
	// (ossd --block-public-access=false), for tests of public ACLs.
	UnblockNewBuckets bool
	// CallbackAllow lets upload callbacks reach these otherwise forbidden
	// addresses (ossd --callback-allow): a test's callback server on
	// 127.0.0.1 needs "127.0.0.1" here.
	CallbackAllow []string
	// Monitor also starts the unauthenticated monitoring listener (ossd
	// --metrics-addr) at MonitorEndpoint.
	Monitor bool
	// NoMetrics turns the server's metrics off (benchmarks of their cost).
	NoMetrics bool
	// Meta is the metadata store (ossd --meta): empty for the embedded
	// one, or a postgres:// URL (internal/pgtest makes test databases).
	Meta string
}

// Clock is what drives access-log delivery: the time now, and a channel
// that fires after a duration. A test clock lets tests cross hour
// boundaries without sleeping.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// Start starts an ossd that is stopped when the test ends.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith starts an ossd with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Region == "" {
		o.Region = "cn-hangzhou"
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	root, _, err := server.RootCredentials(o.DataDir, "", "")
	if err != nil {
		t.Fatalf("ossdtest: credentials: %v", err)
	}
	srv, err := server.New(server.Config{DataDir: o.DataDir, Meta: o.Meta, Region: o.Region, Root: root, Users: o.Users, Now: o.Now,
		LogInterval: o.LogInterval, LogSync: o.LogSync, LogClock: logClock(o.LogClock), UnblockNewBuckets: o.UnblockNewBuckets,
		CallbackAllow:     o.CallbackAllow,
		LifecycleInterval: o.LifecycleInterval, LifecycleClock: o.LifecycleClock, LifecycleDone: o.LifecycleDone})
	if err != nil {
		t.Fatalf("ossdtest: start: %v", err)
	}
	var hs *httptest.Server
	if o.TLS {
		hs = httptest.NewTLSServer(srv.Handler())
	} else {
		hs = httptest.NewServer(srv.Handler())
	}
	s := &Server{
		Endpoint: hs.URL, Region: o.Region, AccessKeyID: root.AccessKeyID, AccessKeySecret: root.AccessKeySecret,
		AccountID: root.ID, DataDir: o.DataDir, srv: srv, http: hs,
	}
	if o.Monitor {
		s.mon = httptest.NewServer(srv.MonitorHandler())
		s.MonitorEndpoint = s.mon.URL
	}
	t.Cleanup(s.Close)
	return s
}

// LifecycleStats is what one lifecycle run did.
type LifecycleStats = service.LifecycleStats

// RunLifecycle runs the buckets' lifecycle rules once, as of the
// lifecycle clock's now, and returns when the run is done.
func (s *Server) RunLifecycle(ctx context.Context) (LifecycleStats, error) {
	return s.srv.RunLifecycle(ctx)
}

// Close stops the server.
func (s *Server) Close() {
	if s.mon != nil {
		s.mon.Close()
	}
	s.http.Close()
	s.srv.Close()
}

// FlushLogs asks the server, through its admin endpoint as `ossd logs
// flush` does, to deliver every pending access-log record now, and returns
// once the log objects are stored.
func (s *Server) FlushLogs() error {
	req, err := http.NewRequest(http.MethodPost, s.Endpoint+"/-/ossd/logs/flush", nil)
	if err != nil {
		return err
	}
	auth.SignV1(req, "", "", s.AccessKeyID, s.AccessKeySecret, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("flush: %s: %s", resp.Status, body)
	}
	return nil
}

// Addr is the listener's host:port.
func (s *Server) Addr() string {
	return strings.TrimPrefix(strings.TrimPrefix(s.Endpoint, "http://"), "https://")
}

// HTTPClient returns a client for Endpoint (it trusts the test certificate
// when the server runs TLS).
func (s *Server) HTTPClient() *http.Client { return s.http.Client() }

// VirtualHostClient returns an http.Client that sends every connection to
// this server whatever the host name, so SDKs can use virtual-hosted
// addressing (<bucket>.localhost:<port>) without DNS or a hosts file.
func (s *Server) VirtualHostClient() *http.Client {
	addr := s.Addr()
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 64,
	}
	if base, ok := s.http.Client().Transport.(*http.Transport); ok && base.TLSClientConfig != nil {
		tr.TLSClientConfig = base.TLSClientConfig.Clone()
		tr.TLSClientConfig.InsecureSkipVerify = true // the test certificate names 127.0.0.1 only
	}
	return &http.Client{Transport: tr}
}

// VirtualHostEndpoint is the endpoint for virtual-hosted addressing.
func (s *Server) VirtualHostEndpoint() string {
	_, port, _ := net.SplitHostPort(s.Addr())
	return "http://localhost:" + port
}

func logClock(c Clock) accesslog.Clock {
	if c == nil {
		return nil
	}
	return c
}
