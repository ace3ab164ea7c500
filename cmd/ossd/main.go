// Command ossd is an object storage server that speaks the Alibaba Cloud
// OSS API. Run it with no arguments to serve ./ossd-data on 127.0.0.1:9800.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/ossd/ossd/internal/server"
	"github.com/ossd/ossd/internal/tlsconf"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "logs" {
		os.Exit(logsCommand(os.Args[2:]))
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ossd:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, data, region, domains, users string
	blobs                              string
	readHeaderTimeout, idleTimeout     time.Duration
	bodyReadTimeout, bodyWriteTimeout  time.Duration
	maxHeaderBytes                     int
	shutdownTimeout                    time.Duration
	verbose, version                   bool
	blockPublicAccess                  bool
	logInterval                        time.Duration
	lifecycleInterval                  time.Duration
	logTZ                              string
	logSync                            logSyncFlag
	nodeID, logDir                     string
	logLease                           time.Duration
	callbackAllow                      string
	metricsAddr                        string
	tlsCert, tlsKey                    string
	tlsSelfSigned                      bool
	meta                               string
}

// logSyncFlag is --log-sync: "always" or a duration from 1ms to 10s.
type logSyncFlag struct{ d time.Duration } // server.LogSyncAlways for always

func (f *logSyncFlag) String() string {
	if f.d < 0 {
		return "always"
	}
	return f.d.String()
}

func (f *logSyncFlag) Set(v string) error {
	if v == "always" {
		f.d = server.LogSyncAlways
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want always or a duration from 1ms to 10s, e.g. 1s")
	}
	if d < time.Millisecond || d > server.MaxLogSync {
		return fmt.Errorf("%v: want always or a duration from 1ms to 10s", d)
	}
	f.d = d
	return nil
}

