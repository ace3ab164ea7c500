package service

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// Multipart limits, as OSS.
const (
	MinPartSize = 100 << 10
	MaxPartNum  = 10000
)

// Initiate starts a multipart upload.
func (s *Service) Initiate(ctx context.Context, bucket, key string, tmpl meta.Version, sequential bool) (*meta.Upload, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	// Upload ids sort by initiation time, so ListMultipartUploads can
	// order uploads of one key by id and by age at once.
	id := strings.ToUpper(fmt.Sprintf("%016x%s", s.now().UnixNano(), hex.EncodeToString(rnd[:])))
	u := &meta.Upload{Bucket: bucket, Key: key, UploadID: id, Initiated: s.now(), Template: tmpl, Sequential: sequential}
	err := s.meta.Update(ctx, func(tx meta.Tx) error {
		b, err := meta.GetBucket(tx, bucket)
		if err != nil {
			return err
		}
		if b == nil {
			return oss.ErrNoSuchBucket.With("BucketName", bucket)
		}
		return meta.PutUpload(tx, u)
	})
	if err != nil {
		return nil, internalErr("initiate upload", err)
	}
	return u, nil
}

// Upload returns an upload, or NoSuchUpload.
func (s *Service) Upload(ctx context.Context, bucket, key, id string) (*meta.Upload, error) {
	var u *meta.Upload
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		u, err = s.upload(tx, bucket, key, id)
		return err
	})
	return u, internalErr("get upload", err)
}

// noSuchUpload carries the EC OSS gives for the operation that missed.
func noSuchUpload(id, ec string) error {
	e := oss.ErrNoSuchUpload.With("UploadId", id)
	if ec != "" {
		e = e.WithEC(ec)
	}
	return e
}

func (s *Service) upload(tx meta.Tx, bucket, key, id string) (*meta.Upload, error) {
	b, err := meta.GetBucket(tx, bucket)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, oss.ErrNoSuchBucket.With("BucketName", bucket)
	}
	u, err := meta.GetUpload(tx, bucket, key, id)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, noSuchUpload(id, "")
	}
	return u, nil
}

// PartInput is one UploadPart.
type PartInput struct {
	Bucket, Key, UploadID string
	Number                int
	Body                  io.Reader
	Size                  int64
	ContentMD5            []byte
	CRC64                 *uint64
	Copy                  bool // UploadPartCopy (for OSS's error codes)
}

func (in *PartInput) missingEC() string {
	if in.Copy {
		return "0042-00000311"
	}
	return "0042-00000104"
}

// UploadPart stores a part durably, replacing a part of the same number.
func (s *Service) UploadPart(ctx context.Context, in PartInput) (*meta.Part, error) {
	if in.Number < 1 || in.Number > MaxPartNum {
		return nil, oss.ErrInvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive.").With("ArgumentName", "partNumber").With("ArgumentValue", fmt.Sprint(in.Number))
	}
	if _, err := s.Upload(ctx, in.Bucket, in.Key, in.UploadID); err != nil {
		if errors.Is(err, oss.ErrNoSuchUpload) {
			return nil, noSuchUpload(in.UploadID, in.missingEC())
		}
		return nil, err
	}
	b, err := s.receive(ctx, in.Body, in.Size, in.ContentMD5, in.CRC64, false)
	if err != nil {
		return nil, err
	}
	p := &meta.Part{Number: in.Number, ETag: ETagOf(b.md5), Size: b.size, CRC64: b.crc, Modified: s.now(), Blob: b.blobID}
	var old *meta.Part
	err = s.update(ctx, func(tx meta.Tx) error {
		if _, err := s.upload(tx, in.Bucket, in.Key, in.UploadID); err != nil {
			return err
		}
		if err := s.claimBlobs(tx, p.Blob); err != nil {
			return err
		}
		var err error
		if old, err = meta.GetPart(tx, in.UploadID, in.Number); err != nil {
			return err
		}
		return meta.PutPart(tx, in.UploadID, p)
	})
	if err != nil {
		if !errors.Is(err, errMaybeCommitted) {
			s.discardBlobs(p.Blob)
		}
		return nil, internalErr("upload part", err)
	}
	if old != nil {
		s.blobs.Remove(old.Blob)
	}
	return p, nil
}

