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
	// AccessReadACP and AccessWriteACP: reading and setting an ACL, which
	// only the owner may unless an S3 grant (READ_ACP, WRITE_ACP,
	// FULL_CONTROL) allows another account; no canned ACL grants them.
	AccessReadACP
	AccessWriteACP
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

// PublicACL reports whether acl grants access to everyone (or, for S3's
// authenticated-read, to every signed account: public all the same to
// Block Public Access).
func PublicACL(acl string) bool {
	return acl == ACLPublicRead || acl == ACLPublicReadWrite || acl == ACLAuthenticatedRead
}

// AllowBucketACL refuses to set a public ACL on bucket b while b blocks
// public ACLs (BlockPublicAcls, by b's own settings or its owner account's
// switch): OSS refuses it rather than store an ACL it would ignore, so a
// user learns at once why the bucket is not public. b nil is a bucket
// being created by owner, which starts with the server's default for new
// buckets.
func (s *Service) AllowBucketACL(ctx context.Context, owner string, b *meta.Bucket, acl string) error {
	if !PublicACL(acl) {
		return nil
	}
	blocked := !s.cfg.UnblockNewBuckets || s.AccountBlocked(ctx, owner)
	if b != nil {
		blocked = s.PublicAccess(ctx, b).BlockPublicAcls
	}
	if blocked {
		return oss.ErrPublicBucketACLBlocked
	}
	return nil
}

// AllowBucketGrants is AllowBucketACL for S3 grants: any grant to a
// group is public.
func (s *Service) AllowBucketGrants(ctx context.Context, owner string, b *meta.Bucket, grants []meta.Grant) error {
	if !PublicGrants(grants) {
		return nil
	}
	return s.AllowBucketACL(ctx, owner, b, ACLPublicRead)
}

// AllowObjectGrants is AllowObjectACL for S3 grants.
func (s *Service) AllowObjectGrants(ctx context.Context, b *meta.Bucket, grants []meta.Grant) error {
	if !PublicGrants(grants) {
		return nil
	}
	return s.AllowObjectACL(ctx, b, ACLPublicRead)
}

// AllowObjectACL is AllowBucketACL for an object ACL in bucket b.
func (s *Service) AllowObjectACL(ctx context.Context, b *meta.Bucket, acl string) error {
	if PublicACL(acl) && s.PublicAccess(ctx, b).BlockPublicAcls {
		return oss.ErrPublicObjectACLBlocked
	}
	return nil
}

// Authorize decides whether p may perform an operation needing access on
// bucket b, where objectACL is the target object's ACL ("" or "default"
// when it inherits the bucket's). The owner may do anything; others get
// what the effective ACL grants, which is how OSS treats both anonymous
// users and other accounts — unless public ACLs are ignored
// (IgnorePublicAcls, by the bucket or its owner's account), in which case
// public ACLs and grants to groups grant nothing (a grant to the caller's
// own account still does).
// A refusal says which of the two refused: a private ACL gets OSS's
// "because of bucket acl" answer, a public ACL that is ignored gets the
// block's.
func (s *Service) Authorize(ctx context.Context, p Principal, access Access, b *meta.Bucket, objectACL string) error {
	return s.authorize(ctx, p, access, b, objectACL, nil)
}

// AuthorizeVersion is Authorize against object version v's own ACL: its
// S3 grants when it has them, else its canned ACL, else the bucket's.
func (s *Service) AuthorizeVersion(ctx context.Context, p Principal, access Access, b *meta.Bucket, v *meta.Version) error {
	return s.authorize(ctx, p, access, b, v.ACL, v.Grants)
}

func (s *Service) authorize(ctx context.Context, p Principal, access Access, b *meta.Bucket, objectACL string, objectGrants []meta.Grant) error {
	if decided, err := s.authorizeByPolicy(ctx, p, access, b); decided { // policy.go: explicit Deny, then Allow
		return err
	}
	if p.Internal || (p.ID != "" && p.ID == b.Owner) || access == AccessAnyone {
		return nil
	}
	ownerOnly := oss.ErrAccessDenied.WithMessage("You do not have the permission to perform this operation on the bucket.")
	if access == AccessOwner {
		return ownerOnly
	}
	perm := permission(access)
	var direct, public bool
	switch {
	case len(objectGrants) > 0:
		direct, public = grantsAllow(objectGrants, p, perm)
	case objectACL != "" && objectACL != ACLDefault:
		public = cannedAllows(objectACL, perm)
	case len(b.Grants) > 0:
		direct, public = grantsAllow(b.Grants, p, perm)
	default:
		public = cannedAllows(b.ACL, perm)
	}
	switch {
	case direct:
		return nil
	case !public && (access == AccessReadACP || access == AccessWriteACP):
		return ownerOnly // as before grants: ACL operations are the owner's
	case !public:
		return oss.ErrAccessDenied
	case s.PublicAccess(ctx, b).IgnorePublicAcls:
		return oss.ErrAccessDenied.WithMessage("Public access is blocked for this bucket.")
	}
	return nil
}
