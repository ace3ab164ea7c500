package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/httpapi"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
	"github.com/ossd/ossd/osslog"
)

// journalSink turns the HTTP layer's entries into access-log records and
// appends them durably.
type journalSink struct {
	log *accesslog.Log
	// failedAt is when the last append failed (unix nanoseconds), 0 after
	// a success.
	failedAt atomic.Int64
}

func (s *journalSink) Log(ctx context.Context, e *httpapi.Entry) error {
	err := s.log.Append(ctx, recordOf(e))
	if err != nil {
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

// recordOf maps an entry to the OSS line's fields. Each field's source is
// documented on httpapi.Entry; here only the encoding choices are made.
func recordOf(e *httpapi.Entry) *accesslog.Record {
	size := e.ObjectSize
	if size < 0 {
		size = osslog.Absent
	}
	delta := int64(osslog.AbsentDelta)
	if e.HasDelta && e.Delta != 0 {
		delta = e.Delta
	}
	r := &accesslog.Record{
		Line: osslog.Line{
			RemoteIP: e.RemoteIP, Reserved1: "-", Reserved2: "-", Time: e.Time,
			RequestURI: e.Method + " " + e.URI + " " + e.Proto, HTTPStatus: e.Status, SentBytes: e.SentBytes,
			RequestTime: e.RequestTime.Milliseconds(), Referer: e.Referer, UserAgent: e.UserAgent, Host: e.Host,
			RequestID: e.RequestID, LoggingFlag: "true", RequesterID: e.Requester, Operation: e.Operation,
			Bucket: e.Bucket, Key: e.Key, ObjectSize: size, ServerCostTime: e.ServerCost.Milliseconds(),
			ErrorCode: e.ErrorCode, RequestLength: e.RequestLen, UserID: e.Owner, DeltaDataSize: delta,
			// OSS writes storage classes lower-case in this column ("standard").
			StorageClass: strings.ToLower(e.StorageClass), TargetStorageClass: strings.ToLower(e.TargetClass),
			AccessKeyID: e.AccessKeyID,
		},
		SourceBucket: e.Bucket, TargetBucket: e.TargetBucket, TargetPrefix: e.TargetPrefix,
	}
	if len(e.LogFieldHeaders)+len(e.LogFieldParams) > 0 {
		r.UserDefined = userDefinedFields(e)
	}
	return r
}

// maxUserDefined is OSS's cap on the keys and values of the user-defined
// log fields, in bytes.
const maxUserDefined = 1024

// userDefinedFields builds user_defined_log_fields: base64 of
// {"truncated":bool,"headers":{…},"querys":{…}} with the configured headers
// and query parameters that the request carried. Values are cut, and
// truncated set, once keys and values reach 1024 bytes.
func userDefinedFields(e *httpapi.Entry) string {
	budget := maxUserDefined
	truncated := false
	take := func(k, v string) (string, bool) {
		if budget <= 0 {
			truncated = true
			return "", false
		}
		budget -= len(k)
		if budget < 0 {
			truncated = true
			return "", false
		}
		if len(v) > budget {
			v = v[:budget]
			truncated = true
		}
		budget -= len(v)
		return v, true
	}
	headers, querys := map[string]string{}, map[string]string{}
	for _, h := range e.LogFieldHeaders {
		if v := e.Headers.Get(h); v != "" {
			if v, ok := take(h, v); ok {
				headers[h] = v
			}
		}
	}
	for _, p := range e.LogFieldParams {
		if vs, ok := e.Query[p]; ok && len(vs) > 0 {
			if v, ok := take(p, vs[0]); ok {
				querys[p] = v
			}
		}
	}
	raw, _ := json.Marshal(struct {
		Truncated bool              `json:"truncated"`
		Headers   map[string]string `json:"headers"`
		Querys    map[string]string `json:"querys"`
	}{truncated, headers, querys})
	return base64.StdEncoding.EncodeToString(raw)
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
	_, err = s.svc.PutObject(ctx, service.PutInput{Bucket: bucket, Key: key, Body: body, Size: size, Template: tmpl})
	return err
}
