package e2e

// Third-party S3 tools against an in-process ossd: each test runs a smoke
// script from scripts/s3tools as a subprocess, and skips when the tool is not
// installed. Install them (Debian 12) with
//
//	apt-get install -y awscli s3cmd rclone python3-boto3 curl
//
// A tool elsewhere than /usr/bin or on PATH is chosen with AWS, S3CMD, RCLONE
// or BOTO3_PYTHON (a python3 that imports boto3).

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/ossdtest"
)

const s3toolsDir = "../scripts/s3tools"

// s3ToolTimeout is the hang guard for one smoke script; a run takes 2-25 s.
const s3ToolTimeout = 90 * time.Second

// findS3Tool returns the tool named by the environment variable env, else
// Debian's /usr/bin/<name> (preferred over PATH, where e.g. a pyenv shim may
// shadow it with another version), else <name> on PATH.
func findS3Tool(env, name string) (string, bool) {
	if p := os.Getenv(env); p != "" {
		if lp, err := exec.LookPath(p); err == nil {
			return lp, true
		}
		return "", false
	}
	if fi, err := os.Stat("/usr/bin/" + name); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return "/usr/bin/" + name, true
	}
	if lp, err := exec.LookPath(name); err == nil {
		return lp, true
	}
	return "", false
}

// runS3ToolScript runs argv against srv with the smoke scripts' environment
// plus extra, and fails the test with the script's output when it exits
// non-zero or hangs.
func runS3ToolScript(t *testing.T, srv *ossdtest.Server, extra []string, argv ...string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (the scripts fetch presigned URLs with it): apt-get install curl")
	}
	ctx, cancel := context.WithTimeout(context.Background(), s3ToolTimeout)
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
	script := filepath.Base(argv[len(argv)-1])
	if ctx.Err() != nil {
		t.Fatalf("%s: hung, killed after %v; output:\n%s", script, s3ToolTimeout, out.String())
	}
	if err != nil {
		t.Fatalf("%s (%s): %v; output:\n%s", script, strings.Join(argv, " "), err, out.String())
	}
	t.Logf("%s passed in %v", script, time.Since(start).Round(time.Millisecond))
	if testing.Verbose() {
		t.Logf("output:\n%s", out.String())
	}
}

// TestS3ToolAWSCLI runs scripts/s3tools/awscli-smoke.sh: aws s3 mb/ls/cp
// (multipart up, ranged down, server-side copy)/sync/presign/rm/rb and
// s3api head/list calls, SigV4, path style.
func TestS3ToolAWSCLI(t *testing.T) {
	t.Parallel()
	aws, ok := findS3Tool("AWS", "aws")
	if !ok {
		t.Skip("awscli not installed: apt-get install awscli")
	}
	srv := ossdtest.Start(t)
	runS3ToolScript(t, srv, []string{"AWS=" + aws}, "bash", filepath.Join(s3toolsDir, "awscli-smoke.sh"))
}

// TestS3ToolS3cmd runs scripts/s3tools/s3cmd-smoke.sh with SigV4 and SigV2:
// mb/ls/info/put (multipart)/get/cp/sync/signurl/setacl/del/rb.
func TestS3ToolS3cmd(t *testing.T) {
	t.Parallel()
	s3cmd, ok := findS3Tool("S3CMD", "s3cmd")
	if !ok {
		t.Skip("s3cmd not installed: apt-get install s3cmd")
	}
	srv := ossdtest.Start(t)
	runS3ToolScript(t, srv, []string{"S3CMD=" + s3cmd}, "bash", filepath.Join(s3toolsDir, "s3cmd-smoke.sh"))
}

// TestS3ToolRclone runs scripts/s3tools/rclone-smoke.sh (provider Other,
// force_path_style): mkdir/lsd/copyto (multipart)/lsl/md5sum/cat/server-side
// copy (UploadPartCopy)/copy/check/sync/link/delete/rmdir.
func TestS3ToolRclone(t *testing.T) {
	t.Parallel()
	rclone, ok := findS3Tool("RCLONE", "rclone")
	if !ok {
		t.Skip("rclone not installed: apt-get install rclone")
	}
	srv := ossdtest.Start(t)
	runS3ToolScript(t, srv, []string{"RCLONE=" + rclone}, "bash", filepath.Join(s3toolsDir, "rclone-smoke.sh"))
}

// TestS3ToolBoto3 runs scripts/s3tools/boto3-smoke.py with SigV4 and SigV2:
// objects, ranges, copy, managed multipart up/down/copy, low-level
// multipart, listings, presigned GET/PUT, bucket logging, deletes.
func TestS3ToolBoto3(t *testing.T) {
	t.Parallel()
	python := ""
	candidates := []string{os.Getenv("BOTO3_PYTHON"), "/usr/bin/python3", "python3"}
	if candidates[0] != "" {
		candidates = candidates[:1]
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		p, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = exec.CommandContext(ctx, p, "-c", "import boto3").Run()
		cancel()
		if err == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("boto3 not installed: apt-get install python3-boto3")
	}
	srv := ossdtest.Start(t)
	runS3ToolScript(t, srv, nil, python, filepath.Join(s3toolsDir, "boto3-smoke.py"))
}
