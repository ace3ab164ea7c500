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
func (s *Service) AccountBlocked(ctx context.Context, owner string) bool {
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
	var raw []byte
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		raw, err = meta.GetSystem(tx, accountBlockKey(owner))
		return err
	})
	if err != nil {
		s.log.Error("read account block public access", "account", owner, "err", err)
		return true
	}
	if c.m == nil {
		c.m = map[string]bool{}
	}
	c.m[owner] = string(raw) == "1"
	return c.m[owner]
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