// ListParts returns parts after marker, up to max, and whether more follow.
func (s *Service) ListParts(ctx context.Context, bucket, key, id string, marker, maxParts int) (*meta.Upload, []*meta.Part, bool, error) {
	var u *meta.Upload
	var parts []*meta.Part
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		if u, err = s.upload(tx, bucket, key, id); err != nil {
			return err
		}
		parts, err = meta.Parts(tx, id, marker)
		return err
	})
	if err != nil {
		return nil, nil, false, internalErr("list parts", err)
	}
	truncated := len(parts) > maxParts
	if truncated {
		parts = parts[:maxParts]
	}
	return u, parts, truncated, nil
}

// CompletePart names one part in a CompleteMultipartUpload body.
type CompletePart struct {
	Number int
	ETag   string
}

// Complete assembles the listed parts (or, with all, every uploaded part)
// into the object. The parts' blobs become the object's extents, so no
// byte is copied.
// acl, when set, is the object ACL given at completion (x-oss-object-acl),
// which OSS accepts there as well as at initiation.
func (s *Service) Complete(ctx context.Context, bucket, key, id string, list []CompletePart, all bool, cond WriteCondition, acl string) (*Written, error) {
	var u *meta.Upload
	var parts []*meta.Part
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		var err error
		if u, err = s.upload(tx, bucket, key, id); err != nil {
			return err
		}
		parts, err = meta.Parts(tx, id, 0)
		return err
	})
	if err != nil {
		return nil, internalErr("complete upload", err)
	}
	byNum := map[int]*meta.Part{}
	for _, p := range parts {
		byNum[p.Number] = p
	}
	var chosen []*meta.Part
	if all {
		chosen = parts
	} else {
		for i, c := range list {
			if i > 0 && c.Number <= list[i-1].Number {
				return nil, oss.ErrInvalidPartOrder
			}
			p := byNum[c.Number]
			if p == nil || !strings.EqualFold(strings.Trim(c.ETag, `"`), p.ETag) {
				return nil, oss.ErrInvalidPart.With("PartNumber", fmt.Sprint(c.Number)).With("ETag", c.ETag)
			}
			chosen = append(chosen, p)
		}
	}
	if all && len(chosen) == 0 {
		return nil, oss.ErrInvalidPart.WithMessage("The upload has no parts.")
	}
	// An explicit empty list completes an empty object, as OSS does (the
	// v2 SDK's Uploader sends one for an empty stream of unknown size).
	v := u.Template
	v.Key = key
	v.Type = TypeMultipart
	if acl != "" {
		v.ACL = acl
		v.Grants = nil
	}
	sums := md5.New()
	used := map[string]bool{}
	for i, p := range chosen {
		if i < len(chosen)-1 && p.Size < MinPartSize {
			return nil, oss.ErrEntityTooSmall.With("PartNumber", fmt.Sprint(p.Number)).With("ETag", p.ETag).With("MinSizeAllowed", fmt.Sprint(MinPartSize)).With("ProposedSize", fmt.Sprint(p.Size))
		}
		raw, _ := hex.DecodeString(p.ETag)
		sums.Write(raw)
		if i == 0 {
			v.CRC64 = p.CRC64
		} else {
			v.CRC64 = blob.CRCCombine(v.CRC64, p.CRC64, p.Size)
		}
		v.Size += p.Size
		v.Extents = append(v.Extents, meta.Extent{Blob: p.Blob, Size: p.Size})
		used[p.Blob] = true
	}
	v.ETag = fmt.Sprintf("%s-%d", ETagOf(sums.Sum(nil)), len(chosen))
	if u.Sequential {
		sum, err := s.contentMD5(&v)
		if err != nil {
			return nil, err
		}
		v.Headers = maps.Clone(v.Headers)
		if v.Headers == nil {
			v.Headers = map[string]string{}
		}
		v.Headers[HeaderContentMD5] = sum
	}
	var garbage []string
	retire := func(tx meta.Tx) error {
		garbage = nil
		cur, err := s.upload(tx, bucket, key, id)
		if err != nil {
			return err
		}
		// Parts may have been re-uploaded since the read above.
		all, err := meta.Parts(tx, id, 0)
		if err != nil {
			return err
		}
		now := map[int]string{}
		for _, p := range all {
			now[p.Number] = p.Blob
			if !used[p.Blob] {
				garbage = append(garbage, p.Blob)
			}
		}
		for _, p := range chosen {
			if now[p.Number] != p.Blob {
				return oss.ErrInvalidPart.With("PartNumber", fmt.Sprint(p.Number))
			}
		}
		return meta.DeleteUpload(tx, cur)
	}
	w, err := s.commitVersion(ctx, bucket, &v, cond, retire, nil)
	if err != nil {
		return nil, err
	}
	s.blobs.Remove(garbage...)
	return w, nil
}

