package service

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// MaxPutSize is OSS's limit on a single PutObject, AppendObject total and
// part: 5 GiB.
const MaxPutSize = 5 << 30

// Object types as OSS names them in x-oss-object-type.
const (
	TypeNormal     = "Normal"
	TypeAppendable = "Appendable"
	TypeMultipart  = "Multipart"
	TypeSymlink    = "Symlink"
)

// PutInput is one object write.
type PutInput struct {
	Bucket, Key string
	Body        io.Reader
	Size        int64 // -1 when unknown (chunked)
	ContentMD5  []byte
	CRC64       *uint64 // client's x-oss-hash-crc64ecma, checked when set
	Template    meta.Version
	// Cond is what the write requires of the object it replaces.
	Cond WriteCondition
	// Fence, if set, runs first in the transaction that commits the
	// object; its error refuses the write. Access-log delivery passes the
	// check of its journal lease, so that a deliverer whose lease was
	// taken over cannot store an object.
	Fence func(tx meta.Tx) error
	// Accepted, if set, is told what the write will be (the version and
	// the change of bucket size) once the committing transaction has
	// accepted it, before the commit is made durable: the HTTP layer
	// starts the sync of the request's access-log record then, so the two
	// overlap. The transaction may run more than once (the store may
	// retry it), and so may Accepted; the last call describes the commit,
	// if it succeeds. It runs inside the transaction: it must not block.
	Accepted func(*Written)
}

// WriteCondition is what a write requires of the current object, checked
// in the transaction that commits the write, so no other write can slip in
// between the check and the commit.
type WriteCondition struct {
	// ForbidOverwrite is OSS's x-oss-forbid-overwrite: true; an existing
	// object refuses the write with FileAlreadyExists.
	ForbidOverwrite bool
	// IfMatch and IfNoneMatch are S3's conditional writes (If-Match and
	// If-None-Match on PutObject, CopyObject, CompleteMultipartUpload):
	// ETags, or "*" for any object. nil: not given.
	IfMatch, IfNoneMatch []string
}

// check applies c to cur, the key's current object (nil: none, or a delete
// marker). S3 answers a failed If-Match on a missing key with NoSuchKey and
// every other failed condition with PreconditionFailed.
func (c WriteCondition) check(cur *meta.Version) error {
	if c.ForbidOverwrite && cur != nil {
		return oss.ErrFileAlreadyExists
	}
	if c.IfMatch != nil {
		if cur == nil {
			return oss.ErrNoSuchKey
		}
		if !etagListed(c.IfMatch, cur.ETag) {
			return oss.ErrPreconditionFailed.With("Condition", "If-Match")
		}
	}
	if c.IfNoneMatch != nil && cur != nil && etagListed(c.IfNoneMatch, cur.ETag) {
		return oss.ErrPreconditionFailed.With("Condition", "If-None-Match")
	}
	return nil
}

// etagListed reports whether etag (stored without quotes) is one of list,
// or list holds "*". ETags compare without quotes and case: ossd writes
// them upper-case to OSS clients and lower-case to S3 clients.
func etagListed(list []string, etag string) bool {
	for _, e := range list {
		e = strings.Trim(strings.TrimSpace(e), `"`)
		if e == "*" || strings.EqualFold(e, etag) {
			return true
		}
	}
	return false
}

// Written is the result of a write.
type Written struct {
	Version *meta.Version
	// Delta is the change of bucket size the write caused, for the access
	// log's delta_data_size column.
	Delta int64
}

// hashingReader computes MD5 and CRC64 of what passes through it.
type hashingReader struct {
	r   io.Reader
	md5 hash.Hash
	crc hash.Hash64
	n   int64
}

func newHashingReader(r io.Reader) *hashingReader {
	return &hashingReader{r: r, md5: md5.New(), crc: crc64.New(blob.CRCTable)}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.md5.Write(p[:n])
		h.crc.Write(p[:n])
		h.n += int64(n)
	}
	return n, err
}

// readErr maps a body read failure: a client that sends fewer bytes than it
// declared gets IncompleteBody; an oversized one EntityTooLarge.
func readErr(err error) error {
	var oe *oss.Error
	switch {
	case errors.As(err, &oe):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return oss.ErrIncompleteBody
	case err != nil && strings.Contains(err.Error(), "request body too large"):
		return oss.ErrEntityTooLarge
	}
	return fmt.Errorf("read body: %w", err)
}

