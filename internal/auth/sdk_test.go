package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	v2sdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	v1sdk "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/ossd/ossd/internal/oss"
)

// Cross-checks against the SDKs' own signing code: what the SDKs sign,
// Verify must accept. Two layers: V2SDK's exported signers called
// directly on a request, and both SDK clients talking to a test server over
// real HTTP (which also covers URL escaping and net/http's header handling).

const testRegion = "cn-hangzhou"

// awkwardKey has every character class that trips canonicalisation.
const awkwardKey = "dir/a b+c~ü?&=%._-(1).txt"

func ptr[T any](v T) *T { return &v }

func TestV2SDKSignerDirect(t *testing.T) {
	type tc struct {
		name        string
		method      string
		bucket, key string
		query       url.Values
		header      http.Header
		subResource []string // what the V2SDK operation passes for V1
		additional  []string
		token       string
	}
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []tc{
		{name: "put object", method: "PUT", bucket: "bucket", key: awkwardKey,
			header: hdr("Content-Type", "text/plain", "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==", "x-oss-meta-author", " alice ", "x-oss-object-acl", "private")},
		{name: "get with response overrides", method: "GET", bucket: "bucket", key: "k",
			query: q("response-content-type", "text/html; charset=utf-8", "versionId", "CAEQ+/=", "x-oss-process", "image/resize,w_10")},
		{name: "list objects", method: "GET", bucket: "bucket",
			query: q("prefix", "a b/", "marker", "m&n", "max-keys", "10", "encoding-type", "url")},
		{name: "bucket logging", method: "PUT", bucket: "bucket", query: q("logging", ""),
			header: hdr("Content-Type", "application/xml", "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="), subResource: []string{"logging"}},
		{name: "user defined log fields", method: "GET", bucket: "bucket", query: q("userDefinedLogFieldsConfig", ""),
			subResource: []string{"userDefinedLogFieldsConfig"}},
		{name: "service", method: "GET", query: q("prefix", "x", "regionList", "")},
		{name: "sts", method: "DELETE", bucket: "bucket", key: "k", token: "tok/+="},
		{name: "repeated x-oss header", method: "PUT", bucket: "bucket", key: "k",
			header: hdr("x-oss-meta-a", "1", "x-oss-meta-a", "2")},
		{name: "additional headers", method: "GET", bucket: "bucket", key: "k",
			header: hdr("User-Agent", "ua", "Cache-Control", "no-cache", "Range", "bytes=0-1"), additional: []string{"User-Agent", "range"}},
	}
	signTime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, c := range cases {
		for _, version := range []string{"v1", "v4"} {
			for _, query := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/presign=%v", c.name, version, query)
				t.Run(name, func(t *testing.T) {
					u := "http://" + c.bucket + ".oss-cn-hangzhou.aliyuncs.com/" + escape(c.key, false)
					req, _ := http.NewRequest(c.method, u, nil)
					req.Header = c.header.Clone()
					if req.Header == nil {
						req.Header = http.Header{}
					}
					req.URL.RawQuery = strings.ReplaceAll(c.query.Encode(), "+", "%20")
					cred, _ := credentials.NewStaticCredentialsProvider("ak", "sk", c.token).GetCredentials(context.Background())
					sc := &signer.SigningContext{
						Product: ptr("oss"), Region: ptr(testRegion),
						Request: req, Credentials: &cred,
						SubResource: c.subResource, AdditionalHeaders: c.additional,
						AuthMethodQuery: query,
					}
					if c.bucket != "" {
						sc.Bucket = ptr(c.bucket)
					}
					if c.key != "" {
						sc.Key = ptr(c.key)
					}
					now := signTime
					if query {
						// The SDK takes the V4 sign time from the wall clock;
						// Time is the expiry.
						now = time.Now()
						sc.Time = now.Add(10 * time.Minute)
					} else {
						sc.Time = signTime
					}
					var s signer.Signer = &signer.SignerV1{}
					if version == "v4" {
						s = &signer.SignerV4{}
					}
					if err := s.Sign(context.Background(), sc); err != nil {
						t.Fatal(err)
					}
					in := Input{Method: req.Method, Bucket: c.bucket, Key: c.key, RawQuery: req.URL.RawQuery,
						Header: req.Header, Now: now.Add(time.Minute), Region: testRegion}
					res, err := Verify(in, akSK)
					if err != nil {
						t.Fatalf("Verify: %v\nextra: %v", err, asOSS(t, err).Extra)
					}
					want := Result{AccessKeyID: "ak", Version: version, Presigned: query, SecurityToken: c.token}
					if res != want {
						t.Errorf("result = %+v, want %+v", res, want)
					}
				})
			}
		}
	}
}

