package service

import (
	"context"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// Access is what an operation needs from the bucket or object ACL.
type Access int

const (
	// AccessOwner: only the bucket owner (configuration, ACLs, logging).
	AccessOwner Access = iota
	// AccessRead: readable under public-read or public-read-write.
	AccessRead
	// AccessWrite: writable under public-read-write.
	AccessWrite
	// AccessAnyone: not governed by ACLs at all (a CORS preflight, which
	// the bucket's CORS rules decide).
	AccessAnyone
)

// Canned ACL values.
const (
	ACLPrivate         = "private"
	ACLPublicRead      = "public-read"
	ACLPublicReadWrite = "public-read-write"
	ACLDefault         = "default"
)

// ValidBucketACL reports whether acl may be set on a bucket.
func ValidBucketACL(acl string) bool {
	return acl == ACLPrivate || acl == ACLPublicRead || acl == ACLPublicReadWrite
}

// ValidObjectACL reports whether acl may be set on an object.
func ValidObjectACL(acl string) bool { return acl == ACLDefault || ValidBucketACL(acl) }

// PublicACL reports whether acl grants access to everyone.
func PublicACL(acl string) bool { return acl == ACLPublicRead || acl == ACLPublicReadWrite }

// AllowBucketACL refuses to set a public ACL on bucket b while public
// access to b is blocked (by b's own block or its owner account's): OSS
// refuses it rather than store an ACL it would ignore, so a user learns at
// once why the bucket is not public. b nil is a bucket being created by
// owner, which starts with the server's default for new buckets.
func (s *Service) AllowBucketACL(ctx context.Context, owner string, b *meta.Bucket, acl string) error {
	if !PublicACL(acl) {
		return nil
	}
	blocked := !s.cfg.UnblockNewBuckets
	if b != nil {
		blocked = b.PublicBlocked()
	}
	if blocked || s.AccountBlocked(ctx, owner) {
		return oss.ErrPublicBucketACLBlocked
	}
	return nil
}

// AllowObjectACL is AllowBucketACL for an object ACL in bucket b.
func (s *Service) AllowObjectACL(ctx context.Context, b *meta.Bucket, acl string) error {
	if PublicACL(acl) && s.PublicBlocked(ctx, b) {
		return oss.ErrPublicObjectACLBlocked
	}
	return nil
}

// PublicBlocked reports whether public ACLs grant nothing in b: b blocks
// public access, or its owner's account does. OSS's account-level block
// overrides every bucket's setting when it is on; when it is off, each
// bucket's own decides.
func (s *Service) PublicBlocked(ctx context.Context, b *meta.Bucket) bool {
	return b.PublicBlocked() || s.AccountBlocked(ctx, b.Owner)
}

// Authorize decides whether p may perform an operation needing access on
// bucket b, where objectACL is the target object's ACL ("" or "default"
// when it inherits the bucket's). The owner may do anything; others get
// what the effective ACL grants, which is how OSS treats both anonymous
// users and other accounts — unless public access is blocked (by the
// bucket or its owner's account), in which case public ACLs grant
// nothing. A refusal says which of the two refused: a private ACL gets
// OSS's "because of bucket acl" answer, a public ACL that is ignored gets
// the block's.
func (s *Service) Authorize(ctx context.Context, p Principal, access Access, b *meta.Bucket, objectACL string) error {
	if decided, err := s.authorizeByPolicy(ctx, p, access, b); decided { // policy.go: explicit Deny, then Allow
		return err
	}
	if p.Internal || (p.ID != "" && p.ID == b.Owner) || access == AccessAnyone {
		return nil
	}
	if access == AccessOwner {
		return oss.ErrAccessDenied.WithMessage("You do not have the permission to perform this operation on the bucket.")
	}
	acl := b.ACL
	if objectACL != "" && objectACL != ACLDefault {
		acl = objectACL
	}
	granted := access == AccessRead && (acl == ACLPublicRead || acl == ACLPublicReadWrite) ||
		access == AccessWrite && acl == ACLPublicReadWrite
	switch {
	case !granted:
		return oss.ErrAccessDenied
	case s.PublicBlocked(ctx, b):
		return oss.ErrAccessDenied.WithMessage("Public access is blocked for this bucket.")
	}
	return nil
}
