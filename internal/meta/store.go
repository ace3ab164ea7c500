// Package meta holds ossd's metadata: buckets, object versions, multipart
// uploads and per-bucket configuration. It is split in two layers:
//
//   - Store, an ordered, transactional key-value engine. It knows nothing of
//     OSS; any engine that keeps the contract below (embedded bbolt today, a
//     distributed engine later) passes the metatest conformance suite.
//   - The catalogue (catalog.go), typed records and key layouts built on a
//     Tx. It is engine-independent, so the rules of what is stored where are
//     written once.
package meta

import (
	"context"
	"errors"
)

// Spaces are the key spaces a Store must provide. Keys within a space are
// ordered bytewise.
const (
	SpaceBuckets = "buckets" // bucket name → Bucket
	SpaceObjects = "objects" // bucket 0 key 0 ^seq → Version
	SpaceUploads = "uploads" // bucket 0 key 0 uploadID → Upload
	SpaceParts   = "parts"   // uploadID 0 partNumber(4, BE) → Part
	SpaceSystem  = "system"  // counters and server-wide settings
	// SpaceChannels holds LiveChannels: bucket 0 name → LiveChannel. They
	// live beside the bucket record rather than in it (as CORS does) because
	// a bucket may hold any number of them and ListLiveChannel pages
	// through them by name.
	SpaceChannels = "channels"
)

// Spaces lists every space, for engines that must create them up front.
var Spaces = []string{SpaceBuckets, SpaceObjects, SpaceUploads, SpaceParts, SpaceSystem, SpaceChannels}

// ErrUnknownSpace is returned by a Tx for a space not in Spaces.
var ErrUnknownSpace = errors.New("meta: unknown key space")

// ErrUnavailable is wrapped by a Store's errors that mean it cannot serve
// right now but may later: its server is down or unreachable, did not
// answer in time, or kept aborting a transaction for conflicts. Clients
// get 503 ServiceUnavailable and may retry; nothing of the transaction is
// applied, unless the error says the commit's outcome is unknown (see
// Update).
var ErrUnavailable = errors.New("metadata store unavailable")

// Store is an ordered transactional key-value engine.
//
// Contract (checked by metatest.Run):
//   - Update runs fn in a serializable read-write transaction. If fn returns
//     nil the transaction commits and is durable (it survives a process kill
//     and a power cut) before Update returns; if fn returns an error nothing
//     of it is visible, and Update returns that error unchanged.
//   - Update may group concurrent calls into one commit to share an fsync.
//     fn may therefore run more than once and must have no effects outside
//     the Tx; its result must depend only on what it reads through the Tx.
//   - If fn returned nil and Update still fails (the commit's I/O failed),
//     the transaction may or may not have been applied: bbolt reports a
//     failed fsync of its meta page after writing it, and the next
//     transaction sees the commit. Callers must not undo effects outside
//     the store (delete the blobs it references) on such an error.
//   - View runs fn in a read-only snapshot; it sees every Update that
//     returned before View was called, and never a partial one.
//   - Slices passed to or returned from a Tx are valid only until fn
//     returns: callers copy what they keep. Callers may modify their own
//     arguments after Put returns.
//   - A Store is safe for concurrent use. ctx bounds the wait for a
//     transaction to start; a transaction in progress is not interrupted.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Shared is implemented by a Store that other processes commit to at the
// same time: several ossd nodes on one database. What a process caches of
// the store's content is stale as soon as another node commits, and it
// cannot hear of its own accord, so on a shared store callers that cache
// read through instead (the service's bucket records and account-level
// Block Public Access switch), and blob writers register their files
// before writing them (the service's blob intents, which make the start-up
// sweep safe on a blob directory several nodes write to). bbolt's store is
// never shared: it holds its file locked against a second process.
//
// Wrappers of a Store forward Shared (see IsShared).
type Shared interface {
	// Shared reports whether other processes may commit to the store. It
	// must not change over the store's life.
	Shared() bool
}

// IsShared reports whether s says it is shared (implements Shared and
// returns true).
func IsShared(s Store) bool {
	sh, ok := s.(Shared)
	return ok && sh.Shared()
}

// NodeTx is implemented by a Tx of a store that several nodes (ossd
// processes, or Stores of one process in tests) write to at once: Node
// names the Store the Tx belongs to, stable for its life and distinct from
// every other Store's, so that the catalogue can keep records only that
// node updates (bucket usage) and spare the nodes conflicting updates of
// one record.
type NodeTx interface {
	Node() string
}

// Tx is one transaction. Its methods return ErrUnknownSpace for a space
// not in Spaces; Put and Delete on a read-only Tx return an error.
type Tx interface {
	// Get returns the value of key, or nil if it is absent.
	Get(space string, key []byte) ([]byte, error)
	Put(space string, key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(space string, key []byte) error
	// Ascend calls fn for each key ≥ start in ascending order until fn
	// returns false. fn must not modify the space it iterates.
	Ascend(space string, start []byte, fn func(key, value []byte) bool) error
}
