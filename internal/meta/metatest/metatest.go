// Package metatest is the conformance suite of meta.Store: every engine
// runs it from its own tests with Run(t, open), so no engine gets a
// private, weaker test set.
package metatest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ossd/ossd/internal/meta"
)

// Open returns a fresh, empty store, or reopens the one at the same place
// when reopen is true (to check durability across Close).
type Open func(t *testing.T, reopen bool) meta.Store

// Peer opens another Store on the backing of the one open(t, false)
// returned last (the same database), as a second node would. Engines whose
// backing one process owns (a bbolt file) pass nil, and the cases that
// need two nodes skip, saying why.
type Peer func(t *testing.T) meta.Store

// Run checks the meta.Store contract; the cases with two nodes run when
// peer is not nil.
func Run(t *testing.T, open Open, peer Peer) {
	ctx := context.Background()
	t.Run("AscendPages", func(t *testing.T) {
		// More keys than any engine's page or batch size, and a scan
		// that starts in the middle, between keys, and stops early.
		s := open(t, false)
		defer s.Close()
		const n = 2500
		must(t, s.Update(ctx, func(tx meta.Tx) error {
			for i := range n {
				if err := tx.Put(meta.SpaceObjects, fmt.Appendf(nil, "k%05d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
					return err
				}
			}
			return nil
		}))
		var got []string
		must(t, s.View(ctx, func(tx meta.Tx) error {
			return tx.Ascend(meta.SpaceObjects, []byte("k00100\x00"), func(k, v []byte) bool {
				got = append(got, string(k)+"="+string(v))
				return len(got) < 2000
			})
		}))
		if len(got) != 2000 || got[0] != "k00101=v101" || got[1999] != "k02100=v2100" {
			t.Fatalf("Ascend: %d keys, first %q last %q; want 2000, k00101=v101 … k02100=v2100", len(got), got[0], got[len(got)-1])
		}
		for i := 1; i < len(got); i++ {
			if got[i-1] >= got[i] {
				t.Fatalf("Ascend out of order at %d: %q then %q", i, got[i-1], got[i])
			}
		}
		// Whole space, nil start.
		count := 0
		must(t, s.View(ctx, func(tx meta.Tx) error {
			return tx.Ascend(meta.SpaceObjects, nil, func(k, v []byte) bool { count++; return true })
		}))
		if count != n {
			t.Fatalf("Ascend(nil) saw %d keys, want %d", count, n)
		}
	})
	t.Run("EmptyValue", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		must(t, s.Update(ctx, func(tx meta.Tx) error { return tx.Put(meta.SpaceSystem, []byte("e"), []byte{}) }))
		must(t, s.View(ctx, func(tx meta.Tx) error {
			v, err := tx.Get(meta.SpaceSystem, []byte("e"))
			if err != nil || v == nil || len(v) != 0 {
				return fmt.Errorf("Get(empty value) = %q (nil=%v), %v; want present and empty", v, v == nil, err)
			}
			return nil
		}))
	})
	t.Run("ArgumentsReusable", func(t *testing.T) {
		// The caller may change its slices after Put returns, and before
		// the transaction commits.
		s := open(t, false)
		defer s.Close()
		must(t, s.Update(ctx, func(tx meta.Tx) error {
			k, v := []byte("key1"), []byte("val1")
			if err := tx.Put(meta.SpaceSystem, k, v); err != nil {
				return err
			}
			copy(k, "key2")
			copy(v, "val2")
			return tx.Put(meta.SpaceSystem, k, v)
		}))
		must(t, s.View(ctx, func(tx meta.Tx) error {
			for _, kv := range [][2]string{{"key1", "val1"}, {"key2", "val2"}} {
				if v, err := tx.Get(meta.SpaceSystem, []byte(kv[0])); err != nil || string(v) != kv[1] {
					return fmt.Errorf("Get(%s) = %q, %v; want %s", kv[0], v, err, kv[1])
				}
			}
			return nil
		}))
	})
	t.Run("ReadYourWrites", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		must(t, s.Update(ctx, func(tx meta.Tx) error {
			if err := tx.Put(meta.SpaceObjects, []byte("b"), []byte("1")); err != nil {
				return err
			}
			if v, err := tx.Get(meta.SpaceObjects, []byte("b")); err != nil || string(v) != "1" {
				return fmt.Errorf("Get after Put in one Tx = %q, %v", v, err)
			}
			if err := tx.Delete(meta.SpaceObjects, []byte("b")); err != nil {
				return err
			}
			var seen []string
			if err := tx.Ascend(meta.SpaceObjects, nil, func(k, _ []byte) bool { seen = append(seen, string(k)); return true }); err != nil {
				return err
			}
			if len(seen) != 0 {
				return fmt.Errorf("Ascend after Delete in one Tx sees %q", seen)
			}
			return nil
		}))
	})
	runNodes(t, open, peer)
	t.Run("PutGetDelete", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		must(t, s.Update(ctx, func(tx meta.Tx) error {
			if err := tx.Put(meta.SpaceBuckets, []byte("a"), []byte("1")); err != nil {
				return err
			}
			return tx.Put(meta.SpaceObjects, []byte("a"), []byte("other space"))
		}))
		must(t, s.View(ctx, func(tx meta.Tx) error {
			v, err := tx.Get(meta.SpaceBuckets, []byte("a"))
			if err != nil || string(v) != "1" {
				return fmt.Errorf("Get = %q, %v; want 1", v, err)
			}
			v, _ = tx.Get(meta.SpaceBuckets, []byte("missing"))
			if v != nil {
				return fmt.Errorf("Get(missing) = %q, want nil", v)
			}
			return nil
		}))
		must(t, s.Update(ctx, func(tx meta.Tx) error {
			if err := tx.Delete(meta.SpaceBuckets, []byte("absent")); err != nil {
				return fmt.Errorf("delete absent: %w", err)
			}
			return tx.Delete(meta.SpaceBuckets, []byte("a"))
		}))
		must(t, s.View(ctx, func(tx meta.Tx) error {
			if v, _ := tx.Get(meta.SpaceBuckets, []byte("a")); v != nil {
				return fmt.Errorf("deleted key still present: %q", v)
			}
			if v, _ := tx.Get(meta.SpaceObjects, []byte("a")); string(v) != "other space" {
				return fmt.Errorf("spaces not separate: %q", v)
			}
			return nil
		}))
	})
	t.Run("UnknownSpace", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		err := s.View(ctx, func(tx meta.Tx) error {
			_, err := tx.Get("nope", []byte("k"))
			return err
		})
		if !errors.Is(err, meta.ErrUnknownSpace) {
			t.Fatalf("err = %v, want ErrUnknownSpace", err)
		}
	})
	t.Run("AscendOrder", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		keys := []string{"b", "a\x00z", "a", "c\xff", "a\x00", "ab"}
		must(t, s.Update(ctx, func(tx meta.Tx) error {
			for _, k := range keys {
				if err := tx.Put(meta.SpaceObjects, []byte(k), []byte(k)); err != nil {
					return err
				}
			}
			return nil
		}))
		var got []string
		must(t, s.View(ctx, func(tx meta.Tx) error {
			return tx.Ascend(meta.SpaceObjects, []byte("a\x00"), func(k, v []byte) bool {
				got = append(got, string(k))
				return string(k) != "b"
			})
		}))
		want := []string{"a\x00", "a\x00z", "ab", "b"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Ascend = %q, want %q", got, want)
		}
	})
	t.Run("RollbackOnError", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		boom := errors.New("boom")
		err := s.Update(ctx, func(tx meta.Tx) error {
			if err := tx.Put(meta.SpaceBuckets, []byte("x"), []byte("1")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update err = %v, want boom", err)
		}
		must(t, s.View(ctx, func(tx meta.Tx) error {
			if v, _ := tx.Get(meta.SpaceBuckets, []byte("x")); v != nil {
				return fmt.Errorf("rolled-back write visible: %q", v)
			}
			return nil
		}))
	})
	t.Run("ConcurrentMixedFailures", func(t *testing.T) {
		// Writers sharing a commit: the failing ones (error or panic) get
		// their own error and leave nothing; the others all commit.
		s := open(t, false)
		defer s.Close()
		const n = 96
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Update(ctx, func(tx meta.Tx) error {
					if err := tx.Put(meta.SpaceBuckets, []byte(fmt.Sprint("k", i)), []byte("v")); err != nil {
						return err
					}
					switch i % 3 {
					case 1:
						return fmt.Errorf("fail %d", i)
					case 2:
						if i%6 == 5 {
							panic(fmt.Sprint("panic ", i))
						}
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			switch {
			case i%3 == 1 && (err == nil || err.Error() != fmt.Sprint("fail ", i)):
				t.Errorf("call %d: err %v, want its own error", i, err)
			case i%6 == 5 && (err == nil || !strings.Contains(err.Error(), fmt.Sprint("panic ", i))):
				t.Errorf("call %d: err %v, want its panic as an error", i, err)
			case i%3 != 1 && i%6 != 5 && err != nil:
				t.Errorf("call %d: err %v, want nil", i, err)
			}
		}
		must(t, s.View(ctx, func(tx meta.Tx) error {
			for i := range n {
				v, _ := tx.Get(meta.SpaceBuckets, []byte(fmt.Sprint("k", i)))
				if want := errs[i] == nil; (v != nil) != want {
					return fmt.Errorf("key of call %d present=%v, want %v", i, v != nil, want)
				}
			}
			return nil
		}))
	})
	t.Run("ConcurrentIncrements", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		const n = 64
		var wg sync.WaitGroup
		seen := make(chan uint64, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var got uint64
				err := s.Update(ctx, func(tx meta.Tx) error {
					v, err := nextSeq(tx)
					got = v
					return err
				})
				if err != nil {
					t.Error(err)
				}
				seen <- got
			}()
		}
		wg.Wait()
		close(seen)
		uniq := map[uint64]bool{}
		for v := range seen {
			if uniq[v] {
				t.Fatalf("sequence %d handed out twice: transactions not serializable", v)
			}
			uniq[v] = true
		}
		if len(uniq) != n {
			t.Fatalf("got %d distinct sequence numbers, want %d", len(uniq), n)
		}
	})
	t.Run("DurableAcrossReopen", func(t *testing.T) {
		s := open(t, false)
		must(t, s.Update(ctx, func(tx meta.Tx) error {
			return tx.Put(meta.SpaceSystem, []byte("k"), []byte("v"))
		}))
		must(t, s.Close())
		s = open(t, true)
		defer s.Close()
		must(t, s.View(ctx, func(tx meta.Tx) error {
			if v, _ := tx.Get(meta.SpaceSystem, []byte("k")); string(v) != "v" {
				return fmt.Errorf("after reopen Get = %q, want v", v)
			}
			return nil
		}))
	})
	t.Run("ReadOnlyView", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		err := s.View(ctx, func(tx meta.Tx) error {
			return tx.Put(meta.SpaceSystem, []byte("k"), []byte("v"))
		})
		if err == nil {
			t.Fatal("Put in View succeeded, want an error")
		}
	})
	t.Run("CanceledContext", func(t *testing.T) {
		s := open(t, false)
		defer s.Close()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ran := false
		err := s.Update(cctx, func(tx meta.Tx) error { ran = true; return nil })
		if err == nil || ran {
			t.Fatalf("Update with canceled ctx: err=%v ran=%v, want error and not run", err, ran)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
