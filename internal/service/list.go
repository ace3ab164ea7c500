package service

import (
	"context"
	"strings"

	"github.com/ossd/ossd/internal/meta"
)

// ListInput is a ListObjects / ListObjectsV2 / ListObjectVersions query.
type ListInput struct {
	Bucket    string
	Prefix    string
	Delimiter string
	// After: list keys strictly greater (marker, start-after, token).
	After   string
	MaxKeys int
	// Versions only: with After, start after this version of After.
	AfterVersion string
}

// ListResult is one page.
type ListResult struct {
	Objects        []*meta.Version
	CommonPrefixes []string
	Truncated      bool
	// NextAfter is the last key (or prefix) returned, to continue from.
	NextAfter        string
	NextAfterVersion string
}

// ListObjects lists the newest non-deleted version of each key.
func (s *Service) ListObjects(ctx context.Context, in ListInput) (*ListResult, error) {
	return s.list(ctx, in, false)
}

// ListVersions lists every version and delete marker.
func (s *Service) ListVersions(ctx context.Context, in ListInput) (*ListResult, error) {
	return s.list(ctx, in, true)
}

func (s *Service) list(ctx context.Context, in ListInput, versions bool) (*ListResult, error) {
	res := &ListResult{}
	if in.MaxKeys == 0 {
		return res, nil
	}
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		start := in.After
		if in.Prefix > start {
			start = in.Prefix
		}
		count := 0
		lastKey := ""
		skipAfterVersion := versions && in.AfterVersion != ""
		seenAfterVersion := false
		for {
			restart := ""
			err := meta.ScanVersions(tx, in.Bucket, start, func(v *meta.Version) bool {
				if !strings.HasPrefix(v.Key, in.Prefix) {
					if v.Key < in.Prefix {
						return true
					}
					return false
				}
				if v.Key < in.After || (v.Key == in.After && !skipAfterVersion) {
					return true
				}
				if v.Key == in.After && skipAfterVersion {
					if !seenAfterVersion {
						seenAfterVersion = v.VersionID == in.AfterVersion
						return true
					}
				}
				if !versions && v.Key == lastKey {
					return true // older version of a key already decided
				}
				if in.Delimiter != "" {
					rest := v.Key[len(in.Prefix):]
					if i := strings.Index(rest, in.Delimiter); i >= 0 {
						cp := in.Prefix + rest[:i+len(in.Delimiter)]
						if cp == in.After || (len(res.CommonPrefixes) > 0 && res.CommonPrefixes[len(res.CommonPrefixes)-1] == cp) {
							restart = cp + "\xff"
							return false
						}
						if count == in.MaxKeys {
							res.Truncated = true
							return false
						}
						res.CommonPrefixes = append(res.CommonPrefixes, cp)
						res.NextAfter, res.NextAfterVersion = cp, ""
						count++
						// Skip every key under this prefix: keys are UTF-8,
						// so no key byte is 0xff.
						restart = cp + "\xff"
						return false
					}
				}
				lastKey = v.Key
				if !versions && v.DeleteMarker {
					return true
				}
				if count == in.MaxKeys {
					res.Truncated = true
					return false
				}
				res.Objects = append(res.Objects, v)
				res.NextAfter, res.NextAfterVersion = v.Key, v.VersionID
				count++
				return true
			})
			if err != nil || restart == "" || res.Truncated {
				return err
			}
			start = restart
		}
	})
	if err != nil {
		return nil, internalErr("list objects", err)
	}
	if !res.Truncated {
		res.NextAfter, res.NextAfterVersion = "", ""
	}
	return res, nil
}

// UploadsInput is a ListMultipartUploads query.
type UploadsInput struct {
	Bucket, Prefix, Delimiter string
	KeyMarker, UploadIDMarker string
	MaxUploads                int
}

// UploadsResult is one page of uploads.
type UploadsResult struct {
	Uploads                           []*meta.Upload
	CommonPrefixes                    []string
	Truncated                         bool
	NextKeyMarker, NextUploadIDMarker string
}

// ListUploads lists in-progress multipart uploads by key then id.
func (s *Service) ListUploads(ctx context.Context, in UploadsInput) (*UploadsResult, error) {
	res := &UploadsResult{}
	err := s.meta.View(ctx, func(tx meta.Tx) error {
		start := in.KeyMarker
		if in.Prefix > start {
			start = in.Prefix
		}
		count := 0
		for {
			restart := ""
			err := meta.ScanUploads(tx, in.Bucket, start, func(u *meta.Upload) bool {
				if !strings.HasPrefix(u.Key, in.Prefix) {
					return u.Key < in.Prefix
				}
				if u.Key < in.KeyMarker {
					return true
				}
				if u.Key == in.KeyMarker && (in.UploadIDMarker == "" || u.UploadID <= in.UploadIDMarker) {
					return true
				}
				if in.Delimiter != "" {
					rest := u.Key[len(in.Prefix):]
					if i := strings.Index(rest, in.Delimiter); i >= 0 {
						cp := in.Prefix + rest[:i+len(in.Delimiter)]
						if count == in.MaxUploads {
							res.Truncated = true
							return false
						}
						if cp != in.KeyMarker {
							res.CommonPrefixes = append(res.CommonPrefixes, cp)
							res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
							count++
						}
						restart = cp + "\xff"
						return false
					}
				}
				if count == in.MaxUploads {
					res.Truncated = true
					return false
				}
				res.Uploads = append(res.Uploads, u)
				res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
				count++
				return true
			})
			if err != nil || restart == "" || res.Truncated {
				return err
			}
			start = restart
		}
	})
	if err != nil {
		return nil, internalErr("list uploads", err)
	}
	return res, nil
}