// body is the stored form of uploaded bytes: inline or one blob.
type body struct {
	inline []byte
	blobID string
	size   int64
	md5    []byte
	crc    uint64
}

func (b *body) extents() []meta.Extent {
	if b.blobID == "" {
		return nil
	}
	return []meta.Extent{{Blob: b.blobID, Size: b.size}}
}

// receive reads the body into an inline buffer or a durable blob and
// checks its digests. On error nothing is left behind.
func (s *Service) receive(ctx context.Context, r io.Reader, size int64, wantMD5 []byte, wantCRC *uint64, allowInline bool) (*body, error) {
	if size > MaxPutSize {
		return nil, oss.ErrEntityTooLarge
	}
	hr := newHashingReader(r)
	b := &body{}
	if allowInline && size >= 0 && size <= s.cfg.InlineMax {
		buf := make([]byte, size)
		if _, err := io.ReadFull(hr, buf); err != nil {
			return nil, readErr(err)
		}
		b.inline = buf
	} else {
		w, err := s.newBlob(ctx)
		if err != nil {
			return nil, err
		}
		src := io.Reader(hr)
		if size >= 0 {
			src = io.LimitReader(hr, size)
		} else {
			src = io.LimitReader(hr, MaxPutSize+1)
		}
		if _, err := io.Copy(w, src); err != nil {
			s.abortBlob(w)
			return nil, readErr(err)
		}
		if size >= 0 && hr.n != size {
			s.abortBlob(w)
			return nil, oss.ErrIncompleteBody
		}
		if hr.n > MaxPutSize {
			s.abortBlob(w)
			return nil, oss.ErrEntityTooLarge
		}
		if err := checkDigests(hr, wantMD5, wantCRC); err != nil {
			s.abortBlob(w)
			return nil, err
		}
		if err := w.Commit(); err != nil {
			s.dropIntents(w.ID)
			return nil, err
		}
		b.blobID = w.ID
	}
	b.size = hr.n
	b.md5 = hr.md5.Sum(nil)
	b.crc = hr.crc.Sum64()
	if b.blobID == "" {
		if err := checkDigests(hr, wantMD5, wantCRC); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func checkDigests(hr *hashingReader, wantMD5 []byte, wantCRC *uint64) error {
	// Read to the end: a body that carries a trailer (aws-chunked) only
	// delivers and checks it at EOF, and a body longer than declared is
	// refused rather than cut.
	var probe [1]byte
	if n, err := hr.r.Read(probe[:]); n > 0 {
		return oss.ErrInvalidArgument.WithMessage("The body is longer than the declared length.")
	} else if err != nil && err != io.EOF {
		return readErr(err)
	}
	// A body that carries its own check (a signed payload hash) is
	// verified now that it has been read in full.
	if err := auth.VerifyBody(hr.r); err != nil {
		return err
	}
	if wantMD5 != nil && !bytes.Equal(wantMD5, hr.md5.Sum(nil)) {
		return oss.ErrBadDigest
	}
	if wantCRC != nil && *wantCRC != hr.crc.Sum64() {
		return oss.ErrInvalidCRC64.With("ClientCRC", strconv.FormatUint(*wantCRC, 10)).With("ServerCRC", strconv.FormatUint(hr.crc.Sum64(), 10))
	}
	return nil
}

// ETagOf formats an MD5 as OSS's ETag (upper-case hex, unquoted here).
func ETagOf(sum []byte) string { return strings.ToUpper(hex.EncodeToString(sum)) }

// PutObject stores a whole object.
func (s *Service) PutObject(ctx context.Context, in PutInput) (*Written, error) {
	b, err := s.receive(ctx, in.Body, in.Size, in.ContentMD5, in.CRC64, true)
	if err != nil {
		return nil, err
	}
	v := in.Template
	if a, ok := in.Body.(interface{ Attributes() map[string]string }); ok {
		// Attributes the body computed while it was read (S3 checksums).
		v.Headers = maps.Clone(v.Headers)
		if v.Headers == nil {
			v.Headers = map[string]string{}
		}
		maps.Copy(v.Headers, a.Attributes())
	}
	v.Key = in.Key
	v.Size = b.size
	v.ETag = ETagOf(b.md5)
	v.CRC64 = b.crc
	v.Inline = b.inline
	v.Extents = b.extents()
	if v.Type == "" {
		v.Type = TypeNormal
	}
	claim := func(tx meta.Tx) error {
		if in.Fence != nil {
			if err := in.Fence(tx); err != nil {
				return err
			}
		}
		return s.claimBlobs(tx, v.Blobs()...)
	}
	w, err := s.commitVersion(ctx, in.Bucket, &v, in.Cond, claim, in.Accepted)
	if err != nil && !errors.Is(err, errMaybeCommitted) {
		s.discardBlobs(v.Blobs()...)
	}
	return w, err
}

// errMaybeCommitted marks a metadata commit that failed in the engine
// after fn accepted it: it may have been applied all the same (bbolt
// reports a failed fsync of its meta page after writing the page, and the
// next transaction sees the commit). The blobs it references must then be
// kept; if the commit did not land, the start-up sweep removes them.
var errMaybeCommitted = errors.New("metadata commit failed; it may have been applied")

// update is meta.Update that wraps an engine failure (as opposed to fn's
// own refusal, which commits nothing) in errMaybeCommitted.
func (s *Service) update(ctx context.Context, fn func(tx meta.Tx) error) error {
	var fnErr error
	err := s.meta.Update(ctx, func(tx meta.Tx) error {
		fnErr = fn(tx) // the last run's verdict is the one Update reports
		return fnErr
	})
	if err != nil && fnErr == nil {
		return fmt.Errorf("%w: %w", errMaybeCommitted, err)
	}
	return err
}

// commitVersion makes v the newest version of its key, replacing the
// "null" version unless versioning is enabled, and removes the blobs that
// only the replaced version used. This is the single point where a write
// becomes visible.
// pre, when set, runs first in the same transaction (multipart completion
// retires its upload there, so the two happen together or not at all).
func (s *Service) commitVersion(ctx context.Context, bucket string, v *meta.Version, cond WriteCondition, pre func(tx meta.Tx) error, accepted func(*Written)) (*Written, error) {
	var garbage []string
	var delta int64
	err := s.update(ctx, func(tx meta.Tx) error {
		garbage, delta = nil, 0
		if pre != nil {
			if err := pre(tx); err != nil {
				return err
			}
		}
		b, err := meta.GetBucket(tx, bucket)
		if err != nil {
			return err
		}
		if b == nil {
			return oss.ErrNoSuchBucket.With("BucketName", bucket)
		}
		vers, err := meta.Versions(tx, bucket, v.Key)
		if err != nil {
			return err
		}
		var cur *meta.Version
		if len(vers) > 0 && !vers[0].DeleteMarker {
			cur = vers[0]
		}
		if err := cond.check(cur); err != nil {
			return err
		}
		seq := meta.NewVersionSeq(newestSeq(vers))
		v.Seq = seq
		v.Modified = s.now()
		if b.Versioning == "Enabled" {
			v.VersionID = newVersionID(seq)
		} else {
			v.VersionID = "null"
			for _, old := range vers {
				if old.VersionID != "null" {
					continue
				}
				if err := meta.DeleteVersion(tx, bucket, old.Key, old.Seq); err != nil {
					return err
				}
				garbage = append(garbage, unshared(old, v, vers)...)
				if !old.DeleteMarker {
					delta -= old.Size
				}
			}
		}
		delta += v.Size
		if err := meta.PutVersion(tx, bucket, v); err != nil {
			return err
		}
		if accepted != nil {
			w := *v
			accepted(&Written{Version: &w, Delta: delta})
		}
		return nil
	})
	if err != nil {
		return nil, internalErr("commit object", err)
	}
	s.blobs.Remove(garbage...)
	return &Written{Version: v, Delta: delta}, nil
}

// unshared returns old's blobs that neither v nor any other version of the
// key uses (appendable objects share their blob across versions).
func unshared(old, v *meta.Version, others []*meta.Version) []string {
	used := map[string]bool{}
	for _, e := range v.Extents {
		used[e.Blob] = true
	}
	for _, o := range others {
		if o.Seq == old.Seq {
			continue
		}
		for _, e := range o.Extents {
			used[e.Blob] = true
		}
	}
	var out []string
	for _, e := range old.Extents {
		if !used[e.Blob] {
			out = append(out, e.Blob)
		}
	}
	return out
}

// newestSeq is the Seq of the newest of vers (newest first), 0 if none:
// a new version's Seq must be above it (meta.NewVersionSeq).
func newestSeq(vers []*meta.Version) uint64 {
	if len(vers) == 0 {
		return 0
	}
	return vers[0].Seq
}

// newVersionID renders a sequence number as an opaque OSS-looking version id.
func newVersionID(seq uint64) string {
	return "CAEQ" + strings.ToUpper(strconv.FormatUint(seq, 36)) + "GIGB" + fmt.Sprintf("%016x", seq*0x9E3779B97F4A7C15)
}

// GetInput selects an object version.
type GetInput struct {
	Bucket, Key, VersionID string
	// FollowSymlink resolves a symlink to its target (GetObject,
	// HeadObject); GetSymlink and ACL calls do not follow.
	FollowSymlink bool
}

// Head returns the selected version's metadata.
func (s *Service) Head(ctx context.Context, in GetInput) (*meta.Version, error) {
	var v *meta.Version
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		v, err = s.lookup(tx, in.Bucket, in.Key, in.VersionID)
		if err != nil || !in.FollowSymlink || v.Type != TypeSymlink {
			return err
		}
		t, err := meta.Latest(tx, in.Bucket, v.Symlink)
		if err != nil {
			return err
		}
		if t == nil || t.DeleteMarker {
			return oss.ErrSymlinkTargetNotExist.With("Key", in.Key).With("Target", v.Symlink)
		}
		if t.Type == TypeSymlink {
			return oss.ErrInvalidTargetType
		}
		// The target's bytes, length and ETag; the symlink's own name, time
		// and user metadata (x-oss-meta-* given to PutSymlink belong to the
		// symlink, as OSS documents and oss2's test_put_symlink reads back).
		t2 := *t
		t2.Key = v.Key
		t2.Modified = v.Modified
		t2.Symlink = v.Symlink
		t2.UserMeta = v.UserMeta
		v = &t2
		return nil
	})
	if err != nil {
		return nil, internalErr("head object", err)
	}
	return v, nil
}

