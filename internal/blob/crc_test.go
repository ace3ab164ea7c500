package blob

import (
	"hash/crc64"
	"math/rand"
	"testing"
)

func TestCRCCombine(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range [][2]int{{0, 0}, {0, 5}, {5, 0}, {1, 1}, {100, 3}, {4096, 70000}} {
		a := make([]byte, n[0])
		b := make([]byte, n[1])
		r.Read(a)
		r.Read(b)
		want := crc64.Checksum(append(append([]byte(nil), a...), b...), CRCTable)
		got := CRCCombine(crc64.Checksum(a, CRCTable), crc64.Checksum(b, CRCTable), int64(len(b)))
		if got != want {
			t.Errorf("lens %v: combine = %x, want %x", n, got, want)
		}
	}
}
