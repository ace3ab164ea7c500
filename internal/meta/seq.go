package meta

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// Version sequence numbers.
//
// A version's Seq orders the versions of its key (its key is bucket 0 key
// 0 ^seq, newest first) and is rendered into its version id, which must
// never be handed out twice for a key, even after the version is deleted
// (a client holding an old id must not reach a new object). Nothing needs
// an order across keys.
//
// A global counter in the store (bumped in every write transaction) gave
// both, but it makes every two concurrent writes conflict: under
// PostgreSQL's SERIALIZABLE isolation, with several nodes on one database,
// one of each pair is rolled back. So a seq is made without reading the
// store beyond the key's own versions, which the writer reads anyway:
//
//	seq = counter<<nodeBits | node
//
// node is drawn at random when the process starts (nodeBits of it); counter
// is the process's own, strictly increasing, and at least the wall clock in
// microseconds since 2020 (so 52 bits last until 2162) and one more than the counter of the key's newest version.
// So the versions of a key are strictly ordered (the writer saw the newest
// one in its serializable transaction), a process never repeats a seq, and
// two processes cannot make the same seq unless they drew the same node
// (1 in 4096) and their counters meet on the same key. Seqs of the old
// global counter (small integers) are below every new one.
const nodeBits = 12

var seqEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

var seqState = struct {
	sync.Mutex
	node    uint64
	counter uint64
}{node: randomNode()}

func randomNode() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) & (1<<nodeBits - 1)
}

// NewVersionSeq returns the Seq of a new version of a key whose newest
// stored version has Seq latest (0: none). The caller reads latest in the
// transaction that writes the new version.
func NewVersionSeq(latest uint64) uint64 {
	now := uint64(time.Since(seqEpoch).Microseconds())
	s := &seqState
	s.Lock()
	defer s.Unlock()
	s.counter = max(s.counter+1, now, latest>>nodeBits+1)
	return s.counter<<nodeBits | s.node
}
