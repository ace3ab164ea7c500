package meta

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// The catalogue: typed access to records on a Tx. Values are JSON so that a
// data directory can be inspected with any bbolt tool; keys are laid out so
// that one ordered scan answers each listing.

const sep = 0

func objPrefix(bucket string) []byte {
	b := make([]byte, 0, len(bucket)+1)
	return append(append(b, bucket...), sep)
}

// ObjKeyPrefix is the prefix of every version key of bucket/key.
func ObjKeyPrefix(bucket, key string) []byte {
	b := make([]byte, 0, len(bucket)+len(key)+2)
	b = append(append(b, bucket...), sep)
	return append(append(b, key...), sep)
}

func versionKey(bucket, key string, seq uint64) []byte {
	b := ObjKeyPrefix(bucket, key)
	// Inverted so the newest version of a key sorts first.
	return binary.BigEndian.AppendUint64(b, ^seq)
}

func decode[T any](raw []byte) (*T, error) {
	if raw == nil {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}

func encode(v any) ([]byte, error) { return json.Marshal(v) }

// GetBucket returns the bucket or nil when it does not exist. The caller
// owns the result and may modify it.
func GetBucket(tx Tx, name string) (*Bucket, error) {
	raw, err := tx.Get(SpaceBuckets, []byte(name))
	if err != nil || raw == nil {
		return nil, err
	}
	if b := bucketCache.get(name, raw); b != nil {
		return b, nil
	}
	b, err := decode[Bucket](raw)
	if err != nil {
		return nil, err
	}
	bucketCache.put(name, raw, b.clone())
	return b, nil
}

// PutBucket stores b.
func PutBucket(tx Tx, b *Bucket) error {
	raw, err := encode(b)
	if err != nil {
		return err
	}
	return tx.Put(SpaceBuckets, []byte(b.Name), raw)
}

// DeleteBucket removes the bucket record.
func DeleteBucket(tx Tx, name string) error { return tx.Delete(SpaceBuckets, []byte(name)) }

// ListBuckets calls fn for each bucket with name > after, in name order,
// until fn returns false.
func ListBuckets(tx Tx, after string, fn func(*Bucket) bool) error {
	var derr error
	err := tx.Ascend(SpaceBuckets, []byte(after), func(k, v []byte) bool {
		if string(k) == after && after != "" {
			return true
		}
		b, err := decode[Bucket](v)
		if err != nil {
			derr = err
			return false
		}
		return fn(b)
	})
	if err != nil {
		return err
	}
	return derr
}

// GetSystem and PutSystem keep small server-wide values.
func GetSystem(tx Tx, name string) ([]byte, error) { return tx.Get(SpaceSystem, []byte(name)) }

// PutSystem stores a server-wide value.
func PutSystem(tx Tx, name string, v []byte) error { return tx.Put(SpaceSystem, []byte(name), v) }

// Blob intents: on a shared store a node records each blob file it is
// about to create before creating it, and the transaction that first
// references the blob takes the record back (see service's sweep). They
// live in SpaceSystem under blobIntentPrefix, valued with the time the
// intent was made (Unix nanoseconds, big-endian).
const blobIntentPrefix = "blob-intent/"

// PutBlobIntent records that blob id is about to be written.
func PutBlobIntent(tx Tx, id string, at time.Time) error {
	return tx.Put(SpaceSystem, []byte(blobIntentPrefix+id), binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano())))
}

// TakeBlobIntent removes blob id's intent and reports whether there was
// one.
func TakeBlobIntent(tx Tx, id string) (bool, error) {
	k := []byte(blobIntentPrefix + id)
	raw, err := tx.Get(SpaceSystem, k)
	if err != nil || raw == nil {
		return false, err
	}
	return true, tx.Delete(SpaceSystem, k)
}

// ScanBlobIntents calls fn for each blob intent, in id order, until fn
// returns false.
func ScanBlobIntents(tx Tx, fn func(id string, at time.Time) bool) error {
	return tx.Ascend(SpaceSystem, []byte(blobIntentPrefix), func(k, v []byte) bool {
		id, ok := bytes.CutPrefix(k, []byte(blobIntentPrefix))
		if !ok {
			return false
		}
		var at time.Time
		if len(v) == 8 {
			at = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		}
		return fn(string(id), at)
	})
}

