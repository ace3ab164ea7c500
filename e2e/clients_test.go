package e2e

// Other official OSS clients against an in-process ossd: each test runs a
// smoke script from scripts/clients as a subprocess, and skips when the
// client is not installed. Install them with
//
//	npm ci --prefix scripts/clients                  # Node.js ali-oss
//	(cd scripts/clients/ossutil && go install tool)  # ossutil 1.7.x
//
// Python oss2 runs the pytest suite scripts/oss2 (TestClientOSS2).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// The Python oss2 suite (scripts/oss2, pytest) against an ossd subprocess.
// oss2 is not packaged by Debian and PyPI is not reachable from this
// project's machines: ../shared/clients/python-oss2 holds oss2 2.19.1 and a
// setup.sh that makes it importable by /usr/bin/python3 (oss2Env runs it).
const oss2Suite = "../scripts/oss2"

// oss2SuiteTimeout bounds one pytest run; a run takes a few seconds.
const oss2SuiteTimeout = 5 * time.Minute

// TestClientOSS2 runs the pytest suite scripts/oss2 with Python oss2 against
// an ossd subprocess that has a second account (--users), once with V1
// signatures (oss2.Auth) and once with V4 (oss2.AuthV4, region
// cn-hangzhou): the access-logging page's samples end to end (log objects
// delivered by `ossd logs flush`, listed, read and parsed), buckets,
// objects, listings, multipart, append, copy, symlinks, tagging, ACLs,
// CORS, signed URLs. Any failed or skipped pytest test fails it.
func TestClientOSS2(t *testing.T) {
	pyEnv := oss2Env(t)
	const python = "/usr/bin/python3"
	check := exec.Command(python, "-c", "import pytest, oss2")
	check.Env = append(os.Environ(), pyEnv...)
	if out, err := check.CombinedOutput(); err != nil {
		t.Skipf("pytest or oss2 does not import (%v: %s): apt-get install python3-pytest", err, bytes.TrimSpace(out))
	}
	bin := ossdBinary(t)
	const user2ID, user2Secret = "LTAIoss2second", "oss2-second-secret"
	for _, sign := range []string{"v1", "v4"} {
		t.Run(sign, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			users := filepath.Join(dir, "users.json")
			doc := fmt.Sprintf(`[{"id":"200000000000002","displayName":"second","accessKeyId":%q,"accessKeySecret":%q}]`, user2ID, user2Secret)
			if err := os.WriteFile(users, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			p := startProc(t, data, "--users", users)
			defer p.kill()

			ctx, cancel := context.WithTimeout(context.Background(), oss2SuiteTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs", oss2Suite)
			cmd.Env = append(append(os.Environ(), pyEnv...), "PYTHONDONTWRITEBYTECODE=1",
				"OSSD_ENDPOINT="+p.endpoint, "OSSD_KEY_ID="+crashKeyID, "OSSD_KEY_SECRET="+crashSecret,
				"OSSD_REGION=cn-hangzhou", "OSSD_SIGN="+sign, "OSSD_BIN="+bin, "OSSD_DATA="+data,
				"OSSD_USER2_KEY_ID="+user2ID, "OSSD_USER2_KEY_SECRET="+user2Secret,
			)
			cmd.WaitDelay = 5 * time.Second
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("pytest timed out after %v; output:\n%s", oss2SuiteTimeout, out.String())
			}
			if err != nil {
				t.Fatalf("pytest %s: %v; output:\n%s", oss2Suite, err, out.String())
			}
			summary := strings.TrimSpace(out.String())
			if i := strings.LastIndexByte(summary, '\n'); i >= 0 {
				summary = summary[i+1:]
			}
			if strings.Contains(summary, "skipped") || !strings.Contains(summary, "passed") {
				t.Fatalf("pytest ran with skips or nothing passed (%s); output:\n%s", summary, out.String())
			}
			t.Logf("oss2 %s: %s", sign, summary)
		})
	}
}
