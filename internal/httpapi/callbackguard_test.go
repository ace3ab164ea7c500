package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestCallbackPolicyPermits(t *testing.T) {
	tests := []struct {
		allow []string
		addr  string
		want  bool
	}{
		{nil, "8.8.8.8:80", true},
		{nil, "[2001:4860:4860::8888]:443", true},
		{nil, "127.0.0.1:80", false},
		{nil, "[::1]:80", false},
		{nil, "[::ffff:127.0.0.1]:80", false}, // IPv4-mapped loopback
		{nil, "10.0.0.1:80", false},
		{nil, "172.16.5.4:80", false},
		{nil, "192.168.1.1:80", false},
		{nil, "[fc00::1]:80", false},
		{nil, "[fd12::1]:80", false},
		{nil, "169.254.169.254:80", false}, // cloud metadata
		{nil, "[fe80::1]:80", false},
		{nil, "0.0.0.0:80", false},
		{nil, "0.1.2.3:80", false},
		{nil, "[::]:80", false},
		{nil, "224.0.0.1:80", false},
		{nil, "[ff02::1]:80", false},
		{nil, "255.255.255.255:80", false},
		{[]string{"127.0.0.1"}, "127.0.0.1:80", true},
		{[]string{"127.0.0.1"}, "127.0.0.2:80", false},
		{[]string{"10.0.0.0/8"}, "10.9.9.9:1", true},
		{[]string{"::1"}, "[::1]:80", true},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1:8080", true},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1:8081", false},
		{[]string{"[::1]:8080"}, "[::1]:8080", true},
	}
	for _, tc := range tests {
		p, err := NewCallbackPolicy(tc.allow)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Permits(netip.MustParseAddrPort(tc.addr)); got != tc.want {
			t.Errorf("allow %v: Permits(%s) = %v, want %v", tc.allow, tc.addr, got, tc.want)
		}
	}
	for _, bad := range []string{"not an address", "10.0.0.0/99", "host:notaport"} {
		if _, err := NewCallbackPolicy([]string{bad}); err == nil {
			t.Errorf("NewCallbackPolicy(%q) accepted", bad)
		}
	}
}

// TestCallbackClientChecksAtDial: the client refuses the address it is about
// to connect to, so a name that resolves to loopback only when dialed (DNS
// rebinding) cannot get past the check made before the upload.
func TestCallbackClientChecksAtDial(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	p, _ := NewCallbackPolicy(nil)
	_, err := p.Client().Get(srv.URL)
	if !errors.Is(err, ErrCallbackForbidden) {
		t.Fatalf("dial to %s: err %v, want ErrCallbackForbidden", srv.URL, err)
	}
	allowed, _ := NewCallbackPolicy([]string{"127.0.0.0/8"})
	resp, err := allowed.Client().Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	resp.Body.Close()
}
