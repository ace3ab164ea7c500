package metatest

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/ossd/ossd/internal/meta"
)

// runNodes checks what the contract promises to several Stores on one
// backing (ossd nodes sharing a database): every Update that returned on
// one is seen by a View started afterwards on another, and Updates from
// both are serializable together.
func runNodes(t *testing.T, open Open, peer Peer) {
	ctx := context.Background()
	// nodes opens two Stores on one backing, closed when t ends.
	nodes := func(t *testing.T) (a, b meta.Store) {
		if peer == nil {
			t.Skip("the engine's backing belongs to one Store (no second node can open it)")
		}
		a = open(t, false)
		b = peer(t)
		t.Cleanup(func() { b.Close(); a.Close() })
		return a, b
	}
	t.Run("NodesReadAfterWrite", func(t *testing.T) {
		a, b := nodes(t)
		for i := range 20 {
			w, r := a, b
			if i%2 == 1 {
				w, r = b, a
			}
			k, v := fmt.Appendf(nil, "k%d", i), fmt.Appendf(nil, "v%d", i)
			must(t, w.Update(ctx, func(tx meta.Tx) error { return tx.Put(meta.SpaceObjects, k, v) }))
			must(t, r.View(ctx, func(tx meta.Tx) error {
				got, err := tx.Get(meta.SpaceObjects, k)
				if err != nil || string(got) != string(v) {
					return fmt.Errorf("write %d: the other node reads %q, %v; want %s", i, got, err, v)
				}
				return nil
			}))
			must(t, r.Update(ctx, func(tx meta.Tx) error { return tx.Delete(meta.SpaceObjects, k) }))
			must(t, w.View(ctx, func(tx meta.Tx) error {
				if got, err := tx.Get(meta.SpaceObjects, k); err != nil || got != nil {
					return fmt.Errorf("delete %d on the other node: still read %q, %v", i, got, err)
				}
				return nil
			}))
		}
	})
	t.Run("NodesNoLostUpdate", func(t *testing.T) {
		// Read-modify-write of one counter from both nodes at once:
		// serializable means every increment counts.
		a, b := nodes(t)
		const writers, each = 4, 25
		var wg sync.WaitGroup
		for _, s := range []meta.Store{a, b} {
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range each {
						err := s.Update(ctx, func(tx meta.Tx) error {
							raw, err := tx.Get(meta.SpaceSystem, []byte("counter"))
							if err != nil {
								return err
							}
							var n uint64
							if len(raw) == 8 {
								n = binary.BigEndian.Uint64(raw)
							}
							return tx.Put(meta.SpaceSystem, []byte("counter"), binary.BigEndian.AppendUint64(nil, n+1))
						})
						if err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		for _, s := range []meta.Store{a, b} {
			must(t, s.View(ctx, func(tx meta.Tx) error {
				raw, err := tx.Get(meta.SpaceSystem, []byte("counter"))
				if err != nil || len(raw) != 8 {
					return fmt.Errorf("counter = %x, %v", raw, err)
				}
				if n := binary.BigEndian.Uint64(raw); n != 2*writers*each {
					return fmt.Errorf("counter = %d after %d increments: updates lost", n, 2*writers*each)
				}
				return nil
			}))
		}
	})
	t.Run("NodesWriteSkew", func(t *testing.T) {
		// The classic anomaly snapshot isolation allows: each node reads
		// both keys and, seeing both set, clears its own. Serializable
		// lets at most one of each pair succeed in clearing.
		a, b := nodes(t)
		for round := range 10 {
			must(t, a.Update(ctx, func(tx meta.Tx) error {
				if err := tx.Put(meta.SpaceSystem, []byte("x"), []byte{1}); err != nil {
					return err
				}
				return tx.Put(meta.SpaceSystem, []byte("y"), []byte{1})
			}))
			var wg sync.WaitGroup
			for i, s := range []meta.Store{a, b} {
				own := []byte{"xy"[i]}
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.Update(ctx, func(tx meta.Tx) error {
						set := 0
						for _, k := range []string{"x", "y"} {
							v, err := tx.Get(meta.SpaceSystem, []byte(k))
							if err != nil {
								return err
							}
							if len(v) == 1 && v[0] == 1 {
								set++
							}
						}
						if set < 2 {
							return nil // the other one cleared first: keep ours
						}
						return tx.Put(meta.SpaceSystem, own, []byte{0})
					})
					if err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			must(t, b.View(ctx, func(tx meta.Tx) error {
				x, _ := tx.Get(meta.SpaceSystem, []byte("x"))
				y, _ := tx.Get(meta.SpaceSystem, []byte("y"))
				if len(x) == 1 && len(y) == 1 && x[0] == 0 && y[0] == 0 {
					return fmt.Errorf("round %d: both cleared: write skew, not serializable", round)
				}
				return nil
			}))
		}
	})
	t.Run("NodesSnapshotView", func(t *testing.T) {
		// A View paging through a space sees one snapshot while the
		// other node rewrites that space.
		a, b := nodes(t)
		const n = 1200
		put := func(s meta.Store, gen byte) {
			must(t, s.Update(ctx, func(tx meta.Tx) error {
				for i := range n {
					if err := tx.Put(meta.SpaceParts, fmt.Appendf(nil, "p%05d", i), []byte{gen}); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		put(a, 1)
		seen, wrote := 0, false
		must(t, b.View(ctx, func(tx meta.Tx) error {
			return tx.Ascend(meta.SpaceParts, nil, func(k, v []byte) bool {
				if seen == 1 && !wrote {
					put(a, 2) // commits while the View is at its second key
					wrote = true
				}
				if len(v) != 1 || v[0] != 1 {
					t.Errorf("View sees %s = %v, written after it started", k, v)
					return false
				}
				seen++
				return true
			})
		}))
		if seen != n || !wrote {
			t.Fatalf("View saw %d keys (rewrite done: %v), want %d", seen, wrote, n)
		}
	})
	t.Run("NodesUniqueSeq", func(t *testing.T) {
		a, b := nodes(t)
		const each = 20
		var mu sync.Mutex
		seen := map[uint64]bool{}
		var wg sync.WaitGroup
		for _, s := range []meta.Store{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					var got uint64
					err := s.Update(ctx, func(tx meta.Tx) (err error) {
						got, err = nextSeq(tx)
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seen[got] {
						t.Errorf("sequence %d handed out twice across nodes", got)
					}
					seen[got] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	})
	t.Run("NodesCloseOne", func(t *testing.T) {
		// What a node committed stays when it goes away; the other one
		// carries on.
		a, b := nodes(t)
		must(t, a.Update(ctx, func(tx meta.Tx) error { return tx.Put(meta.SpaceBuckets, []byte("bk"), []byte("a")) }))
		must(t, a.Close())
		must(t, b.Update(ctx, func(tx meta.Tx) error {
			v, err := tx.Get(meta.SpaceBuckets, []byte("bk"))
			if err != nil || string(v) != "a" {
				return fmt.Errorf("after the writer closed: %q, %v", v, err)
			}
			return tx.Put(meta.SpaceBuckets, []byte("bk"), []byte("b"))
		}))
	})
}

// nextSeq increments a counter in the store and returns its new value:
// concurrent callers must each get their own (a read-modify-write of one
// key, the catalogue's old global version counter).
func nextSeq(tx meta.Tx) (uint64, error) {
	raw, err := tx.Get(meta.SpaceSystem, []byte("seq"))
	if err != nil {
		return 0, err
	}
	var n uint64
	if len(raw) == 8 {
		n = binary.BigEndian.Uint64(raw)
	}
	n++
	return n, tx.Put(meta.SpaceSystem, []byte("seq"), binary.BigEndian.AppendUint64(nil, n))
}
