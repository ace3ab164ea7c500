package tlsconf

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelfSignedKeptAndRemade(t *testing.T) {
	dir := t.TempDir()
	hosts := Hosts(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 9800}, []string{"example.test"})
	certFile, keyFile, made, err := SelfSigned(dir, hosts)
	if err != nil || !made {
		t.Fatalf("SelfSigned = %v, made=%v", err, made)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v, %v", fi.Mode(), err)
	}
	c, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	first := Fingerprint(c.Leaf())
	for _, h := range []string{"127.0.0.1", "::1", "localhost", "example.test", "bkt.example.test"} {
		if err := c.Leaf().VerifyHostname(h); err != nil {
			t.Errorf("certificate does not name %s: %v", h, err)
		}
	}
	if c.Leaf().PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v, want ECDSA", c.Leaf().PublicKeyAlgorithm)
	}

	// The same hosts at the next start: the same certificate.
	if _, _, made, err := SelfSigned(dir, hosts); err != nil || made {
		t.Fatalf("second start: made=%v, %v; want the kept certificate", made, err)
	}
	if c2, _ := Load(certFile, keyFile); Fingerprint(c2.Leaf()) != first {
		t.Fatal("fingerprint changed across restarts")
	}
	// A new domain: made again, naming it.
	if _, _, made, err := SelfSigned(dir, append(hosts, "other.test", "*.other.test")); err != nil || !made {
		t.Fatalf("new domain: made=%v, %v; want a new certificate", made, err)
	}
	c3, _ := Load(certFile, keyFile)
	if err := c3.Leaf().VerifyHostname("b.other.test"); err != nil {
		t.Fatal(err)
	}
	// A torn pair (key of another certificate): made again.
	os.WriteFile(keyFile, []byte("garbage"), 0o600)
	if _, _, made, err := SelfSigned(dir, hosts); err != nil || !made {
		t.Fatalf("broken key: made=%v, %v", made, err)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _, err := SelfSigned(dir, []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	_, otherKey, _, _ := SelfSigned(other, []string{"localhost"})
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a pem file\n"), 0o600)
	for _, tc := range []struct{ name, cert, key, want string }{
		{"missing cert", filepath.Join(dir, "nope.pem"), keyFile, "no such file"},
		{"garbage cert", garbage, keyFile, "failed to find any PEM data"},
		{"garbage key", certFile, garbage, "failed to find any PEM data"},
		{"key of another cert", certFile, otherKey, "does not match"},
	} {
		_, err := Load(tc.cert, tc.key)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Load = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

func TestReloadKeepsOldOnFailure(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _, err := SelfSigned(dir, []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	serial := c.Leaf().SerialNumber
	os.WriteFile(certFile, []byte("truncated"), 0o644)
	if err := c.Reload(); err == nil {
		t.Fatal("Reload of a broken file succeeded")
	}
	got, _ := c.Config().GetCertificate(nil)
	if got.Leaf.SerialNumber.Cmp(serial) != 0 {
		t.Fatal("a failed reload replaced the certificate")
	}
	os.Remove(certFile)
	os.Remove(keyFile)
	if _, _, _, err := SelfSigned(dir, []string{"localhost"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Config().GetCertificate(nil); got.Leaf.SerialNumber.Cmp(serial) == 0 {
		t.Fatal("reload kept the old certificate")
	}
}

func TestHosts(t *testing.T) {
	has := func(hosts []string, h string) bool {
		for _, x := range hosts {
			if x == h {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		name string
		addr net.Addr
		want []string
	}{
		{"loopback", &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, []string{"127.0.0.1", "::1", "localhost", "d.test", "*.d.test"}},
		{"one address", &net.TCPAddr{IP: net.ParseIP("192.0.2.7")}, []string{"192.0.2.7", "127.0.0.1", "*.d.test"}},
		// All interfaces: at least loopback, which every host has.
		{"unspecified", &net.TCPAddr{IP: net.IPv4zero}, []string{"127.0.0.1", "localhost", "*.d.test"}},
	} {
		got := Hosts(tc.addr, []string{"d.test"})
		for _, w := range tc.want {
			if !has(got, w) {
				t.Errorf("%s: Hosts = %v, missing %s", tc.name, got, w)
			}
		}
		if has(got, "0.0.0.0") {
			t.Errorf("%s: Hosts names the unspecified address: %v", tc.name, got)
		}
	}
}
