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

// wantErr fails t unless err is the catalogue's error want, by code and
// EC (want nil is success).
func wantErr(t *testing.T, err error, want *oss.Error) {
	t.Helper()
	var oe *oss.Error
	switch {
	case want == nil && err != nil:
		t.Fatalf("err = %v, want success", err)
	case want != nil && (!errors.As(err, &oe) || oe.Code != want.Code || oe.EC != want.EC):
		t.Fatalf("err = %v (EC %s), want %s (EC %s)", err, ecOf(err), want.Code, want.EC)
	}
}

func ecOf(err error) string {
	var oe *oss.Error
	if errors.As(err, &oe) {
		return oe.EC
	}
	return ""
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
		return svc.PutBucketPublicAccessBlock(context.Background(), "bkt", service.AllPublicAccessBlocked(true))
	}
	tests := []struct {
		name  string
		setup func(svc *service.Service) error // nil: none
		op    func(ctx context.Context, svc *service.Service) error
		want  *oss.Error                // nil for success
		check func(b *meta.Bucket) bool // what the stored record must then say
	}{
		{"canned ACL", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.ACLPublicRead, Header: "x-oss-acl"})
			}, nil, func(b *meta.Bucket) bool { return b.ACL == service.ACLPublicRead }},
		{"unknown ACL", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: "open", Header: "x-oss-acl"})
			}, oss.ErrInvalidArgument, func(b *meta.Bucket) bool { return b.ACL == service.ACLPrivate }},
		{"public ACL while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.ACLPublicReadWrite, Header: "x-oss-acl"})
			}, oss.ErrPublicBucketACLBlocked, func(b *meta.Bucket) bool { return b.ACL == service.ACLPrivate }},
		{"public grant while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				g := []meta.Grant{{Type: service.GranteeGroup, URI: service.GroupAuthenticatedUsers, Permission: service.PermRead}}
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.NearestCanned(g), Grants: g, Header: "x-amz-acl"})
			}, oss.ErrPublicBucketACLBlocked, func(b *meta.Bucket) bool { return b.Grants == nil }},
		{"grant to an account while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				g := []meta.Grant{{Type: service.GranteeUser, ID: "b", Permission: service.PermRead}}
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.NearestCanned(g), Grants: g, Header: "x-amz-acl"})
			}, nil, func(b *meta.Bucket) bool { return len(b.Grants) == 1 && b.Grants[0].ID == "b" }},
		{"block on", nil,
			func(ctx context.Context, svc *service.Service) error { return block(svc) },
			nil, func(b *meta.Bucket) bool { c, ok := b.PublicAccessConfig(); return ok && c.All() }},
		{"block removed: no configuration, nothing blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.DeleteBucketPublicAccessBlock(ctx, "bkt")
			},
			nil, func(b *meta.Bucket) bool {
				c, ok := b.PublicAccessConfig()
				return !ok && c == meta.PublicAccessBlock{}
			}},
		{"public policy", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
			}, nil, func(b *meta.Bucket) bool { return b.Policy == publicPolicy }},
		{"public policy while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
			}, oss.ErrPublicPolicyBlocked, func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"public S3 policy while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicS3Policy), true)
			}, oss.ErrAccessDenied, func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"private policy while blocked", block,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(privatePolicy), false)
			}, nil, func(b *meta.Bucket) bool { return b.Policy == privatePolicy }},
		{"policy too large", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(strings.Repeat(" ", service.MaxPolicySize+1)), false)
			}, oss.ErrPolicyTooLarge, func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"policy deleted",
			func(svc *service.Service) error {
				return svc.PutBucketPolicy(context.Background(), "bkt", []byte(privatePolicy), false)
			},
			func(ctx context.Context, svc *service.Service) error { return svc.DeleteBucketPolicy(ctx, "bkt") },
			nil, func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"logging to own account's bucket", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "logs", TargetPrefix: "bkt/"})
			}, nil, func(b *meta.Bucket) bool { return b.Logging != nil && b.Logging.TargetBucket == "logs" }},
		{"logging to itself", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "bkt"})
			}, nil, func(b *meta.Bucket) bool { return b.Logging != nil && b.Logging.TargetBucket == "bkt" }},
		{"logging to a missing bucket", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "nowhere"})
			}, oss.ErrTargetBucketNotExist, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"logging to another account's bucket", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "other"})
			}, oss.ErrTargetBucketNotOwned, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"logging prefix with a slash", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "logs", TargetPrefix: "/x"})
			}, oss.ErrTargetPrefixSlash, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"logging turned off",
			func(svc *service.Service) error {
				return svc.PutBucketLogging(context.Background(), "bkt", &meta.LoggingConfig{TargetBucket: "logs"})
			},
			func(ctx context.Context, svc *service.Service) error { return svc.DeleteBucketLogging(ctx, "bkt") },
			nil, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"log fields", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", []string{"x-user"}, []string{"k"})
			}, nil, func(b *meta.Bucket) bool {
				return b.LogFields != nil && reflect.DeepEqual(b.LogFields.Headers, []string{"x-user"})
			}},
		{"log fields: too many", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", []string{"a", "b", "c", "d"}, []string{"e", "f", "g"})
			}, oss.ErrInvalidArgument, func(b *meta.Bucket) bool { return b.LogFields == nil }},
		{"log fields: none", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", nil, nil)
			}, oss.ErrMalformedXML, func(b *meta.Bucket) bool { return b.LogFields == nil }},
		{"log fields: header with an underscore", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", []string{"x_user"}, nil)
			}, oss.ErrInvalidArgument, func(b *meta.Bucket) bool { return b.LogFields == nil }},
		{"log fields: parameter with an underscore", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutUserDefinedLogFields(ctx, "bkt", nil, []string{"x_user"})
			}, nil, func(b *meta.Bucket) bool { return b.LogFields != nil }},
		{"CORS", nil,
			func(ctx context.Context, svc *service.Service) error {
				c := &meta.CORSConfig{Rules: []meta.CORSRule{{Origins: []string{"*"}, Methods: []string{"GET"}, MaxAge: -1}}}
				return svc.PutBucketCORS(ctx, "bkt", c, false)
			}, nil, func(b *meta.Bucket) bool { return b.CORS != nil && len(b.CORS.Rules) == 1 }},
		{"CORS: no rule", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketCORS(ctx, "bkt", &meta.CORSConfig{}, false)
			}, oss.ErrCORSNoRule, func(b *meta.Bucket) bool { return b.CORS == nil }},
		{"tags", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketTags(ctx, "bkt", []meta.Tag{{Key: "k", Value: "v"}, {Key: "k2", Value: "v2"}})
			}, nil, func(b *meta.Bucket) bool { return len(b.Tags) == 2 }},
		{"tags: empty key", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketTags(ctx, "bkt", []meta.Tag{{Key: "", Value: "v"}})
			}, oss.ErrInvalidArgument, func(b *meta.Bucket) bool { return b.Tags == nil }},
		{"tags: some deleted",
			func(svc *service.Service) error {
				return svc.PutBucketTags(context.Background(), "bkt", []meta.Tag{{Key: "k", Value: "v"}, {Key: "k2", Value: "v2"}})
			},
			func(ctx context.Context, svc *service.Service) error {
				return svc.DeleteBucketTags(ctx, "bkt", []string{"k", "absent"})
			},
			nil, func(b *meta.Bucket) bool { return reflect.DeepEqual(b.Tags, []meta.Tag{{Key: "k2", Value: "v2"}}) }},
		{"tags: all deleted",
			func(svc *service.Service) error {
				return svc.PutBucketTags(context.Background(), "bkt", []meta.Tag{{Key: "k", Value: "v"}})
			},
			func(ctx context.Context, svc *service.Service) error { return svc.DeleteBucketTags(ctx, "bkt", nil) },
			nil, func(b *meta.Bucket) bool { return b.Tags == nil }},
		{"versioning", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketVersioning(ctx, "bkt", service.VersioningEnabled)
			}, nil, func(b *meta.Bucket) bool { return b.Versioning == service.VersioningEnabled }},
		{"versioning: unknown status", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketVersioning(ctx, "bkt", "Off")
			},
			oss.ErrMalformedXML, func(b *meta.Bucket) bool { return b.Versioning == "" }},
		{"missing bucket", nil,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketVersioning(ctx, "nope", "Enabled")
			},
			oss.ErrNoSuchBucket, nil},
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
			wantErr(t, tc.op(ctx, svc), tc.want)
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
			return svc.PutBucketPublicAccessBlock(ctx, "bkt", service.AllPublicAccessBlocked(true))
		}
	}
	tests := []struct {
		name    string
		between func(svc *service.Service) func(ctx context.Context) error
		op      func(ctx context.Context, svc *service.Service) error
		want    *oss.Error
		check   func(b *meta.Bucket) bool
	}{
		{"logging target deleted",
			func(svc *service.Service) func(ctx context.Context) error {
				return func(ctx context.Context) error { return svc.DeleteBucket(ctx, "logs", false) }
			},
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "logs"})
			}, oss.ErrTargetBucketNotExist, func(b *meta.Bucket) bool { return b.Logging == nil }},
		{"public ACL, then blocked", blockBkt,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.ACLPublicRead, Header: "x-oss-acl"})
			}, oss.ErrPublicBucketACLBlocked, func(b *meta.Bucket) bool { return b.ACL == service.ACLPrivate }},
		{"public policy, then blocked", blockBkt,
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
			}, oss.ErrPublicPolicyBlocked, func(b *meta.Bucket) bool { return b.Policy == "" }},
		{"public policy, then the account blocked",
			func(svc *service.Service) func(ctx context.Context) error {
				return func(ctx context.Context) error { return svc.SetAccountBlock(ctx, "a", true) }
			},
			func(ctx context.Context, svc *service.Service) error {
				return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
			}, oss.ErrPublicPolicyBlocked, func(b *meta.Bucket) bool { return b.Policy == "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, store := configFixture(t)
			ctx := context.Background()
			store.next(tc.between(svc))
			wantErr(t, tc.op(ctx, svc), tc.want)
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

// TestObjectConfigOps: the writes to an object version's record (its ACL,
// its tags) apply their rules, the bucket's Block Public Access read in
// the writing transaction ("then blocked": switched on after the request
// was accepted, before its transaction ran).
func TestObjectConfigOps(t *testing.T) {
	blockBkt := func(svc *service.Service) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			return svc.PutBucketPublicAccessBlock(ctx, "bkt", service.AllPublicAccessBlocked(true))
		}
	}
	acl := func(a string, grants ...meta.Grant) func(ctx context.Context, svc *service.Service) (*meta.Version, error) {
		return func(ctx context.Context, svc *service.Service) (*meta.Version, error) {
			return svc.PutObjectACL(ctx, "bkt", "obj", "", service.ObjectACLInput{ACL: a, Grants: grants, Header: "x-oss-object-acl"})
		}
	}
	tags := func(s3 bool, ts ...meta.Tag) func(ctx context.Context, svc *service.Service) (*meta.Version, error) {
		return func(ctx context.Context, svc *service.Service) (*meta.Version, error) {
			return svc.PutObjectTagging(ctx, "bkt", "obj", "", ts, s3)
		}
	}
	public := meta.Grant{Type: service.GranteeGroup, URI: service.GroupAllUsers, Permission: service.PermRead}
	tests := []struct {
		name    string
		between func(svc *service.Service) func(ctx context.Context) error // nil: nothing changes
		op      func(ctx context.Context, svc *service.Service) (*meta.Version, error)
		want    *oss.Error
		check   func(v *meta.Version) bool
	}{
		{"canned ACL", nil, acl(service.ACLPublicRead), nil,
			func(v *meta.Version) bool { return v.ACL == service.ACLPublicRead }},
		{"back to the bucket's", nil, acl(service.ACLDefault), nil,
			func(v *meta.Version) bool { return v.ACL == service.ACLDefault }},
		{"unknown ACL", nil, acl("open"), oss.ErrInvalidArgument,
			func(v *meta.Version) bool { return v.ACL == service.ACLPrivate }},
		{"public ACL, then blocked", blockBkt, acl(service.ACLPublicRead), oss.ErrPublicObjectACLBlocked,
			func(v *meta.Version) bool { return v.ACL == service.ACLPrivate }},
		{"public grant, then blocked", blockBkt, acl(service.ACLPublicRead, public), oss.ErrPublicObjectACLBlocked,
			func(v *meta.Version) bool { return v.Grants == nil }},
		{"private ACL, then blocked", blockBkt, acl(service.ACLPrivate), nil,
			func(v *meta.Version) bool { return v.ACL == service.ACLPrivate }},
		{"missing object", nil,
			func(ctx context.Context, svc *service.Service) (*meta.Version, error) {
				return svc.PutObjectACL(ctx, "bkt", "absent", "", service.ObjectACLInput{ACL: service.ACLPrivate})
			}, oss.ErrNoSuchKey, nil},
		{"tags", nil, tags(false, meta.Tag{Key: "k", Value: "v"}), nil,
			func(v *meta.Version) bool { return len(v.Tags) == 1 && v.Tags[0].Value == "v" }},
		{"tag with @ on OSS", nil, tags(false, meta.Tag{Key: "k", Value: "a@b"}), oss.ErrInvalidTagValue,
			func(v *meta.Version) bool { return v.Tags == nil }},
		{"tag with @ on S3", nil, tags(true, meta.Tag{Key: "k", Value: "a@b"}), nil,
			func(v *meta.Version) bool { return len(v.Tags) == 1 }},
		{"tags deleted", nil,
			func(ctx context.Context, svc *service.Service) (*meta.Version, error) {
				if _, err := tags(false, meta.Tag{Key: "k", Value: "v"})(ctx, svc); err != nil {
					return nil, err
				}
				return svc.DeleteObjectTagging(ctx, "bkt", "obj", "")
			}, nil, func(v *meta.Version) bool { return v.Tags == nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, store := configFixture(t)
			ctx := context.Background()
			_, err := svc.PutObject(ctx, service.PutInput{Bucket: "bkt", Key: "obj", Body: strings.NewReader("x"), Size: 1,
				Template: meta.Version{Owner: "a", ACL: service.ACLPrivate}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.between != nil {
				store.next(tc.between(svc))
			}
			_, err = tc.op(ctx, svc)
			wantErr(t, err, tc.want)
			if tc.check == nil {
				return
			}
			v, err := svc.Head(ctx, service.GetInput{Bucket: "bkt", Key: "obj"})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(v) {
				t.Errorf("stored version not as expected: %+v", v)
			}
		})
	}
}

// TestAccountBlockReadInTheWrite: the account-level block a public ACL or
// policy is refused under is read in the writing transaction, not taken
// from the service's cache: here a second Service over the same store
// (another node, as far as the first knows) turns the account's block on
// after the first has cached it as off, and the first must refuse.
func TestAccountBlockReadInTheWrite(t *testing.T) {
	tests := []struct {
		name string
		op   func(ctx context.Context, svc *service.Service) error
		want *oss.Error
	}{
		{"bucket ACL", func(ctx context.Context, svc *service.Service) error {
			return svc.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.ACLPublicReadWrite, Header: "x-oss-acl"})
		}, oss.ErrPublicBucketACLBlocked},
		{"bucket policy", func(ctx context.Context, svc *service.Service) error {
			return svc.PutBucketPolicy(ctx, "bkt", []byte(publicPolicy), false)
		}, oss.ErrPublicPolicyBlocked},
		{"object ACL", func(ctx context.Context, svc *service.Service) error {
			if _, err := svc.PutObject(ctx, service.PutInput{Bucket: "bkt", Key: "obj", Body: strings.NewReader("x"), Size: 1,
				Template: meta.Version{Owner: "a", ACL: service.ACLPrivate}}); err != nil {
				return err
			}
			_, err := svc.PutObjectACL(ctx, "bkt", "obj", "", service.ObjectACLInput{ACL: service.ACLPublicRead, Header: "x-oss-object-acl"})
			return err
		}, oss.ErrPublicObjectACLBlocked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, store := configFixture(t)
			ctx := context.Background()
			if svc.AccountBlocked(ctx, "a") { // caches "off"
				t.Fatal("account blocked from the start")
			}
			other := service.New(service.Config{Region: "cn-hangzhou"}, store.Store, nil)
			if err := other.SetAccountBlock(ctx, "a", true); err != nil {
				t.Fatal(err)
			}
			wantErr(t, tc.op(ctx, svc), tc.want)
		})
	}
}
