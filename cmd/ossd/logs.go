package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/server"
	"github.com/ossd/ossd/internal/tlsconf"
)

// parseZone reads --log-timezone: ±hhmm or an IANA zone name.
func parseZone(s string) (*time.Location, error) {
	if m := regexp.MustCompile(`^([+-])(\d\d)(\d\d)$`).FindStringSubmatch(s); m != nil {
		h, _ := strconv.Atoi(m[2])
		mm, _ := strconv.Atoi(m[3])
		off := h*3600 + mm*60
		if m[1] == "-" {
			off = -off
		}
		if h > 14 || mm > 59 {
			return nil, fmt.Errorf("--log-timezone %q: offset out of range", s)
		}
		return time.FixedZone("UTC"+s, off), nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("--log-timezone %q: want ±hhmm or an IANA zone name: %w", s, err)
	}
	return loc, nil
}

// logsCommand implements `ossd logs flush|status|tail`, which talk to a
// running ossd's admin endpoints, signing with the root key, and hands
// `stats` and `report` to logsStatsCommand.
func logsCommand(args []string) int {
	if len(args) > 0 && (args[0] == "stats" || args[0] == "report") {
		return logsStatsCommand(args[0], args[1:], os.Stdout, os.Stderr)
	}
	if len(args) == 0 || (args[0] != "flush" && args[0] != "status" && args[0] != "tail") {
		fmt.Fprintln(os.Stderr, `usage: ossd logs flush|status|tail [--addr [https://]host:port] [--data dir] [--ca FILE] [--tls-insecure] [--bucket B] [--json]
       ossd logs stats|report --bucket LOGBUCKET [--prefix P] [--source B] [--since 24h] ... (ossd logs stats -h)

  flush   deliver every pending access-log record now; returns when the log
          objects are stored (exit 1 when a target could not take them)
  status  per source bucket: records pending, oldest, last error, last object
  tail    stream records as the server commits them (OSS lines, or --json)
  stats   figures from the delivered log objects, read through the OSS API
  report  the same figures as one self-contained HTML file (--out)

Credentials: OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET, else <data>/credentials.json.
HTTPS: --addr https://host:port; the certificate is checked against the
system's roots, --ca FILE and <data>/tls/cert.pem (--tls-self-signed's).`)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet("ossd logs "+cmd, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9800", "address of the running ossd")
	data := fs.String("data", "./ossd-data", "data directory of the running ossd (for its credentials)")
	bucket := fs.String("bucket", "", "tail: only this source bucket")
	asJSON := fs.Bool("json", false, "tail: JSON lines with every field and user_defined_log_fields")
	caFile := fs.String("ca", "", "PEM file of certificates to trust for an https:// --addr, besides the system's and <data>/tls/cert.pem")
	insecure := fs.Bool("tls-insecure", false, "do not check the server's certificate (the traffic is still encrypted)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	id, secret := os.Getenv("OSS_ACCESS_KEY_ID"), os.Getenv("OSS_ACCESS_KEY_SECRET")
	if id == "" || secret == "" {
		root, err := readCredentials(*data)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ossd logs:", err)
			return 1
		}
		id, secret = root.AccessKeyID, root.AccessKeySecret
	}
	base := *addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	client, err := logsClient(*data, *caFile, *insecure)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ossd logs:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var method, path string
	switch cmd {
	case "flush":
		method, path = http.MethodPost, "logs/flush"
	case "status":
		method, path = http.MethodGet, "logs/status"
	case "tail":
		method, path = http.MethodGet, "logs/tail"
		q := []string{}
		if *bucket != "" {
			q = append(q, "bucket="+*bucket)
		}
		if *asJSON {
			q = append(q, "format=json")
		}
		if len(q) > 0 {
			path += "?" + strings.Join(q, "&")
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, base+"/-/ossd/"+path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ossd logs:", err)
		return 1
	}
	auth.SignV1(req, "", "", id, secret, time.Now())
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ossd logs %s: is ossd running at %s? %v\n", cmd, *addr, err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusBadRequest && strings.HasPrefix(base, "http://") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		if strings.Contains(string(b), "HTTPS server") {
			fmt.Fprintf(os.Stderr, "ossd logs %s: ossd at %s serves HTTPS: pass --addr https://%s\n", cmd, *addr, strings.TrimPrefix(base, "http://"))
			return 1
		}
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), resp.Body))
	}
	if cmd == "tail" && resp.StatusCode == http.StatusOK {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for sc.Scan() {
			fmt.Println(sc.Text())
		}
		if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "ossd logs tail:", err)
			return 1
		}
		return 0
	}
	io.Copy(os.Stdout, resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "ossd logs %s: %s\n", cmd, resp.Status)
		return 1
	}
	return 0
}

// logsClient is the HTTP client of the logs subcommands. For an https://
// --addr it trusts the system's roots, the server's self-signed certificate
// in <data>/tls/cert.pem when there is one, and --ca.
func logsClient(dataDir, caFile string, insecure bool) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if b, err := os.ReadFile(filepath.Join(dataDir, tlsconf.SelfSignedDir, tlsconf.SelfSignedCert)); err == nil {
		roots.AppendCertsFromPEM(b)
	}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, InsecureSkipVerify: insecure}
	return &http.Client{Transport: tr}, nil
}

func readCredentials(dataDir string) (server.User, error) {
	u, err := server.ReadRootCredentials(dataDir)
	if err != nil {
		return u, fmt.Errorf("no credentials: set OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET or pass --data of the running server (%v)", err)
	}
	return u, nil
}
