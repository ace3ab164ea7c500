package e2e

import (
	"bytes"
	"context"
	"errors"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ossd/ossd/ossdtest"
)

// s3Client is an aws-sdk-go-v2 S3 client on ossd, path-style or
// virtual-hosted (<bucket>.localhost).
func s3Client(srv *ossdtest.Server, virtual bool) *s3.Client {
	opts := s3.Options{
		Region:       srv.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret, ""),
		BaseEndpoint: aws.String(srv.Endpoint),
		UsePathStyle: true,
	}
	if virtual {
		opts.BaseEndpoint = aws.String(srv.VirtualHostEndpoint())
		opts.UsePathStyle = false
		opts.HTTPClient = srv.VirtualHostClient()
	}
	return s3.New(opts)
}

// s3Bucket starts a server and makes a bucket on it through the S3 API.
func s3Bucket(t *testing.T, prefix string) (*ossdtest.Server, *s3.Client, string) {
	t.Helper()
	srv := ossdtest.Start(t)
	c := s3Client(srv, false)
	b := randName(prefix)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return srv, c, b
}

func wantS3Error(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want S3 error %s", err, code)
	}
}

func TestS3API(t *testing.T) {
	for _, virtual := range []bool{false, true} {
		name := map[bool]string{false: "path", true: "vhost"}[virtual]
		t.Run(name, func(t *testing.T) {
			srv := ossdtest.Start(t)
			c := s3Client(srv, virtual)
			ctx := context.Background()
			b := randName("s3")
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatalf("CreateBucket: %v", err)
			}
			if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatalf("HeadBucket: %v", err)
			}
			lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
			if err != nil || len(lb.Buckets) != 1 {
				t.Fatalf("ListBuckets = %+v, %v", lb, err)
			}
			data := bytes.Repeat([]byte("s3 data "), 2000)
			put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("dir/k 1"), Body: bytes.NewReader(data),
				Metadata: map[string]string{"color": "red"}, ContentType: aws.String("text/x-test")})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if put.ETag == nil {
				t.Error("PutObject: no ETag")
			}
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/k 1"), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			got, _ := io.ReadAll(g.Body)
			g.Body.Close()
			if !bytes.Equal(got, data) || g.Metadata["color"] != "red" || aws.ToString(g.ContentType) != "text/x-test" {
				t.Errorf("GetObject: %d bytes, meta %v, type %s", len(got), g.Metadata, aws.ToString(g.ContentType))
			}
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("dir/k 1")})
			if err != nil || aws.ToInt64(h.ContentLength) != int64(len(data)) || h.StorageClass != "" && h.StorageClass != types.StorageClassStandard {
				t.Errorf("HeadObject = %+v, %v", h, err)
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("missing")})
			wantS3Error(t, err, "NoSuchKey")
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("missing")})
			if err == nil {
				t.Error("HeadObject(missing) succeeded")
			}
			r, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/k 1"), Range: aws.String("bytes=0-7")})
			if err != nil {
				t.Fatal(err)
			}
			got, _ = io.ReadAll(r.Body)
			r.Body.Close()
			if string(got) != "s3 data " {
				t.Errorf("range = %q", got)
			}
			if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy"), CopySource: aws.String(b + "/dir/k%201")}); err != nil {
				t.Fatalf("CopyObject: %v", err)
			}
			lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
			if err != nil || aws.ToInt32(lo.KeyCount) != 2 {
				t.Fatalf("ListObjectsV2 = %+v, %v", lo, err)
			}
			l1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b), Delimiter: aws.String("/")})
			if err != nil || len(l1.Contents) != 1 || len(l1.CommonPrefixes) != 1 {
				t.Fatalf("ListObjects = %+v, %v", l1, err)
			}
			// Multipart.
			mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp")})
			if err != nil {
				t.Fatal(err)
			}
			var parts []types.CompletedPart
			for i, p := range [][]byte{bytes.Repeat([]byte("1"), 5<<20), []byte("last")} {
				up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
				if err != nil {
					t.Fatalf("UploadPart: %v", err)
				}
				parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
			}
			if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			// Tagging, versioning, ACL.
			if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("copy"),
				Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}); err != nil {
				t.Fatal(err)
			}
			tg, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("copy")})
			if err != nil || len(tg.TagSet) != 1 {
				t.Fatalf("GetObjectTagging = %+v, %v", tg, err)
			}
			acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b)})
			if err != nil || len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl {
				t.Fatalf("GetBucketAcl = %+v, %v", acl, err)
			}
			loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b)})
			if err != nil || string(loc.LocationConstraint) != srv.Region {
				t.Fatalf("GetBucketLocation = %+v, %v", loc, err)
			}
			// Presigned GET.
			ps := s3.NewPresignClient(c)
			pr, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("copy")}, s3.WithPresignExpires(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			hc := http.DefaultClient
			if virtual {
				hc = srv.VirtualHostClient()
			}
			resp, err := hc.Get(pr.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(body, data) {
				t.Fatalf("presigned GET = %d (%d bytes)", resp.StatusCode, len(body))
			}
			// Delete and DeleteObjects.
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("copy")}); err != nil {
				t.Fatal(err)
			}
			do, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("dir/k 1")}, {Key: aws.String("mp")}}}})
			if err != nil || len(do.Deleted) != 2 {
				t.Fatalf("DeleteObjects = %+v, %v", do, err)
			}
			if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatalf("DeleteBucket: %v", err)
			}
			_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
			if err == nil {
				t.Fatal("HeadBucket after delete succeeded")
			}
		})
	}
}

