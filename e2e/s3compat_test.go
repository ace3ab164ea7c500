package e2e

import (
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// blobFiles counts the object-byte files under a data directory.
func blobFiles(t *testing.T, dataDir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dataDir, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// S3's DeleteBucket takes the bucket's unfinished multipart uploads with it
// (S3 clients' clean-up relies on it: ceph/s3-tests deletes buckets so);
// OSS's refuses with BucketNotEmpty. Objects refuse both.
func TestS3DeleteBucketAbortsUploads(t *testing.T) {
	srv, c, b := s3Bucket(t, "s3del")
	ctx := context.Background()
	part := bytes.Repeat([]byte("p"), 200<<10) // larger than the inline limit: a blob file
	upload := func(bucket, key string) {
		t.Helper()
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(part)}); err != nil {
			t.Fatalf("UploadPart: %v", err)
		}
	}
	upload(b, "a")
	upload(b, "b/c")
	if n := blobFiles(t, srv.DataDir); n != 2 {
		t.Fatalf("%d blob files before the delete, want the 2 parts", n)
	}

	// With an object too, S3 refuses, and the uploads stay.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("obj"), Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
	wantS3Error(t, err, "BucketNotEmpty")
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil || len(lu.Uploads) != 2 {
		t.Fatalf("uploads after a refused delete = %+v, %v; want both", lu, err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("obj")}); err != nil {
		t.Fatal(err)
	}

	// OSS's DeleteBucket keeps OSS's rule: the uploads make it not empty.
	oc := v2Client(srv, mode{})
	_, err = oc.DeleteBucket(ctx, &oss.DeleteBucketRequest{Bucket: oss.Ptr(b)})
	if se := wantServiceError(t, err, "BucketNotEmpty", 409, "0015-00000301"); se.Message != "The bucket you tried to delete is not empty." {
		t.Fatalf("OSS DeleteBucket message %q, want OSS's", se.Message)
	}

	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("S3 DeleteBucket with unfinished uploads: %v", err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
	wantS3Error(t, err, "NotFound")
	if n := blobFiles(t, srv.DataDir); n != 0 {
		t.Errorf("%d blob files left after the delete: the parts' bytes must go with the uploads", n)
	}
	// A bucket made again under the name has none of the old uploads.
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	lu, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil || len(lu.Uploads) != 0 {
		t.Fatalf("uploads in the re-created bucket = %+v, %v; want none", lu, err)
	}
}
