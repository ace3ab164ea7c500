package service_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// interleaved is a meta.Store whose next Update first runs before: a
// change another request (or node) commits between the moment a rule was
// checked and the write. A rule checked outside the writing transaction
// misses it; one checked inside sees it.
type interleaved struct {
	meta.Store
	mu     sync.Mutex
	before func(ctx context.Context) error
}

func (s *interleaved) Update(ctx context.Context, fn func(meta.Tx) error) error {
	s.mu.Lock()
	before := s.before
	s.before = nil
	s.mu.Unlock()
	if before != nil {
		if err := before(ctx); err != nil {
			return err
		}
	}
	return s.Store.Update(ctx, fn)
}

// next makes the store's next Update run before first.
func (s *interleaved) next(before func(ctx context.Context) error) {
	s.mu.Lock()
	s.before = before
	s.mu.Unlock()
}

// configFixture is a service on a real bbolt store with buckets "bkt" and
// "logs" of account "a" and "other" of account "b", public access not
// blocked (as --unblock-new-buckets creates them).
func configFixture(t *testing.T) (*service.Service, *interleaved) {
	t.Helper()
	m, bs := testStores(t)
	store := &interleaved{Store: m}
	svc := service.New(service.Config{Region: "cn-hangzhou", UnblockNewBuckets: true}, store, bs)
	ctx := context.Background()
	for _, b := range []struct{ name, owner string }{{"bkt", "a"}, {"logs", "a"}, {"other", "b"}} {
		p := service.Principal{Account: service.Account{ID: b.owner}}
		if err := svc.CreateBucket(ctx, p, service.CreateBucketInput{Name: b.name}); err != nil {
			t.Fatal(err)
		}
	}
	return svc, store
}

// wantCode fails t unless err is the OSS error code (want "" is success).
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	var oe *oss.Error
	switch {
	case want == "" && err != nil:
		t.Fatalf("err = %v, want success", err)
	case want != "" && (!errors.As(err, &oe) || oe.Code != want):
		t.Fatalf("err = %v, want %s", err, want)
	}
}

