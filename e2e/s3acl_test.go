package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ossd/ossd/ossdtest"
)

// S3 ACL grants (x-amz-grant-* headers, AccessControlPolicy bodies) with
// aws-sdk-go-v2 and a second account: stored as written, read back with
// the grants to groups first, shown to OSS clients as the nearest canned
// ACL, and evaluated.

const (
	allUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	authUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
)

var aclOther = ossdtest.User{ID: "2000000000000091", DisplayName: "grantee", AccessKeyID: "LTAIaclother", AccessKeySecret: "aclothersecret"}

// s3ClientAs is an S3 client signing as the given key pair.
func s3ClientAs(srv *ossdtest.Server, ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		Region: srv.Region, Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
	})
}

func userGrant(id string, p types.Permission) types.Grant {
	return types.Grant{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String(id)}, Permission: p}
}

func groupGrant(uri string, p types.Permission) types.Grant {
	return types.Grant{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String(uri)}, Permission: p}
}

// grantList renders grants as "TYPE:ID-or-URI:PERM" in order.
func grantList(gs []types.Grant) string {
	var out []string
	for _, g := range gs {
		who := aws.ToString(g.Grantee.ID) + aws.ToString(g.Grantee.URI)
		out = append(out, fmt.Sprintf("%s:%s:%s", g.Grantee.Type, who, g.Permission))
	}
	return strings.Join(out, " ")
}

// TestS3ACLGrantsRoundTrip: grants set by headers and by body are read
// back exactly, in order, with the owner; the OSS dialect sees the
// nearest canned ACL; authenticated-read and revoking every grant work.
func TestS3ACLGrantsRoundTrip(t *testing.T) {
	srv := ossdtest.StartWith(t, ossdtest.Options{UnblockNewBuckets: true, Users: []ossdtest.User{aclOther}})
	c := s3Client(srv, false)
	o := v2Client(srv, modes[0])
	ctx := context.Background()
	owner := srv.AccountID

	ossACL := func(b string) string {
		t.Helper()
		r, err := o.GetBucketAcl(ctx, &oss.GetBucketAclRequest{Bucket: oss.Ptr(b)})
		if err != nil {
			t.Fatal(err)
		}
		return oss.ToString(r.ACL)
	}
	s3ACL := func(b string) *s3.GetBucketAclOutput {
		t.Helper()
		r, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// Header grants on CreateBucket are the whole ACL.
	b := randName("grants")
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b),
		GrantRead: aws.String(`id="` + aclOther.ID + `"`), GrantWriteACP: aws.String(`id="` + aclOther.ID + `", uri="` + allUsers + `"`)})
	if err != nil {
		t.Fatal(err)
	}
	got := s3ACL(b)
	// Listed with the group's grant first.
	want := fmt.Sprintf("Group:%s:WRITE_ACP CanonicalUser:%s:READ CanonicalUser:%s:WRITE_ACP", allUsers, aclOther.ID, aclOther.ID)
	if grantList(got.Grants) != want || aws.ToString(got.Owner.ID) != owner {
		t.Errorf("GetBucketAcl after header grants = owner %s, %s; want owner %s, %s", aws.ToString(got.Owner.ID), grantList(got.Grants), owner, want)
	}
	if got.Grants[1].Grantee.DisplayName == nil {
		t.Errorf("canonical user grant has no DisplayName")
	}
	if a := ossACL(b); a != "private" {
		t.Errorf("OSS view of grants without AllUsers READ = %q, want private", a)
	}

	// A body is stored as written (owner first, as the client wrote it)
	// and listed with the grants to groups first (RGW's order, which
	// s3-tests' check_grants relies on), each kind in the order written.
	policy := []types.Grant{userGrant(owner, types.PermissionFullControl), userGrant(aclOther.ID, types.PermissionWrite),
		groupGrant(allUsers, types.PermissionRead), groupGrant(authUsers, types.PermissionReadAcp)}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b),
		AccessControlPolicy: &types.AccessControlPolicy{Owner: &types.Owner{ID: aws.String(owner)}, Grants: policy}}); err != nil {
		t.Fatal(err)
	}
	if g, w := grantList(s3ACL(b).Grants), grantList([]types.Grant{policy[2], policy[3], policy[0], policy[1]}); g != w {
		t.Errorf("GetBucketAcl = %s, want %s", g, w)
	}
	if a := ossACL(b); a != "public-read" {
		t.Errorf("OSS view with AllUsers READ = %q, want public-read", a)
	}

	// Revoking every grant leaves none listed (the owner keeps its rights).
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b),
		AccessControlPolicy: &types.AccessControlPolicy{Owner: &types.Owner{ID: aws.String(owner)}, Grants: []types.Grant{}}}); err != nil {
		t.Fatal(err)
	}
	if g := s3ACL(b).Grants; len(g) != 0 {
		t.Errorf("after revoking all: %s, want none", grantList(g))
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Errorf("owner PutObject with every grant revoked: %v", err)
	}

	// authenticated-read: a canned ACL OSS lacks, kept as grants.
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), ACL: types.BucketCannedACLAuthenticatedRead}); err != nil {
		t.Fatal(err)
	}
	if g, w := grantList(s3ACL(b).Grants), fmt.Sprintf("Group:%s:READ CanonicalUser:%s:FULL_CONTROL", authUsers, owner); g != w {
		t.Errorf("authenticated-read = %s, want %s", g, w)
	}
	if a := ossACL(b); a != "private" {
		t.Errorf("OSS view of authenticated-read = %q, want private", a)
	}
	// An OSS canned ACL replaces the grants.
	if _, err := o.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(b), Acl: oss.BucketACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	if g, w := grantList(s3ACL(b).Grants), fmt.Sprintf("Group:%s:READ Group:%s:WRITE CanonicalUser:%s:FULL_CONTROL", allUsers, allUsers, owner); g != w {
		t.Errorf("after OSS PutBucketAcl public-read-write: %s, want %s", g, w)
	}

	// Object grants: PutObject headers, then PutObjectAcl with a body.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("o"), Body: strings.NewReader("x"),
		GrantFullControl: aws.String("id=" + aclOther.ID)}); err != nil {
		t.Fatal(err)
	}
	oa, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("o")})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := grantList(oa.Grants), "CanonicalUser:"+aclOther.ID+":FULL_CONTROL"; g != w {
		t.Errorf("GetObjectAcl = %s, want %s", g, w)
	}
	// Multipart and copy carry header grants to the object they make.
	mu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("m"), GrantRead: aws.String("id=" + aclOther.ID)})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("m"), UploadId: mu.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("m"), UploadId: mu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("c"), CopySource: aws.String(b + "/o"), GrantRead: aws.String("id=" + aclOther.ID)}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"m", "c"} {
		oa, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := grantList(oa.Grants), "CanonicalUser:"+aclOther.ID+":READ"; g != w {
			t.Errorf("%s: GetObjectAcl = %s, want %s", k, g, w)
		}
	}
}