func (s *Service) lookup(tx meta.Tx, bucket, key, versionID string) (*meta.Version, error) {
	b, err := meta.GetBucket(tx, bucket)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, oss.ErrNoSuchBucket.With("BucketName", bucket)
	}
	if versionID == "" {
		v, err := meta.Latest(tx, bucket, key)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, oss.ErrNoSuchKey.With("Key", key)
		}
		if v.DeleteMarker {
			return nil, &DeleteMarkerError{Err: oss.ErrNoSuchKey.With("Key", key), VersionID: v.VersionID}
		}
		return v, nil
	}
	vers, err := meta.Versions(tx, bucket, key)
	if err != nil {
		return nil, err
	}
	for _, v := range vers {
		if v.VersionID == versionID {
			if v.DeleteMarker {
				return nil, &DeleteMarkerError{Err: oss.ErrMethodNotAllowed, VersionID: v.VersionID}
			}
			return v, nil
		}
	}
	if !validVersionID(versionID) {
		return nil, oss.ErrInvalidArgument.WithMessage("Invalid version id specified").With("ArgumentName", "versionId").With("ArgumentValue", versionID)
	}
	return nil, oss.ErrNoSuchVersion.With("Key", key).With("VersionId", versionID)
}

func validVersionID(id string) bool { return id == "null" || strings.HasPrefix(id, "CAEQ") }

