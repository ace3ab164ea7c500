package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// CallbackPolicy decides which addresses an upload callback may reach. An
// upload callback makes the server send a request to a URL the client
// names; without a policy any client could make ossd probe or call
// services only the server can reach (its loopback, the private network, a
// cloud metadata address). As OSS does, callbacks to public addresses are
// allowed and callbacks to loopback, link-local, private (RFC 1918, ULA
// fc00::/7), unspecified, broadcast and multicast addresses are refused,
// unless the allow list (--callback-allow) names them.
//
// The check is made on the address actually dialed (net.Dialer.Control),
// after name resolution, so a host name that resolves to a public address
// when checked and a private one when dialed (DNS rebinding) is still
// refused. A CallbackPolicy is immutable and safe for concurrent use.
type CallbackPolicy struct {
	prefixes  []netip.Prefix
	hostPorts []netip.AddrPort
}

// ErrCallbackForbidden is what the callback client's dialer returns for an
// address the policy refuses.
var ErrCallbackForbidden = errors.New("callback address forbidden")

// NewCallbackPolicy parses an allow list: CIDR prefixes ("10.0.0.0/8"),
// addresses ("127.0.0.1", "::1") and host:port pairs ("127.0.0.1:8080",
// "[::1]:8080", "localhost:8080"; a host name is resolved now, once).
func NewCallbackPolicy(allow []string) (*CallbackPolicy, error) {
	p := &CallbackPolicy{}
	for _, e := range allow {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if pf, err := netip.ParsePrefix(e); err == nil {
			p.prefixes = append(p.prefixes, pf.Masked())
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil {
			p.prefixes = append(p.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		host, port, err := net.SplitHostPort(e)
		if err != nil {
			return nil, fmt.Errorf("callback allow %q: want a CIDR, an address or host:port", e)
		}
		pn, err := net.LookupPort("tcp", port)
		if err != nil {
			return nil, fmt.Errorf("callback allow %q: bad port", e)
		}
		addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
		if err != nil {
			return nil, fmt.Errorf("callback allow %q: %w", e, err)
		}
		for _, a := range addrs {
			p.hostPorts = append(p.hostPorts, netip.AddrPortFrom(a.Unmap(), uint16(pn)))
		}
	}
	return p, nil
}

// Permits reports whether a callback may connect to ap: a public address,
// or one the allow list names.
func (p *CallbackPolicy) Permits(ap netip.AddrPort) bool {
	a := ap.Addr().Unmap()
	if !forbiddenCallbackAddr(a) {
		return true
	}
	for _, pf := range p.prefixes {
		if pf.Contains(a) {
			return true
		}
	}
	for _, hp := range p.hostPorts {
		if hp.Addr() == a && hp.Port() == ap.Port() {
			return true
		}
	}
	return false
}

// thisNetwork is 0.0.0.0/8: a connect to 0.x.y.z reaches the local host
// on Linux.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// forbiddenCallbackAddr reports addresses a callback may not reach unless
// allowed: anything but a public unicast address.
func forbiddenCallbackAddr(a netip.Addr) bool {
	return !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() ||
		(a.Is4() && thisNetwork.Contains(a)) || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// control is the callback dialer's net.Dialer.Control: it runs for every
// address the dialer tries, after resolution and before the connect.
func (p *CallbackPolicy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrCallbackForbidden, address)
	}
	if !p.Permits(ap) {
		return fmt.Errorf("%w: %s", ErrCallbackForbidden, address)
	}
	return nil
}

// Client returns the HTTP client upload callbacks are sent with: every
// connection checked by the policy, no proxy (a proxy would connect on the
// callback's behalf, past the check), and redirects not followed (OSS
// reports a callback answered with a redirect as failed, e.g. "Error
// status : 301.").
func (p *CallbackPolicy) Client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: p.control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// errCallbackPrivate is OSS's answer to an upload whose callbackUrl names a
// private address (EC 0007-00000008): the upload is refused before
// anything is stored.
func errCallbackPrivate(u string) error {
	return oss.ErrInvalidArgument.WithMessage("Private address is forbidden to callback.").WithEC("0007-00000008").
		With("ArgumentName", "callbackUrl").With("ArgumentValue", u)
}

// checkCallbackURLs refuses, before the upload is stored, a callback whose
// URL names or resolves to an address the policy forbids, as OSS refuses
// it. A name that does not resolve now is left to the callback itself
// (which then fails with CallbackFailed); the dialer checks again whatever
// it connects to.
func (h *Handler) checkCallbackURLs(rq *request) error {
	cb, err := parseCallback(rq)
	if err != nil {
		return nil // reported as CallbackFailed after the upload, as before
	}
	ctx, cancel := context.WithTimeout(rq.ctx, 2*time.Second)
	defer cancel()
	for _, raw := range strings.Split(cb.URL, ";") {
		raw = strings.TrimSpace(raw)
		u, err := parseCallbackURL(raw)
		if err != nil {
			continue
		}
		port := u.Port()
		if port == "" {
			port = "80"
			if u.Scheme == "https" {
				port = "443"
			}
		}
		pn, err := net.LookupPort("tcp", port)
		if err != nil {
			continue
		}
		var addrs []netip.Addr
		if a, err := netip.ParseAddr(u.Hostname()); err == nil {
			addrs = []netip.Addr{a}
		} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname()); err != nil {
			continue
		}
		for _, a := range addrs {
			if !h.cbPolicy.Permits(netip.AddrPortFrom(a, uint16(pn))) {
				return errCallbackPrivate(raw)
			}
		}
	}
	return nil
}
