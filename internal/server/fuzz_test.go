package server

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/auth"
)

// FuzzXMLBodies sends arbitrary bodies to every operation that parses XML
// and checks the answer: never a 5xx; every error is an OSS XML error with
// a code, a request id and an EC that match the x-oss-request-id and
// x-oss-ec headers; and a configuration the server accepted reads back as
// a fixed point: the GET body, PUT back, is accepted and GETs back
// byte for byte. Tags read back exactly as sent, in order.
func FuzzXMLBodies(f *testing.F) {
	seeds := []string{
		"<BucketLoggingStatus><LoggingEnabled><TargetBucket>bk1</TargetBucket><TargetPrefix>p/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>",
		"<BucketLoggingStatus/>", "<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>",
		"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
		"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>",
		"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
		"<UserDefinedLogFieldsConfiguration><HeaderSet><header>h</header></HeaderSet></UserDefinedLogFieldsConfiguration>",
		"<CreateBucketConfiguration><StorageClass>IA</StorageClass></CreateBucketConfiguration>", "<", "", "<?xml?><a>&bogus;</a>",
		"<LiveChannelConfiguration><Description>d</Description><Status>disabled</Status><Target><Type>HLS</Type><FragDuration>2</FragDuration><FragCount>3</FragCount><PlaylistName>a.m3u8</PlaylistName></Target><Snapshot><RoleName>r</RoleName><DestBucket>bk2</DestBucket><NotifyTopic>t</NotifyTopic><Interval>1</Interval></Snapshot></LiveChannelConfiguration>",
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	for _, s := range []string{
		"<LifecycleConfiguration><Rule><ID>r</ID><Prefix>log/</Prefix><Status>Enabled</Status><Expiration><Days>3</Days></Expiration>" +
			"<Transition><Days>1</Days><StorageClass>IA</StorageClass><IsAccessTime>false</IsAccessTime></Transition>" +
			"<AbortMultipartUpload><Days>2</Days></AbortMultipartUpload><NoncurrentVersionExpiration><NoncurrentDays>4</NoncurrentDays></NoncurrentVersionExpiration>" +
			"<Filter><Not><Prefix>log/k</Prefix><Tag><Key>a</Key><Value>b</Value></Tag></Not><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan></Filter></Rule>" +
			"<Rule><Prefix></Prefix><Status>Disabled</Status><Tag><Key>k</Key><Value>v</Value></Tag><Expiration><CreatedBeforeDate>2026-01-01T00:00:00.000Z</CreatedBeforeDate></Expiration></Rule>" +
			"<Rule><ID>m</ID><Prefix>v/</Prefix><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>True</ExpiredObjectDeleteMarker></Expiration></Rule></LifecycleConfiguration>",
		"<LifecycleConfiguration><Rule><ID>s3</ID><Filter><And><Prefix>t/</Prefix><Tag><Key>a</Key><Value>b</Value></Tag></And></Filter><Status>Enabled</Status>" +
			"<Expiration><Date>2026-01-01T00:00:00Z</Date></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>",
	} {
		f.Add(uint8(9), []byte(s))
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
	if w := do("PUT", "bk1", "obj", "", []byte("x")); w.Code != 200 {
		f.Fatalf("put object: %d %s", w.Code, w.Body)
	}
	init := do("POST", "bk1", "mp", "uploads", nil)
	var ir struct {
		UploadID string `xml:"UploadId"`
	}
	xml.Unmarshal(init.Body.Bytes(), &ir)
	targets := []struct{ method, bucket, key, query string }{
		{"PUT", "bk1", "", "logging"}, {"POST", "bk1", "", "delete"}, {"PUT", "bk1", "", "tagging"},
		{"PUT", "bk1", "", "versioning"}, {"PUT", "bk1", "", "userDefinedLogFieldsConfig"}, {"PUT", "bk3", "", ""},
		{"POST", "bk1", "mp", "uploadId=" + ir.UploadID}, {"PUT", "bk1", "obj", "tagging"}, {"PUT", "bk1", "ch", "live"},
		{"PUT", "bk1", "", "lifecycle"}, // index 9: the lifecycle seeds below
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tg := targets[int(which)%len(targets)]
		w := do(tg.method, tg.bucket, tg.key, tg.query, body)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s: status %d: %s", tg.method, tg.bucket, tg.query, w.Code, w.Body)
		}
		id := w.Header().Get("x-oss-request-id")
		if id == "" {
			t.Fatal("no request id")
		}
		if w.Code >= 400 {
			var e struct {
				Code, RequestId, HostId, EC string
			}
			if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == "" || e.RequestId == "" || e.EC == "" || e.HostId == "" {
				t.Fatalf("error body not OSS XML: %v %s", err, w.Body)
			}
			if e.RequestId != id || e.EC != w.Header().Get("x-oss-ec") {
				t.Fatalf("error body RequestId %s EC %s, headers %s %s", e.RequestId, e.EC, id, w.Header().Get("x-oss-ec"))
			}
			return
		}
		if tg.bucket == "bk3" && w.Code == http.StatusOK {
			do("DELETE", "bk3", "", "", nil)
		}
		if tg.method != "PUT" || tg.query == "" {
			return
		}
		// Accepted: the stored configuration is a fixed point of GET/PUT.
		got := do("GET", tg.bucket, tg.key, tg.query, nil)
		if got.Code != http.StatusOK {
			t.Fatalf("GET ?%s after an accepted PUT: %d %s", tg.query, got.Code, got.Body)
		}
		if strings.HasPrefix(tg.query, "tagging") {
			var in, out struct {
				Tags []struct{ Key, Value string } `xml:"TagSet>Tag"`
			}
			if xml.Unmarshal(body, &in) == nil && xml.Unmarshal(got.Body.Bytes(), &out) == nil && !reflect.DeepEqual(in.Tags, out.Tags) {
				t.Fatalf("tags sent %q, read back %q", in.Tags, out.Tags)
			}
		}
		if again := do("PUT", tg.bucket, tg.key, tg.query, got.Body.Bytes()); again.Code != http.StatusOK {
			t.Fatalf("GET ?%s body %s, PUT back: %d %s", tg.query, got.Body, again.Code, again.Body)
		}
		if back := do("GET", tg.bucket, tg.key, tg.query, nil); !bytes.Equal(back.Body.Bytes(), got.Body.Bytes()) {
			t.Fatalf("GET ?%s not a fixed point:\n%s\n%s", tg.query, got.Body, back.Body)
		}
	})
}