// DeleteMarkerError reports that the selected version is a delete marker;
// the HTTP layer adds x-oss-delete-marker and the version id.
type DeleteMarkerError struct {
	Err       *oss.Error
	VersionID string
}

func (e *DeleteMarkerError) Error() string { return e.Err.Error() }
func (e *DeleteMarkerError) Unwrap() error { return e.Err }

// Open returns a reader of v's bytes in [off, off+n). The caller closes it.
func (s *Service) Open(v *meta.Version, off, n int64) (io.ReadCloser, error) {
	if n <= 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if v.Inline != nil || len(v.Extents) == 0 {
		end := off + n
		if end > int64(len(v.Inline)) {
			end = int64(len(v.Inline))
		}
		if off > end {
			off = end
		}
		return io.NopCloser(bytes.NewReader(v.Inline[off:end])), nil
	}
	eager := len(v.Extents)
	if v.Type == TypeAppendable {
		eager = mergeable(v.Extents) // the extents an append may remove
	}
	return newExtentReader(s.blobs, v.Extents, off, n, eager)
}

// DeleteResult says what DeleteObject did.
type DeleteResult struct {
	VersionID    string // version removed, or the new delete marker's id
	DeleteMarker bool
	Delta        int64
}

// DeleteObject removes an object (or, with versionID, one version). On a
// versioned bucket without versionID it adds a delete marker. Deleting a
// missing key succeeds, as in OSS.
func (s *Service) DeleteObject(ctx context.Context, bucket, key, versionID string) (*DeleteResult, error) {
	var garbage []string
	var res *DeleteResult
	err := s.meta.Update(ctx, func(tx meta.Tx) error {
		var err error
		res, garbage, err = s.deleteInTx(tx, bucket, key, versionID)
		return err
	})
	if err != nil {
		return nil, internalErr("delete object", err)
	}
	s.blobs.Remove(garbage...)
	return res, nil
}

