package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/ossd/ossd/ossdtest"
)

// oss2Env runs the script that makes Python oss2 importable and prints its
// PYTHONPATH: OSS2_SETUP, else shared/clients/python-oss2/setup.sh in the
// folder beside the repository (where CI lays shared/).
func oss2Env(t *testing.T) []string {
	t.Helper()
	setup := os.Getenv("OSS2_SETUP")
	if setup == "" {
		setup, _ = filepath.Abs(filepath.Join("..", "..", "shared", "clients", "python-oss2", "setup.sh")) // from e2e/
	}
	if _, err := os.Stat(setup); err != nil {
		t.Skipf("Python oss2 not available (%s missing; set OSS2_SETUP to its setup.sh)", setup)
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("Python oss2 needs /usr/bin/python3: apt-get install python3")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", setup)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("Python oss2 setup failed (%v): %s", err, stderr.String())
	}
	return []string{"PYTHONPATH=" + strings.TrimSpace(string(out))}
}

// TestClientOSS2Signatures runs scripts/clients/oss2-signatures.py: Python
// oss2's AuthV2 (the OSS2 signature) in the header and URL forms — every
// query parameter and the Range additional header signed, presigned GET
// and PUT, expired and tampered URLs, the V2 StringToSign in
// SignatureDoesNotMatch — and oss2's V1 Auth with an x-oss-date header.
// The bucket logs to itself: V2 requests must produce the same access-log
// lines as any other.
func TestClientOSS2Signatures(t *testing.T) {
	env := oss2Env(t)
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	b := newBucket(t, c)
	enableLogging(t, c, b, b, "log/")
	env = append(env, "OSSD_BUCKET="+b)
	runS3ToolScript(t, srv, env, "/usr/bin/python3", filepath.Join("..", "scripts", "clients", "oss2-signatures.py"))

	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	var header, presigned, mismatch bool
	for _, l := range readLogLines(t, c, b, "log/", b) {
		switch {
		case l.Operation == "GetObject" && l.HTTPStatus == 200 && strings.Contains(l.RequestURI, "x-oss-signature-version=OSS2"):
			presigned = presigned || l.AccessKeyID == srv.AccessKeyID && l.RequesterID != ""
		case l.Operation == "GetObject" && l.HTTPStatus == 206 && strings.Contains(l.RequestURI, "v2%2Fdir%2F") && !strings.Contains(l.RequestURI, "?"):
			header = header || l.AccessKeyID == srv.AccessKeyID && l.RequesterID != ""
		case l.Operation == "GetObject" && l.ErrorCode == "SignatureDoesNotMatch":
			// As for V1 and V4, a request whose signature fails is logged
			// without an access key.
			mismatch = mismatch || l.HTTPStatus == 403
		}
	}
	if !header || !presigned || !mismatch {
		t.Errorf("access log: V2 header-signed line %v, V2 presigned line %v, V2 mismatch line %v", header, presigned, mismatch)
	}
}

// TestSDKv1AuthV2 drives the Go SDK v1's AuthV2 (OSS2) signer, header and
// signed-URL forms, with an additional signed header, path and virtual host.
func TestSDKv1AuthV2(t *testing.T) {
	for _, virtual := range []bool{false, true} {
		name := "path"
		if virtual {
			name = "vhost"
		}
		t.Run(name, func(t *testing.T) {
			srv := ossdtest.Start(t)
			opts := []v1.ClientOption{v1.AuthVersion(v1.AuthV2), v1.AdditionalHeaders([]string{"Range", "If-Modified-Since"})}
			ep := srv.Endpoint
			if virtual {
				ep = srv.VirtualHostEndpoint()
				opts = append(opts, v1.HTTPClient(srv.VirtualHostClient()))
			} else {
				opts = append(opts, v1.ForcePathStyle(true))
			}
			c, err := v1.New(ep, srv.AccessKeyID, srv.AccessKeySecret, opts...)
			if err != nil {
				t.Fatal(err)
			}
			bn := randName("v2sig")
			if err := c.CreateBucket(bn); err != nil {
				t.Fatalf("CreateBucket: %v", err)
			}
			lb, err := c.ListBuckets(v1.Prefix("v2sig"))
			if err != nil || len(lb.Buckets) != 1 {
				t.Fatalf("ListBuckets = %+v, %v", lb, err)
			}
			b, _ := c.Bucket(bn)
			key := "a dir/ü+1.txt"
			if err := b.PutObject(key, strings.NewReader("hello v2"), v1.Meta("m", "1"), v1.ContentType("text/plain")); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			r, err := b.GetObject(key, v1.Range(0, 4))
			if err != nil {
				t.Fatalf("GetObject range: %v", err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			if string(got) != "hello" {
				t.Errorf("range = %q", got)
			}
			lr, err := b.ListObjects(v1.Prefix("a "), v1.Delimiter("/"), v1.MaxKeys(5))
			if err != nil || len(lr.CommonPrefixes) != 1 {
				t.Errorf("ListObjects = %+v, %v", lr, err)
			}
			url, err := b.SignURL(key, v1.HTTPGet, 60)
			if err != nil || !strings.Contains(url, "x-oss-signature-version=OSS2") {
				t.Fatalf("SignURL = %q, %v", url, err)
			}
			r, err = b.GetObjectWithURL(url)
			if err != nil {
				t.Fatalf("GetObjectWithURL: %v", err)
			}
			got, _ = io.ReadAll(r)
			r.Close()
			if string(got) != "hello v2" {
				t.Errorf("GetObjectWithURL = %q", got)
			}
			bad, _ := v1.New(ep, srv.AccessKeyID, "wrong", opts...)
			bb, _ := bad.Bucket(bn)
			_, err = bb.GetObject(key)
			se, ok := err.(v1.ServiceError)
			if !ok || se.Code != "SignatureDoesNotMatch" || se.StatusCode != 403 || se.Ec != "0002-00000040" {
				t.Errorf("wrong secret: %#v", err)
			}
			if !strings.Contains(string(se.RawMessage), "<StringToSign>GET&#xA;") {
				t.Errorf("no StringToSign in %s", se.RawMessage)
			}
			if err := b.DeleteObject(key); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteBucket(bn); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestClientOSS2LiveChannel runs scripts/clients/oss2-livechannel.py,
// Python oss2's LiveChannel API (after its own test_live_channel.py), with
// V1 and V4 signatures.
func TestClientOSS2LiveChannel(t *testing.T) {
	env := oss2Env(t)
	for _, auth := range []string{"v1", "v4"} {
		t.Run(auth, func(t *testing.T) {
			srv := ossdtest.Start(t)
			b := newBucket(t, v2Client(srv, modes[0]))
			runS3ToolScript(t, srv, append(env, "OSSD_BUCKET="+b, "OSSD_AUTH="+auth), "/usr/bin/python3",
				filepath.Join("..", "scripts", "clients", "oss2-livechannel.py"))
		})
	}
}