// Abort discards an upload and its parts.
func (s *Service) Abort(ctx context.Context, bucket, key, id string) error {
	var garbage []string
	err := s.meta.Update(ctx, func(tx meta.Tx) error {
		garbage = nil
		u, err := s.upload(tx, bucket, key, id)
		if err != nil {
			return err
		}
		garbage, err = dropUpload(tx, u)
		return err
	})
	if err != nil {
		return internalErr("abort upload", err)
	}
	s.blobs.Remove(garbage...)
	return nil
}

// dropUpload deletes u and its parts and returns the parts' blobs, which the
// caller removes once the transaction has committed.
func dropUpload(tx meta.Tx, u *meta.Upload) ([]string, error) {
	parts, err := meta.Parts(tx, u.UploadID, 0)
	if err != nil {
		return nil, err
	}
	blobs := make([]string, 0, len(parts))
	for _, p := range parts {
		blobs = append(blobs, p.Blob)
	}
	return blobs, meta.DeleteUpload(tx, u)
}

// HeaderContentMD5 keeps, among a version's stored headers, the MD5 of a
// whole multipart object (base64, as the Content-MD5 header carries it).
// Only sequential uploads have one: their parts' order is fixed as they
// arrive, so the whole object's digest is worth its one extra read.
const HeaderContentMD5 = "Content-MD5"

// contentMD5 reads v's bytes (its parts, in order) and returns their MD5 in
// base64. It runs once per sequential upload, at completion, when the parts
// were just written and are most likely still in the page cache.
func (s *Service) contentMD5(v *meta.Version) (string, error) {
	r, err := s.Open(v, 0, v.Size)
	if err != nil {
		return "", internalErr("open parts for MD5", err)
	}
	defer r.Close()
	h := md5.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", internalErr("read parts for MD5", err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// PartRange locates part n (from 1) of v for S3's GetObject and HeadObject
// with partNumber, and counts v's parts: a completed multipart upload's
// parts are its extents, in order; any other object is a single part. A
// part number past the last is InvalidPart (what ceph/s3-tests and RGW
// expect; AWS documents 416 InvalidPartNumber).
func PartRange(v *meta.Version, n int) (off, size int64, parts int, err error) {
	if v.Type != TypeMultipart || len(v.Extents) == 0 {
		if n != 1 {
			return 0, 0, 1, oss.ErrInvalidPart.WithMessage("The requested partnumber is not satisfiable.")
		}
		return 0, v.Size, 1, nil
	}
	if n > len(v.Extents) {
		return 0, 0, len(v.Extents), oss.ErrInvalidPart.WithMessage("The requested partnumber is not satisfiable.")
	}
	for _, e := range v.Extents[:n-1] {
		off += e.Size
	}
	return off, v.Extents[n-1].Size, len(v.Extents), nil
}
