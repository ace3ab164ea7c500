package service

import (
	"context"
	"strings"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// Storage classes OSS accepts.
var storageClasses = map[string]bool{"Standard": true, "IA": true, "Archive": true, "ColdArchive": true, "DeepColdArchive": true}

// NormalizeStorageClass returns OSS's spelling of class, or "" if invalid.
func NormalizeStorageClass(class string) string {
	for c := range storageClasses {
		if strings.EqualFold(c, class) {
			return c
		}
	}
	return ""
}

// CreateBucketInput is PutBucket's request.
type CreateBucketInput struct {
	Name          string
	ACL           string
	Grants        []meta.Grant // S3 grants (ACL is then their nearest canned ACL)
	StorageClass  string
	Redundancy    string
	ResourceGroup string
}

// CreateBucket creates a bucket owned by p. Creating a bucket one already
// owns succeeds (OSS answers 200 to the owner; its settings stay).
func (s *Service) CreateBucket(ctx context.Context, p Principal, in CreateBucketInput) error {
	if !oss.ValidBucketName(in.Name) {
		return oss.ErrInvalidBucketName.With("BucketName", in.Name)
	}
	if in.ACL == "" {
		in.ACL = ACLPrivate
	}
	if !ValidBucketACL(in.ACL) {
		return oss.ErrInvalidArgument.WithMessage("no such bucket access control exists").With("ArgumentName", "x-oss-acl").With("ArgumentValue", in.ACL)
	}
	class := "Standard"
	if in.StorageClass != "" {
		if class = NormalizeStorageClass(in.StorageClass); class == "" {
			return oss.ErrInvalidArgument.WithMessage("Unsupported storage class: %s", in.StorageClass)
		}
	}
	red := "LRS"
	if in.Redundancy != "" {
		if in.Redundancy != "LRS" && in.Redundancy != "ZRS" {
			return oss.ErrInvalidArgument.WithMessage("Unsupported redundancy type: %s", in.Redundancy)
		}
		red = in.Redundancy
	}
	s.buckets.invalidate(in.Name)
	defer s.buckets.invalidate(in.Name)
	return s.meta.Update(ctx, func(tx meta.Tx) error {
		b, err := meta.GetBucket(tx, in.Name)
		if err != nil {
			return err
		}
		if b != nil {
			if b.Owner == p.ID {
				return nil
			}
			return oss.ErrBucketAlreadyExists.With("BucketName", in.Name)
		}
		if err := s.AllowBucketACL(ctx, p.ID, nil, in.ACL); err != nil {
			return err
		}
		if err := s.AllowBucketGrants(ctx, p.ID, nil, in.Grants); err != nil {
			return err
		}
		// The block is stored either way, so a bucket keeps the default it
		// was created under when the server restarts with another.
		blocked := !s.cfg.UnblockNewBuckets
		return meta.PutBucket(tx, &meta.Bucket{
			Name: in.Name, Owner: p.ID, Created: s.now(), Region: s.cfg.Region,
			ACL: in.ACL, Grants: in.Grants, StorageClass: class, Redundancy: red, ResourceGroup: in.ResourceGroup,
			BlockPublicAccess: &blocked,
		})
	})
}

// Bucket returns the bucket record; NoSuchBucket when it does not exist.
// The record is shared with other callers: do not modify it.
//
// On one node the record comes from the cache, which every change made
// through this Service invalidates. On a shared store (meta.Shared) another
// node's change is invisible to that cache, and an ACL, Block Public
// Access, policy, CORS or logging change must hold on every node from the
// moment it is acknowledged: so each call reads the record from the store,
// one single-key read (the catalogue's decoded-record cache still spares
// the JSON decoding while the stored bytes are unchanged). A change
// notification (PostgreSQL LISTEN/NOTIFY) could let the cache live on, but
// it can arrive after the writer's response, and that window is exactly
// what must not exist.
func (s *Service) Bucket(ctx context.Context, name string) (*meta.Bucket, error) {
	if s.shared {
		return s.readBucket(ctx, name)
	}
	b, gen := s.buckets.get(name)
	if b != nil {
		return b, nil
	}
	b, err := s.readBucket(ctx, name)
	if err != nil {
		return nil, err
	}
	s.buckets.put(name, b, gen)
	return b, nil
}

// readBucket reads the bucket record from the store.
func (s *Service) readBucket(ctx context.Context, name string) (*meta.Bucket, error) {
	var b *meta.Bucket
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		b, err = meta.GetBucket(tx, name)
		return err
	})
	if err != nil {
		return nil, internalErr("get bucket", err)
	}
	if b == nil {
		return nil, oss.ErrNoSuchBucket.With("BucketName", name)
	}
	return b, nil
}

// updateBucket applies fn to the stored bucket in one transaction. fn
// decides from the record read in that transaction (and may read more
// through tx), so a rule that depends on stored state is checked against
// what is written. Unexported: every bucket-configuration write is one of
// the Service's operations (bucketconfig.go), so no caller outside the
// service layer can write a bucket record past its rules.
func (s *Service) updateBucket(ctx context.Context, name string, fn func(tx meta.Tx, b *meta.Bucket) error) error {
	s.buckets.invalidate(name)
	defer s.buckets.invalidate(name)
	return s.meta.Update(ctx, func(tx meta.Tx) error {
		b, err := meta.GetBucket(tx, name)
		if err != nil {
			return err
		}
		if b == nil {
			return oss.ErrNoSuchBucket.With("BucketName", name)
		}
		if err := fn(tx, b); err != nil {
			return err
		}
		return meta.PutBucket(tx, b)
	})
}