const (
	publicPolicy   = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`
	privatePolicy  = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["b"],"Resource":["acs:oss:*:*:bkt/*"]}]}`
	publicS3Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Principal":"*","Resource":["arn:aws:s3:::bkt/*"]}]}`
)

// TestBucketConfigOps: each bucket-configuration operation applies its
// rules and stores what it was given (or nothing, when refused).
func TestBucketConfigOps(t *testing.T) {
	block := func(svc *service.Service) error {
		return svc.PutBucketPublicAccessBlock(context.Background(), "bkt", service.PublicAccessBlockInput{Blocked: true})
	}
	tests := []struct {
		name  string
		setup func(svc *service.Service) error // nil: none
		op    func(ctx context.Context, svc *service.Service) error
		code  string                    // "" for success
		check func(b *meta.Bucket) bool // what the stored record must then say
	}{
		{"canned ACL", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.ACLPublicRead, Header: "x-oss-acl"})
			}, "", func(b *meta.Bucket) bool { return b.ACL == service.ACLPublicRead }},
		{"unknown ACL", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: "open", Header: "x-oss-acl"})
			}, "InvalidArgument", func(b *meta.Bucket) bool { return b.ACL == service.ACLPrivate }},
		{"public ACL while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.ACLPublicReadWrite, Header: "x-oss-acl"})
			}, oss.ErrPublicBucketACLBlocked.Code, func(b *meta.Bucket) bool { return b.ACL == service.ACLPrivate }},
		{"public grant while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				g := []meta.Grant{{Type: service.GranteeGroup, URI: service.GroupAuthenticatedUsers, Permission: service.PermRead}}
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.NearestCanned(g), Grants: g, Header: "x-amz-acl"})
			}, oss.ErrPublicBucketACLBlocked.Code, func(b *meta.Bucket) bool { return b.Grants == nil }},
		{"grant to an account while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				g := []meta.Grant{{Type: service.GranteeUser, ID: "b", Permission: service.PermRead}}
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.NearestCanned(g), Grants: g, Header: "x-amz-acl"})
			}, "", func(b *meta.Bucket) bool { return len(b.Grants) == 1 && b.Grants[0].ID == "b" }},
		{"block on", nil,
			func(ctx context.Context, svc *service.Service) error { return block(svc) },
			"", func(b *meta.Bucket) bool { return b.BlockPublicAccess != nil && *b.BlockPublicAccess }},
		{"block removed: the default (blocked) applies", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.DeleteBucketPublicAccessBlock(ctx, "bkt")
			},
			"", func(b *meta.Bucket) bool { return b.BlockPublicAccess == nil && b.PublicBlocked() }},
		{"public policy", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
			}, "", func(b *meta.Bucket) bool { return b.Policy == publicPolicy }},
		{"public policy while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
			}, oss.ErrPublicPolicyBlocked.Code, func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"public S3 policy while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicS3Policy), true)
			}, "AccessDenied", func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"private policy while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(privatePolicy), false)
			}, "", func(b *meta.Bucket) bool { return b.Policy == privatePolicy }},
		{"policy too large", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(strings.Repeat(" ", service.MaxPolicySize+1)), false)
			}, oss.ErrPolicyTooLarge.Code, func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"policy deleted",
			func(svc *service.Service) error {
				return svc.PutBucketPolicy(context.Background(), "bkt", []byte(privatePolicy), false)
			},
			func(ctx context.Context, svc *service.Service) error { return svc.DeleteBucketPolicy(ctx, "bkt") },
			"", func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"logging to own account's bucket", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "logs", TargetPrefix: "bkt/"})
			}, "", func(b *meta.Bucket) bool { return b.Logging != nil && b.Logging.TargetBucket == "logs" }},
		{"logging to itself", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "bkt"})
			}, "", func(b *meta.Bucket) bool { return b.Logging != nil && b.Logging.TargetBucket == "bkt" }},
		{"logging to a missing bucket", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "nowhere"})
			}, oss.ErrTargetBucketNotExist.Code, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"logging to another account's bucket", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "other"})
			}, oss.ErrTargetBucketNotOwned.Code, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"logging prefix with a slash", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "logs", TargetPrefix: "/x"})
			}, oss.ErrTargetPrefixSlash.Code, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"logging turned off",
			func(svc *service.Service) error {
				return svc.PutBucketLogging(context.Background(), "bkt", &meta.LoggingConfig{TargetBucket: "logs"})
			},
			func(ctx context.Context, svc *service.Service) error { return svc.DeleteBucketLogging(ctx, "bkt") },
			"", func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"log fields", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", []string{"x-user"}, []string{"k"})
			}, "", func(b *meta.Bucket) bool {
				return b.LogFields != nil && reflect.DeepEqual(b.LogFields.Headers, []string{"x-user"})
			}},
		{"log fields: too many", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", []string{"a", "b", "c", "d"}, []string{"e", "f", "g"})
			}, "InvalidArgument", func(b *meta.Bucket) bool { return b.LogFields == nil }},
		{"log fields: none", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", nil, nil)
			}, "MalformedXML", func(b *meta.Bucket) bool { return b.LogFields == nil }},
		{"log fields: header with an underscore", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", []string{"x_user"}, nil)
			}, "InvalidArgument", func(b *meta.Bucket) bool { return b.LogFields == nil }},
		{"log fields: parameter with an underscore", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", nil, []string{"x_user"})
			}, "", func(b *meta.Bucket) bool { return b.LogFields != nil }},
		{"CORS", nil,
			func(ctx context.Context, svc *service.Service) error {
				c := &meta.CORSConfig{Rules: []meta.CORSRule{{Origins: []string{"*"}, Methods: []string{"GET"}, MaxAge: -1}}}
				return svc.PutBucketCORS(ctx, "bkt", c, false)
			}, "", func(b *meta.Bucket) bool { return b.CORS != nil && len(b.CORS.Rules) == 1 }},
		{"CORS: no rule", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketCORS(ctx, "bkt", &meta.CORSConfig{}, false)
			}, oss.ErrCORSNoRule.Code, func(b *meta.Bucket) bool { return b.CORS == nil }},
		{"tags", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketTags(ctx, "bkt", []meta.Tag{{Key: "k", Value: "v"}, {Key: "k2", Value: "v2"}})
			}, "", func(b *meta.Bucket) bool { return len(b.Tags) == 2 }},
		{"tags: empty key", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketTags(ctx, "bkt", []meta.Tag{{Key: "", Value: "v"}})
			}, "InvalidArgument", func(b *meta.Bucket) bool { return b.Tags == nil }},
		{"tags: some deleted",
			func(svc *service.Service) error {
				return svc.PutBucketTags(context.Background(), "bkt", []meta.Tag{{Key: "k", Value: "v"}, {Key: "k2", Value: "v2"}})
			},
			func(ctx context.Context, svc *service.Service) error {
				return svc.DeleteBucketTags(ctx, "bkt", []string{"k", "absent"})
			},
			"", func(b *meta.Bucket) bool { return reflect.DeepEqual(b.Tags, []meta.Tag{{Key: "k2", Value: "v2"}}) }},
		{"tags: all deleted",
			func(svc *service.Service) error {
				return svc.PutBucketTags(context.Background(), "bkt", []meta.Tag{{Key: "k", Value: "v"}})
			},
			func(ctx context.Context, svc *service.Service) error { return svc.DeleteBucketTags(ctx, "bkt", nil) },
			"", func(b *meta.Bucket) bool { return b.Tags == nil }},
		{"versioning", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketVersioning(ctx, "bkt", service.VersioningEnabled)
			}, "", func(b *meta.Bucket) bool { return b.Versioning == service.VersioningEnabled }},
		{"versioning: unknown status", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketVersioning(ctx, "bkt", "Off")
			},
			"MalformedXML", func(b *meta.Bucket) bool { return b.Versioning == "" }},
		{"missing bucket", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketVersioning(ctx, "nope", "Enabled")
			},
			"NoSuchBucket", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, _ := configFixture(t)
			ctx := context.Background()
			if tc.setup != nil {
				if err := tc.setup(svc); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			wantCode(t, tc.op(ctx, svc), tc.code)
			if tc.check == nil {
				return
			}
			b, err := svc.Bucket(ctx, "bkt")
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(b) {
				t.Errorf("stored bucket not as expected: %+v", b)
			}
		})
	}
}

// TestBucketConfigChecksInsideTheWrite: a rule that depends on stored
// state is decided against what the writing transaction reads. Here the
// state changes (the logging target is deleted, public access gets
// blocked) after the request is accepted and before its transaction runs,
// as a concurrent request would change it; the write must be refused and
// nothing stored. Checking before the transaction, as httpapi once did,
// stores a rule the new state forbids.
func TestBucketConfigChecksInsideTheWrite(t *testing.T) {
	blockBkt := func(svc *service.Service) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			return svc.PutBucketPublicAccessBlock(ctx, "bkt", service.PublicAccessBlockInput{Blocked: true})
		}
	}
	tests := []struct {
		name    string
		between func(svc *service.Service) func(ctx context.Context) error
		op      func(ctx context.Context, svc *service.Service) error
		code    string
		check   func(b *meta.Bucket) bool
	}{
		{"logging target deleted",
			func(svc *service.Service) func(ctx context.Context) error {
				return func(ctx context.Context) error { return svc.DeleteBucket(ctx, "logs", false) }
			},
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "logs"})
			}, oss.ErrTargetBucketNotExist.Code, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"public ACL, then blocked", blockBkt,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.ACLPublicRead, Header: "x-oss-acl"})
			}, oss.ErrPublicBucketACLBlocked.Code, func(b *meta.Bucket) bool { return b.ACL == service.ACLPrivate }},
		{"public policy, then blocked", blockBkt,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
			}, oss.ErrPublicPolicyBlocked.Code, func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"public policy, then the account blocked",
			func(svc *service.Service) func(ctx context.Context) error {
				return func(ctx context.Context) error { return svc.SetAccountBlock(ctx, "a", true) }
			},
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
			}, oss.ErrPublicPolicyBlocked.Code, func(b *meta.Bucket) bool { return b.Policy == "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, store := configFixture(t)
			ctx := context.Background()
			store.next(tc.between(svc))
			wantCode(t, tc.op(ctx, svc), tc.code)
			b, err := svc.Bucket(ctx, "bkt")
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(b) {
				t.Errorf("stored bucket not as expected: %+v", b)
			}
		})
	}
}
