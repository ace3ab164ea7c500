package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/ossdtest"
)

func newBucket(t *testing.T, c *oss.Client) string {
	t.Helper()
	b := randName("b")
	if _, err := c.PutBucket(context.Background(), &oss.PutBucketRequest{Bucket: oss.Ptr(b)}); err != nil {
		t.Fatalf("PutBucket: %v", err)
	}
	return b
}

func readAll(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestObjectOperations(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		b := newBucket(t, c)
		// Public ACLs below: lift the block new buckets start with.
		if _, err := c.PutBucketPublicAccessBlock(ctx, &oss.PutBucketPublicAccessBlockRequest{Bucket: oss.Ptr(b),
			PublicAccessBlockConfiguration: &oss.PublicAccessBlockConfiguration{BlockPublicAccess: oss.Ptr(false)}}); err != nil {
			t.Fatal(err)
		}
		data := []byte("0123456789abcdefghij")
		sum := md5.Sum(data)
		wantETag := fmt.Sprintf("\"%X\"", sum)
		wantCRC := strconv.FormatUint(crc64.Checksum(data, crc64.MakeTable(crc64.ECMA)), 10)
		put, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), Body: bytes.NewReader(data),
			Acl: oss.ObjectACLPublicRead, StorageClass: oss.StorageClassStandard, Tagging: oss.Ptr("k1=v1&k2=v2"), CacheControl: oss.Ptr("no-cache")})
		if err != nil {
			t.Fatal(err)
		}
		if oss.ToString(put.ETag) != wantETag || oss.ToString(put.HashCRC64) != wantCRC {
			t.Errorf("PutObject ETag %s CRC %s, want %s %s", oss.ToString(put.ETag), oss.ToString(put.HashCRC64), wantETag, wantCRC)
		}

		head, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt")})
		if err != nil {
			t.Fatal(err)
		}
		if head.ContentLength != 20 || oss.ToString(head.ETag) != wantETag || oss.ToString(head.ObjectType) != "Normal" ||
			!strings.HasPrefix(oss.ToString(head.ContentType), "text/plain") || oss.ToString(head.CacheControl) != "no-cache" || head.TaggingCount != 2 {
			t.Errorf("HeadObject = len %d etag %s type %s ct %s cc %s tags %d", head.ContentLength, oss.ToString(head.ETag), oss.ToString(head.ObjectType),
				oss.ToString(head.ContentType), oss.ToString(head.CacheControl), head.TaggingCount)
		}
		_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("nope")})
		wantServiceError(t, err, "NoSuchKey", 404, "0026-00000001")

		meta, err := c.GetObjectMeta(ctx, &oss.GetObjectMetaRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt")})
		if err != nil || meta.ContentLength != 20 || oss.ToString(meta.ETag) != wantETag {
			t.Errorf("GetObjectMeta = %+v, %v", meta, err)
		}

		// Ranges.
		for _, tc := range []struct {
			rng  string
			want string
			code int
		}{{"bytes=0-3", "0123", 206}, {"bytes=15-", "fghij", 206}, {"bytes=-3", "hij", 206}, {"bytes=10-100", string(data), 200}, {"bytes=20-30", string(data), 200}, {"bytes=x-y", string(data), 200}} {
			g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), Range: oss.Ptr(tc.rng)})
			if err != nil {
				t.Fatalf("range %s: %v", tc.rng, err)
			}
			if got := string(readAll(t, g.Body)); got != tc.want || g.StatusCode != tc.code {
				t.Errorf("range %s = %d %q, want %d %q", tc.rng, g.StatusCode, got, tc.code, tc.want)
			}
		}
		// Past the end OSS ignores the range (above) unless the client asks
		// for standard behaviour: clipped, or 416 when it starts past the end.
		if g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), Range: oss.Ptr("bytes=10-100"), RangeBehavior: oss.Ptr("standard")}); err != nil ||
			g.StatusCode != 206 || string(readAll(t, g.Body)) != "abcdefghij" {
			t.Errorf("standard range bytes=10-100: %v", err)
		}
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), Range: oss.Ptr("bytes=20-30"), RangeBehavior: oss.Ptr("standard")})
		wantServiceError(t, err, "InvalidRange", 416, "")

		// Conditionals.
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), IfMatch: oss.Ptr(`"0000"`)})
		wantServiceError(t, err, "PreconditionFailed", 412, "")
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), IfNoneMatch: oss.Ptr(wantETag)})
		if se := asServiceError(err); se == nil || se.StatusCode != 304 {
			t.Errorf("If-None-Match match: err = %v, want 304", err)
		}
		future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), IfModifiedSince: oss.Ptr(future)})
		if se := asServiceError(err); se == nil || se.StatusCode != 304 {
			t.Errorf("If-Modified-Since future: err = %v, want 304", err)
		}
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), IfUnmodifiedSince: oss.Ptr(future),
			ResponseContentType: oss.Ptr("x/y"), ResponseContentDisposition: oss.Ptr("attachment")})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, g.Body)
		if oss.ToString(g.ContentType) != "x/y" || g.Headers.Get("Content-Disposition") != "attachment" {
			t.Errorf("response overrides: ct %q cd %q", oss.ToString(g.ContentType), g.Headers.Get("Content-Disposition"))
		}

		// ACL and tagging.
		acl, err := c.GetObjectAcl(ctx, &oss.GetObjectAclRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt")})
		if err != nil || oss.ToString(acl.ACL) != "public-read" {
			t.Errorf("GetObjectAcl = %+v, %v", acl, err)
		}
		if _, err := c.PutObjectAcl(ctx, &oss.PutObjectAclRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), Acl: oss.ObjectACLPrivate}); err != nil {
			t.Fatal(err)
		}
		tg, err := c.GetObjectTagging(ctx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt")})
		if err != nil || len(tg.Tags) != 2 {
			t.Errorf("GetObjectTagging = %+v, %v", tg, err)
		}
		_, err = c.PutObjectTagging(ctx, &oss.PutObjectTaggingRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"),
			Tagging: &oss.Tagging{TagSet: &oss.TagSet{Tags: []oss.Tag{{Key: oss.Ptr("only"), Value: oss.Ptr("one")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		tg, _ = c.GetObjectTagging(ctx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt")})
		if len(tg.Tags) != 1 || oss.ToString(tg.Tags[0].Key) != "only" {
			t.Errorf("after PutObjectTagging tags = %+v", tg.Tags)
		}
		if _, err := c.DeleteObjectTagging(ctx, &oss.DeleteObjectTaggingRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt")}); err != nil {
			t.Fatal(err)
		}

		// Copy.
		cp, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("copy.txt"), SourceKey: oss.Ptr("a.txt")})
		if err != nil || oss.ToString(cp.ETag) != wantETag {
			t.Fatalf("CopyObject = %+v, %v", cp, err)
		}
		g, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("copy.txt")})
		if err != nil || !bytes.Equal(readAll(t, g.Body), data) || g.Headers.Get("Cache-Control") != "no-cache" {
			t.Errorf("copied object differs: %v", err)
		}
		_, err = c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("c2"), SourceKey: oss.Ptr("missing")})
		wantServiceError(t, err, "NoSuchKey", 404, "")

		// Append.
		ap, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("log"), Position: oss.Ptr(int64(0)), Body: strings.NewReader("hello ")})
		if err != nil || ap.NextPosition != 6 {
			t.Fatalf("AppendObject 1 = %+v, %v", ap, err)
		}
		ap, err = c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("log"), Position: oss.Ptr(int64(6)), Body: strings.NewReader("world"), InitHashCRC64: ap.HashCRC64})
		if err != nil || ap.NextPosition != 11 {
			t.Fatalf("AppendObject 2 = %+v, %v", ap, err)
		}
		if want := strconv.FormatUint(crc64.Checksum([]byte("hello world"), crc64.MakeTable(crc64.ECMA)), 10); oss.ToString(ap.HashCRC64) != want {
			t.Errorf("append CRC = %s, want %s", oss.ToString(ap.HashCRC64), want)
		}
		_, err = c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("log"), Position: oss.Ptr(int64(3)), Body: strings.NewReader("x")})
		wantServiceError(t, err, "PositionNotEqualToLength", 409, "")
		_, err = c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("a.txt"), Position: oss.Ptr(int64(20)), Body: strings.NewReader("x")})
		wantServiceError(t, err, "ObjectNotAppendable", 409, "")
		g, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("log")})
		if err != nil || string(readAll(t, g.Body)) != "hello world" || oss.ToString(g.ObjectType) != "Appendable" {
			t.Errorf("appended object wrong: %v", err)
		}

		// Symlink.
		if _, err := c.PutSymlink(ctx, &oss.PutSymlinkRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("link"), Target: oss.Ptr("a.txt")}); err != nil {
			t.Fatal(err)
		}
		sl, err := c.GetSymlink(ctx, &oss.GetSymlinkRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("link")})
		if err != nil || oss.ToString(sl.Target) != "a.txt" {
			t.Errorf("GetSymlink = %+v, %v", sl, err)
		}
		g, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("link")})
		if err != nil || !bytes.Equal(readAll(t, g.Body), data) || oss.ToString(g.ObjectType) != "Symlink" && oss.ToString(g.ObjectType) != "Normal" {
			t.Errorf("GetObject via symlink: %v", err)
		}
		// x-oss-meta-* given to PutSymlink are the symlink's own metadata:
		// HEAD and GET through it return them with the target's length and ETag.
		if _, err := c.PutSymlink(ctx, &oss.PutSymlinkRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("link-meta"), Target: oss.Ptr("a.txt"),
			Metadata: map[string]string{"why": "shortcut"}}); err != nil {
			t.Fatal(err)
		}
		hl, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("link-meta")})
		if err != nil || hl.Metadata["why"] != "shortcut" || hl.ContentLength != int64(len(data)) {
			t.Errorf("HeadObject via symlink: meta %v length %d, %v; want why=shortcut, %d", hl.Metadata, hl.ContentLength, err, len(data))
		}
		gs, err := c.GetSymlink(ctx, &oss.GetSymlinkRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("link-meta")})
		if err != nil || gs.Metadata["why"] != "shortcut" {
			t.Errorf("GetSymlink meta = %v, %v", gs.Metadata, err)
		}
		if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("link-meta")}); err != nil {
			t.Fatal(err)
		}

		// Delete and DeleteMultipleObjects.
		if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("link")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("never-existed")}); err != nil {
			t.Errorf("DeleteObject of a missing key: %v, want success", err)
		}
		dm, err := c.DeleteMultipleObjects(ctx, &oss.DeleteMultipleObjectsRequest{Bucket: oss.Ptr(b),
			Objects: []oss.DeleteObject{{Key: oss.Ptr("a.txt")}, {Key: oss.Ptr("copy.txt")}, {Key: oss.Ptr("log")}, {Key: oss.Ptr("a&b<c>")}}})
		if err != nil || len(dm.DeletedObjects) != 4 {
			t.Fatalf("DeleteMultipleObjects = %+v, %v", dm, err)
		}
		if oss.ToString(dm.DeletedObjects[3].Key) != "a&b<c>" {
			t.Errorf("deleted key = %q, want a&b<c> (URL-decoded by the SDK)", oss.ToString(dm.DeletedObjects[3].Key))
		}
		lr, err := c.ListObjects(ctx, &oss.ListObjectsRequest{Bucket: oss.Ptr(b)})
		if err != nil || len(lr.Contents) != 0 {
			t.Errorf("after deletes ListObjects = %+v, %v", lr.Contents, err)
		}
	})
}

func asServiceError(err error) *oss.ServiceError {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se
	}
	return nil
}