// DeleteSystem removes a server-wide value.
func DeleteSystem(tx Tx, name string) error { return tx.Delete(SpaceSystem, []byte(name)) }

// Versions returns every version of bucket/key, newest first.
func Versions(tx Tx, bucket, key string) ([]*Version, error) {
	prefix := ObjKeyPrefix(bucket, key)
	var out []*Version
	var derr error
	err := tx.Ascend(SpaceObjects, prefix, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
			return bytes.HasPrefix(k, prefix) // a longer key sharing the prefix cannot occur (no NUL in keys)
		}
		ver, err := decodeVersion(v, true)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, ver)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, derr
}

// Latest returns the newest version of bucket/key (possibly a delete
// marker), or nil.
func Latest(tx Tx, bucket, key string) (*Version, error) {
	prefix := ObjKeyPrefix(bucket, key)
	var out *Version
	var derr error
	err := tx.Ascend(SpaceObjects, prefix, func(k, v []byte) bool {
		if bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8 {
			out, derr = decodeVersion(v, true)
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	return out, derr
}

// PutVersion stores v under bucket/v.Key at v.Seq, and updates the
// bucket's usage record (usage.go).
func PutVersion(tx Tx, bucket string, v *Version) error {
	raw, err := encodeVersion(v)
	if err != nil {
		return err
	}
	k := versionKey(bucket, v.Key, v.Seq)
	if err := replaceVersion(tx, bucket, k, raw); err != nil {
		return err
	}
	return tx.Put(SpaceObjects, k, raw)
}

// DeleteVersion removes the version at seq, and updates the bucket's usage
// record.
func DeleteVersion(tx Tx, bucket, key string, seq uint64) error {
	k := versionKey(bucket, key, seq)
	if err := replaceVersion(tx, bucket, k, nil); err != nil {
		return err
	}
	return tx.Delete(SpaceObjects, k)
}

// ScanVersions calls fn for every version in bucket whose key is ≥ from,
// ordered by key then newest first, until fn returns false.
func ScanVersions(tx Tx, bucket, from string, fn func(*Version) bool) error {
	prefix := objPrefix(bucket)
	start := append(append([]byte(nil), prefix...), from...)
	var derr error
	err := tx.Ascend(SpaceObjects, start, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		// Listings never need an inline object's bytes.
		ver, err := decodeVersion(v, false)
		if err != nil {
			derr = err
			return false
		}
		return fn(ver)
	})
	if err != nil {
		return err
	}
	return derr
}

// BucketEmpty reports whether bucket has no versions, no uploads and no
// LiveChannels: OSS refuses to delete a bucket that still has any.
func BucketEmpty(tx Tx, bucket string) (bool, error) {
	prefix := objPrefix(bucket)
	empty := true
	check := func(k, _ []byte) bool {
		empty = !bytes.HasPrefix(k, prefix)
		return false
	}
	for _, space := range []string{SpaceObjects, SpaceUploads, SpaceChannels} {
		if err := tx.Ascend(space, prefix, check); err != nil || !empty {
			return empty, err
		}
	}
	return true, nil
}

func channelKey(bucket, name string) []byte { return append(objPrefix(bucket), name...) }

// GetLiveChannel returns the channel or nil.
func GetLiveChannel(tx Tx, bucket, name string) (*LiveChannel, error) {
	raw, err := tx.Get(SpaceChannels, channelKey(bucket, name))
	if err != nil {
		return nil, err
	}
	return decode[LiveChannel](raw)
}

// PutLiveChannel stores c in bucket, replacing a channel of the same name.
func PutLiveChannel(tx Tx, bucket string, c *LiveChannel) error {
	raw, err := encode(c)
	if err != nil {
		return err
	}
	return tx.Put(SpaceChannels, channelKey(bucket, c.Name), raw)
}

// DeleteLiveChannel removes the channel; an absent one is not an error.
func DeleteLiveChannel(tx Tx, bucket, name string) error {
	return tx.Delete(SpaceChannels, channelKey(bucket, name))
}

// ScanLiveChannels calls fn for each channel of bucket whose name is ≥
// from, in name order, until fn returns false.
func ScanLiveChannels(tx Tx, bucket, from string, fn func(*LiveChannel) bool) error {
	prefix := objPrefix(bucket)
	var derr error
	err := tx.Ascend(SpaceChannels, channelKey(bucket, from), func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		c, err := decode[LiveChannel](v)
		if err != nil {
			derr = err
			return false
		}
		return fn(c)
	})
	if err != nil {
		return err
	}
	return derr
}

func uploadKey(bucket, key, id string) []byte {
	return append(ObjKeyPrefix(bucket, key), id...)
}

// GetUpload returns the upload or nil.
func GetUpload(tx Tx, bucket, key, id string) (*Upload, error) {
	raw, err := tx.Get(SpaceUploads, uploadKey(bucket, key, id))
	if err != nil {
		return nil, err
	}
	return decode[Upload](raw)
}

// PutUpload stores u.
func PutUpload(tx Tx, u *Upload) error {
	raw, err := encode(u)
	if err != nil {
		return err
	}
	return tx.Put(SpaceUploads, uploadKey(u.Bucket, u.Key, u.UploadID), raw)
}

// DeleteUpload removes the upload and all its parts.
func DeleteUpload(tx Tx, u *Upload) error {
	parts, err := Parts(tx, u.UploadID, 0)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := tx.Delete(SpaceParts, partKey(u.UploadID, p.Number)); err != nil {
			return err
		}
	}
	return tx.Delete(SpaceUploads, uploadKey(u.Bucket, u.Key, u.UploadID))
}