func parseFlags(args []string) (*options, error) {
	o := &options{logSync: logSyncFlag{server.DefaultLogSync}}
	fs := flagSet(o)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if o.bodyReadTimeout < 0 || o.bodyWriteTimeout < 0 {
		return nil, fmt.Errorf("--body-read-timeout and --body-write-timeout must not be negative")
	}
	if o.logInterval < time.Second {
		return nil, fmt.Errorf("--log-delivery-interval %v: must be at least 1s", o.logInterval)
	}
	if o.lifecycleInterval != 0 && o.lifecycleInterval < time.Second {
		return nil, fmt.Errorf("--lifecycle-interval %v: must be 0 (daily) or at least 1s", o.lifecycleInterval)
	}
	if _, err := parseZone(o.logTZ); err != nil {
		return nil, err
	}
	if o.meta != "" && !server.IsPostgresURL(o.meta) {
		return nil, fmt.Errorf("--meta: want a postgres://user@host:port/database URL, or nothing for the embedded store")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if o.tlsSelfSigned && o.tlsCert != "" {
		return nil, fmt.Errorf("--tls-self-signed and --tls-cert/--tls-key exclude each other")
	}
	return o, nil
}

// flagSet defines the server's flags into o. A usage text must not hold
// backquotes: package flag would show the quoted words as the value's name.
func flagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("ossd", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: ossd [flags]
       ossd logs flush|status|tail|stats|report [flags]

ossd serves the Alibaba Cloud OSS API from a local data directory.
Credentials come from OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET; when
they are unset, ossd generates a key pair on first start, keeps it in
<data>/credentials.json (mode 0600) and prints it.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9800", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&o.data, "data", "./ossd-data", "data directory (metadata, object bytes, access-log journal)")
	fs.StringVar(&o.blobs, "blobs", "", "directory of the object bytes (default <data>/blobs); several nodes mount one shared directory here (see Running several nodes in the README)")
	fs.StringVar(&o.region, "region", "cn-hangzhou", "region this server answers as (V4 signatures are scoped to it)")
	fs.StringVar(&o.domains, "domains", "", "comma-separated base domains for virtual-hosted addressing (<bucket>.<domain>); default: localhost,oss-<region>.aliyuncs.com,oss-<region>-internal.aliyuncs.com")
	fs.StringVar(&o.users, "users", "", "JSON file of extra accounts: [{\"id\",\"displayName\",\"accessKeyId\",\"accessKeySecret\"}]")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", 30*time.Second, "time allowed to read request headers (slow clients are cut off)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 120*time.Second, "keep-alive idle connection timeout")
	fs.DurationVar(&o.bodyReadTimeout, "body-read-timeout", server.DefaultBodyTimeout, "a request body that sends no byte for this long is cut off with RequestTimeout (0 disables)")
	fs.DurationVar(&o.bodyWriteTimeout, "body-write-timeout", server.DefaultBodyTimeout, "a response the client reads nothing of for this long is cut off (0 disables)")
	fs.IntVar(&o.maxHeaderBytes, "max-header-bytes", 64<<10, "largest request header block accepted")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, how long in-flight requests may take to finish")
	fs.BoolVar(&o.blockPublicAccess, "block-public-access", true, "new buckets block public access, as on OSS since 13 Oct 2025; false creates them with the block off, for code that sets public ACLs on new buckets (the account-level block still applies)")
	fs.BoolVar(&o.verbose, "v", false, "debug logging")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.DurationVar(&o.logInterval, "log-delivery-interval", time.Hour, "how often access-log objects are delivered (OSS: hourly; down to 1s); the ossd logs flush command delivers at once")
	fs.Var(&o.logSync, "log-sync", "access-log durability: a duration (1ms to 10s) - each record is written before its response completes, so a killed ossd loses none, and synced to disk within that time, so a power cut loses at most that much; or always - each record is synced before its response completes (slower)")
	fs.StringVar(&o.callbackAllow, "callback-allow", "", "comma-separated addresses upload callbacks may reach although they are loopback, private, link-local or multicast (refused by default, as OSS does): CIDRs (10.0.0.0/8), addresses (127.0.0.1) or host:port (localhost:8080)")
	fs.DurationVar(&o.lifecycleInterval, "lifecycle-interval", 0, "time between lifecycle runs (down to 1s); 0: OSS's schedule, daily from 00:00 UTC")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "if set, a second listener (host:port) serving /-/ossd/metrics (Prometheus), /-/ossd/health and /-/ossd/ready without a signature; default off (on the API port metrics need a root-signed request; health and ready answer anyone)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain) file: the API listener serves HTTPS; with --tls-key; both are read again on SIGHUP")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.BoolVar(&o.tlsSelfSigned, "tls-self-signed", false, "serve HTTPS with a certificate ossd makes (ECDSA P-256) for its addresses, localhost and each domain and *.domain, kept in <data>/tls/ across restarts; clients trust <data>/tls/cert.pem")
	fs.StringVar(&o.meta, "meta", "", "metadata store: empty for the embedded one (<data>/meta.db); postgres://user@host:port/database?sslmode=... for several ossd nodes sharing one PostgreSQL database (the password from PGPASSWORD or ~/.pgpass rather than the URL; see README, Running several nodes)")
	fs.StringVar(&o.nodeID, "node-id", "", "this node's id: 1-16 lower-case letters and digits, in the names of the log objects of its records (so nodes never overwrite each other's); default: generated on first start and kept in <data>/node-id")
	fs.StringVar(&o.logDir, "log-dir", "", "directory shared by several nodes (over one metadata store) for their access-log journals, one per node (<log-dir>/<node id>): a live node delivers the journal of a dead one; default: the journal is <data>/accesslog, this node's alone")
	fs.DurationVar(&o.logLease, "log-lease", server.DefaultLogLease, "with --log-dir: how long a node's lease on its journal lasts unless renewed (every third of it); a dead node's records are taken over after about this long")
	fs.StringVar(&o.logTZ, "log-timezone", "+0800", "time zone of access-log lines and log object names: ±hhmm or an IANA name (OSS's China regions: +0800)")
	return fs
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if o.version {
		fmt.Println("ossd", version())
		return nil
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	root, generated, err := server.RootCredentials(o.data, os.Getenv("OSS_ACCESS_KEY_ID"), os.Getenv("OSS_ACCESS_KEY_SECRET"))
	if err != nil {
		return err
	}
	var users []server.User
	if o.users != "" {
		if users, err = server.LoadUsers(o.users); err != nil {
			return err
		}
	}
	var domains []string
	if o.domains != "" {
		for _, d := range strings.Split(o.domains, ",") {
			if d = strings.TrimSpace(strings.ToLower(d)); d != "" {
				domains = append(domains, d)
			}
		}
	}
	loc, _ := parseZone(o.logTZ)
	srv, err := server.New(server.Config{DataDir: o.data, Meta: o.meta, BlobDir: o.blobs, Region: o.region, Domains: domains, Root: root, RootGenerated: generated, Users: users, Logger: logger,
		LogInterval: o.logInterval, LogLocation: loc, LogSync: o.logSync.d, UnblockNewBuckets: !o.blockPublicAccess,
		NodeID: o.nodeID, LogDir: o.logDir, LogLease: o.logLease,
		LifecycleInterval: o.lifecycleInterval,
		BodyReadTimeout:   disabledIfZero(o.bodyReadTimeout), BodyWriteTimeout: disabledIfZero(o.bodyWriteTimeout),
		CallbackAllow: splitList(o.callbackAllow)})
	if err != nil {
		return err
	}
	defer srv.Close()
	o.nodeID = srv.NodeID()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: o.readHeaderTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    o.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	var ms *http.Server
	var mln net.Listener
	if o.metricsAddr != "" {
		if mln, err = net.Listen("tcp", o.metricsAddr); err != nil {
			return fmt.Errorf("listen --metrics-addr: %w", err)
		}
		ms = &http.Server{Handler: srv.MonitorHandler(), ReadHeaderTimeout: o.readHeaderTimeout, IdleTimeout: o.idleTimeout,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	}
	monAddr := ""
	if mln != nil {
		monAddr = mln.Addr().String()
	}
	var cert *tlsconf.Cert
	certFile, keyFile := o.tlsCert, o.tlsKey
	if o.tlsSelfSigned {
		d := domains
		if d == nil {
			d = server.DefaultDomains(o.region)
		}
		var made bool
		if certFile, keyFile, made, err = tlsconf.SelfSigned(o.data, selfSignedHosts(o.addr, ln.Addr(), d)); err != nil {
			ln.Close()
			return err
		}
		if made {
			logger.Info("tls: made a self-signed certificate", "cert", certFile)
		}
	}
	if certFile != "" {
		if cert, err = tlsconf.Load(certFile, keyFile); err != nil {
			ln.Close()
			return err
		}
		hs.TLSConfig = cert.Config()
		ln = tls.NewListener(ln, hs.TLSConfig)
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go reloadOnHUP(hup, cert, logger)
	}
	root, generated = srv.Root()
	printBanner(os.Stdout, ln.Addr().String(), monAddr, o, root, generated, cert, certFile)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	if ms != nil {
		go func() { errc <- ms.Serve(mln) }()
		defer ms.Close()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: waiting for in-flight requests", "timeout", o.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// selfSignedHosts are the names --tls-self-signed's certificate carries:
// tlsconf.Hosts of the listener, plus --addr's host when it is a name, which
// is what clients then connect to.
func selfSignedHosts(addrFlag string, ln net.Addr, domains []string) []string {
	hosts := tlsconf.Hosts(ln, domains)
	if h, _, err := net.SplitHostPort(addrFlag); err == nil && h != "" && net.ParseIP(h) == nil {
		hosts = append(hosts, h)
	}
	return hosts
}

// reloadOnHUP reads the certificate files again on each SIGHUP; a failed
// reload keeps serving the old certificate and says why.
func reloadOnHUP(hup <-chan os.Signal, cert *tlsconf.Cert, logger *slog.Logger) {
	for range hup {
		if err := cert.Reload(); err != nil {
			logger.Error("tls: reload failed; still serving the previous certificate", "err", err)
			continue
		}
		leaf := cert.Leaf()
		logger.Info("tls: certificate reloaded", "serial", leaf.SerialNumber.Text(16),
			"not_after", leaf.NotAfter.UTC().Format(time.RFC3339), "sha256", tlsconf.Fingerprint(leaf))
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// syncPhrase says the --log-sync mode in the banner.
func syncPhrase(d time.Duration) string {
	if d < 0 {
		return "before each response (--log-sync always)"
	}
	return "within " + d.String() + " (--log-sync " + d.String() + ")"
}

// disabledIfZero maps a flag's "0 disables" to server.Config's negative.
func disabledIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func printBanner(w *os.File, addr, monAddr string, o *options, root server.User, generated bool, cert *tlsconf.Cert, certFile string) {
	ep := "http://" + addr
	if cert != nil {
		ep = "https://" + addr
	}
	fmt.Fprintf(w, "ossd listening on %s\n", ep)
	fmt.Fprintf(w, "  version:    %s\n", version())
	fmt.Fprintf(w, "  endpoint:   %s\n", ep)
	fmt.Fprintf(w, "  region:     %s\n", o.region)
	fmt.Fprintf(w, "  data:       %s\n", o.data)
	fmt.Fprintf(w, "  metadata:   %s\n", server.DescribeMeta(server.Config{DataDir: o.data, Meta: o.meta}))
	if o.blobs != "" {
		fmt.Fprintf(w, "  blobs:      %s\n", o.blobs)
	}
	if o.logDir != "" {
		fmt.Fprintf(w, "  node:       %s (journal %s, lease %v)\n", o.nodeID, filepath.Join(o.logDir, o.nodeID), o.logLease)
	} else {
		fmt.Fprintf(w, "  node:       %s\n", o.nodeID)
	}
	if cert != nil {
		how := "--tls-cert; reloaded on SIGHUP"
		if o.tlsSelfSigned {
			how = "self-signed; clients trust this file"
		}
		fmt.Fprintf(w, "  tls:        %s (%s)\n", certFile, how)
		fmt.Fprintf(w, "  sha256:     %s\n", tlsconf.Fingerprint(cert.Leaf()))
	}
	if !o.blockPublicAccess {
		fmt.Fprintf(w, "  new buckets: Block Public Access off (--block-public-access=false); OSS's default is on\n")
	}
	logsHint := "ossd logs flush|status|tail"
	if cert != nil {
		logsHint += " --addr " + ep
	}
	fmt.Fprintf(w, "  access log: delivered every %v (time zone %s), synced %s; %s\n", o.logInterval, o.logTZ, syncPhrase(o.logSync.d), logsHint)
	if monAddr != "" {
		fmt.Fprintf(w, "  monitoring: http://%s/-/ossd/metrics, /-/ossd/health, /-/ossd/ready (--metrics-addr: no signature)\n", monAddr)
	}
	fmt.Fprintf(w, "  access key: %s\n", root.AccessKeyID)
	if generated {
		fmt.Fprintf(w, "  secret:     %s   (generated; stored in %s/credentials.json)\n", root.AccessKeySecret, o.data)
	} else if os.Getenv("OSS_ACCESS_KEY_ID") == "" {
		fmt.Fprintf(w, "  secret:     %s   (from %s/credentials.json)\n", root.AccessKeySecret, o.data)
	} else {
		fmt.Fprintf(w, "  secret:     (from OSS_ACCESS_KEY_SECRET)\n")
	}
	fmt.Fprintf(w, "clients:\n")
	if cert != nil && o.tlsSelfSigned {
		fmt.Fprintf(w, "  trust:      aws --ca-bundle %[1]s; Python REQUESTS_CA_BUNDLE=%[1]s; ossutil/Go: SSL_CERT_FILE=%[1]s\n", certFile)
	}
	fmt.Fprintf(w, "  env:        export OSS_ACCESS_KEY_ID=%s OSS_ACCESS_KEY_SECRET=<secret>\n", root.AccessKeyID)
	fmt.Fprintf(w, "  Go SDK v2:  oss.LoadDefaultConfig().WithEndpoint(%q).WithRegion(%q).WithUsePathStyle(true)\n", ep, o.region)
	fmt.Fprintf(w, "  Go SDK v1:  oss.New(%q, id, secret, oss.ForcePathStyle(true)) // add oss.AuthVersion(oss.AuthV4), oss.Region(%q) for V4\n", ep, o.region)
	fmt.Fprintf(w, "  Python oss2: oss2.Bucket(oss2.Auth(id, secret), %q, 'bucket', is_path_style=True)\n", ep)
	fmt.Fprintf(w, "  ossutil:    ossutil -e %s --region %s --sign-version v4 --force-path-style -i <id> -k <secret> ls\n", ep, o.region)
	fmt.Fprintf(w, "  ali-oss:    new OSS({endpoint: %q, region: \"oss-%s\", authorizationV4: true, accessKeyId, accessKeySecret, bucket})\n", ep, o.region)
	fmt.Fprintf(w, "  S3 tools:   aws --endpoint-url %s s3 ls   (S3 API: see README)\n", ep)
}

// version says which build this is, from what the Go toolchain recorded:
// the module version when installed with go install, else the VCS revision
// (with "+dirty" for uncommitted changes), and the Go version. An operator
// filing a bug, or matching a benchmark to a commit, needs it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (" + runtime.Version() + ")"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	switch {
	case v != "" && v != "(devel)":
	case rev != "":
		v = rev + dirty
	default:
		v = "devel"
	}
	return v + " (" + bi.GoVersion + ")"
}