// recorder is a test OSS endpoint that verifies every request it gets.
type recorder struct {
	mu   sync.Mutex
	seen []string // "METHOD /path?query: <version>" or ": error ..."
	bad  []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	in := Input{Method: r.Method, Bucket: bucket, Key: key, RawQuery: r.URL.RawQuery,
		Header: r.Header, Host: r.Host, Now: time.Now(), Region: testRegion}
	res, err := Verify(in, keys("ak", "sk"))
	line := fmt.Sprintf("%s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	w.Header().Set("x-oss-request-id", "5C3D9175B6FC201293AD0000")
	if err != nil {
		var e *oss.Error
		errors.As(err, &e)
		rec.bad = append(rec.bad, fmt.Sprintf("%s: %v %q", line, err, e.Extra))
		w.WriteHeader(http.StatusForbidden)
		return
	}
	rec.seen = append(rec.seen, line+": "+res.Version+fmt.Sprint(res.Presigned))
	w.WriteHeader(http.StatusOK)
}

// check fails t if any request was refused, or if fewer than min arrived.
func (rec *recorder) check(t *testing.T, min int) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, b := range rec.bad {
		t.Errorf("refused: %s", b)
	}
	t.Logf("%d verified: %s", len(rec.seen), strings.Join(rec.seen, "\n"))
	if len(rec.seen)+len(rec.bad) < min {
		t.Errorf("only %d requests reached the server (want >= %d): %v", len(rec.seen)+len(rec.bad), min, rec.seen)
	}
}

func TestV2SDKClientOverHTTP(t *testing.T) {
	for _, sv := range []struct {
		name    string
		version v2sdk.SignatureVersionType
	}{{"v1", v2sdk.SignatureVersionV1}, {"v4", v2sdk.SignatureVersionV4}} {
		for _, token := range []string{"", "sts-token"} {
			t.Run(fmt.Sprintf("%s/token=%q", sv.name, token), func(t *testing.T) {
				rec := &recorder{}
				srv := httptest.NewServer(rec)
				defer srv.Close()
				cfg := v2sdk.LoadDefaultConfig().
					WithCredentialsProvider(credentials.NewStaticCredentialsProvider("ak", "sk", token)).
					WithRegion(testRegion).WithEndpoint(srv.URL).WithUsePathStyle(true).
					WithSignatureVersion(sv.version).WithRetryMaxAttempts(1).
					WithAdditionalHeaders([]string{"User-Agent"})
				c := v2sdk.NewClient(cfg)
				ctx := context.Background()
				b := ptr("examplebucket")
				c.PutObject(ctx, &v2sdk.PutObjectRequest{Bucket: b, Key: ptr(awkwardKey), ContentType: ptr("text/plain"),
					Metadata: map[string]string{"Author": "alice"}, Body: strings.NewReader("hello")})
				c.GetObject(ctx, &v2sdk.GetObjectRequest{Bucket: b, Key: ptr(awkwardKey), ResponseContentType: ptr("text/html"), VersionId: ptr("v+1")})
				c.GetBucketAcl(ctx, &v2sdk.GetBucketAclRequest{Bucket: b})
				c.ListObjects(ctx, &v2sdk.ListObjectsRequest{Bucket: b, Prefix: ptr("a b/"), Marker: ptr("m&n")})
				c.ListObjectsV2(ctx, &v2sdk.ListObjectsV2Request{Bucket: b, Prefix: ptr("p"), ContinuationToken: ptr("tok=")})
				c.PutBucketLogging(ctx, &v2sdk.PutBucketLoggingRequest{Bucket: b, BucketLoggingStatus: &v2sdk.BucketLoggingStatus{
					LoggingEnabled: &v2sdk.LoggingEnabled{TargetBucket: ptr("logs"), TargetPrefix: ptr("access/")}}})
				c.GetBucketLogging(ctx, &v2sdk.GetBucketLoggingRequest{Bucket: b})
				c.GetUserDefinedLogFieldsConfig(ctx, &v2sdk.GetUserDefinedLogFieldsConfigRequest{Bucket: b})
				c.DeleteMultipleObjects(ctx, &v2sdk.DeleteMultipleObjectsRequest{Bucket: b, Delete: &v2sdk.Delete{
					Objects: []v2sdk.ObjectIdentifier{{Key: ptr("a")}, {Key: ptr(awkwardKey)}}}})
				c.ListBuckets(ctx, &v2sdk.ListBucketsRequest{Prefix: ptr("ex")})

				// Presigned URLs, fetched by a plain HTTP client.
				for _, pr := range []any{
					&v2sdk.GetObjectRequest{Bucket: b, Key: ptr(awkwardKey), ResponseContentType: ptr("text/html")},
					&v2sdk.PutObjectRequest{Bucket: b, Key: ptr("up.txt"), ContentType: ptr("text/plain")},
				} {
					p, err := c.Presign(ctx, pr, v2sdk.PresignExpires(10*time.Minute))
					if err != nil {
						t.Fatalf("presign: %v", err)
					}
					req, _ := http.NewRequest(p.Method, p.URL, nil)
					for k, v := range p.SignedHeaders {
						req.Header.Set(k, v)
					}
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}
				rec.check(t, 12)
			})
		}
	}
}

