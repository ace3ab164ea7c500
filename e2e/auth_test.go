package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"github.com/ossd/ossd/internal/auth"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossd/ossd/internal/server"
	"github.com/ossd/ossd/ossdtest"
)

func TestAuthErrors(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ossdtest.Start(t)
			good := v2Client(srv, m)
			ctx := context.Background()
			b := newBucket(t, good)

			bad := *srv
			bad.AccessKeySecret = "wrong-secret"
			_, err := v2Client(&bad, m).GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: oss.Ptr(b)})
			se := wantServiceError(t, err, "SignatureDoesNotMatch", 403, "")
			if se.Message != "The request signature we calculated does not match the signature you provided. Check your key and signing method." {
				t.Errorf("message %q", se.Message)
			}
			unknown := *srv
			unknown.AccessKeyID = "LTAInobody"
			_, err = v2Client(&unknown, m).GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: oss.Ptr(b)})
			se = wantServiceError(t, err, "InvalidAccessKeyId", 403, "")
			if se.Message != "The OSS Access Key Id you provided does not exist in our records." {
				t.Errorf("message %q", se.Message)
			}
			// HEAD errors travel in x-oss-err.
			_, err = v2Client(&bad, m).HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k")})
			wantServiceError(t, err, "SignatureDoesNotMatch", 403, "")
		})
	}
}

func TestClockSkew(t *testing.T) {
	skew := time.Hour
	srv := ossdtest.StartWith(t, ossdtest.Options{Now: func() time.Time { return time.Now().Add(skew) }})
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret)).
		WithRegion(srv.Region).WithEndpoint(srv.Endpoint).WithUsePathStyle(true).WithRetryMaxAttempts(1)
	c := oss.NewClient(cfg)
	_, err := c.ListBuckets(context.Background(), &oss.ListBucketsRequest{})
	wantServiceError(t, err, "RequestTimeTooSkewed", 403, "")
}

func TestPresign(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := ossdtest.Start(t)
			c := v2Client(srv, m)
			ctx := context.Background()
			b := newBucket(t, c)
			pr, err := c.Presign(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("p k")})
			if err != nil {
				t.Fatal(err)
			}
			hc := http.DefaultClient
			if m.virtual {
				hc = srv.VirtualHostClient()
			}
			req, _ := http.NewRequest(pr.Method, pr.URL, strings.NewReader("presigned body"))
			for k, v := range pr.SignedHeaders {
				req.Header.Set(k, v)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("presigned PUT status %d", resp.StatusCode)
			}
			gr, err := c.Presign(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("p k")}, oss.PresignExpires(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			resp, err = hc.Get(gr.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "presigned body" {
				t.Fatalf("presigned GET = %d %q", resp.StatusCode, body)
			}
			// Tampering with the key is rejected.
			resp, err = hc.Get(strings.Replace(gr.URL, "p%20k", "p%20x", 1))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 {
				t.Errorf("tampered presigned URL: status %d, want 403", resp.StatusCode)
			}
		})
	}
}

func TestPresignExpired(t *testing.T) {
	now := time.Now()
	clock := now
	srv := ossdtest.StartWith(t, ossdtest.Options{Now: func() time.Time { return clock }})
	for _, m := range []mode{modes[0], modes[2]} {
		c := v2Client(srv, m)
		ctx := context.Background()
		b := newBucket(t, c)
		c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), Body: strings.NewReader("x")})
		gr, err := c.Presign(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k")}, oss.PresignExpires(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		clock = now.Add(2 * time.Minute)
		resp, err := http.Get(gr.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		clock = now
		if resp.StatusCode != 403 || !bytes.Contains(body, []byte("<Code>AccessDenied</Code>")) || !bytes.Contains(body, []byte("expired")) {
			t.Errorf("%s expired presign = %d %s", m.name, resp.StatusCode, body)
		}
	}
}

