package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossd/ossd/ossdtest"
)

// anonGet reads endpoint/bucket/key without credentials and returns the
// status and body.
func anonGet(t *testing.T, endpoint, bucket, key string) (int, string) {
	t.Helper()
	resp, err := http.Get(endpoint + "/" + bucket + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAccountPublicAccessBlock: OSS's account-level Block Public Access
// (Put/Get/DeletePublicAccessBlock on the service), with the v2 SDK in
// every signing and addressing mode. While it is on, public ACLs in every
// bucket of the account grant nothing and new ones are refused, whatever
// each bucket's own block says; other accounts' buckets are untouched.
func TestAccountPublicAccessBlock(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			other := ossdtest.User{ID: "2000000000000002", DisplayName: "other", AccessKeyID: "LTAIotherpab", AccessKeySecret: "other-pab-secret"}
			srv := ossdtest.StartWith(t, ossdtest.Options{UnblockNewBuckets: true, Users: []ossdtest.User{other}})
			c := v2Client(srv, m)
			ctx := context.Background()

			get := func() bool {
				t.Helper()
				r, err := c.GetPublicAccessBlock(ctx, &oss.GetPublicAccessBlockRequest{})
				if err != nil || r.PublicAccessBlockConfiguration == nil || r.PublicAccessBlockConfiguration.BlockPublicAccess == nil {
					t.Fatalf("GetPublicAccessBlock = %+v, %v", r, err)
				}
				return *r.PublicAccessBlockConfiguration.BlockPublicAccess
			}
			if get() {
				t.Fatal("a new account blocks public access; OSS's account-level default is off")
			}

			b := randName("pab")
			if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b), Acl: oss.BucketACLPublicRead}); err != nil {
				t.Fatalf("PutBucket public-read with new buckets unblocked: %v", err)
			}
			if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), Body: strings.NewReader("hello")}); err != nil {
				t.Fatal(err)
			}
			if st, body := anonGet(t, srv.Endpoint, b, "k"); st != 200 || body != "hello" {
				t.Fatalf("anonymous read of a public-read bucket: %d %q", st, body)
			}
			// Another account's public bucket, to show the block is per account.
			oc := oss.NewClient(oss.LoadDefaultConfig().WithRegion(srv.Region).WithEndpoint(srv.Endpoint).WithUsePathStyle(true).
				WithCredentialsProvider(credentials.NewStaticCredentialsProvider(other.AccessKeyID, other.AccessKeySecret)))
			ob := randName("pab-other")
			if _, err := oc.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(ob), Acl: oss.BucketACLPublicRead}); err != nil {
				t.Fatal(err)
			}
			if _, err := oc.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(ob), Key: oss.Ptr("k"), Body: strings.NewReader("other")}); err != nil {
				t.Fatal(err)
			}

			put, err := c.PutPublicAccessBlock(ctx, &oss.PutPublicAccessBlockRequest{
				PublicAccessBlockConfiguration: &oss.PublicAccessBlockConfiguration{BlockPublicAccess: oss.Ptr(true)}})
			if err != nil || put.StatusCode != 200 {
				t.Fatalf("PutPublicAccessBlock = %+v, %v", put, err)
			}
			if !get() {
				t.Fatal("GetPublicAccessBlock after turning it on: off")
			}
			if st, _ := anonGet(t, srv.Endpoint, b, "k"); st != 403 {
				t.Errorf("anonymous read of a public-read bucket under the account block: %d, want 403", st)
			}
			// The bucket's own setting is unchanged: the account's overrides it.
			bb, err := c.GetBucketPublicAccessBlock(ctx, &oss.GetBucketPublicAccessBlockRequest{Bucket: oss.Ptr(b)})
			if err != nil || *bb.PublicAccessBlockConfiguration.BlockPublicAccess {
				t.Errorf("GetBucketPublicAccessBlock under the account block = %+v, %v; want the bucket's own (off)", bb, err)
			}
			_, err = c.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(b), Acl: oss.BucketACLPublicReadWrite})
			if se := wantServiceError(t, err, "AccessDenied", 403, ""); se.Message != "Put public bucket acl is not allowed" {
				t.Errorf("PutBucketAcl under the account block: %q", se.Message)
			}
			_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("pub"), Body: strings.NewReader("x"), Acl: oss.ObjectACLPublicRead})
			if se := wantServiceError(t, err, "AccessDenied", 403, "0016-00000901"); se.Message != "Put public object acl is not allowed" {
				t.Errorf("PutObject public-read under the account block: %q", se.Message)
			}
			_, err = c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(randName("pab-new")), Acl: oss.BucketACLPublicRead})
			wantServiceError(t, err, "AccessDenied", 403, "")
			if st, body := anonGet(t, srv.Endpoint, ob, "k"); st != 200 || body != "other" {
				t.Errorf("another account's public bucket under this account's block: %d %q, want readable", st, body)
			}

			del, err := c.DeletePublicAccessBlock(ctx, &oss.DeletePublicAccessBlockRequest{})
			if err != nil || del.StatusCode != 204 {
				t.Fatalf("DeletePublicAccessBlock = %+v, %v", del, err)
			}
			if get() {
				t.Fatal("GetPublicAccessBlock after delete: on")
			}
			if st, body := anonGet(t, srv.Endpoint, b, "k"); st != 200 || body != "hello" {
				t.Errorf("anonymous read after the account block is deleted: %d %q", st, body)
			}
		})
	}
}

