package meta

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Bucket usage: the number and total size of the object versions of each
// bucket (delete markers not counted), kept in SpaceSystem under
// "usage/<bucket>" and updated by PutVersion and DeleteVersion in the same
// transaction as the version itself. It is exact after every commit and
// costs a read and a small write per version written, so that a metrics
// scrape reads one record per bucket instead of scanning every version
// (as GetBucketStat does, for its finer figures).

// usageMarker records that the usage records are maintained: a data
// directory written before they existed gets them computed once, by
// InitUsage.
const usageMarker = "usage-v1"

var usagePrefix = []byte("usage/")

func usageKey(bucket string) []byte {
	return append(append(make([]byte, 0, len(usagePrefix)+len(bucket)), usagePrefix...), bucket...)
}

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

// addUsage adds d to bucket's usage record.
func addUsage(tx Tx, bucket string, d Usage) error {
	if d == (Usage{}) {
		return nil
	}
	k := usageKey(bucket)
	raw, err := tx.Get(SpaceSystem, k)
	if err != nil {
		return err
	}
	u := decodeUsage(raw)
	u.Objects += d.Objects
	u.Bytes += d.Bytes
	if u == (Usage{}) {
		return tx.Delete(SpaceSystem, k)
	}
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
		usage[string(k[len(usagePrefix):])] = decodeUsage(v)
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
func InitUsage(ctx context.Context, s Store) error {
	var done bool
	if err := s.View(ctx, func(tx Tx) error {
		raw, err := GetSystem(tx, usageMarker)
		done = raw != nil
		return err
	}); err != nil || done {
		return err
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
