package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ossd/ossd/ossdtest"
)

// xmlTimeRE is the only form of a time in OSS's and S3's XML: whole
// seconds, then a literal ".000Z". oss2 rejects anything else.
var xmlTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$`)

// xmlTimeElem finds the time-carrying elements of every response.
var xmlTimeElem = regexp.MustCompile(`<(CreationDate|LastModified|Initiated)>([^<]*)</`)

// TestXMLTimes sends every request whose XML response carries a time, in
// the OSS dialect (V1-signed) and the S3 dialect (SigV4-signed), and checks
// that each time is written as OSS and S3 write it.
func TestXMLTimes(t *testing.T) {
	srv := ossdtest.Start(t)
	b := randName("xmltime")
	oss := func(method, key, query string, hdr map[string]string, body string) rawResp {
		return rawDo(t, srv, method, b, key, query, strings.NewReader(body), hdr)
	}
	must := func(r rawResp) rawResp {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		return r
	}
	must(rawDo(t, srv, "PUT", b, "", "", nil, nil))
	must(oss("PUT", "", "versioning", nil, `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`))
	must(oss("PUT", "src", "", nil, "source"))
	must(oss("PUT", "src", "", nil, "source 2"))
	up := must(oss("POST", "mp", "uploads", nil, ""))
	id := regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`).FindStringSubmatch(up.body)[1]
	must(oss("PUT", "mp", "partNumber=1&uploadId="+id, nil, "part one"))
	must(oss("PUT", "channel", "live", nil, `<LiveChannelConfiguration><Status>enabled</Status><Target><Type>HLS</Type></Target></LiveChannelConfiguration>`))

	// Each call runs in both dialects except GetBucketInfo (OSS only);
	// copies name their source in the dialect's header, and part copies
	// take a part number of their own per dialect.
	calls := []struct {
		name, method, key, query string
		copy, ossOnly            bool
	}{
		{name: "ListBuckets", method: "GET"},
		{name: "ListObjects", method: "GET"},
		{name: "ListObjectsV2", method: "GET", query: "list-type=2"},
		{name: "ListObjectVersions", method: "GET", query: "versions"},
		{name: "ListMultipartUploads", method: "GET", query: "uploads"},
		{name: "ListParts", method: "GET", key: "mp", query: "uploadId=" + id},
		{name: "GetBucketInfo", method: "GET", query: "bucketInfo", ossOnly: true},
		{name: "ListLiveChannel", method: "GET", query: "live", ossOnly: true},
		{name: "CopyObject", method: "PUT", key: "copy", copy: true},
		{name: "UploadPartCopy", method: "PUT", key: "mp", query: "uploadId=" + id, copy: true},
	}
	for i, c := range calls {
		for _, dialect := range []string{"oss", "s3"} {
			if c.ossOnly && dialect == "s3" {
				continue
			}
			t.Run(dialect+"/"+c.name, func(t *testing.T) {
				bucket, query, hdr := b, c.query, map[string]string{}
				if c.name == "ListBuckets" {
					bucket = ""
				}
				if c.name == "UploadPartCopy" {
					query = fmt.Sprintf("partNumber=%d&%s", 2+2*i+len(dialect)%2, query)
				}
				if c.copy {
					hdr["x-"+map[string]string{"oss": "oss", "s3": "amz"}[dialect]+"-copy-source"] = "/" + b + "/src"
				}
				if dialect == "oss" {
					checkXMLTimes(t, rawDo(t, srv, c.method, bucket, c.key, query, nil, hdr))
					return
				}
				r := s3RawDo(t, srv, c.method, bucket, c.key, query, hdr)
				if !strings.Contains(r.body, "http://s3.amazonaws.com/doc/2006-03-01/") {
					t.Fatalf("not an S3 response: %s", r.body)
				}
				checkXMLTimes(t, r)
			})
		}
	}
}

// s3RawDo sends a bodiless request signed with AWS SigV4 (the S3 dialect).
func s3RawDo(t *testing.T, srv *ossdtest.Server, method, bucket, key, query string, hdr map[string]string) rawResp {
	t.Helper()
	return rawDoSigned(t, srv, method, bucket, key, query, nil, hdr, s3Signer(t, srv))
}

// s3Signer signs requests to srv with AWS SigV4 and an unsigned payload.
func s3Signer(t *testing.T, srv *ossdtest.Server) func(*http.Request) {
	return func(req *http.Request) { s3Sign(t, srv, req) }
}

// s3Sign signs req with AWS SigV4 and an unsigned payload.
func s3Sign(t *testing.T, srv *ossdtest.Server, req *http.Request) {
	req.Header.Set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.AccessKeySecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", srv.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func checkXMLTimes(t *testing.T, r rawResp) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	found := xmlTimeElem.FindAllStringSubmatch(r.body, -1)
	if len(found) == 0 {
		t.Fatalf("no time in the response: %s", r.body)
	}
	for _, m := range found {
		if !xmlTimeRE.MatchString(m[2]) {
			t.Errorf("<%s>%s</%s>: want YYYY-MM-DDTHH:MM:SS.000Z", m[1], m[2], m[1])
		}
	}
}