// deleteInTx is DeleteObject inside a caller's transaction (the lifecycle
// re-checks its rules in the same one). It returns the blobs to remove
// once the transaction has committed.
func (s *Service) deleteInTx(tx meta.Tx, bucket, key, versionID string) (*DeleteResult, []string, error) {
	var garbage []string
	res := &DeleteResult{}
	b, err := meta.GetBucket(tx, bucket)
	if err != nil {
		return nil, nil, err
	}
	if b == nil {
		return nil, nil, oss.ErrNoSuchBucket.With("BucketName", bucket)
	}
	vers, err := meta.Versions(tx, bucket, key)
	if err != nil {
		return nil, nil, err
	}
	if versionID != "" {
		for _, v := range vers {
			if v.VersionID != versionID {
				continue
			}
			if err := meta.DeleteVersion(tx, bucket, key, v.Seq); err != nil {
				return nil, nil, err
			}
			garbage = unshared(v, &meta.Version{}, vers)
			res.VersionID, res.DeleteMarker = v.VersionID, v.DeleteMarker
			if !v.DeleteMarker {
				res.Delta = -v.Size
			}
			return res, garbage, nil
		}
		if !validVersionID(versionID) {
			return nil, nil, oss.ErrInvalidArgument.WithMessage("Invalid version id specified").With("ArgumentName", "versionId").With("ArgumentValue", versionID)
		}
		return res, nil, nil
	}
	if b.Versioning == "" {
		for _, v := range vers {
			if err := meta.DeleteVersion(tx, bucket, key, v.Seq); err != nil {
				return nil, nil, err
			}
			garbage = append(garbage, v.Blobs()...)
			res.Delta -= v.Size
		}
		return res, garbage, nil
	}
	if len(vers) == 0 {
		return res, nil, nil // no marker for a key that never existed
	}
	seq := meta.NewVersionSeq(newestSeq(vers))
	dm := &meta.Version{Key: key, Seq: seq, DeleteMarker: true, Modified: s.now(), VersionID: "null"}
	if b.Versioning == "Enabled" {
		dm.VersionID = newVersionID(seq)
	} else {
		for _, old := range vers {
			if old.VersionID == "null" {
				if err := meta.DeleteVersion(tx, bucket, key, old.Seq); err != nil {
					return nil, nil, err
				}
				garbage = append(garbage, unshared(old, dm, vers)...)
				res.Delta -= old.Size
			}
		}
	}
	res.VersionID, res.DeleteMarker = dm.VersionID, true
	return res, garbage, meta.PutVersion(tx, bucket, dm)
}

// updateVersion applies fn to the selected version's record (ACL, tags)
// in one transaction; fn may read more through tx. Unexported for the
// reason updateBucket is: every write of a version's record is one of the
// Service's operations (objectconfig.go).
func (s *Service) updateVersion(ctx context.Context, bucket, key, versionID string, fn func(tx meta.Tx, v *meta.Version) error) (*meta.Version, error) {
	var out *meta.Version
	err := s.meta.Update(ctx, func(tx meta.Tx) error {
		v, err := s.lookup(tx, bucket, key, versionID)
		if err != nil {
			return err
		}
		if err := fn(tx, v); err != nil {
			return err
		}
		out = v
		return meta.PutVersion(tx, bucket, v)
	})
	return out, internalErr("update object", err)
}

