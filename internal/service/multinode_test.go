package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// sharedStore is a store that says it is shared (meta.Shared), as one
// database several ossd nodes use does. Two Services over one sharedStore
// and one blob directory are two nodes in one process: each has its own
// caches and locks, and sees the other only through the store and the
// files.
type sharedStore struct{ meta.Store }

func (sharedStore) Shared() bool { return true }

// cluster is n nodes over one shared store and one blob directory.
type cluster struct {
	nodes []*service.Service
	store meta.Store
	blobs *blob.Store
	dir   string // the blob directory
}

func newCluster(t *testing.T, n int, cfg service.Config) *cluster {
	t.Helper()
	dir := t.TempDir()
	m, bs := testStoresIn(t, dir)
	c := &cluster{store: sharedStore{m}, dir: filepath.Join(dir, "blobs"), blobs: bs}
	for i := range n {
		if i > 0 {
			// Each node opens the directory itself, as each process does.
			var err error
			if bs, err = blob.Open(c.dir); err != nil {
				t.Fatal(err)
			}
		}
		c.nodes = append(c.nodes, service.New(cfg, c.store, bs))
	}
	return c
}

const nodeOwner = "1000"

var ownerP = service.Principal{Account: service.Account{ID: nodeOwner}}

// TestBucketChangeOnOtherNode: a change to a bucket's ACL, Block Public
// Access, policy or logging — or to its owner's account-level Block Public
// Access — committed on node A is enforced by node B's very next request,
// although B had the bucket cached from a request just before.
func TestBucketChangeOnOtherNode(t *testing.T) {
	ctx := context.Background()
	anonRead := service.WithRequest(ctx, service.RequestInfo{Op: oss.OpGetObject, Key: "k", SourceIP: "10.0.0.1"})
	tests := []struct {
		name   string
		change func(a *service.Service) error
		check  func(b *meta.Bucket, svc *service.Service) error // on node B
	}{
		{"ACL to private", func(a *service.Service) error {
			return a.PutBucketACL(ctx, "bkt", service.BucketACLInput{ACL: service.ACLPrivate})
		}, nil},
		{"bucket Block Public Access on", func(a *service.Service) error {
			return a.PutBucketPublicAccessBlock(ctx, "bkt", service.PublicAccessBlockInput{Blocked: true})
		}, nil},
		{"account Block Public Access on", func(a *service.Service) error {
			return a.SetAccountBlock(ctx, nodeOwner, true)
		}, nil},
		{"policy denying anonymous reads", func(a *service.Service) error {
			return a.PutBucketPolicy(ctx, "bkt", []byte(`{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`), false)
		}, nil},
		{"logging on", func(a *service.Service) error {
			return a.PutBucketLogging(ctx, "bkt", &meta.LoggingConfig{TargetBucket: "bkt", TargetPrefix: "log/"})
		}, func(b *meta.Bucket, _ *service.Service) error {
			if b.Logging == nil || b.Logging.TargetPrefix != "log/" {
				return errors.New("node B does not see the logging rule node A set")
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, 2, service.Config{Region: "cn-hangzhou", UnblockNewBuckets: true})
			a, b := c.nodes[0], c.nodes[1]
			if err := a.CreateBucket(ctx, ownerP, service.CreateBucketInput{Name: "bkt", ACL: service.ACLPublicRead}); err != nil {
				t.Fatal(err)
			}
			// B serves a request first: the bucket is public and B has
			// read (and, on one node, cached) its record.
			bk, err := b.Bucket(ctx, "bkt")
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Authorize(anonRead, service.Principal{}, service.AccessRead, bk, ""); err != nil {
				t.Fatalf("before the change, anonymous read on node B: %v, want allowed", err)
			}
			if err := tc.change(a); err != nil {
				t.Fatal(err)
			}
			bk, err = b.Bucket(ctx, "bkt")
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				if err := tc.check(bk, b); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err := b.Authorize(anonRead, service.Principal{}, service.AccessRead, bk, ""); !errors.Is(err, oss.ErrAccessDenied) && !errors.Is(err, oss.ErrPolicyDenied) {
				t.Fatalf("after node A's change, anonymous read on node B: %v, want AccessDenied", err)
			}
		})
	}
}

// BenchmarkBucketLookup is what each request pays to find its bucket: on
// one node a cache hit; on a shared store a read of the record through
// the store (here bbolt standing in for the database: the figure is the
// read path's CPU, without a network round trip).
func BenchmarkBucketLookup(b *testing.B) {
	ctx := context.Background()
	for _, shared := range []bool{false, true} {
		name := "one-node-cached"
		if shared {
			name = "shared-read-through"
		}
		b.Run(name, func(b *testing.B) {
			m, bs := testStores(b)
			var st meta.Store = m
			if shared {
				st = sharedStore{m}
			}
			svc := service.New(service.Config{Region: "cn-hangzhou"}, st, bs)
			if err := svc.CreateBucket(ctx, ownerP, service.CreateBucketInput{Name: "bkt"}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Bucket(ctx, "bkt"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