// TestS3StreamingUploads: aws-chunked bodies as the SDK sends them over
// TLS — unsigned payload with a trailing checksum — decoded, checked and
// stored; a wrong trailing checksum is refused and nothing is stored.
func TestS3StreamingUploads(t *testing.T) {
	srv := ossdtest.StartWith(t, ossdtest.Options{TLS: true})
	c := s3.New(s3.Options{
		Region:       srv.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret, ""),
		BaseEndpoint: aws.String(srv.Endpoint),
		UsePathStyle: true,
		HTTPClient:   srv.HTTPClient(),
	})
	ctx := context.Background()
	b := randName("stream")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		data := bytes.Repeat([]byte(string(alg)), 30000)
		key := "chk-" + string(alg)
		// An io.Reader that is not seekable makes the SDK stream with a
		// trailer even over plain HTTP.
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: io.MultiReader(bytes.NewReader(data)),
			ContentLength: aws.Int64(int64(len(data))), ChecksumAlgorithm: alg})
		if err != nil {
			t.Fatalf("%s: PutObject: %v", alg, err)
		}
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("%s: GetObject: %v", alg, err)
		}
		got, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: read back %d bytes, %v", alg, len(got), err)
		}
	}
}

// TestS3BadTrailingChecksum: an aws-chunked upload whose trailing checksum
// does not match its bytes is refused, and nothing is stored.
func TestS3BadTrailingChecksum(t *testing.T) {
	srv := ossdtest.Start(t)
	c := s3Client(srv, false)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		checksum string
		status   int
	}{{"NhCmhg==", 200}, {"AAAAAA==", 400}} { // CRC32 of "hello", then a wrong one
		body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + tc.checksum + "\r\n\r\n"
		req, _ := http.NewRequest("PUT", srv.Endpoint+"/trail/obj", strings.NewReader(body))
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("x-amz-decoded-content-length", "5")
		req.Header.Set("x-amz-trailer", "x-amz-checksum-crc32")
		req.Header.Set("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		signer := v4.NewSigner()
		creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.AccessKeySecret}
		if err := signer.SignHTTP(ctx, creds, req, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "s3", srv.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("checksum %s: status %d, want %d: %s", tc.checksum, resp.StatusCode, tc.status, rb)
		}
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("trail"), Key: aws.String("obj")})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(g.Body)
		g.Body.Close()
		if string(got) != "hello" {
			t.Fatalf("object = %q", got)
		}
	}
}