// PutSymlink creates a symlink object pointing at target.
func (s *Service) PutSymlink(ctx context.Context, bucket, key string, tmpl meta.Version, target string, cond WriteCondition) (*Written, error) {
	if err := oss.CheckKey(target); err != nil {
		return nil, err
	}
	v := tmpl
	v.Key = key
	v.Type = TypeSymlink
	v.Symlink = target
	sum := md5.Sum([]byte(target))
	v.ETag = ETagOf(sum[:])
	return s.commitVersion(ctx, bucket, &v, cond, nil, nil)
}

// AppendInput is one AppendObject call.
type AppendInput struct {
	Bucket, Key string
	Position    int64
	Body        io.Reader
	Size        int64
	ContentMD5  []byte
	CRC64       *uint64 // x-oss-hash-crc64ecma of the whole object after append (as OSS checks it)
	Template    meta.Version
}

// Appends. Each append writes its bytes to a NEW blob and the metadata
// commit adds that blob to the object's extents, in the transaction that
// checks the position again (the object's length must still be the
// append's position). Of two appends at one position, on one node or two,
// exactly one commits; the other gets PositionNotEqualToLength and its
// blob is removed. A committed blob is never written again, so no append,
// winning or losing, can touch bytes another committed. (Before, an append
// wrote into the object's one blob at offset=length under an in-process
// lock: two nodes could both pass the position check and write over each
// other's bytes, committed ones included.)
//
// One blob per append would make an object of many small appends a long
// extent list: a record that grows with every append (rewritten by each),
// and a file to open per extent on GET. So an append also merges small
// trailing extents into its new blob (appendTail): it copies their
// committed bytes in first, then the body, and the commit replaces them
// by the one new extent — checking in the transaction that they are still
// the object's tail. The rule keeps every extent more than twice the size
// of the one after it until they reach appendMergeMax, so a run of small
// appends leaves about log2(appendMergeMax) ≈ 24 small extents at the
// end, and each byte is copied O(log) times over its life; no append
// copies more than appendMergeMax bytes of earlier ones. A large append
// (≥ appendMergeMax/2) merges nothing and costs what a PutObject does.
// TestAppendMergeCost measures it: 10 000 appends of 1 KiB end in 6
// extents, the merges having written 7.7× the data (the price of never
// writing into a committed blob; an append still fsyncs one new file).
// 5 GiB of appends just over 4 MiB each is the worst extent count: 1 280.
//
// The extents an append can still merge away — those in the object's
// last appendMergeMax bytes — are removed once it commits; a GET opens
// them all before it sends anything (see Open), so a read that began
// before the merge still finds its bytes.

// appendMergeMax is the most bytes an append's new extent holds when it
// merges earlier extents; an extent beyond the object's last
// appendMergeMax bytes is never merged, so never removed by an append.
const appendMergeMax = 8 << 20

// appendTail returns the index from which ext's trailing extents are
// merged into an append of n bytes.
func appendTail(ext []meta.Extent, n int64) int {
	i, acc := len(ext), n
	for i > 0 && ext[i-1].Size <= 2*acc && acc+ext[i-1].Size <= appendMergeMax {
		acc += ext[i-1].Size
		i--
	}
	return i
}

// mergeable returns the index from which an append may still merge ext's
// extents: the maximal suffix of at most appendMergeMax bytes.
func mergeable(ext []meta.Extent) int {
	i, sum := len(ext), int64(0)
	for i > 0 && sum+ext[i-1].Size <= appendMergeMax {
		sum += ext[i-1].Size
		i--
	}
	return i
}

// errTailChanged: the extents an append merged are no longer the object's
// tail (it was replaced by another of the same length between the
// append's read and its commit).
var errTailChanged = errors.New("append: merged extents are no longer the tail")

