package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/ossdtest"
)

func TestListing(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		b := newBucket(t, c)
		keys := []string{"a/1", "a/2", "a/b/3", "b/1", "c", "d%e", "f g"}
		for _, k := range keys {
			if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr(k), Body: strings.NewReader(k)}); err != nil {
				t.Fatal(err)
			}
		}
		// Delimiter.
		r, err := c.ListObjects(ctx, &oss.ListObjectsRequest{Bucket: oss.Ptr(b), Delimiter: oss.Ptr("/")})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range r.Contents {
			got = append(got, oss.ToString(o.Key))
		}
		for _, p := range r.CommonPrefixes {
			got = append(got, oss.ToString(p.Prefix))
		}
		if fmt.Sprint(got) != "[c d%e f g a/ b/]" {
			t.Errorf("ListObjects delimiter = %v", got)
		}
		// Pagination with v1 markers, page size 2.
		var all []string
		marker := ""
		for i := 0; i < 10; i++ {
			r, err := c.ListObjects(ctx, &oss.ListObjectsRequest{Bucket: oss.Ptr(b), Marker: oss.Ptr(marker), MaxKeys: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range r.Contents {
				all = append(all, oss.ToString(o.Key))
			}
			if !r.IsTruncated {
				break
			}
			marker = oss.ToString(r.NextMarker)
		}
		want := append([]string(nil), keys...)
		sort.Strings(want)
		if fmt.Sprint(all) != fmt.Sprint(want) {
			t.Errorf("v1 pages = %v, want %v", all, want)
		}
		// V2 paginator with prefix.
		p := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(b), Prefix: oss.Ptr("a/"), MaxKeys: 1, FetchOwner: true})
		var v2 []string
		for p.HasNext() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Contents {
				v2 = append(v2, oss.ToString(o.Key))
				if o.Owner == nil || oss.ToString(o.Owner.ID) != srv.AccountID {
					t.Errorf("fetch-owner: owner = %+v", o.Owner)
				}
			}
		}
		if fmt.Sprint(v2) != "[a/1 a/2 a/b/3]" {
			t.Errorf("v2 paginator = %v", v2)
		}
		r2, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(b), StartAfter: oss.Ptr("c")})
		if err != nil || len(r2.Contents) != 2 || r2.KeyCount != 2 {
			t.Errorf("start-after c = %+v, %v", r2, err)
		}
	})
}

func TestVersioning(t *testing.T) {
	forEachMode(t, func(t *testing.T, c *oss.Client, srv *ossdtest.Server) {
		ctx := context.Background()
		b := newBucket(t, c)
		vr, err := c.GetBucketVersioning(ctx, &oss.GetBucketVersioningRequest{Bucket: oss.Ptr(b)})
		if err != nil || vr.VersionStatus != nil {
			t.Fatalf("GetBucketVersioning on new bucket = %+v, %v", vr, err)
		}
		if _, err := c.PutBucketVersioning(ctx, &oss.PutBucketVersioningRequest{Bucket: oss.Ptr(b),
			VersioningConfiguration: &oss.VersioningConfiguration{Status: oss.VersionEnabled}}); err != nil {
			t.Fatal(err)
		}
		vr, _ = c.GetBucketVersioning(ctx, &oss.GetBucketVersioningRequest{Bucket: oss.Ptr(b)})
		if oss.ToString(vr.VersionStatus) != "Enabled" {
			t.Fatalf("status = %v", oss.ToString(vr.VersionStatus))
		}
		p1, _ := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), Body: strings.NewReader("one")})
		p2, _ := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), Body: strings.NewReader("two")})
		if p1.VersionId == nil || p2.VersionId == nil || *p1.VersionId == *p2.VersionId {
			t.Fatalf("version ids %v %v", p1.VersionId, p2.VersionId)
		}
		g, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), VersionId: p1.VersionId})
		if err != nil || string(readAll(t, g.Body)) != "one" {
			t.Fatalf("get old version: %v", err)
		}
		d, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k")})
		if err != nil || !d.DeleteMarker || d.VersionId == nil {
			t.Fatalf("delete on versioned bucket = %+v, %v", d, err)
		}
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k")})
		wantServiceError(t, err, "NoSuchKey", 404, "")
		lv, err := c.ListObjectVersions(ctx, &oss.ListObjectVersionsRequest{Bucket: oss.Ptr(b)})
		if err != nil || len(lv.ObjectVersions) != 2 || len(lv.ObjectDeleteMarkers) != 1 || !lv.ObjectDeleteMarkers[0].IsLatest {
			t.Fatalf("ListObjectVersions = %+v, %v", lv, err)
		}
		// Removing the marker brings the object back.
		if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), VersionId: d.VersionId}); err != nil {
			t.Fatal(err)
		}
		g, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k")})
		if err != nil || string(readAll(t, g.Body)) != "two" {
			t.Fatalf("after removing marker: %v", err)
		}
		// Tagging a specific version.
		_, err = c.PutObjectTagging(ctx, &oss.PutObjectTaggingRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), VersionId: p1.VersionId,
			Tagging: &oss.Tagging{TagSet: &oss.TagSet{Tags: []oss.Tag{{Key: oss.Ptr("v"), Value: oss.Ptr("1")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		tg, err := c.GetObjectTagging(ctx, &oss.GetObjectTaggingRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), VersionId: p2.VersionId})
		if err != nil || len(tg.Tags) != 0 {
			t.Errorf("tags leaked across versions: %+v %v", tg, err)
		}
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("k"), VersionId: oss.Ptr("CAEQnotthere")})
		wantServiceError(t, err, "NoSuchVersion", 404, "")
	})
}
