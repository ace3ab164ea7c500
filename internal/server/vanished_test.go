package server

import (
	"bytes"
	"crypto/md5"
	"encoding/xml"
	"fmt"
	"io"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/faultfs"
)

// TestVanishedBlobRetried: a source blob removed between a request's
// lookup and its opening the blob (an overwrite or delete committed
// meanwhile, on this node or another sharing the store) makes the
// request start over: GetObject, CopyObject and UploadPartCopy answer as
// if they had come a moment later, not 500.
func TestVanishedBlobRetried(t *testing.T) {
	blobFS := faultfs.New()
	root := User{ID: "1000000000000001", DisplayName: "root", AccessKeyID: "ak", AccessKeySecret: "sk"}
	srv, err := New(Config{DataDir: t.TempDir(), Root: root, BlobFS: blobFS})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	do := func(method, key, query string, hdr map[string]string, body []byte) *httptest.ResponseRecorder {
		target := "/bkt/" + key
		if query != "" {
			target += "?" + query
		}
		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		req.Host = "127.0.0.1:9800"
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		auth.SignV1(req, "bkt", key, "ak", "sk", time.Now())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := do("PUT", "", "", nil, nil); w.Code != 200 {
		t.Fatalf("create bucket: %d %s", w.Code, w.Body)
	}
	src := bytes.Repeat([]byte("source "), 20000) // a blob, not inline
	if w := do("PUT", "src", "", nil, src); w.Code != 200 {
		t.Fatalf("put: %d %s", w.Code, w.Body)
	}
	w := do("POST", "mp", "uploads", nil, nil)
	var init struct{ UploadId string }
	if err := xml.Unmarshal(w.Body.Bytes(), &init); err != nil || init.UploadId == "" {
		t.Fatalf("initiate: %d %s", w.Code, w.Body)
	}
	copyHdr := map[string]string{"x-oss-copy-source": "/bkt/src"}
	tests := []struct {
		name  string
		req   func() *httptest.ResponseRecorder
		check func(w *httptest.ResponseRecorder) []byte // the bytes the request produced
	}{
		{"GetObject", func() *httptest.ResponseRecorder { return do("GET", "src", "", nil, nil) },
			func(w *httptest.ResponseRecorder) []byte { b, _ := io.ReadAll(w.Body); return b }},
		{"CopyObject", func() *httptest.ResponseRecorder { return do("PUT", "dst", "", copyHdr, nil) },
			func(*httptest.ResponseRecorder) []byte {
				b, _ := io.ReadAll(do("GET", "dst", "", nil, nil).Body)
				return b
			}},
		{"UploadPartCopy", func() *httptest.ResponseRecorder {
			return do("PUT", "mp", "partNumber=1&uploadId="+init.UploadId, copyHdr, nil)
		}, func(*httptest.ResponseRecorder) []byte {
			body := []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"" + fmt.Sprintf("%X", md5.Sum(src)) + "\"</ETag></Part></CompleteMultipartUpload>")
			if w := do("POST", "mp", "uploadId="+init.UploadId, nil, body); w.Code != 200 {
				t.Fatalf("complete: %d %s", w.Code, w.Body)
			}
			b, _ := io.ReadAll(do("GET", "mp", "", nil, nil).Body)
			return b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The next open of a blob for reading finds it gone.
			blobFS.Inject(faultfs.Fault{Op: faultfs.OpOpenRead, Nth: 1, Err: syscall.ENOENT})
			w := tc.req()
			blobFS.Clear()
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if got := tc.check(w); !bytes.Equal(got, src) {
				t.Fatalf("%d bytes, want the source's %d", len(got), len(src))
			}
		})
	}
}
