package meta

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Bucket usage: the number and total size of the object versions of each
// bucket (delete markers not counted), kept in SpaceSystem and updated by
// PutVersion and DeleteVersion in the same transaction as the version
// itself. It is exact after every commit and costs a read and a small
// write per version written, so that a metrics scrape reads a few records
// per bucket instead of scanning every version (as GetBucketStat does, for
// its finer figures).
//
// A bucket's usage is the sum of its records: "usage/<bucket>" (written by
// InitUsage) and one "usage/<bucket> 0 <node>" per process that wrote to
// it (each Store of a process, for a store whose Tx implements NodeTx),
// which only that process updates. One record per bucket, updated by
// every write, made every two concurrent writes to a bucket from two nodes
// on one PostgreSQL database conflict (one rolled back and run again); a
// node's own writes do not conflict with each other (pgmeta runs them in
// one transaction). InitUsage folds the records of past processes into the
// first at each start.

// usageMarker records that the usage records are maintained: a data
// directory written before they existed gets them computed once, by
// InitUsage.
const usageMarker = "usage-v1"

var usagePrefix = []byte("usage/")

func usageKey(bucket string) []byte {
	return append(append(make([]byte, 0, len(usagePrefix)+len(bucket)+1+len(usageNode)), usagePrefix...), bucket...)
}

// nodeUsageKey is the record of bucket's usage tx's node updates.
func nodeUsageKey(tx Tx, bucket string) []byte {
	node := usageNode
	if n, ok := tx.(NodeTx); ok {
		node = n.Node()
	}
	return append(append(usageKey(bucket), sep), node...)
}

// usageBucket returns the bucket a usage record's key belongs to.
func usageBucket(k []byte) string {
	b, _, _ := bytes.Cut(k[len(usagePrefix):], []byte{sep})
	return string(b)
}

// usageNode tells this process's usage records from other processes', for
// a Tx that does not say which node it belongs to (NodeTx).
var usageNode = func() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// Usage is a bucket's object versions: how many, and their bytes.
type Usage struct {
	Objects, Bytes int64
}

// usageOf is what one stored version adds to its bucket's usage.
func usageOf(raw []byte) (Usage, error) {
	if raw == nil {
		return Usage{}, nil
	}
	var v struct {
		DeleteMarker bool  `json:"dm"`
		Size         int64 `json:"size"`
	}
	if err := json.Unmarshal(VersionRecord(raw), &v); err != nil {
		return Usage{}, fmt.Errorf("decode version: %w", err)
	}
	if v.DeleteMarker {
		return Usage{}, nil
	}
	return Usage{1, v.Size}, nil
}

// addUsage adds d to this process's record of bucket's usage. The record
// stays when it comes to zero (another node's record may be what makes the
// sum zero): deleting it would only have the next write create it again,
// and creating a record conflicts with other nodes' reads of its
// neighbours where updating one in place does not.
func addUsage(tx Tx, bucket string, d Usage) error {
	if d == (Usage{}) {
		return nil
	}
	k := nodeUsageKey(tx, bucket)
	raw, err := tx.Get(SpaceSystem, k)
	if err != nil {
		return err
	}
	u := decodeUsage(raw)
	u.Objects += d.Objects
	u.Bytes += d.Bytes
	return tx.Put(SpaceSystem, k, encodeUsage(u))
}

func decodeUsage(raw []byte) Usage {
	if len(raw) != 16 {
		return Usage{}
	}
	return Usage{int64(binary.BigEndian.Uint64(raw)), int64(binary.BigEndian.Uint64(raw[8:]))}
}

func encodeUsage(u Usage) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(u.Objects)), uint64(u.Bytes))
}

// replaceVersion accounts for the stored value at key being replaced by
// raw (nil: deleted).
func replaceVersion(tx Tx, bucket string, key, raw []byte) error {
	old, err := tx.Get(SpaceObjects, key)
	if err != nil {
		return err
	}
	// A record that does not decode counted for nothing (InitUsage skips
	// it too); removing or replacing it must still succeed.
	before, _ := usageOf(old)
	after, err := usageOf(raw)
	if err != nil {
		return err
	}
	return addUsage(tx, bucket, Usage{after.Objects - before.Objects, after.Bytes - before.Bytes})
}

