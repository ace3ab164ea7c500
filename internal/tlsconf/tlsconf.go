// Package tlsconf serves ossd's HTTPS certificate: a PEM certificate and key
// from files, swapped atomically when reloaded (SIGHUP), or a self-signed
// certificate ossd makes and keeps under its data directory so that clients
// that trusted it once keep trusting it across restarts.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Cert holds the certificate being served. GetCertificate reads it without
// a lock, so a reload never blocks or fails a handshake in progress.
type Cert struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// Load reads a PEM certificate (chain) and key. Both must parse and match,
// and the leaf must not have expired: ossd refuses to start rather than
// serve a certificate every client would reject.
func Load(certFile, keyFile string) (*Cert, error) {
	c := &Cert{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. On any error the certificate served so far
// stays in place and the error says why.
func (c *Cert) Reload() error {
	kp, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s / key %s: %w", c.certFile, c.keyFile, err)
	}
	if kp.Leaf == nil { // filled in since Go 1.23; parse for older toolchains
		if kp.Leaf, err = x509.ParseCertificate(kp.Certificate[0]); err != nil {
			return fmt.Errorf("tls certificate %s: %w", c.certFile, err)
		}
	}
	if now := time.Now(); now.After(kp.Leaf.NotAfter) {
		return fmt.Errorf("tls certificate %s expired on %s", c.certFile, kp.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	c.cur.Store(&kp)
	return nil
}

// Leaf is the certificate being served.
func (c *Cert) Leaf() *x509.Certificate { return c.cur.Load().Leaf }

// Config is a server tls.Config serving the current certificate.
func (c *Cert) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}

// Fingerprint is the SHA-256 of the certificate's DER bytes, as colon-separated
// upper-case hex (the form browsers and openssl x509 -fingerprint show).
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// Self-signed files under the data directory.
const (
	SelfSignedDir  = "tls"
	SelfSignedCert = "cert.pem"
	SelfSignedKey  = "key.pem"
)

// selfSignedLifetime is how long a made certificate is valid; it is made
// again at a start within renewBefore of its end.
const (
	selfSignedLifetime = 2 * 365 * 24 * time.Hour
	renewBefore        = 30 * 24 * time.Hour
)

// SelfSigned returns the paths of <dataDir>/tls/cert.pem and key.pem, making
// them (ECDSA P-256) when they are missing, unreadable, near their end, or do
// not name every one of hosts (IP addresses or DNS names, wildcards allowed).
// made says whether a new certificate was written.
func SelfSigned(dataDir string, hosts []string) (certFile, keyFile string, made bool, err error) {
	dir := filepath.Join(dataDir, SelfSignedDir)
	certFile, keyFile = filepath.Join(dir, SelfSignedCert), filepath.Join(dir, SelfSignedKey)
	if kp, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		leaf, err := x509.ParseCertificate(kp.Certificate[0])
		if err == nil && time.Until(leaf.NotAfter) > renewBefore && covers(leaf, hosts) {
			return certFile, keyFile, false, nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", false, fmt.Errorf("tls: %w", err)
	}
	certPEM, keyPEM, err := makeSelfSigned(hosts, time.Now())
	if err != nil {
		return "", "", false, err
	}
	// The key first: a crash between the two renames leaves a pair that does
	// not match, which the next start sees and makes again.
	if err := writeFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", false, err
	}
	if err := writeFile(certFile, certPEM, 0o644); err != nil {
		return "", "", false, err
	}
	return certFile, keyFile, true, nil
}

// covers says whether leaf names every host.
func covers(leaf *x509.Certificate, hosts []string) bool {
	have := map[string]bool{}
	for _, d := range leaf.DNSNames {
		have[strings.ToLower(d)] = true
	}
	for _, ip := range leaf.IPAddresses {
		have[ip.String()] = true
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		}
		if !have[strings.ToLower(h)] {
			return false
		}
	}
	return true
}

func makeSelfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"ossd"}, CommonName: "ossd self-signed"},
		NotBefore:             now.Add(-time.Hour), // clients with a clock slightly behind
		NotAfter:              now.Add(selfSignedLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so clients can add it as a root (RootCAs, --ca-bundle)
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: certificate: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), nil
}

// writeFile writes through a temporary file and a rename, so a reader (or a
// SIGHUP reload) never sees half a file.
func writeFile(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	return nil
}

// Hosts lists the names a self-signed certificate for a listener on addr
// must carry: the listener's IPs (every interface's when it listens on all),
// loopback and localhost, and each domain with its wildcard, which is what
// virtual-hosted bucket names (<bucket>.<domain>) need.
func Hosts(addr net.Addr, domains []string) []string {
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	if ta, ok := addr.(*net.TCPAddr); ok {
		if ta.IP == nil || ta.IP.IsUnspecified() {
			if addrs, err := net.InterfaceAddrs(); err == nil {
				for _, a := range addrs {
					if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
						hosts = append(hosts, n.IP.String())
					}
				}
			}
		} else {
			hosts = append(hosts, ta.IP.String())
		}
	}
	for _, d := range domains {
		hosts = append(hosts, d, "*."+d)
	}
	return hosts
}
