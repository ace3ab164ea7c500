package service

import (
	"context"
	"sync"

	"github.com/ossd/ossd/internal/meta"
)

// accountBlocks caches each account's account-level Block Public Access
// switch (OSS's PutPublicAccessBlock on the service), which every request
// to a public bucket consults. Loads and changes both hold mu, so a load
// cannot cache a value a concurrent change has just replaced.
type accountBlocks struct {
	mu sync.RWMutex
	m  map[string]bool
}

func accountBlockKey(owner string) string { return "account-bpa/" + owner }

// AccountBlocked reports whether owner's account blocks public access. An
// account that never set it does not (OSS's default at the account level).
// A store that cannot be read counts as blocking: the answer is a refusal,
// never public access granted by mistake.
//
// On a shared store (meta.Shared) the switch is read from the store on each
// call, for the reason Bucket reads its record there: another node may
// have just turned it on. It is consulted only where public access is in
// question (a public ACL, grant or policy), so that read is not paid by
// private buckets' requests.
func (s *Service) AccountBlocked(ctx context.Context, owner string) bool {
	if s.shared {
		v, err := s.readAccountBlock(ctx, owner)
		if err != nil {
			s.log.Error("read account block public access", "account", owner, "err", err)
			return true
		}
		return v
	}
	c := &s.accountBPA
	c.mu.RLock()
	v, ok := c.m[owner]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[owner]; ok {
		return v
	}
	v, err := s.readAccountBlock(ctx, owner)
	if err != nil {
		s.log.Error("read account block public access", "account", owner, "err", err)
		return true
	}
	if c.m == nil {
		c.m = map[string]bool{}
	}
	c.m[owner] = v
	return v
}

// readAccountBlock reads owner's account-level switch from the store.
func (s *Service) readAccountBlock(ctx context.Context, owner string) (bool, error) {
	var on bool
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		on, err = accountBlockedIn(tx, owner)
		return err
	})
	return on, err
}

// accountBlockedIn reads owner's account-level switch in tx.
func accountBlockedIn(tx meta.Tx, owner string) (bool, error) {
	raw, err := meta.GetSystem(tx, accountBlockKey(owner))
	return string(raw) == "1", err
}

// SetAccountBlock turns owner's account-level Block Public Access on or
// off (PutPublicAccessBlock), or removes the setting (DeletePublicAccessBlock,
// on false: off again, the default).
func (s *Service) SetAccountBlock(ctx context.Context, owner string, on bool) error {
	c := &s.accountBPA
	c.mu.Lock()
	defer c.mu.Unlock()
	err := s.meta.Update(ctx, func(tx meta.Tx) error {
		if on {
			return meta.PutSystem(tx, accountBlockKey(owner), []byte("1"))
		}
		return meta.DeleteSystem(tx, accountBlockKey(owner))
	})
	if err != nil {
		delete(c.m, owner)
		return internalErr("store account block public access", err)
	}
	if c.m == nil {
		c.m = map[string]bool{}
	}
	c.m[owner] = on
	return nil
}

// PublicAccess returns the Block Public Access in force for bucket b: its
// own settings, and all four on while b's owner account blocks public
// access (OSS's account-level switch overrides every bucket's when on).
func (s *Service) PublicAccess(ctx context.Context, b *meta.Bucket) PublicAccessBlock {
	if s.AccountBlocked(ctx, b.Owner) {
		return meta.AllPublicAccessBlocked(true)
	}
	c, _ := b.PublicAccessConfig()
	return c
}

// PutBucketPublicAccessBlock stores bucket's Block Public Access settings
// (S3's four as given; OSS's switch is all four alike). Settings already in
// force are not re-checked: turning BlockPublicAcls on leaves existing
// public ACLs in place, IgnorePublicAcls is what disarms them (AWS).
func (s *Service) PutBucketPublicAccessBlock(ctx context.Context, bucket string, c PublicAccessBlock) error {
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.BlockPublicAccess, b.PublicAccessBlock = nil, &c
		return nil
	})
}

// DeleteBucketPublicAccessBlock removes bucket's own configuration: every
// setting off (OSS's and AWS's default for a bucket without one; new
// buckets get theirs at creation, see CreateBucket), and S3's
// GetPublicAccessBlock answers NoSuchPublicAccessBlockConfiguration. The
// account's switch still applies.
func (s *Service) DeleteBucketPublicAccessBlock(ctx context.Context, bucket string) error {
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.BlockPublicAccess, b.PublicAccessBlock = nil, nil
		return nil
	})
}

// AllPublicAccessBlocked is S3's four settings all on (or all off): what
// OSS's one switch sets.
func AllPublicAccessBlocked(on bool) PublicAccessBlock { return meta.AllPublicAccessBlocked(on) }
