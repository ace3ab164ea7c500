package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3SignedPayloadUnderChecksum: an S3 request whose body is vouched
// for twice — a signed payload hash (x-amz-content-sha256) and an
// x-amz-checksum-crc32 header — is read through two verifying readers,
// the checksum's wrapping the signed hash's. A body that matches its
// checksum but not the hash its signature covers must be refused with the
// signed hash's error, through the wrapper, and change nothing: on the
// object path (the service verifies before committing) and on an XML
// configuration body (httpapi verifies before parsing). The same request
// with the right hash succeeds, so the refusal is the hash's alone.
func TestS3SignedPayloadUnderChecksum(t *testing.T) {
	srv, c, b := s3Bucket(t, "verify")
	ctx := context.Background()
	creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.AccessKeySecret}
	send := func(t *testing.T, method, path, body, signedHash string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.Endpoint+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		sum := make([]byte, 4)
		binary.BigEndian.PutUint32(sum, crc32.ChecksumIEEE([]byte(body)))
		req.Header.Set("x-amz-checksum-crc32", base64.StdEncoding.EncodeToString(sum))
		req.Header.Set("x-amz-content-sha256", signedHash)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, signedHash, "s3", srv.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	hashOf := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	tagging := func(v string) string {
		return `<Tagging><TagSet><Tag><Key>k</Key><Value>` + v + `</Value></Tag></TagSet></Tagging>`
	}
	tests := []struct {
		name         string
		method, path string
		body         string
		vouched      string // the body the signed hash is of
		stored       func(t *testing.T) string
		want         string // what stored reports afterwards
	}{
		{"object, right hash", http.MethodPut, "/" + b + "/good", "the bytes", "the bytes",
			func(t *testing.T) string { return objectText(t, c, b, "good") }, "the bytes"},
		{"object, wrong hash", http.MethodPut, "/" + b + "/bad", "the bytes", "other bytes",
			func(t *testing.T) string { return objectText(t, c, b, "bad") }, "<absent>"},
		{"bucket tagging, right hash", http.MethodPut, "/" + b + "?tagging", tagging("one"), tagging("one"),
			func(t *testing.T) string { return bucketTag(t, c, b) }, "one"},
		{"bucket tagging, wrong hash", http.MethodPut, "/" + b + "?tagging", tagging("two"), tagging("three"),
			func(t *testing.T) string { return bucketTag(t, c, b) }, "one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := send(t, tc.method, tc.path, tc.body, hashOf(tc.vouched))
			switch {
			case tc.body == tc.vouched && status != http.StatusOK:
				t.Fatalf("vouched body refused: %d %s", status, body)
			case tc.body != tc.vouched && (status != http.StatusBadRequest || !strings.Contains(body, "<Code>XAmzContentSHA256Mismatch</Code>")):
				t.Fatalf("body unlike its signed hash: %d %s, want 400 XAmzContentSHA256Mismatch", status, body)
			}
			if got := tc.stored(t); got != tc.want {
				t.Errorf("stored %q, want %q", got, tc.want)
			}
		})
	}
}

// objectText is key's content, or "<absent>" when it does not exist.
func objectText(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	g, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		wantS3Error(t, err, "NoSuchKey")
		return "<absent>"
	}
	defer g.Body.Close()
	got, err := io.ReadAll(g.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

// bucketTag is the value of bucket's tag "k".
func bucketTag(t *testing.T, c *s3.Client, bucket string) string {
	t.Helper()
	out, err := c.GetBucketTagging(context.Background(), &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range out.TagSet {
		if aws.ToString(tg.Key) == "k" {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}
