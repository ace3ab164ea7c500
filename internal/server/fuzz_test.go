package server

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/auth"
)

// FuzzXMLBodies sends arbitrary bodies to every operation that parses XML
// and checks the answer: never a 5xx, and every error is an OSS XML error
// with a code and a request id.
func FuzzXMLBodies(f *testing.F) {
	seeds := []string{
		"<BucketLoggingStatus><LoggingEnabled><TargetBucket>bk1</TargetBucket><TargetPrefix>p/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>",
		"<BucketLoggingStatus/>", "<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>",
		"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
		"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>",
		"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
		"<UserDefinedLogFieldsConfiguration><HeaderSet><header>h</header></HeaderSet></UserDefinedLogFieldsConfiguration>",
		"<CreateBucketConfiguration><StorageClass>IA</StorageClass></CreateBucketConfiguration>", "<", "", "<?xml?><a>&bogus;</a>",
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	dir := f.TempDir()
	root := User{ID: "1000000000000001", DisplayName: "root", AccessKeyID: "ak", AccessKeySecret: "sk"}
	srv, err := New(Config{DataDir: dir, Root: root})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	h := srv.Handler()
	do := func(method, bucket, key, query string, body []byte) *httptest.ResponseRecorder {
		target := "/" + bucket + "/" + key
		if query != "" {
			target += "?" + query
		}
		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		req.Host = "127.0.0.1:9800"
		auth.SignV1(req, bucket, key, "ak", "sk", time.Now())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for _, b := range []string{"bk1", "bk2"} {
		if w := do("PUT", b, "", "", nil); w.Code != 200 {
			f.Fatalf("create bucket: %d %s", w.Code, w.Body)
		}
	}
	init := do("POST", "bk1", "mp", "uploads", nil)
	var ir struct {
		UploadID string `xml:"UploadId"`
	}
	xml.Unmarshal(init.Body.Bytes(), &ir)
	targets := []struct{ method, bucket, key, query string }{
		{"PUT", "bk1", "", "logging"}, {"POST", "bk1", "", "delete"}, {"PUT", "bk1", "", "tagging"},
		{"PUT", "bk1", "", "versioning"}, {"PUT", "bk1", "", "userDefinedLogFieldsConfig"}, {"PUT", "bk3", "", ""},
		{"POST", "bk1", "mp", "uploadId=" + ir.UploadID}, {"PUT", "bk1", "obj", "tagging"},
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tg := targets[int(which)%len(targets)]
		w := do(tg.method, tg.bucket, tg.key, tg.query, body)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s: status %d: %s", tg.method, tg.bucket, tg.query, w.Code, w.Body)
		}
		if w.Header().Get("x-oss-request-id") == "" {
			t.Fatal("no request id")
		}
		if w.Code >= 400 {
			var e struct {
				Code, RequestId, EC string
			}
			if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == "" || e.RequestId == "" || e.EC == "" {
				t.Fatalf("error body not OSS XML: %v %s", err, w.Body)
			}
		}
		if tg.bucket == "bk3" && w.Code == http.StatusOK {
			do("DELETE", "bk3", "", "", nil)
		}
	})
}