// ScanUsage calls fn with the usage of every bucket, in bucket name order,
// until fn returns false; an empty bucket has a zero Usage. It reads the
// bucket names and one usage record per bucket, never the versions.
func ScanUsage(tx Tx, fn func(bucket string, u Usage) bool) error {
	usage := map[string]Usage{}
	if err := tx.Ascend(SpaceSystem, usagePrefix, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, usagePrefix) {
			return false
		}
		b, u := usageBucket(k), decodeUsage(v)
		usage[b] = Usage{usage[b].Objects + u.Objects, usage[b].Bytes + u.Bytes}
		return true
	}); err != nil {
		return err
	}
	return tx.Ascend(SpaceBuckets, nil, func(k, _ []byte) bool {
		return fn(string(k), usage[string(k)])
	})
}

// InitUsage computes the usage records from the versions stored, once per
// data directory: the first start of a version of ossd that keeps them
// scans every version (one transaction); later starts only read a marker.
//
// On a store that has them, it folds each bucket's records into one when
// there are several (past processes' records: see Bucket usage above).
func InitUsage(ctx context.Context, s Store) error {
	var done, fold bool
	if err := s.View(ctx, func(tx Tx) error {
		raw, err := GetSystem(tx, usageMarker)
		done = raw != nil
		if err != nil || !done {
			return err
		}
		fold, err = foldUsage(tx, false)
		return err
	}); err != nil || (done && !fold) {
		return err
	}
	if done {
		return s.Update(ctx, func(tx Tx) error {
			_, err := foldUsage(tx, true)
			return err
		})
	}
	return s.Update(ctx, func(tx Tx) error {
		if raw, err := GetSystem(tx, usageMarker); err != nil || raw != nil {
			return err
		}
		var stale [][]byte
		if err := tx.Ascend(SpaceSystem, usagePrefix, func(k, _ []byte) bool {
			if !bytes.HasPrefix(k, usagePrefix) {
				return false
			}
			stale = append(stale, bytes.Clone(k))
			return true
		}); err != nil {
			return err
		}
		for _, k := range stale {
			if err := tx.Delete(SpaceSystem, k); err != nil {
				return err
			}
		}
		sums := map[string]Usage{}
		if err := tx.Ascend(SpaceObjects, nil, func(k, v []byte) bool {
			bucket, _, ok := bytes.Cut(k, []byte{sep})
			if !ok {
				return true
			}
			u, _ := usageOf(v) // an undecodable record counts for nothing
			s := sums[string(bucket)]
			sums[string(bucket)] = Usage{s.Objects + u.Objects, s.Bytes + u.Bytes}
			return true
		}); err != nil {
			return err
		}
		for b, u := range sums {
			if u == (Usage{}) {
				continue
			}
			if err := tx.Put(SpaceSystem, usageKey(b), encodeUsage(u)); err != nil {
				return err
			}
		}
		return PutSystem(tx, usageMarker, []byte{1})
	})
}

// foldUsage reports whether a bucket has several usage records and, if
// write, replaces them with one holding their sum.
func foldUsage(tx Tx, write bool) (bool, error) {
	type recs struct {
		keys [][]byte
		sum  Usage
	}
	byBucket := map[string]*recs{}
	several := false
	if err := tx.Ascend(SpaceSystem, usagePrefix, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, usagePrefix) {
			return false
		}
		b := usageBucket(k)
		r := byBucket[b]
		if r == nil {
			r = &recs{}
			byBucket[b] = r
		}
		u := decodeUsage(v)
		r.keys = append(r.keys, bytes.Clone(k))
		r.sum = Usage{r.sum.Objects + u.Objects, r.sum.Bytes + u.Bytes}
		several = several || len(r.keys) > 1
		return true
	}); err != nil || !several || !write {
		return several, err
	}
	for b, r := range byBucket {
		if len(r.keys) < 2 {
			continue
		}
		for _, k := range r.keys {
			if err := tx.Delete(SpaceSystem, k); err != nil {
				return true, err
			}
		}
		if r.sum != (Usage{}) {
			if err := tx.Put(SpaceSystem, usageKey(b), encodeUsage(r.sum)); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}
