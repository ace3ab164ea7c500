package service_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/service"
)

// TestSweepCutoff: the start-up sweep runs while the server already takes
// writes, so a blob written after the cutoff (an upload in flight, or one
// just committed after the sweep's metadata snapshot) must survive it,
// while a leftover written before the crash must go. Linux stamps files
// from a clock that lags time.Now by up to a tick (a few ms), so a file
// written right after the cutoff routinely carries an older mtime (in
// about 9 of 10 tries here); the case is repeated so that a sweep that
// trusts mtime against the exact cutoff fails every run.
func TestSweepCutoff(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		age  time.Duration // how long before the cutoff the blob was last written; 0: after it
		kept bool
		runs int
	}{
		{"written just after the cutoff", 0, true, 10},
		{"leftover from before the crash", time.Minute, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < tc.runs; i++ {
				dir := t.TempDir()
				m, bs := testStoresIn(t, dir)
				svc := service.New(service.Config{}, m, bs)
				cutoff := time.Now()
				w, err := bs.Create()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write([]byte("in flight")); err != nil {
					t.Fatal(err)
				}
				if err := w.Commit(); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, "blobs", w.ID[:2], w.ID)
				if tc.age > 0 {
					old := cutoff.Add(-tc.age)
					if err := os.Chtimes(path, old, old); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := svc.Sweep(ctx, cutoff); err != nil {
					t.Fatalf("sweep: %v", err)
				}
				_, err = os.Stat(path)
				if kept := err == nil; kept != tc.kept {
					st, _ := os.Stat(path)
					t.Fatalf("try %d: blob kept=%v, want %v (cutoff %v, err %v, stat %v)", i, kept, tc.kept, cutoff, err, st)
				}
			}
		})
	}
}