// AppendObject appends to an appendable object, creating it at position 0.
func (s *Service) AppendObject(ctx context.Context, in AppendInput) (*Written, error) {
	// Not needed for correctness (the commit decides), but appends to one
	// key on this node then wait their turn instead of writing a body
	// that is bound to lose.
	unlock := s.appendLocks.lock(in.Bucket + "\x00" + in.Key)
	defer unlock()
	var (
		cur      *meta.Version
		length   int64
		tail     []meta.Extent
		w        *blob.Writer
		tailSize int64
	)
	// A tail blob that vanished before it was merged was replaced by an
	// append committed meanwhile (on this node or another): read the
	// object again, which answers PositionNotEqualToLength when it grew,
	// and merge the new tail when it did not.
	for attempt := 1; ; attempt++ {
		cur = nil
		err := s.meta.View(ctx, func(tx meta.Tx) error {
			b, err := meta.GetBucket(tx, in.Bucket)
			if err != nil {
				return err
			}
			if b == nil {
				return oss.ErrNoSuchBucket.With("BucketName", in.Bucket)
			}
			if b.Versioning == "Enabled" {
				return oss.ErrOperationNotSupported.WithMessage("Append object is not supported in versioning enabled bucket.")
			}
			cur, err = meta.Latest(tx, in.Bucket, in.Key)
			if cur != nil && cur.DeleteMarker {
				cur = nil
			}
			return err
		})
		if err != nil {
			return nil, internalErr("append", err)
		}
		length, tail = 0, nil
		if cur != nil {
			if cur.Type != TypeAppendable {
				return nil, oss.ErrObjectNotAppendable
			}
			length = cur.Size
			tail = cur.Extents[appendTail(cur.Extents, max(in.Size, 0)):]
		}
		if in.Position != length {
			return nil, &PositionError{Err: oss.ErrPositionNotEqualToLength, Next: length}
		}
		if length+max(in.Size, 0) > MaxPutSize {
			return nil, oss.ErrEntityTooLarge
		}
		w, err = s.newBlob(ctx)
		if err != nil {
			return nil, err
		}
		tailSize, err = s.copyExtents(w, tail)
		if err == nil {
			break
		}
		s.abortBlob(w)
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			continue
		}
		return nil, internalErr("append: merge earlier extents", err)
	}
	hr := newHashingReader(in.Body)
	src := io.LimitReader(hr, MaxPutSize-length+1) // a chunked body: one byte past the limit is enough to refuse
	if in.Size >= 0 {
		src = io.LimitReader(hr, in.Size)
	}
	if _, err := io.Copy(w, src); err != nil {
		s.abortBlob(w)
		return nil, readErr(err)
	}
	if in.Size >= 0 && hr.n != in.Size {
		s.abortBlob(w)
		return nil, oss.ErrIncompleteBody
	}
	if length+hr.n > MaxPutSize {
		s.abortBlob(w)
		return nil, oss.ErrEntityTooLarge
	}
	if err := checkDigests(hr, in.ContentMD5, nil); err != nil {
		s.abortBlob(w)
		return nil, err
	}
	if err := w.Commit(); err != nil {
		s.dropIntents(w.ID)
		return nil, err
	}
	a := appended{blob: w.ID, tail: tail, tailSize: tailSize, n: hr.n, crc: hr.crc.Sum64()}
	written, err := s.commitAppend(ctx, in, length, a)
	if errors.Is(err, errTailChanged) {
		// Rare: keep the body alone and append it to whatever object of
		// this length is there now, merging nothing.
		written, err = s.appendUnmerged(ctx, in, length, a)
	}
	return written, err
}

// appended is an append's new blob: the merged tail's bytes (tailSize of
// them), then the body's n bytes, whose CRC-64 is crc.
type appended struct {
	blob     string
	tail     []meta.Extent
	tailSize int64
	n        int64
	crc      uint64
}

// appendUnmerged retries a commit that found its merged tail replaced:
// the body's bytes are copied out of a's blob into one of their own.
func (s *Service) appendUnmerged(ctx context.Context, in AppendInput, length int64, a appended) (*Written, error) {
	defer s.discardBlobs(a.blob)
	w, err := s.newBlob(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.copyRange(w, []meta.Extent{{Blob: a.blob, Size: a.tailSize + a.n}}, a.tailSize, a.n); err != nil {
		s.abortBlob(w)
		return nil, internalErr("append: copy body", err)
	}
	if err := w.Commit(); err != nil {
		s.dropIntents(w.ID)
		return nil, err
	}
	return s.commitAppend(ctx, in, length, appended{blob: w.ID, n: a.n, crc: a.crc})
}

// copyExtents writes the bytes of ext into w and returns how many.
func (s *Service) copyExtents(w *blob.Writer, ext []meta.Extent) (int64, error) {
	var n int64
	for _, e := range ext {
		n += e.Size
	}
	return s.copyRange(w, ext, 0, n)
}

// copyRange writes n bytes of ext from off into w.
func (s *Service) copyRange(w *blob.Writer, ext []meta.Extent, off, n int64) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	r, err := newExtentReader(s.blobs, ext, off, n, len(ext))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	got, err := io.Copy(w, r)
	if err == nil && got != n {
		err = io.ErrUnexpectedEOF
	}
	return got, err
}

