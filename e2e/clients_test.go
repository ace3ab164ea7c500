package e2e

// Other official OSS clients against an in-process ossd: each test runs a
// smoke script from scripts/clients as a subprocess, and skips when the
// client is not installed. Install them with
//
//	npm ci --prefix scripts/clients                  # Node.js ali-oss
//	(cd scripts/clients/ossutil && go install tool)  # ossutil 1.7.x
//
// Python oss2 has no smoke test: it is not packaged by Debian (no
// python3-oss2) and PyPI is not reachable from this project's machines.

import (
	"bytes"
	"context"
	"errors"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/ossdtest"
)

const clientsDir = "../scripts/clients"

// clientTimeout bounds one smoke script run; a run takes about a second.
const clientTimeout = 60 * time.Second

// runClientScript runs name (argv) against srv with the smoke scripts'
// environment plus extra, and fails the test with the script's output when
// it exits non-zero.
func runClientScript(t *testing.T, srv *ossdtest.Server, extra []string, argv ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(),
		"OSSD_ENDPOINT="+srv.Endpoint,
		"OSSD_KEY_ID="+srv.AccessKeyID,
		"OSSD_KEY_SECRET="+srv.AccessKeySecret,
		"OSSD_REGION="+srv.Region,
	)
	cmd.Env = append(cmd.Env, extra...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s: timed out after %v; output:\n%s", strings.Join(argv, " "), clientTimeout, out.String())
	}
	if err != nil {
		t.Fatalf("%s: %v; output:\n%s", strings.Join(argv, " "), err, out.String())
	}
	t.Logf("%s passed in %v", filepath.Base(argv[len(argv)-1]), time.Since(start).Round(time.Millisecond))
	if testing.Verbose() {
		t.Logf("output:\n%s", out.String())
	}
}

// TestClientAliOSS runs scripts/clients/ali-oss-smoke.js (Node.js ali-oss,
// version pinned in scripts/clients/package.json) in both addressing styles
// it can use against 127.0.0.1:PORT and both signature versions.
func TestClientAliOSS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(clientsDir, "node_modules", "ali-oss", "package.json"))
	}
	if err != nil {
		t.Skipf("node or scripts/clients/node_modules missing: run `npm ci --prefix scripts/clients` (%v)", err)
	}
	script := filepath.Join(clientsDir, "ali-oss-smoke.js")
	// path: endpoint http://localhost:PORT, sldEnable: true (bucket in the
	// path). ip: endpoint http://127.0.0.1:PORT, bucket in the Host header
	// (<bucket>.oss-cn-hangzhou.aliyuncs.com), which ali-oss sets for IPs.
	for _, addressing := range []string{"path", "ip"} {
		for _, sign := range []string{"v4", "v1"} {
			t.Run(addressing+"-"+sign, func(t *testing.T) {
				srv := ossdtest.Start(t)
				runClientScript(t, srv, []string{"OSSD_ADDRESSING=" + addressing, "OSSD_SIGN=" + sign}, node, script)
			})
		}
	}
}

// ossutilBinary finds ossutil 1.x: $OSSUTIL, $(go env GOPATH)/bin (where
// `go install tool` puts the pinned one), then PATH.
func ossutilBinary() (string, error) {
	if p := os.Getenv("OSSUTIL"); p != "" {
		return exec.LookPath(p)
	}
	gobin := os.Getenv("GOBIN")
	if gobin == "" {
		gobin = filepath.Join(strings.Split(build.Default.GOPATH, string(os.PathListSeparator))[0], "bin")
	}
	if p, err := exec.LookPath(filepath.Join(gobin, "ossutil")); err == nil {
		return p, nil
	}
	return exec.LookPath("ossutil")
}

// TestClientOssutil runs scripts/clients/ossutil-smoke.sh (ossutil 1.7.x,
// pinned in scripts/clients/ossutil/go.mod) with V4 and V1 signatures.
func TestClientOssutil(t *testing.T) {
	bin, err := ossutilBinary()
	if err != nil {
		t.Skipf("ossutil not installed: run `(cd scripts/clients/ossutil && go install tool)` (%v)", err)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skipf("bash not found: %v", err)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "version: v1.") {
		if err == nil {
			err = errors.New(strings.TrimSpace(string(out)))
		}
		t.Skipf("%s is not ossutil 1.x, which scripts/clients/ossutil-smoke.sh is written for: run `(cd scripts/clients/ossutil && go install tool)` (%v)", bin, err)
	}
	script := filepath.Join(clientsDir, "ossutil-smoke.sh")
	for _, sign := range []string{"v4", "v1"} {
		t.Run(sign, func(t *testing.T) {
			srv := ossdtest.Start(t)
			runClientScript(t, srv, []string{"OSSUTIL=" + bin, "OSSD_SIGN=" + sign}, bash, script)
		})
	}
}