// TestS3LoggingAndVersioning: S3's logging calls reach the same logging
// engine (an object written with S3 is logged and delivered), and S3
// versioning maps onto OSS versioning.
func TestS3LoggingAndVersioning(t *testing.T) {
	srv := ossdtest.Start(t)
	c := s3Client(srv, false)
	oc := v2Client(srv, modes[0])
	ctx := context.Background()
	for _, b := range []string{"s3src", "s3logs"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(srv.Region)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String("s3src"),
		BucketLoggingStatus: &types.BucketLoggingStatus{LoggingEnabled: &types.LoggingEnabled{TargetBucket: aws.String("s3logs"), TargetPrefix: aws.String("s3/")}}}); err != nil {
		t.Fatalf("PutBucketLogging (S3): %v", err)
	}
	gl, err := c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String("s3src")})
	if err != nil || gl.LoggingEnabled == nil || aws.ToString(gl.LoggingEnabled.TargetBucket) != "s3logs" {
		t.Fatalf("GetBucketLogging (S3) = %+v, %v", gl, err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("s3src"), Key: aws.String("via-s3"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.FlushLogs(); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range readLogLines(t, oc, "s3logs", "s3/", "s3src") {
		if l.Operation == "PutObject" && l.Key == "via-s3" && l.AccessKeyID == srv.AccessKeyID && l.HTTPStatus == 200 {
			found = true
		}
	}
	if !found {
		t.Error("the S3 PutObject has no log line")
	}
	// Objects written through S3 are read through OSS, metadata included.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("s3src"), Key: aws.String("cross"), Body: strings.NewReader("both"),
		Metadata: map[string]string{"origin": "s3"}}); err != nil {
		t.Fatal(err)
	}
	og, err := oc.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr("s3src"), Key: oss.Ptr("cross")})
	if err != nil || string(readAll(t, og.Body)) != "both" || og.Metadata["Origin"] != "s3" && og.Metadata["origin"] != "s3" {
		t.Fatalf("OSS read of an S3 object: %v %v", err, og.Metadata)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("s3src"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	p1, _ := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("s3src"), Key: aws.String("ver"), Body: strings.NewReader("1")})
	p2, _ := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("s3src"), Key: aws.String("ver"), Body: strings.NewReader("2")})
	if p1.VersionId == nil || p2.VersionId == nil || *p1.VersionId == *p2.VersionId {
		t.Fatalf("S3 version ids %v %v", p1.VersionId, p2.VersionId)
	}
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("s3src"), Prefix: aws.String("ver")})
	if err != nil || len(lv.Versions) != 2 {
		t.Fatalf("ListObjectVersions = %+v, %v", lv, err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nope-bucket"), Key: aws.String("k")})
	wantS3Error(t, err, "NoSuchBucket")
}

// TestS3UploadPartCopyRange: x-amz-copy-source-range as S3 reads it —
// bytes=first-last within the source copies those bytes; past the end or
// in any other form is 400 InvalidArgument with S3's message, and no part
// is stored. OSS's own x-oss-copy-source-range keeps OSS's documented
// leniency: a range it cannot read copies the whole source.
func TestS3UploadPartCopyRange(t *testing.T) {
	srv, c, b := s3Bucket(t, "s3upc")
	ctx := context.Background()
	src := []byte("0123456789")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	copyPart := func(n int32, rng string) (*s3.UploadPartCopyOutput, error) {
		return c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("dst"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(n), CopySource: aws.String(b + "/src"), CopySourceRange: aws.String(rng)})
	}
	for _, tc := range []struct{ rng, msg string }{
		{"bytes=5-10", "Range specified is not valid for source object of size: 10"},
		{"bytes=10-12", "Range specified is not valid for source object of size: 10"},
		{"bytes=4-", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"},
		{"bytes=-3", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"},
		{"bytes=6-2", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"},
		{"4-6", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"},
	} {
		_, err := copyPart(2, tc.rng)
		var re *awshttp.ResponseError
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgument" || ae.ErrorMessage() != tc.msg || !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
			t.Errorf("range %q: err = %v, want 400 InvalidArgument %q", tc.rng, err, tc.msg)
		}
	}
	if _, err := copyPart(1, "bytes=3-6"); err != nil {
		t.Fatalf("UploadPartCopy bytes=3-6: %v", err)
	}
	parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("dst"), UploadId: mp.UploadId})
	if err != nil || len(parts.Parts) != 1 || aws.ToInt32(parts.Parts[0].PartNumber) != 1 || aws.ToInt64(parts.Parts[0].Size) != 4 {
		t.Fatalf("ListParts after refused copies = %+v, %v; want only part 1 of 4 bytes", parts, err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("dst"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: parts.Parts[0].ETag}}}}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, g.Body); string(got) != "3456" {
		t.Errorf("copied part = %q, want 3456", got)
	}

	// S3 wants at least one part (OSS completes an empty object: see
	// TestMultipartSequentialAndEmpty).
	empty, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("empty")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("empty"), UploadId: empty.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{}})
	wantS3Error(t, err, "MalformedXML")

	oc := v2Client(srv, modes[0])
	init, err := oc.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("oss-dst")})
	if err != nil {
		t.Fatal(err)
	}
	for i, rng := range []string{"junk", "bytes=4-", "bytes=6-2"} {
		if _, err := oc.UploadPartCopy(ctx, &oss.UploadPartCopyRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("oss-dst"), UploadId: init.UploadId,
			PartNumber: int32(i + 1), SourceKey: oss.Ptr("src"), Range: oss.Ptr(rng)}); err != nil {
			t.Errorf("OSS UploadPartCopy range %q: %v", rng, err)
		}
	}
	lp, err := oc.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("oss-dst"), UploadId: init.UploadId})
	if err != nil || len(lp.Parts) != 3 || lp.Parts[0].Size != 10 || lp.Parts[1].Size != 6 || lp.Parts[2].Size != 10 {
		t.Errorf("OSS parts = %+v, %v; want sizes 10 (unreadable: whole), 6 (bytes=4-), 10 (last < first: whole)", lp, err)
	}
}
