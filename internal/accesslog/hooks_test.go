package accesslog

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestObserverHooks: OnSync sees every fdatasync of records with its result
// (in both durability modes), and OnDeliveryFailure each failed delivery
// with its target bucket.
func TestObserverHooks(t *testing.T) {
	for _, mode := range []struct {
		name  string
		tweak func(*Config)
	}{{"default", defaultMode}, {"always", nil}} {
		t.Run(mode.name, func(t *testing.T) {
			var mu sync.Mutex
			var syncs, failed int
			var targets []string
			e := newEnv(t, func(c *Config) {
				if mode.tweak != nil {
					mode.tweak(c)
				}
				c.OnSync = func(d time.Duration, err error) {
					mu.Lock()
					defer mu.Unlock()
					syncs++
					if err != nil {
						failed++
					}
				}
				c.OnDeliveryFailure = func(target string) {
					mu.Lock()
					defer mu.Unlock()
					targets = append(targets, target)
				}
			}) // no bucket exists: delivery fails
			e.append(rec("r1", "src", "missing", "", at(10, 1, 0)))
			if err := e.l.Sync(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			if syncs == 0 || failed != 0 {
				t.Errorf("after an append and a sync: OnSync saw %d syncs, %d failed; want ≥1, 0", syncs, failed)
			}
			mu.Unlock()
			if err := e.l.Flush(context.Background()); !errors.Is(err, ErrTargetMissing) {
				t.Fatalf("Flush to a missing bucket = %v", err)
			}
			mu.Lock()
			if len(targets) == 0 || targets[0] != "missing" {
				t.Errorf("OnDeliveryFailure targets %v, want [missing ...]", targets)
			}
			mu.Unlock()
			if mode.tweak == nil {
				return
			}
			e.fs.inject = func(op, path string) error {
				if op == "sync" && strings.HasSuffix(path, segSuffix) {
					return syscall.EIO
				}
				return nil
			}
			e.append(rec("r2", "src", "missing", "", at(10, 2, 0)))
			e.l.Sync()
			e.fs.inject = nil
			mu.Lock()
			if failed != 1 {
				t.Errorf("OnSync saw %d failed syncs after one failing fdatasync, want 1", failed)
			}
			mu.Unlock()
		})
	}
}