func TestV1SDKClientOverHTTP(t *testing.T) {
	for _, sv := range []struct {
		name string
		opts []v1sdk.ClientOption
	}{
		{"v1", nil},
		{"v4", []v1sdk.ClientOption{v1sdk.AuthVersion(v1sdk.AuthV4), v1sdk.Region(testRegion)}},
	} {
		for _, token := range []string{"", "sts-token"} {
			t.Run(fmt.Sprintf("%s/token=%q", sv.name, token), func(t *testing.T) {
				rec := &recorder{}
				srv := httptest.NewServer(rec)
				defer srv.Close()
				opts := append([]v1sdk.ClientOption{v1sdk.ForcePathStyle(true)}, sv.opts...)
				if token != "" {
					opts = append(opts, v1sdk.SecurityToken(token))
				}
				c, err := v1sdk.New(srv.URL, "ak", "sk", opts...)
				if err != nil {
					t.Fatal(err)
				}
				bk, _ := c.Bucket("examplebucket")
				bk.PutObject(awkwardKey, strings.NewReader("hello"), v1sdk.ContentType("text/plain"), v1sdk.Meta("author", "alice"))
				bk.GetObject(awkwardKey, v1sdk.ResponseContentType("text/html"), v1sdk.VersionId("v+1"))
				c.GetBucketACL("examplebucket")
				bk.ListObjects(v1sdk.Prefix("a b/"), v1sdk.Marker("m&n"))
				c.SetBucketLogging("examplebucket", "logs", "access/", true)
				c.GetBucketLogging("examplebucket")
				bk.DeleteObjects([]string{"a", awkwardKey})
				c.ListBuckets(v1sdk.Prefix("ex"))

				for _, m := range []struct {
					method v1sdk.HTTPMethod
					opts   []v1sdk.Option
					header http.Header
				}{
					{v1sdk.HTTPGet, []v1sdk.Option{v1sdk.ResponseContentType("text/html")}, nil},
					{v1sdk.HTTPPut, []v1sdk.Option{v1sdk.ContentType("text/plain")}, hdr("Content-Type", "text/plain")},
				} {
					u, err := bk.SignURL(awkwardKey, m.method, 600, m.opts...)
					if err != nil {
						t.Fatalf("SignURL: %v", err)
					}
					req, _ := http.NewRequest(string(m.method), u, nil)
					for k, v := range m.header {
						req.Header[k] = v
					}
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}
				rec.check(t, 10)
			})
		}
	}
}