// commitAppend commits an append if the object is still at length (and,
// when a merged a tail, that tail is still the object's): the object's
// record is replaced in place (same version id) with a's blob as its last
// extent. The merged extents' blobs are removed after the commit; on a
// refusal a's blob is.
func (s *Service) commitAppend(ctx context.Context, in AppendInput, length int64, a appended) (*Written, error) {
	var v meta.Version
	var garbage []string
	err := s.update(ctx, func(tx meta.Tx) error {
		garbage = nil
		cur, err := meta.Latest(tx, in.Bucket, in.Key)
		if err != nil {
			return err
		}
		crc := a.crc
		if cur != nil && !cur.DeleteMarker {
			if cur.Type != TypeAppendable {
				return oss.ErrObjectNotAppendable
			}
			if cur.Size != length {
				return &PositionError{Err: oss.ErrPositionNotEqualToLength, Next: cur.Size}
			}
			k := len(cur.Extents) - len(a.tail)
			if k < 0 || !slices.Equal(cur.Extents[k:], a.tail) {
				return errTailChanged
			}
			vers, err := meta.Versions(tx, in.Bucket, in.Key)
			if err != nil {
				return err
			}
			v = *cur
			v.Extents = slices.Clone(cur.Extents[:k])
			garbage = unshared(cur, &v, vers)
			if err := meta.DeleteVersion(tx, in.Bucket, in.Key, cur.Seq); err != nil {
				return err
			}
			crc = blob.CRCCombine(cur.CRC64, a.crc, a.n)
		} else {
			if length != 0 {
				return &PositionError{Err: oss.ErrPositionNotEqualToLength, Next: 0}
			}
			if len(a.tail) != 0 {
				return errTailChanged
			}
			v = in.Template
			v.Extents = nil
		}
		if in.CRC64 != nil && *in.CRC64 != crc {
			return oss.ErrInvalidCRC64
		}
		if err := s.claimBlobs(tx, a.blob); err != nil {
			return err
		}
		if size := a.tailSize + a.n; size > 0 {
			v.Extents = append(v.Extents, meta.Extent{Blob: a.blob, Size: size})
		} else {
			garbage = append(garbage, a.blob) // nothing to keep: an empty append
		}
		var newest uint64
		if cur != nil {
			newest = cur.Seq
		}
		v.Key = in.Key
		v.Type = TypeAppendable
		v.Size = length + a.n
		v.CRC64 = crc
		v.Inline = nil
		v.ETag = appendETag(v.CRC64, v.Size)
		v.Seq = meta.NewVersionSeq(newest)
		v.VersionID = "null"
		v.Modified = s.now()
		return meta.PutVersion(tx, in.Bucket, &v)
	})
	if err != nil {
		if !errors.Is(err, errMaybeCommitted) && !errors.Is(err, errTailChanged) {
			s.discardBlobs(a.blob)
		}
		return nil, internalErr("commit append", err)
	}
	s.blobs.Remove(garbage...)
	return &Written{Version: &v, Delta: a.n}, nil
}

// appendETag: OSS's ETag of an appendable object is not an MD5 of its
// bytes; a value derived from its CRC and length changes with every append.
func appendETag(crc uint64, size int64) string {
	h := md5.Sum([]byte(strconv.FormatUint(crc, 16) + "-" + strconv.FormatInt(size, 10)))
	return ETagOf(h[:])
}

// PositionError is PositionNotEqualToLength with the position to use next
// (x-oss-next-append-position).
type PositionError struct {
	Err  *oss.Error
	Next int64
}

func (e *PositionError) Error() string { return e.Err.Error() }
func (e *PositionError) Unwrap() error { return e.Err }
