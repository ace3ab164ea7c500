package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ossd/ossd/ossdtest"
)

// s3Refused checks that err is S3's error code with the HTTP status.
func s3Refused(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var ae smithy.APIError
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("%s: %v; want %d %s", what, err, status, code)
	}
}

// TestS3PublicAccessBlockFlags: S3's four Block Public Access settings,
// each set alone with aws-sdk-go-v2, do what AWS documents and nothing
// more; they are read back as written, OSS's dialect shows its one switch
// (on only when all four are), and a deleted configuration is none at all.
func TestS3PublicAccessBlockFlags(t *testing.T) {
	other := ossdtest.User{ID: "2000000000000041", DisplayName: "other", AccessKeyID: "AKIAOTHERPAB", AccessKeySecret: "other-pab-secret"}
	srv := ossdtest.StartWith(t, ossdtest.Options{Users: []ossdtest.User{other}})
	ctx := context.Background()
	c := s3Client(srv, false)
	oc := s3ClientAs(srv, other.AccessKeyID, other.AccessKeySecret)
	occ := oss.NewClient(oss.LoadDefaultConfig().WithRegion(srv.Region).WithEndpoint(srv.Endpoint).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret)))

	put := func(b string, acls, ignore, policy, restrict bool) {
		t.Helper()
		_, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b),
			PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(acls),
				IgnorePublicAcls: aws.Bool(ignore), BlockPublicPolicy: aws.Bool(policy), RestrictPublicBuckets: aws.Bool(restrict)}})
		if err != nil {
			t.Fatalf("PutPublicAccessBlock(%v %v %v %v): %v", acls, ignore, policy, restrict, err)
		}
	}
	get := func(b string) string {
		t.Helper()
		r, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatalf("GetPublicAccessBlock: %v", err)
		}
		pc := r.PublicAccessBlockConfiguration
		return strings.Join([]string{bs(pc.BlockPublicAcls), bs(pc.IgnorePublicAcls), bs(pc.BlockPublicPolicy), bs(pc.RestrictPublicBuckets)}, " ")
	}
	ossSwitch := func(b string) bool {
		t.Helper()
		r, err := occ.GetBucketPublicAccessBlock(ctx, &oss.GetBucketPublicAccessBlockRequest{Bucket: oss.Ptr(b)})
		if err != nil {
			t.Fatalf("OSS GetBucketPublicAccessBlock: %v", err)
		}
		return *r.PublicAccessBlockConfiguration.BlockPublicAccess
	}
	newBucket := func(name string) string {
		t.Helper()
		b := randName(name)
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("data")}); err != nil {
			t.Fatal(err)
		}
		return b
	}
	publicPolicy := func(b string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}]}`
	}

	t.Run("read back as written", func(t *testing.T) {
		b := newBucket("pab-rw")
		if got := get(b); got != "true true true true" {
			t.Errorf("a new bucket (blocked by default): %s", got)
		}
		if !ossSwitch(b) {
			t.Error("OSS switch of a new bucket: off")
		}
		put(b, true, false, true, false)
		if got := get(b); got != "true false true false" {
			t.Errorf("after putting true false true false: %s", got)
		}
		if ossSwitch(b) {
			t.Error("OSS switch with two of four settings on: on")
		}
		if _, err := c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b)})
		s3Refused(t, "GetPublicAccessBlock after delete", err, 404, "NoSuchPublicAccessBlockConfiguration")
		if ossSwitch(b) {
			t.Error("OSS switch after delete: on")
		}
		// No configuration blocks nothing: a public policy may be put.
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(publicPolicy(b))}); err != nil {
			t.Errorf("public policy on a bucket without a configuration: %v", err)
		}
	})

	t.Run("BlockPublicAcls alone", func(t *testing.T) {
		b := newBucket("pab-acls")
		put(b, false, false, false, false)
		if _, err := c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("k"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
			t.Fatal(err)
		}
		put(b, true, false, false, false)
		_, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), ACL: types.BucketCannedACLPublicRead})
		s3Refused(t, "PutBucketAcl public-read", err, 403, "AccessDenied")
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k2"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPublicReadWrite})
		s3Refused(t, "PutObject public-read-write", err, 403, "AccessDenied")
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k2"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLAuthenticatedRead})
		s3Refused(t, "PutObject authenticated-read", err, 403, "AccessDenied")
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k2"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPrivate}); err != nil {
			t.Errorf("PutObject private: %v", err)
		}
		// Not IgnorePublicAcls: the public ACL set before still grants, and
		// a public policy may be put.
		if st, body := anonGet(t, srv.Endpoint, b, "k"); st != 200 || body != "data" {
			t.Errorf("anonymous read of a public-read object set before: %d %s", st, body)
		}
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(publicPolicy(b))}); err != nil {
			t.Errorf("public policy under BlockPublicAcls alone: %v", err)
		}
	})

	t.Run("IgnorePublicAcls alone", func(t *testing.T) {
		b := newBucket("pab-ignore")
		put(b, false, true, false, false)
		// Setting a public ACL is allowed; it grants nothing.
		if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), ACL: types.BucketCannedACLPublicRead}); err != nil {
			t.Fatalf("PutBucketAcl public-read under IgnorePublicAcls alone: %v", err)
		}
		if _, err := c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("k"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
			t.Fatal(err)
		}
		if st, _ := anonGet(t, srv.Endpoint, b, "k"); st != 403 {
			t.Errorf("anonymous read of a public-read object with public ACLs ignored: %d", st)
		}
		_, err := oc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
		s3Refused(t, "other account listing a public-read bucket with public ACLs ignored", err, 403, "AccessDenied")
		put(b, false, false, false, false)
		if st, body := anonGet(t, srv.Endpoint, b, "k"); st != 200 || body != "data" {
			t.Errorf("anonymous read once no longer ignored: %d %s", st, body)
		}
	})

	t.Run("BlockPublicPolicy alone", func(t *testing.T) {
		b := newBucket("pab-policy")
		put(b, false, false, true, false)
		_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(publicPolicy(b))})
		s3Refused(t, "public policy", err, 403, "AccessDenied")
		named := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + other.ID +
			`:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b + `/*"}]}`
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(named)}); err != nil {
			t.Errorf("a policy naming an account: %v", err)
		}
		if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), ACL: types.BucketCannedACLPublicRead}); err != nil {
			t.Errorf("public ACL under BlockPublicPolicy alone: %v", err)
		}
	})

	t.Run("RestrictPublicBuckets alone", func(t *testing.T) {
		b := newBucket("pab-restrict")
		put(b, false, false, false, false)
		// A public policy that also grants the other account by name.
		pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b +
			`/*"},{"Effect":"Allow","Principal":{"AWS":"` + other.ID + `"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::` + b + `"}]}`
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(pol)}); err != nil {
			t.Fatal(err)
		}
		if st, body := anonGet(t, srv.Endpoint, b, "k"); st != 200 || body != "data" {
			t.Fatalf("anonymous read allowed by the public policy: %d %s", st, body)
		}
		if _, err := oc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("other account listing as the policy allows: %v", err)
		}
		put(b, false, false, false, true)
		if st, _ := anonGet(t, srv.Endpoint, b, "k"); st != 403 {
			t.Errorf("anonymous read with RestrictPublicBuckets: %d", st)
		}
		_, err := oc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
		s3Refused(t, "other account through a public policy with RestrictPublicBuckets", err, 403, "AccessDenied")
		r, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
		if err != nil {
			t.Fatalf("the owner under RestrictPublicBuckets: %v", err)
		}
		r.Body.Close()
	})
}

func bs(p *bool) string {
	if p == nil {
		return "nil"
	}
	if *p {
		return "true"
	}
	return "false"
}
