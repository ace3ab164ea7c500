package service

import (
	"math/rand/v2"
	"testing"

	"github.com/ossd/ossd/internal/meta"
)

// TestAppendMergeCost runs the merge rule (appendTail) over long series of
// appends without I/O and checks what AppendObject's doc promises: few
// extents however many appends, no append copying more than
// appendMergeMax bytes of earlier ones, each byte copied a logarithmic
// number of times, and no extent an append could merge beyond the
// object's last appendMergeMax bytes (which GET opens up front).
func TestAppendMergeCost(t *testing.T) {
	const MiB = 1 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name    string
		n       int
		size    func() int64
		extents int // at most, at the end
		copies  float64
	}{
		{"10000 x 1 KiB", 10000, func() int64 { return 1 << 10 }, 26, 12},
		{"100000 x 100 B", 100000, func() int64 { return 100 }, 26, 18},
		{"5000 x 1 B..64 KiB", 5000, func() int64 { return 1 + rng.Int64N(64<<10) }, 40, 12},
		{"2000 x 4 MiB + 1", 2000, func() int64 { return 4*MiB + 1 }, 2000, 0},
		{"600 x 1 B..16 MiB", 600, func() int64 { return 1 + rng.Int64N(16*MiB) }, 600, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ext []meta.Extent
			var total, copied, maxCopy int64
			for i := range tc.n {
				n := tc.size()
				k := appendTail(ext, n)
				if k < mergeable(ext) {
					t.Fatalf("append %d merges an extent outside the last appendMergeMax bytes", i)
				}
				var tail int64
				for _, e := range ext[k:] {
					tail += e.Size
				}
				copied += tail
				maxCopy = max(maxCopy, tail)
				ext = append(ext[:k], meta.Extent{Blob: "x", Size: tail + n})
				total += n
			}
			if maxCopy > appendMergeMax {
				t.Errorf("an append copied %d bytes of earlier ones, over appendMergeMax", maxCopy)
			}
			if len(ext) > tc.extents {
				t.Errorf("%d extents for %d bytes, want at most %d", len(ext), total, tc.extents)
			}
			ratio := float64(copied) / float64(total)
			if ratio > tc.copies {
				t.Errorf("bytes copied by merges: %.1f× the data, want at most %.0f×", ratio, tc.copies)
			}
			t.Logf("%d bytes in %d extents; merges copied %.2f× the data, at most %d bytes in one append", total, len(ext), ratio, maxCopy)
		})
	}
}
