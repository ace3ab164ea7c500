package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscred "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	v1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	awscred "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/tlsconf"
)

// tlsProc is an ossd subprocess serving HTTPS, with its banner and stderr.
type tlsProc struct {
	cmd      *exec.Cmd
	endpoint string
	banner   map[string]string // "sha256" -> value, from "  key: value" lines
	mu       sync.Mutex
	stderr   bytes.Buffer
}

func (p *tlsProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

// logged waits until ossd's log holds s (the process's own pace; no wall
// time is asserted, the deadline only ends a hung test).
func (p *tlsProc) logged(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		p.mu.Lock()
		ok := strings.Contains(p.stderr.String(), s)
		p.mu.Unlock()
		if ok {
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("ossd never logged %q; log:\n%s", s, p.stderr.String())
}

func startTLSProc(t *testing.T, dataDir string, extra ...string) *tlsProc {
	t.Helper()
	p := &tlsProc{banner: map[string]string{}}
	p.cmd = exec.Command(ossdBinary(t), append([]string{"--addr", "127.0.0.1:0", "--data", dataDir}, extra...)...)
	p.cmd.Env = append(os.Environ(), "OSS_ACCESS_KEY_ID="+crashKeyID, "OSS_ACCESS_KEY_SECRET="+crashSecret)
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Signal(syscall.SIGKILL); p.cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(30*time.Second, func() { p.cmd.Process.Kill() })
	defer deadline.Stop()
	for lines.Scan() {
		l := lines.Text()
		if ep, ok := strings.CutPrefix(l, "ossd listening on "); ok {
			p.endpoint = ep
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && strings.HasPrefix(l, "  ") {
			p.banner[k] = strings.TrimSpace(v)
		}
		if l == "clients:" {
			go io.Copy(io.Discard, stdout)
			return p
		}
	}
	p.cmd.Wait()
	t.Fatalf("ossd did not start: %s", p.stderr.String())
	return nil
}

// trusting is an HTTP client that trusts the PEM certificates in files
// (and nothing else: no InsecureSkipVerify).
func trusting(t *testing.T, files ...string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !pool.AppendCertsFromPEM(b) {
			t.Fatalf("trust %s: %v", f, err)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return &http.Client{Transport: tr}
}

// servedCert is the leaf certificate ossd presents at endpoint.
func servedCert(t *testing.T, endpoint string, c *http.Client) *x509.Certificate {
	t.Helper()
	resp, err := c.Get(endpoint + "/-/ossd/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.TLS.PeerCertificates[0]
}

// TestTLSSelfSigned: ossd --tls-self-signed serves the Go SDK v2 and v1 in
// V4, and the S3 SDK's aws-chunked streaming uploads, over HTTPS with a
// certificate the clients trust from <data>/tls/cert.pem; virtual-hosted
// names verify against *.<domain>; the banner's fingerprint is the served
// certificate's and stays the same across a restart; ossd logs talks HTTPS.
func TestTLSSelfSigned(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	dir := t.TempDir()
	p := startTLSProc(t, dir, "--tls-self-signed")
	if !strings.HasPrefix(p.endpoint, "https://127.0.0.1:") || p.banner["endpoint"] != p.endpoint {
		t.Fatalf("endpoint %q, banner %q; want https://", p.endpoint, p.banner["endpoint"])
	}
	certFile := filepath.Join(dir, "tls", "cert.pem")
	if fi, err := os.Stat(filepath.Join(dir, "tls", "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", fi, err)
	}
	hc := trusting(t, certFile)
	leaf := servedCert(t, p.endpoint, hc)
	if got := tlsconf.Fingerprint(leaf); got != p.banner["sha256"] {
		t.Fatalf("banner sha256 %q, served certificate %q", p.banner["sha256"], got)
	}
	ctx := context.Background()
	data := bytes.Repeat([]byte("tls-bytes "), 50000)

	// Go SDK v2, V4 (its default signature).
	c2 := oss.NewClient(oss.LoadDefaultConfig().
		WithCredentialsProvider(osscred.NewStaticCredentialsProvider(crashKeyID, crashSecret)).
		WithRegion("cn-hangzhou").WithEndpoint(p.endpoint).WithUsePathStyle(true).WithHttpClient(hc).WithRetryMaxAttempts(1))
	b := randName("tls")
	if _, err := c2.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
		t.Fatalf("v2 PutBucket: %v", err)
	}
	if _, err := c2.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("v2"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("v2 PutObject: %v", err)
	}
	g, err := c2.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("v2")})
	if err != nil {
		t.Fatalf("v2 GetObject: %v", err)
	}
	got, err := io.ReadAll(g.Body)
	g.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("v2 read back %d bytes, %v", len(got), err)
	}

	// Virtual-hosted over HTTPS: <bucket>.localhost verifies against
	// *.localhost (localhost is a default domain). The dialer sends every
	// name to the listener, as DNS would.
	port := strings.TrimPrefix(p.endpoint, "https://127.0.0.1:")
	vtr := hc.Transport.(*http.Transport).Clone()
	vtr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
	}
	cv := oss.NewClient(oss.LoadDefaultConfig().
		WithCredentialsProvider(osscred.NewStaticCredentialsProvider(crashKeyID, crashSecret)).
		WithRegion("cn-hangzhou").WithEndpoint("https://localhost:" + port).WithHttpClient(&http.Client{Transport: vtr}).WithRetryMaxAttempts(1))
	if _, err := cv.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("v2")}); err != nil {
		t.Fatalf("virtual-hosted HeadObject over https: %v", err)
	}

	// Go SDK v1, V4.
	c1, err := v1.New(p.endpoint, crashKeyID, crashSecret, v1.ForcePathStyle(true), v1.AuthVersion(v1.AuthV4), v1.Region("cn-hangzhou"), v1.HTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	bk, err := c1.Bucket(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := bk.PutObject("v1", bytes.NewReader(data)); err != nil {
		t.Fatalf("v1 PutObject: %v", err)
	}
	r, err := bk.GetObject("v1")
	if err != nil {
		t.Fatalf("v1 GetObject: %v", err)
	}
	got, err = io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("v1 read back %d bytes, %v", len(got), err)
	}

	// aws-chunked with a trailing checksum, as the S3 SDK streams a body
	// it cannot seek, against the real binary over TLS.
	s3c := s3.New(s3.Options{Region: "cn-hangzhou", BaseEndpoint: aws.String(p.endpoint), UsePathStyle: true, HTTPClient: hc,
		Credentials: awscred.NewStaticCredentialsProvider(crashKeyID, crashSecret, "")})
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("chunked"), Body: io.MultiReader(bytes.NewReader(data)),
		ContentLength: aws.Int64(int64(len(data))), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}); err != nil {
		t.Fatalf("S3 streaming PutObject over https: %v", err)
	}
	g, err = c2.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("chunked")})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(g.Body)
	g.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("aws-chunked object read back %d bytes, %v", len(got), err)
	}

	// ossd logs: https:// --addr, trusting <data>/tls/cert.pem by itself;
	// a plain http:// --addr is told to use https.
	cmd := exec.Command(ossdBinary(t), "logs", "status", "--addr", p.endpoint, "--data", dir)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `"buckets"`) {
		t.Fatalf("ossd logs status over https: %v\n%s", err, out)
	}
	// ossd logs stats reads log objects through the OSS API, also trusting it.
	cmd = exec.Command(ossdBinary(t), "logs", "stats", "--bucket", b, "--addr", p.endpoint, "--data", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ossd logs stats over https: %v\n%s", err, out)
	}
	cmd = exec.Command(ossdBinary(t), "logs", "status", "--addr", strings.TrimPrefix(p.endpoint, "https://"), "--data", dir)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--addr https://") {
		t.Fatalf("ossd logs status over http to an https ossd: %v\n%s", err, out)
	}

	// Restart: the same certificate.
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	p2 := startTLSProc(t, dir, "--tls-self-signed")
	if p2.banner["sha256"] != p.banner["sha256"] {
		t.Fatalf("fingerprint after restart %q, before %q", p2.banner["sha256"], p.banner["sha256"])
	}
}