// DeleteBucket removes an empty bucket (and with it its logging rule).
//
// What counts as empty is where the two APIs part: OSS refuses a bucket
// that still has unfinished multipart uploads (BucketNotEmpty), while S3
// (and RGW, MinIO) delete the uploads and their parts with the bucket, and
// S3 clients' clean-up code relies on it. abortUploads asks for S3's rule;
// objects still refuse the delete in both.
func (s *Service) DeleteBucket(ctx context.Context, name string, abortUploads bool) error {
	s.buckets.invalidate(name)
	defer s.buckets.invalidate(name)
	var garbage []string
	err := s.meta.Update(ctx, func(tx meta.Tx) error {
		garbage = nil
		b, err := meta.GetBucket(tx, name)
		if err != nil {
			return err
		}
		if b == nil {
			return oss.ErrNoSuchBucket.With("BucketName", name)
		}
		if abortUploads {
			// Deleted before the emptiness check, in the same transaction:
			// a bucket that still holds objects rolls the deletes back.
			if garbage, err = deleteUploads(tx, name); err != nil {
				return err
			}
		}
		empty, err := meta.BucketEmpty(tx, name)
		if err != nil {
			return err
		}
		if !empty {
			return oss.ErrBucketNotEmpty.With("BucketName", name)
		}
		return meta.DeleteBucket(tx, name)
	})
	if err != nil {
		return err
	}
	s.blobs.Remove(garbage...)
	if s.cfg.BucketDeleted != nil {
		s.cfg.BucketDeleted(name)
	}
	return nil
}

// deleteUploads removes every unfinished upload of bucket with its parts and
// returns the parts' blobs, to be removed once the transaction commits.
func deleteUploads(tx meta.Tx, bucket string) ([]string, error) {
	var uploads []*meta.Upload
	if err := meta.ScanUploads(tx, bucket, "", func(u *meta.Upload) bool {
		uploads = append(uploads, u)
		return true
	}); err != nil {
		return nil, err
	}
	var blobs []string
	for _, u := range uploads {
		b, err := dropUpload(tx, u)
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, b...)
	}
	return blobs, nil
}

// ListBucketsInput filters ListBuckets.
type ListBucketsInput struct {
	Owner    string
	Prefix   string
	Marker   string
	MaxKeys  int
	TagKey   string
	TagValue string
	Region   string // when set, only buckets of this region
	// ResourceGroup, when set, keeps the buckets of that resource group
	// (x-oss-resource-group-id; see ResourceGroupOf).
	ResourceGroup string
}

// ResourceGroupOf is a bucket's resource group: the one it was created
// in, else the account's default group, as OSS reports it.
func ResourceGroupOf(b *meta.Bucket) string {
	if b.ResourceGroup != "" {
		return b.ResourceGroup
	}
	return "rg-default"
}

// ListBuckets returns p's buckets in name order, and whether more follow.
func (s *Service) ListBuckets(ctx context.Context, in ListBucketsInput) ([]*meta.Bucket, bool, error) {
	var out []*meta.Bucket
	truncated := false
	// meta.ListBuckets lists names after its start, so the scan starts
	// at the marker (exclusive) and prefix filtering happens below.
	start := in.Marker
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		return meta.ListBuckets(tx, start, func(b *meta.Bucket) bool {
			if b.Name <= in.Marker {
				return true
			}
			if !strings.HasPrefix(b.Name, in.Prefix) {
				return b.Name < in.Prefix
			}
			if b.Owner != in.Owner || !hasTag(b.Tags, in.TagKey, in.TagValue) || in.Region != "" && b.Region != in.Region ||
				in.ResourceGroup != "" && ResourceGroupOf(b) != in.ResourceGroup {
				return true
			}
			if len(out) == in.MaxKeys {
				truncated = true
				return false
			}
			out = append(out, b)
			return true
		})
	})
	return out, truncated, internalErr("list buckets", err)
}

func hasTag(tags []meta.Tag, k, v string) bool {
	if k == "" {
		return true
	}
	for _, t := range tags {
		if t.Key == k && (v == "" || t.Value == v) {
			return true
		}
	}
	return false
}

// BucketStat summarises a bucket's contents.
type BucketStat struct {
	Storage, Objects, MultipartUploads, MultipartParts, DeleteMarkers int64
	LiveChannels                                                      int64
	LastModified                                                      int64
	ByClass                                                           map[string][2]int64 // class → {bytes, objects}
}

// Stat computes the bucket's statistics by a scan (exact, not cached).
func (s *Service) Stat(ctx context.Context, bucket string) (*BucketStat, error) {
	st := &BucketStat{ByClass: map[string][2]int64{}}
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		if err := meta.ScanVersions(tx, bucket, "", func(v *meta.Version) bool {
			if v.DeleteMarker {
				st.DeleteMarkers++
				return true
			}
			st.Storage += v.Size
			st.Objects++
			c := st.ByClass[v.StorageClass]
			st.ByClass[v.StorageClass] = [2]int64{c[0] + v.Size, c[1] + 1}
			if m := v.Modified.Unix(); m > st.LastModified {
				st.LastModified = m
			}
			return true
		}); err != nil {
			return err
		}
		if err := meta.ScanUploads(tx, bucket, "", func(u *meta.Upload) bool {
			st.MultipartUploads++
			if parts, err := meta.Parts(tx, u.UploadID, 0); err == nil {
				st.MultipartParts += int64(len(parts))
				for _, p := range parts {
					st.Storage += p.Size
				}
			}
			return true
		}); err != nil {
			return err
		}
		return meta.ScanLiveChannels(tx, bucket, "", func(*meta.LiveChannel) bool {
			st.LiveChannels++
			return true
		})
	})
	return st, internalErr("bucket stat", err)
}
