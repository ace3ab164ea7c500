package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// journalSink appends the HTTP layer's access-log records to the journal
// and remembers a failure, so that requests to logged buckets are refused
// up front (Healthy) while the journal is failing.
type journalSink struct {
	// log gives the journal (Server.Log: it changes when a node reclaims
	// its journal).
	log func() *accesslog.Log
	// failedAt is when the last append failed (unix nanoseconds), 0 after
	// a success.
	failedAt atomic.Int64
}

func (s *journalSink) Log(ctx context.Context, r *accesslog.Record) error {
	err := s.log().Append(ctx, r)
	if err != nil {
		s.failedAt.Store(time.Now().UnixNano())
		return err
	}
	s.failedAt.Store(0)
	return nil
}

func (s *journalSink) Provisional(ctx context.Context, r *accesslog.Record) (*accesslog.Provisional, error) {
	p, err := s.log().AppendProvisional(ctx, r)
	if err != nil {
		s.failedAt.Store(time.Now().UnixNano())
	}
	return p, err
}

func (s *journalSink) Settle(ctx context.Context, p *accesslog.Provisional, final *accesslog.Record) error {
	if err := p.Settle(ctx, final); err != nil {
		s.failedAt.Store(time.Now().UnixNano())
		return err
	}
	s.failedAt.Store(0)
	return nil
}

// Healthy reports a journal that failed within the last second. Requests to
// logged buckets are then refused up front (InsufficientStorage) instead of
// being served and left unlogged; after a second one request is let through
// to probe whether the journal recovered.
func (s *journalSink) Healthy() error {
	if t := s.failedAt.Load(); t != 0 && time.Since(time.Unix(0, t)) < time.Second {
		return accesslog.ErrJournalUnavailable
	}
	return nil
}

// objectSink delivers log objects into target buckets through the service
// directly (not through HTTP), so deliveries are never logged themselves.
type objectSink struct{ svc *service.Service }

func (s objectSink) PutLogObject(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	b, err := s.svc.Bucket(ctx, bucket)
	if err != nil {
		if errors.Is(err, oss.ErrNoSuchBucket) {
			return fmt.Errorf("target bucket %s: %w", bucket, accesslog.ErrTargetMissing)
		}
		return err
	}
	tmpl := meta.Version{
		Owner: b.Owner, StorageClass: b.StorageClass, ACL: service.ACLDefault,
		Headers: map[string]string{"Content-Type": "text/plain"},
	}
	// With journals under leases, the commit re-checks that this node
	// still holds the journal's lease: a deliverer that lost it stores
	// nothing.
	_, err = s.svc.PutObject(ctx, service.PutInput{Bucket: bucket, Key: key, Body: body, Size: size, Template: tmpl,
		Fence: accesslog.FenceOf(ctx)})
	return err
}