// ScanUploads calls fn for each upload in bucket with key ≥ from, ordered
// by key then upload id, until fn returns false.
func ScanUploads(tx Tx, bucket, from string, fn func(*Upload) bool) error {
	prefix := objPrefix(bucket)
	start := append(append([]byte(nil), prefix...), from...)
	var derr error
	err := tx.Ascend(SpaceUploads, start, func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		u, err := decode[Upload](v)
		if err != nil {
			derr = err
			return false
		}
		return fn(u)
	})
	if err != nil {
		return err
	}
	return derr
}

func partKey(uploadID string, n int) []byte {
	b := append([]byte(uploadID), sep)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// PutPart stores p for uploadID, replacing a part of the same number.
func PutPart(tx Tx, uploadID string, p *Part) error {
	raw, err := encode(p)
	if err != nil {
		return err
	}
	return tx.Put(SpaceParts, partKey(uploadID, p.Number), raw)
}

// GetPart returns part n of uploadID or nil.
func GetPart(tx Tx, uploadID string, n int) (*Part, error) {
	raw, err := tx.Get(SpaceParts, partKey(uploadID, n))
	if err != nil {
		return nil, err
	}
	return decode[Part](raw)
}

// Parts returns the parts of uploadID with number > after, in order.
func Parts(tx Tx, uploadID string, after int) ([]*Part, error) {
	prefix := append([]byte(uploadID), sep)
	var out []*Part
	var derr error
	err := tx.Ascend(SpaceParts, partKey(uploadID, after+1), func(k, v []byte) bool {
		if !bytes.HasPrefix(k, prefix) {
			return false
		}
		p, err := decode[Part](v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, p)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, derr
}

// A version is stored as its JSON record, then, for a small object kept
// inline, a NUL byte and the object's raw bytes. JSON text never holds a
// raw NUL, so the first one ends the record; keeping the bytes out of the
// JSON spares a base64 round trip and a scan of them on every read.
func encodeVersion(v *Version) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if v.Inline == nil {
		return raw, nil
	}
	out := make([]byte, 0, len(raw)+1+len(v.Inline))
	out = append(append(raw, sep), v.Inline...)
	return out, nil
}

// decodeVersion decodes a stored version; withData copies the inline bytes
// out of the store (they are valid only during the transaction).
func decodeVersion(raw []byte, withData bool) (*Version, error) {
	rec, data, hasData := bytes.Cut(raw, []byte{sep})
	v := new(Version)
	if err := json.Unmarshal(rec, v); err != nil {
		return nil, fmt.Errorf("decode version: %w", err)
	}
	if hasData && withData {
		v.Inline = append(make([]byte, 0, len(data)), data...)
	}
	return v, nil
}

// VersionRecord returns the JSON record part of a stored version value.
func VersionRecord(raw []byte) []byte {
	rec, _, _ := bytes.Cut(raw, []byte{sep})
	return rec
}

// bucketCache holds decoded bucket records keyed by name, each with the
// exact bytes it was decoded from. Every request reads its bucket's record,
// and decoding that JSON was 5-7 % of the server's CPU on small GETs and
// PUTs; a hit costs a map lookup and a byte comparison. Because an entry is
// used only when the stored bytes are identical, it needs no invalidation
// and is shared safely by every store in the process (tests run several).
var bucketCache = decodedBuckets{m: make(map[string]decodedBucket)}

// maxCachedBuckets bounds the cache; past it the cache starts over.
const maxCachedBuckets = 4096

type decodedBuckets struct {
	mu sync.RWMutex
	m  map[string]decodedBucket
}

type decodedBucket struct {
	raw []byte
	b   *Bucket // never handed out: callers get clones
}

func (c *decodedBuckets) get(name string, raw []byte) *Bucket {
	c.mu.RLock()
	e, ok := c.m[name]
	c.mu.RUnlock()
	if !ok || !bytes.Equal(e.raw, raw) {
		return nil
	}
	return e.b.clone()
}

func (c *decodedBuckets) put(name string, raw []byte, b *Bucket) {
	c.mu.Lock()
	if len(c.m) >= maxCachedBuckets {
		clear(c.m)
	}
	// raw belongs to the transaction (bbolt's mmap): keep a copy.
	c.m[name] = decodedBucket{raw: bytes.Clone(raw), b: b}
	c.mu.Unlock()
}

// clone returns a copy of b sharing nothing mutable with it.
func (b *Bucket) clone() *Bucket {
	c := *b
	c.Tags = slices.Clone(b.Tags)
	c.Grants = slices.Clone(b.Grants)
	if b.Logging != nil {
		l := *b.Logging
		c.Logging = &l
	}
	if b.LogFields != nil {
		c.LogFields = &LogFieldsConfig{Headers: slices.Clone(b.LogFields.Headers), Params: slices.Clone(b.LogFields.Params)}
	}
	if b.BlockPublicAccess != nil {
		v := *b.BlockPublicAccess
		c.BlockPublicAccess = &v
	}
	if b.PublicAccessBlock != nil {
		v := *b.PublicAccessBlock
		c.PublicAccessBlock = &v
	}
	if b.CORS != nil {
		cors := CORSConfig{ResponseVary: b.CORS.ResponseVary, Rules: make([]CORSRule, len(b.CORS.Rules))}
		for i, r := range b.CORS.Rules {
			cors.Rules[i] = CORSRule{ID: r.ID, Origins: slices.Clone(r.Origins), Methods: slices.Clone(r.Methods),
				Headers: slices.Clone(r.Headers), Expose: slices.Clone(r.Expose), MaxAge: r.MaxAge}
		}
		c.CORS = &cors
	}
	if b.Lifecycle != nil {
		c.Lifecycle = b.Lifecycle.Clone()
	}
	c.Extra = maps.Clone(b.Extra)
	return &c
}

// Clone returns a copy of c sharing nothing mutable with it.
func (c *LifecycleConfig) Clone() *LifecycleConfig {
	out := &LifecycleConfig{Rules: make([]LifecycleRule, len(c.Rules))}
	for i, r := range c.Rules {
		r.Tags = slices.Clone(r.Tags)
		r.Not = slices.Clone(r.Not)
		for j, n := range r.Not {
			if n.Tag != nil {
				t := *n.Tag
				r.Not[j].Tag = &t
			}
		}
		r.SizeGreater, r.SizeLess = clonePtr(r.SizeGreater), clonePtr(r.SizeLess)
		r.NoncurrentDays = clonePtr(r.NoncurrentDays)
		if r.Expiration != nil {
			e := *r.Expiration
			e.Days = clonePtr(e.Days)
			r.Expiration = &e
		}
		if r.AbortUpload != nil {
			a := *r.AbortUpload
			a.Days = clonePtr(a.Days)
			r.AbortUpload = &a
		}
		r.Transitions = cloneTransitions(r.Transitions)
		r.NoncurrentTransitions = cloneTransitions(r.NoncurrentTransitions)
		out.Rules[i] = r
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneTransitions(ts []LifecycleTransition) []LifecycleTransition {
	out := slices.Clone(ts)
	for i, t := range out {
		out[i].Days = clonePtr(t.Days)
		out[i].IsAccessTime, out[i].ReturnToStd, out[i].AllowSmallFile = clonePtr(t.IsAccessTime), clonePtr(t.ReturnToStd), clonePtr(t.AllowSmallFile)
	}
	return out
}