// TestAnonymousAndACL checks what anonymous users and another account may
// do under each bucket and object ACL.
func TestAnonymousAndACL(t *testing.T) {
	other := server.User{ID: "2000000000000002", DisplayName: "other", AccessKeyID: "LTAIother", AccessKeySecret: "othersecret"}
	srv := ossdtest.StartWith(t, ossdtest.Options{Users: []server.User{other}})
	owner := v2Client(srv, modes[0])
	o2 := *srv
	o2.AccessKeyID, o2.AccessKeySecret = other.AccessKeyID, other.AccessKeySecret
	stranger := v2Client(&o2, modes[0])
	ctx := context.Background()

	anonGet := func(b, k string) int {
		resp, err := http.Get(srv.Endpoint + "/" + b + "/" + k)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 403 && (!bytes.Contains(body, []byte("<Code>AccessDenied</Code>")) || resp.Header.Get("x-oss-ec") == "") {
			t.Errorf("anonymous 403 body %s", body)
		}
		return resp.StatusCode
	}
	anonPut := func(b, k string) int {
		req, _ := http.NewRequest(http.MethodPut, srv.Endpoint+"/"+b+"/"+k, strings.NewReader("anon"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		acl            oss.BucketACLType
		get, put, list int
	}{
		{oss.BucketACLPrivate, 403, 403, 403},
		{oss.BucketACLPublicRead, 200, 403, 200},
		{oss.BucketACLPublicReadWrite, 200, 200, 200},
	} {
		b := randName("acl")
		if _, err := owner.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
			t.Fatal(err)
		}
		owner.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("obj"), Body: strings.NewReader("data")})
		setBlock := func(on bool) {
			t.Helper()
			if _, err := owner.PutBucketPublicAccessBlock(ctx, &oss.PutBucketPublicAccessBlockRequest{Bucket: oss.Ptr(b),
				PublicAccessBlockConfiguration: &oss.PublicAccessBlockConfiguration{BlockPublicAccess: oss.Ptr(on)}}); err != nil {
				t.Fatal(err)
			}
		}
		// New buckets block public access, as OSS's do: a public ACL is
		// refused while the block is on, and set with it lifted it grants
		// nothing once the block is back.
		if tc.acl != oss.BucketACLPrivate {
			_, err := owner.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(b), Acl: tc.acl})
			wantServiceError(t, err, "AccessDenied", 403, "")
			setBlock(false)
		}
		if _, err := owner.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(b), Acl: tc.acl}); err != nil {
			t.Fatal(err)
		}
		if tc.acl != oss.BucketACLPrivate {
			setBlock(true)
			if got := anonGet(b, "obj"); got != 403 {
				t.Errorf("%s with public access blocked: anonymous GET = %d, want 403", tc.acl, got)
			}
		}
		setBlock(false)
		if got := anonGet(b, "obj"); got != tc.get {
			t.Errorf("%s: anonymous GET = %d, want %d", tc.acl, got, tc.get)
		}
		if got := anonPut(b, "new"); got != tc.put {
			t.Errorf("%s: anonymous PUT = %d, want %d", tc.acl, got, tc.put)
		}
		if got := anonGet(b, ""); got != tc.list {
			t.Errorf("%s: anonymous list = %d, want %d", tc.acl, got, tc.list)
		}
		_, err := stranger.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("obj")})
		if (err == nil) != (tc.get == 200) {
			t.Errorf("%s: other account GET err = %v", tc.acl, err)
		}
		_, err = stranger.GetBucketAcl(ctx, &oss.GetBucketAclRequest{Bucket: oss.Ptr(b)})
		wantServiceError(t, err, "AccessDenied", 403, "")
		_, err = stranger.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(b), BucketLoggingStatus: &oss.BucketLoggingStatus{}})
		wantServiceError(t, err, "AccessDenied", 403, "")
	}
	// An object ACL overrides the bucket's.
	b := randName("objacl")
	owner.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)})
	owner.PutBucketPublicAccessBlock(ctx, &oss.PutBucketPublicAccessBlockRequest{Bucket: oss.Ptr(b),
		PublicAccessBlockConfiguration: &oss.PublicAccessBlockConfiguration{BlockPublicAccess: oss.Ptr(false)}})
	owner.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("pub"), Body: strings.NewReader("x"), Acl: oss.ObjectACLPublicRead})
	if got := anonGet(b, "pub"); got != 200 {
		t.Errorf("public-read object in private bucket: anonymous GET = %d", got)
	}
	// Logging to a bucket owned by someone else: 403, EC 0032-00000009.
	theirs := randName("theirs")
	if _, err := stranger.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(theirs)}); err != nil {
		t.Fatal(err)
	}
	_, err := owner.PutBucketLogging(ctx, &oss.PutBucketLoggingRequest{Bucket: oss.Ptr(b),
		BucketLoggingStatus: &oss.BucketLoggingStatus{LoggingEnabled: &oss.LoggingEnabled{TargetBucket: oss.Ptr(theirs)}}})
	wantServiceError(t, err, "InvalidTargetBucketForLogging", 403, "0032-00000009")
	_, err = stranger.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)})
	wantServiceError(t, err, "BucketAlreadyExists", 409, "0015-00000104")
}

// TestSignedPayload: a V4 request that signs its body hash is refused when
// the body differs, and nothing is stored.
func TestSignedPayload(t *testing.T) {
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	b := newBucket(t, c)
	for _, tc := range []struct {
		body, hashOf string
		status       int
	}{{"payload", "payload", 200}, {"payload", "tampered", 400}} {
		req, _ := http.NewRequest(http.MethodPut, srv.Endpoint+"/"+b+"/signed", strings.NewReader(tc.body))
		sum := sha256.Sum256([]byte(tc.hashOf))
		req.Header.Set("x-oss-content-sha256", hex.EncodeToString(sum[:]))
		auth.SignV4(req, b, "signed", srv.AccessKeyID, srv.AccessKeySecret, srv.Region, time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("hash of %q: status %d, want %d: %s", tc.hashOf, resp.StatusCode, tc.status, body)
		}
		if tc.status != 200 {
			g, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("signed")})
			if err != nil || string(readAll(t, g.Body)) != "payload" {
				t.Errorf("rejected write changed the object: %v", err)
			}
		}
	}
}
