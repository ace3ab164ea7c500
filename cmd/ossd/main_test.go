package main

import (
	"flag"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/server"
)

func TestParseZone(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int
		ok     bool
	}{
		{"+0800", 8 * 3600, true}, {"-0530", -(5*3600 + 30*60), true}, {"+0000", 0, true},
		{"UTC", 0, true}, {"Asia/Shanghai", 8 * 3600, true},
		{"+2500", 0, false}, {"+08:00", 0, false}, {"Nowhere/City", 0, false},
	} {
		loc, err := parseZone(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("parseZone(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if err == nil {
			if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone(); off != tc.offset {
				t.Errorf("parseZone(%q) offset %d, want %d", tc.in, off, tc.offset)
			}
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--addr", "127.0.0.1:0", "--log-delivery-interval", "5s", "--log-timezone", "+0000"})
	if err != nil || o.addr != "127.0.0.1:0" || o.logInterval != 5*time.Second || o.data != "./ossd-data" || o.region != "cn-hangzhou" {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	if o.bodyReadTimeout != 2*time.Minute || o.bodyWriteTimeout != 2*time.Minute {
		t.Fatalf("body timeouts default to %v / %v, want 2m", o.bodyReadTimeout, o.bodyWriteTimeout)
	}
	if !o.blockPublicAccess {
		t.Fatal("--block-public-access defaults to false; OSS's default for new buckets is on")
	}
	if o.lifecycleInterval != 0 {
		t.Fatalf("--lifecycle-interval defaults to %v, want 0 (daily, as OSS)", o.lifecycleInterval)
	}
	if o, err := parseFlags([]string{"--lifecycle-interval", "1m"}); err != nil || o.lifecycleInterval != time.Minute {
		t.Fatalf("parseFlags(--lifecycle-interval 1m) = %+v, %v", o, err)
	}
	if o, err := parseFlags([]string{"--block-public-access=false"}); err != nil || o.blockPublicAccess {
		t.Fatalf("parseFlags(--block-public-access=false) = %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"--log-delivery-interval", "500ms"}, {"--log-timezone", "bogus/zone"}, {"extra-arg"},
		{"--body-read-timeout", "-1s"}, {"--body-write-timeout", "-1s"}, {"--lifecycle-interval", "10ms"}, {"--lifecycle-interval", "-1s"},
		{"--tls-cert", "c.pem"}, {"--tls-key", "k.pem"}, {"--tls-self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%v) accepted", bad)
		}
	}
}

// TestLogSyncFlag: --log-sync takes always or a duration from 1ms to 10s,
// and defaults to the 1s mode.
func TestLogSyncFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{nil, time.Second},
		{[]string{"--log-sync", "always"}, server.LogSyncAlways},
		{[]string{"--log-sync", "250ms"}, 250 * time.Millisecond},
		{[]string{"--log-sync=1ms"}, time.Millisecond},
		{[]string{"--log-sync", "10s"}, 10 * time.Second},
	} {
		o, err := parseFlags(tc.args)
		if err != nil || o.logSync.d != tc.want {
			t.Errorf("parseFlags(%q): log sync %v, %v; want %v", tc.args, o.logSync.d, err, tc.want)
		}
	}
	for _, bad := range []string{"0", "500us", "11s", "-1s", "never", "ALWAYS", ""} {
		if _, err := parseFlags([]string{"--log-sync", bad}); err == nil {
			t.Errorf("--log-sync %q accepted", bad)
		}
	}
}

// TestFlagValueNames guards --help: a backquoted word in a usage text
// becomes the value's name there ("-log-delivery-interval ossd logs flush").
func TestFlagValueNames(t *testing.T) {
	want := map[string]string{"*flag.durationValue": "duration", "*flag.stringValue": "string", "*flag.intValue": "int", "*flag.boolValue": "",
		"*main.logSyncFlag": "value"}
	flagSet(&options{}).VisitAll(func(f *flag.Flag) {
		name, _ := flag.UnquoteUsage(f)
		if w, ok := want[fmt.Sprintf("%T", f.Value)]; !ok || name != w {
			t.Errorf("--%s shows its value as %q in --help (type %T)", f.Name, name, f.Value)
		}
	})
}

// TestVersion: the version line names a build, never an empty string.
func TestVersion(t *testing.T) {
	v := version()
	if v == "" || !strings.Contains(v, "go1.") {
		t.Errorf("version() = %q, want a build name and the Go version", v)
	}
	o, err := parseFlags([]string{"--version"})
	if err != nil || !o.version {
		t.Errorf("parseFlags(--version) = %+v, %v", o, err)
	}
}

func TestSelfSignedHosts(t *testing.T) {
	ln := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 9800}
	for _, tc := range []struct {
		addr string
		want string
		has  bool
	}{
		{"storage.lan:9800", "storage.lan", true},
		{"127.0.0.1:9800", "*.d.test", true},
		{":9800", "", false},
	} {
		got := selfSignedHosts(tc.addr, ln, []string{"d.test"})
		if slices.Contains(got, tc.want) != tc.has {
			t.Errorf("selfSignedHosts(%q) = %v; want %q: %v", tc.addr, got, tc.want, tc.has)
		}
	}
}
