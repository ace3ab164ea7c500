package service

import (
	"context"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// The writes to an existing object version's record: its ACL and its
// tags. As for bucket configuration (bucketconfig.go), the rules that
// depend on stored state — a public ACL refused while the bucket blocks
// public access — are decided against the bucket read in the transaction
// that writes.

// ObjectACLInput is PutObjectAcl's request.
type ObjectACLInput struct {
	// ACL is the canned ACL to store ("default": the bucket's).
	ACL string
	// Grants are S3 grants, already checked by CheckGrants; nil for a
	// canned ACL only.
	Grants []meta.Grant
	// Header names the ACL header in the request's dialect, which an
	// invalid ACL's error names.
	Header string
}

// PutObjectACL sets the ACL of key's version versionID ("" for the
// latest) in bucket and returns the version: a canned object ACL, refused
// (PublicObjectACLBlocked) when it or its grants are public while public
// access to the bucket is blocked.
func (s *Service) PutObjectACL(ctx context.Context, bucket, key, versionID string, in ObjectACLInput) (*meta.Version, error) {
	if !ValidObjectACL(in.ACL) {
		return nil, oss.ErrInvalidArgument.WithMessage("no such object access control exists").With("ArgumentName", in.Header).With("ArgumentValue", in.ACL)
	}
	return s.updateVersion(ctx, bucket, key, versionID, func(tx meta.Tx, v *meta.Version) error {
		b, err := meta.GetBucket(tx, bucket)
		if err != nil {
			return err
		}
		if b == nil {
			return oss.ErrNoSuchBucket.With("BucketName", bucket)
		}
		public := PublicACL(in.ACL) || PublicGrants(in.Grants)
		if err := refuseIfBlocked(tx, b, public, blocksACLs, oss.ErrPublicObjectACLBlocked); err != nil {
			return err
		}
		v.ACL, v.Grants = in.ACL, in.Grants
		return nil
	})
}

// PutObjectTagging replaces the tags of key's version versionID ("" for
// the latest), checked by CheckObjectTags in the request's dialect (s3);
// their count and duplicate keys are the parser's to refuse.
func (s *Service) PutObjectTagging(ctx context.Context, bucket, key, versionID string, tags []meta.Tag, s3 bool) (*meta.Version, error) {
	if err := CheckObjectTags(tags, s3); err != nil {
		return nil, err
	}
	return s.updateVersion(ctx, bucket, key, versionID, func(_ meta.Tx, v *meta.Version) error {
		v.Tags = tags
		return nil
	})
}

// DeleteObjectTagging removes the tags of key's version versionID ("" for
// the latest).
func (s *Service) DeleteObjectTagging(ctx context.Context, bucket, key, versionID string) (*meta.Version, error) {
	return s.updateVersion(ctx, bucket, key, versionID, func(_ meta.Tx, v *meta.Version) error {
		v.Tags = nil
		return nil
	})
}