// TestS3ACLGrantErrors: S3's answers to grants it cannot take.
func TestS3ACLGrantErrors(t *testing.T) {
	srv := ossdtest.StartWith(t, ossdtest.Options{UnblockNewBuckets: true, Users: []ossdtest.User{aclOther}})
	c := s3Client(srv, false)
	ctx := context.Background()
	b := randName("granterr")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	body := func(gs ...types.Grant) *s3.PutBucketAclInput {
		return &s3.PutBucketAclInput{Bucket: aws.String(b), AccessControlPolicy: &types.AccessControlPolicy{Owner: &types.Owner{ID: aws.String(srv.AccountID)}, Grants: gs}}
	}
	for _, tc := range []struct {
		name string
		in   *s3.PutBucketAclInput
		code string
	}{
		{"unknown canonical user", body(userGrant("9999999999999999", types.PermissionRead)), "InvalidArgument"},
		{"unknown group", body(groupGrant("http://acs.amazonaws.com/groups/s3/LogDelivery", types.PermissionWrite)), "InvalidArgument"},
		{"bad permission", body(userGrant(aclOther.ID, types.Permission("READ_ALL"))), "MalformedACLError"},
		{"email grantee", body(types.Grant{Grantee: &types.Grantee{Type: types.TypeAmazonCustomerByEmail, EmailAddress: aws.String("a@example.com")}, Permission: types.PermissionRead}), "UnresolvableGrantByEmailAddress"},
		{"email header", &s3.PutBucketAclInput{Bucket: aws.String(b), GrantRead: aws.String(`emailAddress="a@example.com"`)}, "UnresolvableGrantByEmailAddress"},
		{"unknown id header", &s3.PutBucketAclInput{Bucket: aws.String(b), GrantRead: aws.String(`id="nobody"`)}, "InvalidArgument"},
		{"canned and grants", &s3.PutBucketAclInput{Bucket: aws.String(b), ACL: types.BucketCannedACLPrivate, GrantRead: aws.String("id=" + aclOther.ID)}, "InvalidRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutBucketAcl(ctx, tc.in)
			wantS3Error(t, err, tc.code)
		})
	}
	// A body that is not an AccessControlPolicy.
	r := rawDoSigned(t, srv, http.MethodPut, b, "", "acl", strings.NewReader("<AccessControlPolicy><AccessControlList>"), nil, s3Signer(t, srv))
	if r.status != 400 || !strings.Contains(r.body, "<Code>MalformedACLError</Code>") {
		t.Errorf("truncated body: %d %s", r.status, r.body)
	}
}

