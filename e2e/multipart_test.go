package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"hash/crc64"
	"strconv"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/ossdtest"
)

func TestMultipart(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		b := newBucket(t, c)
		key := "big/object.bin"
		init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key)})
		if err != nil {
			t.Fatal(err)
		}
		id := init.UploadId
		parts := [][]byte{bytes.Repeat([]byte("a"), 100<<10), bytes.Repeat([]byte("b"), 150<<10), []byte("tail")}
		var done []oss.UploadPart
		var etags []byte
		for i, p := range parts {
			r, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), UploadId: id, PartNumber: int32(i + 1), Body: bytes.NewReader(p)})
			if err != nil {
				t.Fatalf("UploadPart %d: %v", i+1, err)
			}
			s := md5.Sum(p)
			etags = append(etags, s[:]...)
			if oss.ToString(r.ETag) != fmt.Sprintf("\"%X\"", s) {
				t.Errorf("part %d ETag = %s", i+1, oss.ToString(r.ETag))
			}
			done = append(done, oss.UploadPart{PartNumber: int32(i + 1), ETag: r.ETag})
		}
		lp, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), UploadId: id, MaxParts: 2})
		if err != nil || len(lp.Parts) != 2 || !lp.IsTruncated || lp.NextPartNumberMarker != 2 {
			t.Fatalf("ListParts page 1 = %+v, %v", lp, err)
		}
		lp, err = c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), UploadId: id, PartNumberMarker: 2})
		if err != nil || len(lp.Parts) != 1 || lp.Parts[0].PartNumber != 3 || lp.IsTruncated {
			t.Fatalf("ListParts page 2 = %+v, %v", lp, err)
		}
		lu, err := c.ListMultipartUploads(ctx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(b)})
		if err != nil || len(lu.Uploads) != 1 || oss.ToString(lu.Uploads[0].UploadId) != oss.ToString(id) {
			t.Fatalf("ListMultipartUploads = %+v, %v", lu, err)
		}
		cr, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), UploadId: id,
			CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: done}})
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		all := bytes.Join(parts, nil)
		sum := md5.Sum(etags)
		if want := fmt.Sprintf("\"%X-3\"", sum); oss.ToString(cr.ETag) != want {
			t.Errorf("multipart ETag = %s, want %s", oss.ToString(cr.ETag), want)
		}
		if want := strconv.FormatUint(crc64.Checksum(all, crc64.MakeTable(crc64.ECMA)), 10); oss.ToString(cr.HashCRC64) != want {
			t.Errorf("multipart CRC = %s, want %s", oss.ToString(cr.HashCRC64), want)
		}
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key)})
		if err != nil || !bytes.Equal(readAll(t, g.Body), all) || oss.ToString(g.ObjectType) != "Multipart" {
			t.Fatalf("GetObject after complete: %v", err)
		}
		g, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), Range: oss.Ptr("bytes=102395-102405")})
		if err != nil || !bytes.Equal(readAll(t, g.Body), all[102395:102406]) {
			t.Fatalf("range across parts: %v", err)
		}
		_, err = c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), UploadId: id})
		se := wantServiceError(t, err, "NoSuchUpload", 404, "")
		if se.Message != "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed." {
			t.Errorf("NoSuchUpload message = %q", se.Message)
		}

		// EntityTooSmall, abort, complete-all, part copy.
		init, _ = c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("small")})
		var small []oss.UploadPart
		for i := 1; i <= 2; i++ {
			r, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("small"), UploadId: init.UploadId, PartNumber: int32(i), Body: bytes.NewReader([]byte("tiny"))})
			if err != nil {
				t.Fatal(err)
			}
			small = append(small, oss.UploadPart{PartNumber: int32(i), ETag: r.ETag})
		}
		_, err = c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("small"), UploadId: init.UploadId,
			CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: small}})
		wantServiceError(t, err, "EntityTooSmall", 400, "")
		if _, err := c.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("small"), UploadId: init.UploadId}); err != nil {
			t.Fatal(err)
		}

		init, _ = c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("copied")})
		pc, err := c.UploadPartCopy(ctx, &oss.UploadPartCopyRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("copied"), UploadId: init.UploadId, PartNumber: 1,
			SourceKey: oss.Ptr(key), Range: oss.Ptr("bytes=0-102399")})
		if err != nil {
			t.Fatalf("UploadPartCopy: %v", err)
		}
		_ = pc
		if _, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("copied"), UploadId: init.UploadId, PartNumber: 2, Body: bytes.NewReader([]byte("end"))}); err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("copied"), UploadId: init.UploadId, CompleteAll: oss.Ptr("yes")})
		if err != nil {
			t.Fatalf("complete-all: %v", err)
		}
		g, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("copied")})
		if err != nil || !bytes.Equal(readAll(t, g.Body), append(append([]byte(nil), all[:102400]...), "end"...)) {
			t.Fatalf("part-copied object differs: %v", err)
		}
	})
}