// TestTLSReloadOnSIGHUP: with --tls-cert/--tls-key, SIGHUP makes ossd serve
// the files' new certificate; a broken file on SIGHUP is logged and the
// previous certificate stays.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	live, next := t.TempDir(), t.TempDir()
	certA, keyA, _, err := tlsconf.SelfSigned(live, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	certB, keyB, _, err := tlsconf.SelfSigned(next, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	serialOf := func(f string) *big.Int {
		c, err := tlsconf.Load(f, strings.TrimSuffix(f, "cert.pem")+"key.pem")
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf().SerialNumber
	}
	serialA, serialB := serialOf(certA), serialOf(certB)
	// Copies of the trust anchors: certA's file is overwritten below.
	anchors := filepath.Join(t.TempDir(), "anchors.pem")
	a, _ := os.ReadFile(certA)
	bb, _ := os.ReadFile(certB)
	os.WriteFile(anchors, append(a, bb...), 0o644)
	hc := trusting(t, anchors)

	p := startTLSProc(t, t.TempDir(), "--tls-cert", certA, "--tls-key", keyA)
	if s := servedCert(t, p.endpoint, hc).SerialNumber; s.Cmp(serialA) != 0 {
		t.Fatalf("serving serial %x, want %x", s, serialA)
	}
	for _, f := range [][2]string{{certB, certA}, {keyB, keyA}} {
		b, _ := os.ReadFile(f[0])
		if err := os.WriteFile(f[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.logged(t, "tls: certificate reloaded")
	hc.CloseIdleConnections()
	if s := servedCert(t, p.endpoint, hc).SerialNumber; s.Cmp(serialB) != 0 {
		t.Fatalf("after SIGHUP serving serial %x, want the new %x", s, serialB)
	}

	os.WriteFile(certA, []byte("-----BEGIN CERTIFICATE-----\ntruncated"), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.logged(t, "tls: reload failed; still serving the previous certificate")
	hc.CloseIdleConnections()
	if s := servedCert(t, p.endpoint, hc).SerialNumber; s.Cmp(serialB) != 0 {
		t.Fatalf("after a failed reload serving serial %x, want the previous %x", s, serialB)
	}
}

// TestTLSBadFilesRefused: ossd does not start on certificate files it
// cannot serve, and says which and why.
func TestTLSBadFilesRefused(t *testing.T) {
	dir := t.TempDir()
	cert, key, _, err := tlsconf.SelfSigned(dir, []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, _, _ := tlsconf.SelfSigned(t.TempDir(), []string{"localhost"})
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("hello\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"--tls-cert", filepath.Join(dir, "nope.pem"), "--tls-key", key}, "nope.pem"},
		{"not PEM", []string{"--tls-cert", garbage, "--tls-key", key}, "failed to find any PEM data in certificate input"},
		{"key of another certificate", []string{"--tls-cert", cert, "--tls-key", otherKey}, "private key does not match public key"},
		{"cert without key", []string{"--tls-cert", cert}, "--tls-cert and --tls-key go together"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, ossdBinary(t), append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, tc.args...)...)
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: ossd exited with %v, output:\n%s\nwant an error with %q", tc.name, err, out, tc.want)
		}
	}
}

// TestTLSTimeouts: the connection timeouts apply over HTTPS as over HTTP: a
// client that never completes the TLS handshake, or its headers, is cut off
// by --read-header-timeout, and a stalled body gets 400 RequestTimeout from
// --body-read-timeout. The deadline below only ends a hung test.
func TestTLSTimeouts(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	dir := t.TempDir()
	p := startTLSProc(t, dir, "--tls-self-signed", "--read-header-timeout", "1s", "--body-read-timeout", "1s")
	hostPort := strings.TrimPrefix(p.endpoint, "https://")
	hc := trusting(t, filepath.Join(dir, "tls", "cert.pem"))
	roots := hc.Transport.(*http.Transport).TLSClientConfig.RootCAs

	closed := func(t *testing.T, c net.Conn) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := io.Copy(io.Discard, c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("ossd kept the connection open")
		}
	}
	t.Run("no handshake", func(t *testing.T) {
		c, err := net.Dial("tcp", hostPort)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		closed(t, c)
	})
	t.Run("headers never end", func(t *testing.T) {
		c, err := tls.Dial("tcp", hostPort, &tls.Config{RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /-/ossd/health HTTP/1.1\r\nHost: "+hostPort+"\r\n")
		closed(t, c)
	})
	t.Run("stalled body", func(t *testing.T) {
		c := oss.NewClient(oss.LoadDefaultConfig().
			WithCredentialsProvider(osscred.NewStaticCredentialsProvider(crashKeyID, crashSecret)).
			WithRegion("cn-hangzhou").WithEndpoint(p.endpoint).WithUsePathStyle(true).WithHttpClient(hc).WithRetryMaxAttempts(1))
		b := randName("tlsslow")
		if _, err := c.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		defer pw.Close()
		req, _ := http.NewRequest("PUT", p.endpoint+"/"+b+"/slow", pr)
		req.ContentLength = 1000
		auth.SignV1(req, b, "slow", crashKeyID, crashSecret, time.Now())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := hc.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>RequestTimeout</Code>") {
			t.Fatalf("stalled body over https: %d %s", resp.StatusCode, body)
		}
	})
}

// TestTLSClients: the real clients people point at an https endpoint work
// against ossd --tls-self-signed with its certificate trusted, and refuse
// it untrusted (so the check is on): the AWS CLI with --ca-bundle
// (scripts/s3tools/awscli-https.sh) and Python oss2 in V1 and V4 through
// REQUESTS_CA_BUNDLE (scripts/clients/oss2-https.py). Each skips when its
// client is not installed.
func TestTLSClients(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (the scripts fetch presigned URLs with it): apt-get install curl")
	}
	dir := t.TempDir()
	p := startTLSProc(t, dir, "--tls-self-signed")
	env := []string{"OSSD_ENDPOINT=" + p.endpoint, "OSSD_CA=" + filepath.Join(dir, "tls", "cert.pem"),
		"OSSD_KEY_ID=" + crashKeyID, "OSSD_KEY_SECRET=" + crashSecret, "OSSD_REGION=cn-hangzhou"}
	run := func(t *testing.T, extra []string, argv ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), s3ToolTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(append(os.Environ(), env...), extra...)
		cmd.WaitDelay = 5 * time.Second
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "all passed") {
			t.Fatalf("%s: %v; output:\n%s", strings.Join(argv, " "), err, out.String())
		}
		t.Logf("%s", out.String())
	}
	t.Run("awscli", func(t *testing.T) {
		aws, ok := findS3Tool("AWS", "aws")
		if !ok {
			t.Skip("awscli not installed: apt-get install awscli")
		}
		run(t, []string{"AWS=" + aws}, "bash", filepath.Join(s3toolsDir, "awscli-https.sh"))
	})
	t.Run("oss2", func(t *testing.T) {
		pyEnv := oss2Env(t)
		run(t, pyEnv, "/usr/bin/python3", filepath.Join("..", "scripts", "clients", "oss2-https.py"))
	})
}