// TestS3ACLGrantMatrix: auth-matrix rows for grants. Each row sets an ACL
// (as the owner) and has a caller try one operation; a grant to the
// caller's account (or a group it is in) allows it, the same ACL without
// that grant refuses it with AccessDenied.
func TestS3ACLGrantMatrix(t *testing.T) {
	srv := ossdtest.StartWith(t, ossdtest.Options{UnblockNewBuckets: true, Users: []ossdtest.User{aclOther}})
	ctx := context.Background()
	owner := s3Client(srv, false)
	other := s3ClientAs(srv, aclOther.AccessKeyID, aclOther.AccessKeySecret)
	anon := s3.New(s3.Options{Region: srv.Region, Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true})

	type op struct {
		name string
		do   func(c *s3.Client, b string) error
	}
	list := op{"ListObjectsV2", func(c *s3.Client, b string) error {
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
		return err
	}}
	put := op{"PutObject", func(c *s3.Client, b string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("new"), Body: strings.NewReader("n")})
		return err
	}}
	getACL := op{"GetBucketAcl", func(c *s3.Client, b string) error {
		_, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b)})
		return err
	}}
	putACL := op{"PutBucketAcl", func(c *s3.Client, b string) error {
		// Re-sets what the row set, so a success changes nothing.
		g, err := owner.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b)})
		if err != nil {
			return err
		}
		_, err = c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), AccessControlPolicy: &types.AccessControlPolicy{Owner: g.Owner, Grants: g.Grants}})
		return err
	}}
	getObj := op{"GetObject", func(c *s3.Client, b string) error {
		r, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("obj")})
		if err == nil {
			r.Body.Close()
		}
		return err
	}}
	getObjACL := op{"GetObjectAcl", func(c *s3.Client, b string) error {
		_, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("obj")})
		return err
	}}
	putObjACL := op{"PutObjectAcl", func(c *s3.Client, b string) error {
		_, err := c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("obj"), GrantFullControl: aws.String("id=" + aclOther.ID)})
		return err
	}}

	me := aclOther.ID
	for _, tc := range []struct {
		name    string
		bucket  []types.Grant // bucket ACL (nil: private)
		object  []types.Grant // ACL of "obj" (nil: inherits)
		blocked bool          // Block Public Access on for the bucket
		caller  *s3.Client
		op      op
		allowed bool
	}{
		{"READ lists", []types.Grant{userGrant(me, types.PermissionRead)}, nil, false, other, list, true},
		{"no grant, no list", []types.Grant{userGrant(me, types.PermissionWrite)}, nil, false, other, list, false},
		{"WRITE writes", []types.Grant{userGrant(me, types.PermissionWrite)}, nil, false, other, put, true},
		{"READ does not write", []types.Grant{userGrant(me, types.PermissionRead)}, nil, false, other, put, false},
		{"READ_ACP reads the ACL", []types.Grant{userGrant(me, types.PermissionReadAcp)}, nil, false, other, getACL, true},
		{"READ does not read the ACL", []types.Grant{userGrant(me, types.PermissionRead)}, nil, false, other, getACL, false},
		{"WRITE_ACP sets the ACL", []types.Grant{userGrant(me, types.PermissionWriteAcp)}, nil, false, other, putACL, true},
		{"READ_ACP does not set the ACL", []types.Grant{userGrant(me, types.PermissionReadAcp)}, nil, false, other, putACL, false},
		{"FULL_CONTROL lists", []types.Grant{userGrant(me, types.PermissionFullControl)}, nil, false, other, list, true},
		{"FULL_CONTROL writes", []types.Grant{userGrant(me, types.PermissionFullControl)}, nil, false, other, put, true},
		{"FULL_CONTROL sets the ACL", []types.Grant{userGrant(me, types.PermissionFullControl)}, nil, false, other, putACL, true},
		{"grant to another account only", []types.Grant{userGrant(srv.AccountID, types.PermissionFullControl)}, nil, false, other, list, false},
		{"object READ reads the object", nil, []types.Grant{userGrant(me, types.PermissionRead)}, false, other, getObj, true},
		{"object private", nil, []types.Grant{userGrant(srv.AccountID, types.PermissionFullControl)}, false, other, getObj, false},
		{"object READ_ACP", nil, []types.Grant{userGrant(me, types.PermissionReadAcp)}, false, other, getObjACL, true},
		{"object READ is not READ_ACP", nil, []types.Grant{userGrant(me, types.PermissionRead)}, false, other, getObjACL, false},
		{"object WRITE_ACP", nil, []types.Grant{userGrant(me, types.PermissionWriteAcp)}, false, other, putObjACL, true},
		{"object READ_ACP is not WRITE_ACP", nil, []types.Grant{userGrant(me, types.PermissionReadAcp)}, false, other, putObjACL, false},
		{"AuthenticatedUsers: signed account", []types.Grant{groupGrant(authUsers, types.PermissionRead)}, nil, false, other, list, true},
		{"AuthenticatedUsers: anonymous", []types.Grant{groupGrant(authUsers, types.PermissionRead)}, nil, false, anon, list, false},
		{"AllUsers: anonymous", []types.Grant{groupGrant(allUsers, types.PermissionRead)}, nil, false, anon, list, true},
		{"AllUsers WRITE: anonymous writes", []types.Grant{groupGrant(allUsers, types.PermissionWrite)}, nil, false, anon, put, true},
		{"AllUsers, public access blocked", []types.Grant{groupGrant(allUsers, types.PermissionRead)}, nil, true, anon, list, false},
		{"AuthenticatedUsers, public access blocked", []types.Grant{groupGrant(authUsers, types.PermissionRead)}, nil, true, other, list, false},
		{"own grant, public access blocked", []types.Grant{userGrant(me, types.PermissionRead)}, nil, true, other, list, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := randName("gm")
			if _, err := owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatal(err)
			}
			if _, err := owner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("obj"), Body: strings.NewReader("o")}); err != nil {
				t.Fatal(err)
			}
			pol := func(gs []types.Grant) *types.AccessControlPolicy {
				return &types.AccessControlPolicy{Owner: &types.Owner{ID: aws.String(srv.AccountID)}, Grants: gs}
			}
			if tc.bucket != nil {
				if _, err := owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), AccessControlPolicy: pol(tc.bucket)}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.object != nil {
				if _, err := owner.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("obj"), AccessControlPolicy: pol(tc.object)}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.blocked {
				if _, err := owner.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b),
					PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{IgnorePublicAcls: aws.Bool(true)}}); err != nil {
					t.Fatal(err)
				}
			}
			err := tc.op.do(tc.caller, b)
			if tc.allowed && err != nil {
				t.Errorf("%s = %v, want allowed", tc.op.name, err)
			}
			if !tc.allowed {
				wantS3Error(t, err, "AccessDenied")
			}
		})
	}

	// Block Public Access refuses group grants as it refuses public canned
	// ACLs (the bucket's block was turned on above for some rows; here a
	// fresh bucket with its block on).
	b := randName("gmbpa")
	if _, err := owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{allUsers, authUsers} {
		_, err := owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), GrantRead: aws.String(`uri="` + g + `"`)})
		wantS3Error(t, err, "AccessDenied")
	}
	_, err := owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(b), GrantRead: aws.String(`id="` + aclOther.ID + `"`)})
	if err != nil {
		t.Errorf("grant to an account with public access blocked: %v", err)
	}
}