// TestMultipartSequentialAndEmpty: two OSS behaviours the v2 SDK's Uploader
// relies on. An upload initiated with "sequential" completes into an object
// that carries the MD5 of its whole content (Content-MD5 on HEAD and GET);
// one without does not. A CompleteMultipartUpload with an empty part list
// completes an empty object (the Uploader sends one for an empty stream of
// unknown size), where S3 wants at least one part.
func TestMultipartSequentialAndEmpty(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		b := newBucket(t, c)
		data := append(bytes.Repeat([]byte("s"), 100<<10), []byte("equential tail")...)
		sum := md5.Sum(data)
		want := base64.StdEncoding.EncodeToString(sum[:])
		for _, sequential := range []bool{true, false} {
			key := fmt.Sprintf("seq-%t", sequential)
			common := oss.RequestCommon{}
			if sequential {
				common.Parameters = map[string]string{"sequential": ""}
			}
			init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), RequestCommon: common})
			if err != nil {
				t.Fatal(err)
			}
			var done []oss.UploadPart
			for i, p := range [][]byte{data[:100<<10], data[100<<10:]} {
				up, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), UploadId: init.UploadId, PartNumber: int32(i + 1), Body: bytes.NewReader(p)})
				if err != nil {
					t.Fatal(err)
				}
				done = append(done, oss.UploadPart{PartNumber: int32(i + 1), ETag: up.ETag})
			}
			if _, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key), UploadId: init.UploadId,
				CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: done}}); err != nil {
				t.Fatal(err)
			}
			h, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key)})
			if err != nil {
				t.Fatal(err)
			}
			g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(key)})
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, g.Body)
			if !bytes.Equal(got, data) {
				t.Fatalf("%s: GET returned %d bytes, want %d", key, len(got), len(data))
			}
			switch {
			case sequential && (oss.ToString(h.ContentMD5) != want || oss.ToString(g.ContentMD5) != want):
				t.Errorf("sequential upload: Content-MD5 HEAD %q GET %q, want %q", oss.ToString(h.ContentMD5), oss.ToString(g.ContentMD5), want)
			case !sequential && (h.ContentMD5 != nil || g.ContentMD5 != nil):
				t.Errorf("plain multipart upload: Content-MD5 HEAD %q GET %q, want none", oss.ToString(h.ContentMD5), oss.ToString(g.ContentMD5))
			}
		}

		init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("empty")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("empty"), UploadId: init.UploadId,
			CompleteMultipartUpload: &oss.CompleteMultipartUpload{}}); err != nil {
			t.Fatalf("complete with no parts: %v", err)
		}
		h, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("empty")})
		if err != nil || h.ContentLength != 0 || oss.ToString(h.ObjectType) != "Multipart" {
			t.Errorf("empty multipart object: %+v, %v", h, err)
		}
		_, err = c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("empty"), UploadId: init.UploadId})
		wantServiceError(t, err, "NoSuchUpload", 404, "")
	})
}
