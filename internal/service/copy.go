package service

import (
	"context"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// CopyInput copies a source version's bytes into a new object or part.
type CopyInput struct {
	Source          *meta.Version
	SrcBucket       string
	Off, N          int64 // range of the source (whole object: 0, Size)
	Dest            PutInput
	ReplaceMetadata bool
	// RequireChange is S3's rule for a copy of an object's current version
	// onto itself: it must change something (metadata replaced, or a new
	// storage class), else it is refused with InvalidRequest. OSS lets
	// such a copy through.
	RequireChange bool
}

// CopyObject streams the source's bytes into a new version of the
// destination; metadata comes from the source unless replaced.
func (s *Service) CopyObject(ctx context.Context, in CopyInput) (*Written, error) {
	if in.RequireChange && in.SrcBucket == in.Dest.Bucket && in.Source.Key == in.Dest.Key && !in.ReplaceMetadata &&
		(in.Dest.Template.StorageClass == "" || in.Dest.Template.StorageClass == in.Source.StorageClass) {
		return nil, oss.ErrS3CopyOnItself
	}
	r, err := s.Open(in.Source, 0, in.Source.Size)
	if err != nil {
		return nil, internalErr("open copy source", err)
	}
	defer r.Close()
	put := in.Dest
	if !in.ReplaceMetadata {
		put.Template.Headers = in.Source.Headers
		put.Template.UserMeta = in.Source.UserMeta
	}
	if put.Template.StorageClass == "" {
		put.Template.StorageClass = in.Source.StorageClass
	}
	put.Body = r
	put.Size = in.Source.Size
	return s.PutObject(ctx, put)
}

// CopyPart streams a range of the source into a part.
func (s *Service) CopyPart(ctx context.Context, in CopyInput, part PartInput) (*meta.Part, error) {
	r, err := s.Open(in.Source, in.Off, in.N)
	if err != nil {
		return nil, internalErr("open copy source", err)
	}
	defer r.Close()
	part.Body = r
	part.Size = in.N
	part.Copy = true
	return s.UploadPart(ctx, part)
}
