package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/ossdtest"
)

func TestObjectRoundTrip(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		bucket := randName("rt")
		if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(bucket)}); err != nil {
			t.Fatalf("PutBucket: %v", err)
		}
		for _, size := range []int{0, 1, 1000, 200 << 10} {
			data := bytes.Repeat([]byte("ossd!"), size/5+1)[:size]
			key := "dir/obj ü+%" + string(rune('a'+size%26))
			put, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: bytes.NewReader(data),
				Metadata: map[string]string{"Author": "alice"}})
			if err != nil {
				t.Fatalf("PutObject(%d): %v", size, err)
			}
			if put.ETag == nil || put.HashCRC64 == nil {
				t.Fatalf("PutObject result lacks ETag/CRC: %+v", put)
			}
			got, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
			if err != nil {
				t.Fatalf("GetObject(%d): %v", size, err)
			}
			body, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if !bytes.Equal(body, data) {
				t.Fatalf("GetObject(%d) returned %d bytes, want %d", size, len(body), len(data))
			}
			if got.Metadata["Author"] != "alice" && got.Metadata["author"] != "alice" {
				t.Errorf("metadata = %v, want author=alice", got.Metadata)
			}
		}
		_, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("missing")})
		var se *oss.ServiceError
		if !errors.As(err, &se) || se.Code != "NoSuchKey" || se.StatusCode != 404 || se.EC != "0026-00000001" || se.RequestID == "" {
			t.Fatalf("GetObject(missing) err = %v, want NoSuchKey 404 EC 0026-00000001", err)
		}
		lr, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket)})
		if err != nil || len(lr.Contents) != 4 {
			t.Fatalf("ListObjectsV2 = %v, %v; want 4 objects", lr, err)
		}
	})
}