// TestAccountPublicAccessBlockRefusals: anonymous callers get AccessDenied
// (an account-level setting needs an account), and the setting survives a
// restart.
func TestAccountPublicAccessBlockRefusals(t *testing.T) {
	dir := t.TempDir()
	srv := ossdtest.StartWith(t, ossdtest.Options{DataDir: dir})
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		req, _ := http.NewRequest(method, srv.Endpoint+"/?publicAccessBlock", strings.NewReader("<PublicAccessBlockConfiguration><BlockPublicAccess>true</BlockPublicAccess></PublicAccessBlockConfiguration>"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
			t.Errorf("anonymous %s /?publicAccessBlock: %d %s", method, resp.StatusCode, body)
		}
	}
	c := v2Client(srv, mode{})
	ctx := context.Background()
	_, err := c.PutPublicAccessBlock(ctx, &oss.PutPublicAccessBlockRequest{
		PublicAccessBlockConfiguration: &oss.PublicAccessBlockConfiguration{BlockPublicAccess: oss.Ptr(true)}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if _, err := os.Stat(filepath.Join(dir, "meta.db")); err != nil {
		t.Fatal(err)
	}
	srv = ossdtest.StartWith(t, ossdtest.Options{DataDir: dir})
	r, err := v2Client(srv, mode{}).GetPublicAccessBlock(ctx, &oss.GetPublicAccessBlockRequest{})
	if err != nil || !*r.PublicAccessBlockConfiguration.BlockPublicAccess {
		t.Fatalf("GetPublicAccessBlock after a restart = %+v, %v; want on", r, err)
	}
}

// TestBlockPublicAccessFlag runs the built ossd: with
// --block-public-access=false new buckets may be created public and are
// readable anonymously; restarted with OSS's default, those buckets keep
// the block they were created with, and new buckets block public access
// again (a public ACL is refused).
func TestBlockPublicAccessFlag(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p := startProc(t, dir, "--block-public-access=false")
	c := p.client()
	old := randName("flag-open")
	if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(old), Acl: oss.BucketACLPublicRead}); err != nil {
		p.kill()
		t.Fatalf("PutBucket public-read under --block-public-access=false: %v", err)
	}
	if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(old), Key: oss.Ptr("k"), Body: strings.NewReader("open"), Acl: oss.ObjectACLPublicRead}); err != nil {
		p.kill()
		t.Fatal(err)
	}
	st, body := anonGet(t, p.endpoint, old, "k")
	r, err := c.GetBucketPublicAccessBlock(ctx, &oss.GetBucketPublicAccessBlockRequest{Bucket: oss.Ptr(old)})
	p.kill()
	if st != 200 || body != "open" {
		t.Fatalf("anonymous read: %d %q", st, body)
	}
	if err != nil || *r.PublicAccessBlockConfiguration.BlockPublicAccess {
		t.Fatalf("GetBucketPublicAccessBlock of a bucket made under the flag = %+v, %v; want off", r, err)
	}

	p = startProc(t, dir)
	defer p.kill()
	c = p.client()
	if st, body := anonGet(t, p.endpoint, old, "k"); st != 200 || body != "open" {
		t.Errorf("after a restart with the default, the old bucket: %d %q; want it as created (open)", st, body)
	}
	nb := randName("flag-default")
	_, err = c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(nb), Acl: oss.BucketACLPublicRead})
	if se := wantServiceError(t, err, "AccessDenied", 403, ""); se.Message != "Put public bucket acl is not allowed" {
		t.Errorf("PutBucket public-read by default: %q", se.Message)
	}
	if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(nb)}); err != nil {
		t.Fatal(err)
	}
	r, err = c.GetBucketPublicAccessBlock(ctx, &oss.GetBucketPublicAccessBlockRequest{Bucket: oss.Ptr(nb)})
	if err != nil || !*r.PublicAccessBlockConfiguration.BlockPublicAccess {
		t.Fatalf("GetBucketPublicAccessBlock of a new bucket by default = %+v, %v; want on", r, err)
	}
}
