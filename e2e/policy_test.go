package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ossd/ossd/ossdtest"
)

// wantOSSErr checks that err is OSS's error code with status and EC.
func wantOSSErr(t *testing.T, what string, err error, status int, code, ec string) {
	t.Helper()
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.StatusCode != status || se.Code != code || (ec != "" && se.EC != ec) {
		t.Fatalf("%s: %v, want %d %s (EC %s)", what, err, status, code, ec)
	}
}

// TestBucketPolicyOSS: the four policy operations with the Go SDK v2 in
// every signing and addressing mode, a policy that lets a second account
// read one prefix, a Deny that locks the owner out of its own objects but
// not out of the policy operations, and Block Public Access refusing a
// public policy.
func TestBucketPolicyOSS(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			other := ossdtest.User{ID: "2000000000000007", DisplayName: "other", AccessKeyID: "LTAIotherpol", AccessKeySecret: "other-pol-secret"}
			srv := ossdtest.StartWith(t, ossdtest.Options{Users: []ossdtest.User{other}})
			c := v2Client(srv, m)
			oc := oss.NewClient(oss.LoadDefaultConfig().WithRegion(srv.Region).WithEndpoint(srv.Endpoint).WithUsePathStyle(true).
				WithCredentialsProvider(credentials.NewStaticCredentialsProvider(other.AccessKeyID, other.AccessKeySecret)))
			ctx := context.Background()
			b := randName("pol")
			if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"pub/a", "priv/b"} {
				if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(k), Body: strings.NewReader("data " + k)}); err != nil {
					t.Fatal(err)
				}
			}
			read := func(c *oss.Client, k string) error {
				r, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(k)})
				if err == nil {
					io.Copy(io.Discard, r.Body)
					r.Body.Close()
				}
				return err
			}

			_, err := c.GetBucketPolicy(ctx, &oss.GetBucketPolicyRequest{Bucket: oss.Ptr(b)})
			wantOSSErr(t, "GetBucketPolicy without one", err, 404, "NoSuchBucketPolicy", "0030-00000006")
			_, err = c.GetBucketPolicyStatus(ctx, &oss.GetBucketPolicyStatusRequest{Bucket: oss.Ptr(b)})
			wantOSSErr(t, "GetBucketPolicyStatus without one", err, 404, "NoSuchBucketPolicy", "0030-00000006")
			wantOSSErr(t, "other account before the policy", read(oc, "pub/a"), 403, "AccessDenied", "")

			allow := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["` + other.ID +
				`"],"Resource":["acs:oss:*:` + srv.AccountID + `:` + b + `/pub/*"]}]}`
			put, err := c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader(allow)})
			if err != nil || put.StatusCode != 200 {
				t.Fatalf("PutBucketPolicy = %+v, %v", put, err)
			}
			got, err := c.GetBucketPolicy(ctx, &oss.GetBucketPolicyRequest{Bucket: oss.Ptr(b)})
			if err != nil || got.Body != allow {
				t.Fatalf("GetBucketPolicy = %+v, %v; want the policy as put", got, err)
			}
			st, err := c.GetBucketPolicyStatus(ctx, &oss.GetBucketPolicyStatusRequest{Bucket: oss.Ptr(b)})
			if err != nil || st.PolicyStatus == nil || st.PolicyStatus.IsPublic == nil || *st.PolicyStatus.IsPublic {
				t.Fatalf("GetBucketPolicyStatus = %+v, %v; want IsPublic false", st, err)
			}
			if err := read(oc, "pub/a"); err != nil {
				t.Errorf("other account reading the allowed prefix: %v", err)
			}
			wantOSSErr(t, "other account outside the prefix", read(oc, "priv/b"), 403, "AccessDenied", "")
			_, err = oc.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("pub/c"), Body: strings.NewReader("x")})
			wantOSSErr(t, "other account writing (only reads allowed)", err, 403, "AccessDenied", "")
			_, err = oc.GetBucketPolicy(ctx, &oss.GetBucketPolicyRequest{Bucket: oss.Ptr(b)})
			wantOSSErr(t, "other account reading the policy", err, 403, "AccessDenied", "")

			// OSS: a Principal "*" reaches the owner only with a Condition
			// (without one it means everyone else).
			deny := `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:` + b + `/*","acs:oss:*:*:` + b +
				`"],"Condition":{"Bool":{"acs:SecureTransport":["false"]}}}]}`
			if _, err := c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader(deny)}); err != nil {
				t.Fatal(err)
			}
			wantOSSErr(t, "owner reading under a Deny", read(c, "pub/a"), 403, "AccessDenied", "0003-00000101")
			if _, err := c.GetBucketPolicy(ctx, &oss.GetBucketPolicyRequest{Bucket: oss.Ptr(b)}); err != nil {
				t.Errorf("owner's GetBucketPolicy under a Deny: %v", err)
			}
			if _, err := c.GetBucketPolicyStatus(ctx, &oss.GetBucketPolicyStatusRequest{Bucket: oss.Ptr(b)}); err != nil {
				t.Errorf("owner's GetBucketPolicyStatus under a Deny: %v", err)
			}
			del, err := c.DeleteBucketPolicy(ctx, &oss.DeleteBucketPolicyRequest{Bucket: oss.Ptr(b)})
			if err != nil || del.StatusCode != 204 {
				t.Fatalf("DeleteBucketPolicy under a Deny = %+v, %v", del, err)
			}
			if err := read(c, "pub/a"); err != nil {
				t.Errorf("owner reading after the Deny is gone: %v", err)
			}

			// New buckets block public access (OSS's default): a public
			// policy is refused, not stored to be ignored.
			public := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:` + b + `/*"]}]}`
			_, err = c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader(public)})
			wantOSSErr(t, "public policy under Block Public Access", err, 403, "AccessDenied", "")
			_, err = c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader(`{"Version":"2","Statement":[]}`)})
			wantOSSErr(t, "Version 2", err, 400, "InvalidPolicyDocument", "0030-00000002")
			_, err = c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader("{" + strings.Repeat(" ", 16*1024) + "}")})
			wantOSSErr(t, "policy over 16 KB", err, 400, "InvalidPolicyDocument", "")
		})
	}
}

// TestBucketPolicyAnonymous: with public access allowed, a public policy
// lets anonymous users read what it names; turning the bucket's block on
// makes it grant nothing, and the status says it is public.
func TestBucketPolicyAnonymous(t *testing.T) {
	srv := ossdtest.StartWith(t, ossdtest.Options{UnblockNewBuckets: true})
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	b := randName("polanon")
	if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("web/i.html"), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	public := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:` + b + `/web/*"]}]}`
	if _, err := c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader(public)}); err != nil {
		t.Fatal(err)
	}
	st, err := c.GetBucketPolicyStatus(ctx, &oss.GetBucketPolicyStatusRequest{Bucket: oss.Ptr(b)})
	if err != nil || !*st.PolicyStatus.IsPublic {
		t.Fatalf("GetBucketPolicyStatus = %+v, %v; want IsPublic true", st, err)
	}
	if code, body := anonGet(t, srv.Endpoint, b, "web/i.html"); code != 200 || body != "hi" {
		t.Fatalf("anonymous read allowed by the policy: %d %q", code, body)
	}
	// Conditions over the wire: a Referer allow-list, and a Deny for the
	// loopback source address unless the request is from a known page.
	refererOnly := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:` + b +
		`/web/*"],"Condition":{"StringLike":{"acs:Referer":["http://www.example.com/*"]}}},` +
		`{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:` + b + `/web/*"],` +
		`"Condition":{"IpAddress":{"acs:SourceIp":["127.0.0.0/8"]},"StringEquals":{"acs:Referer":["http://www.example.com/blocked"]}}}]}`
	if _, err := c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader(refererOnly)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		referer string
		want    int
	}{{"http://www.example.com/page", 200}, {"", 403}, {"http://evil.test/", 403}, {"http://www.example.com/blocked", 403}} {
		req, _ := http.NewRequest(http.MethodGet, srv.Endpoint+"/"+b+"/web/i.html", nil)
		if tc.referer != "" {
			req.Header.Set("Referer", tc.referer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("anonymous GET with Referer %q: %d, want %d", tc.referer, resp.StatusCode, tc.want)
		}
	}
	if _, err := c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader(public)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketPublicAccessBlock(ctx, &oss.PutBucketPublicAccessBlockRequest{Bucket: oss.Ptr(b),
		PublicAccessBlockConfiguration: &oss.PublicAccessBlockConfiguration{BlockPublicAccess: oss.Ptr(true)}}); err != nil {
		t.Fatal(err)
	}
	if code, _ := anonGet(t, srv.Endpoint, b, "web/i.html"); code != 403 {
		t.Fatalf("anonymous read of a public policy under Block Public Access: %d, want 403", code)
	}
}

// s3PolicyEnv starts ossd with a second account and makes a bucket as the
// owner: the owner's and the other account's aws-sdk-go-v2 clients.
func s3PolicyEnv(t *testing.T, prefix string, other ossdtest.User) (*ossdtest.Server, *s3.Client, *s3.Client, string) {
	t.Helper()
	srv := ossdtest.StartWith(t, ossdtest.Options{Users: []ossdtest.User{other}})
	c := s3Client(srv, false)
	oc := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(other.AccessKeyID, other.AccessKeySecret, "")})
	b := randName(prefix)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	return srv, c, oc, b
}

// TestBucketPolicyS3: aws-sdk-go-v2 with a policy in AWS's language.
func TestBucketPolicyS3(t *testing.T) {
	other := ossdtest.User{ID: "2000000000000008", DisplayName: "other", AccessKeyID: "AKIAOTHERPOL", AccessKeySecret: "other-s3pol-secret"}
	_, c, oc, b := s3PolicyEnv(t, "s3pol", other)
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("shared/x"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	wantCode := func(what string, err error, code string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Fatalf("%s: %v, want %s", what, err, code)
		}
	}
	_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
	wantCode("GetBucketPolicy without one", err, "NoSuchBucketPolicy")
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(`{"Version":"1"`)})
	wantCode("malformed policy", err, "MalformedPolicy")

	pol := `{"Version":"2012-10-17","Statement":[{"Sid":"r","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::` + other.ID +
		`:root"]},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/shared/*"]}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
	if err != nil || aws.ToString(got.Policy) != pol {
		t.Fatalf("GetBucketPolicy = %v, %v", got, err)
	}
	st, err := c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(b)})
	if err != nil || st.PolicyStatus == nil || aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Fatalf("GetBucketPolicyStatus = %+v, %v; want not public", st, err)
	}
	r, err := oc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("shared/x")})
	if err != nil {
		t.Fatalf("other account's GetObject allowed by the policy: %v", err)
	}
	r.Body.Close()
	if _, err := oc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("other account's ListObjectsV2 allowed by the policy: %v", err)
	}
	_, err = oc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("shared/y"), Body: strings.NewReader("y")})
	wantCode("other account's PutObject", err, "AccessDenied")
	// A copy reads its source as a GetObject under the source bucket's
	// policy: the other account may copy the shared object into its own.
	ob := randName("s3pol-other")
	if _, err := oc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(ob)}); err != nil {
		t.Fatal(err)
	}
	if _, err := oc.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(ob), Key: aws.String("copy"), CopySource: aws.String(b + "/shared/x")}); err != nil {
		t.Fatalf("other account copying an object the policy lets it read: %v", err)
	}
	if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err = oc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("shared/x")})
	wantCode("other account after DeleteBucketPolicy", err, "AccessDenied")
}

// TestBucketPolicyHeadMissing: S3's rule for a key that does not exist —
// a caller the policy lets list the bucket for a prefix naming the key
// gets 404, anyone else 403, so keys cannot be probed.
func TestBucketPolicyHeadMissing(t *testing.T) {
	other := ossdtest.User{ID: "2000000000000009", DisplayName: "other", AccessKeyID: "AKIAOTHERHEAD", AccessKeySecret: "other-head-secret"}
	_, c, oc, b := s3PolicyEnv(t, "s3pol-head", other)
	ctx := context.Background()
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other.ID + `"},"Action":"s3:ListBucket",` +
		`"Resource":"arn:aws:s3:::` + b + `","Condition":{"StringLike":{"s3:prefix":"public/*"}}}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"public/none": 404, "private/none": 403} {
		_, err := oc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != want {
			t.Errorf("HeadObject %s: %v, want %d", key, err, want)
		}
	}
}

// TestBucketPolicyPostObject: an anonymous form upload is authorized as a
// PutObject of the form's key, so a policy can allow one prefix.
func TestBucketPolicyPostObject(t *testing.T) {
	srv := ossdtest.StartWith(t, ossdtest.Options{UnblockNewBuckets: true})
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	b := randName("polpost")
	if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
		t.Fatal(err)
	}
	pol := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject"],"Principal":["*"],"Resource":["acs:oss:*:*:` + b + `/inbox/*"]}]}`
	if _, err := c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(b), Body: strings.NewReader(pol)}); err != nil {
		t.Fatal(err)
	}
	post := func(key string) int {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("key", key)
		fw, _ := w.CreateFormFile("file", "f.txt")
		fw.Write([]byte("form body"))
		w.Close()
		resp, err := http.Post(srv.Endpoint+"/"+b, w.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("inbox/a.txt"); got/100 != 2 {
		t.Errorf("anonymous form upload into the allowed prefix: %d", got)
	}
	if got := post("other/a.txt"); got != 403 {
		t.Errorf("anonymous form upload outside the allowed prefix: %d, want 403", got)
	}
}

// TestBucketPolicyObjectTag: a condition on the object's own tags
// (s3:ExistingObjectTag/<key>) is tested against the stored tags.
func TestBucketPolicyObjectTag(t *testing.T) {
	other := ossdtest.User{ID: "2000000000000010", DisplayName: "other", AccessKeyID: "AKIAOTHERTAG", AccessKeySecret: "other-tag-secret"}
	_, c, oc, b := s3PolicyEnv(t, "s3pol-tag", other)
	ctx := context.Background()
	for k, tag := range map[string]string{"pub": "security=public", "priv": "security=private"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader(k), Tagging: aws.String(tag)}); err != nil {
			t.Fatal(err)
		}
	}
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other.ID + `"},"Action":"s3:GetObject",` +
		`"Resource":"arn:aws:s3:::` + b + `/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/security":"public"}}}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	r, err := oc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("pub")})
	if err != nil {
		t.Fatalf("GetObject of the object tagged public: %v", err)
	}
	r.Body.Close()
	_, err = oc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("priv")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("GetObject of the object tagged private: %v, want AccessDenied", err)
	}

	// The tagging operations see the tags the object has before the
	// request: read and replace them on the public object only.
	pol = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other.ID + `"},` +
		`"Action":["s3:GetObjectTagging","s3:PutObjectTagging"],` +
		`"Resource":"arn:aws:s3:::` + b + `/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/security":"public"}}}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	denied := func(what string, err error) {
		t.Helper()
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Errorf("%s: %v, want AccessDenied", what, err)
		}
	}
	tg, err := oc.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("pub")})
	if err != nil || len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Value) != "public" {
		t.Fatalf("GetObjectTagging of the object tagged public: %+v, %v", tg, err)
	}
	_, err = oc.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("priv")})
	denied("GetObjectTagging of the object tagged private", err)
	_, err = oc.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("missing")})
	denied("GetObjectTagging of a key that does not exist", err)
	_, err = oc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("pub")})
	denied("GetObject when only the tagging actions are allowed", err)
	tagSet := func(v string) *types.Tagging {
		return &types.Tagging{TagSet: []types.Tag{{Key: aws.String("security"), Value: aws.String(v)}}}
	}
	_, err = oc.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("priv"), Tagging: tagSet("public")})
	denied("PutObjectTagging of the object tagged private", err)
	// Allowed by the tags it replaces; once they say private, no more.
	if _, err := oc.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("pub"), Tagging: tagSet("private")}); err != nil {
		t.Fatalf("PutObjectTagging of the object tagged public: %v", err)
	}
	_, err = oc.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("pub"), Tagging: tagSet("public")})
	denied("PutObjectTagging once the object is tagged private", err)
}
