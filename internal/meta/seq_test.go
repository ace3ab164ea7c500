package meta

import (
	"testing"
	"time"
)

func TestNewVersionSeq(t *testing.T) {
	node := NewVersionSeq(0) & (1<<nodeBits - 1)
	skewed := uint64(time.Since(seqEpoch).Microseconds()+3600e6) << nodeBits // a node an hour ahead wrote it
	for _, tc := range []struct {
		name   string
		latest uint64
	}{
		{"no version", 0},
		{"old global counter", 41},
		{"written by a node whose clock is ahead", skewed | 7},
		{"the largest counter", ^uint64(0) >> 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := NewVersionSeq(0)
			for range 1000 {
				s := NewVersionSeq(tc.latest)
				if s <= tc.latest {
					t.Fatalf("NewVersionSeq(%d) = %d: not newer than the newest version", tc.latest, s)
				}
				if s <= prev {
					t.Fatalf("NewVersionSeq = %d after %d: not increasing", s, prev)
				}
				if s&(1<<nodeBits-1) != node {
					t.Fatalf("seq %d does not end in this process's node bits %d", s, node)
				}
				prev = s
			}
		})
	}
}
