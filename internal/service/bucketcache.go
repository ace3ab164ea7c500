package service

import (
	"sync"

	"github.com/ossd/ossd/internal/meta"
)

// bucketCache keeps decoded bucket records: every request reads its
// bucket's record (existence, owner, ACL, logging rule) before anything
// else, and records change rarely. Entries are dropped when the service
// changes a bucket; a generation per name keeps a read that raced with a
// change from caching what it read before the change.
type bucketCache struct {
	mu  sync.RWMutex
	m   map[string]*meta.Bucket
	gen map[string]uint64
}

func (c *bucketCache) get(name string) (*meta.Bucket, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[name], c.gen[name]
}

// put caches b if no change to name happened since generation gen.
func (c *bucketCache) put(name string, b *meta.Bucket, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[name] != gen {
		return
	}
	if c.m == nil {
		c.m = map[string]*meta.Bucket{}
	}
	c.m[name] = b
}

// invalidate drops name; called after every committed change to it (and
// before, so a read between the two cannot cache the old record either).
func (c *bucketCache) invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == nil {
		c.gen = map[string]uint64{}
	}
	c.gen[name]++
	delete(c.m, name)
}
