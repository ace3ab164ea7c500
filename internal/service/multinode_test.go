package service_test

import (
	"bytes"
	"context"
	"errors"
	"hash/crc64"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/pgmeta"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/pgtest"
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

// newCluster starts n nodes on backend be: "bbolt", one store that says
// it is shared, or "postgres", one pgmeta.Store per node on one database
// (skipped when PostgreSQL is not installed).
func newCluster(t *testing.T, be string, n int, cfg service.Config) *cluster {
	t.Helper()
	dir := t.TempDir()
	m, bs := testStoresIn(t, dir)
	c := &cluster{store: sharedStore{m}, dir: filepath.Join(dir, "blobs"), blobs: bs}
	url := ""
	if be == "postgres" {
		url = pgtest.URL(t)
	}
	for i := range n {
		st := c.store
		if url != "" {
			pg, err := pgmeta.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pg.Close() })
			st = pg
			if i == 0 {
				c.store = pg
			}
		}
		if i > 0 {
			// Each node opens the directory itself, as each process does.
			var err error
			if bs, err = blob.Open(c.dir); err != nil {
				t.Fatal(err)
			}
		}
		c.nodes = append(c.nodes, service.New(cfg, st, bs))
	}
	return c
}

// forBackends runs test on each backend newCluster knows.
func forBackends(t *testing.T, test func(t *testing.T, be string)) {
	for _, be := range []string{"bbolt", "postgres"} {
		t.Run(be, func(t *testing.T) { test(t, be) })
	}
}

const nodeOwner = "1000"

var ownerP = service.Principal{Account: service.Account{ID: nodeOwner}}

// TestBucketChangeOnOtherNode: a change to a bucket's ACL, Block Public
// Access, policy, CORS or logging — or to its owner's account-level Block
// Public Access — committed on node A is enforced by node B's very next
// request, although B had the bucket cached from a request just before.
func TestBucketChangeOnOtherNode(t *testing.T) { forBackends(t, testBucketChangeOnOtherNode) }

func testBucketChangeOnOtherNode(t *testing.T, be string) {
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
			return a.PutBucketPublicAccessBlock(ctx, "bkt", service.AllPublicAccessBlocked(true))
		}, nil},
		{"account Block Public Access on", func(a *service.Service) error {
			return a.SetAccountBlock(ctx, nodeOwner, true)
		}, nil},
		{"policy denying anonymous reads", func(a *service.Service) error {
			return a.PutBucketPolicy(ctx, "bkt", []byte(`{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:bkt/*"]}]}`), false)
		}, nil},
		{"CORS rule added", func(a *service.Service) error {
			return a.PutBucketCORS(ctx, "bkt", &meta.CORSConfig{Rules: []meta.CORSRule{{Origins: []string{"https://app.example"}, Methods: []string{"GET"}}}}, false)
		}, func(b *meta.Bucket, _ *service.Service) error {
			if service.MatchCORS(b.CORS, "https://app.example", "GET", nil) == nil {
				return errors.New("node B does not allow the origin node A's CORS rule allows")
			}
			return nil
		}},
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
			c := newCluster(t, be, 2, service.Config{Region: "cn-hangzhou", UnblockNewBuckets: true})
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
// the store — bbolt standing in for a database (the read path's CPU, no
// round trip), and PostgreSQL on this machine (a round trip over a local
// socket).
func BenchmarkBucketLookup(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"one-node-cached", "shared-bbolt", "shared-postgres"} {
		b.Run(mode, func(b *testing.B) {
			m, bs := testStores(b)
			var st meta.Store = m
			switch mode {
			case "shared-bbolt":
				st = sharedStore{m}
			case "shared-postgres":
				pg, err := pgmeta.Open(ctx, pgtest.URL(b))
				if err != nil {
					b.Fatal(err)
				}
				defer pg.Close()
				st = pg
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

var objTmpl = meta.Version{Owner: nodeOwner, StorageClass: "Standard", ACL: "default"}

// readObject returns the bytes of bucket bkt's key as svc serves them.
func readObject(t *testing.T, svc *service.Service, key string) []byte {
	t.Helper()
	v, err := svc.Head(context.Background(), service.GetInput{Bucket: "bkt", Key: key})
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	r, err := svc.Open(v, 0, v.Size)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// gatedBody is a request body that stops at its first Read until gate
// lets it go on: first it closes arrived (the write has passed its checks
// and created its blob), then waits for release.
type gatedBody struct {
	data     []byte
	arrived  chan struct{}
	release  chan struct{}
	whenOpen func() // called at the first Read, before arrived is closed
	gated    bool
}

func newGatedBody(data []byte) *gatedBody {
	return &gatedBody{data: data, arrived: make(chan struct{}), release: make(chan struct{})}
}

func (b *gatedBody) Read(p []byte) (int, error) {
	if !b.gated {
		b.gated = true
		if b.whenOpen != nil {
			b.whenOpen()
		}
		close(b.arrived)
		<-b.release
	}
	if len(b.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

// appendAt runs an AppendObject of body at pos on svc.
func appendAt(svc *service.Service, key string, pos int64, body io.Reader, size int64) error {
	_, err := svc.AppendObject(context.Background(), service.AppendInput{Bucket: "bkt", Key: key, Position: pos,
		Body: body, Size: size, Template: objTmpl})
	return err
}

func positionRefused(err error) bool {
	var pe *service.PositionError
	return errors.As(err, &pe) && pe.Err == oss.ErrPositionNotEqualToLength
}

// TestAppendRaceAcrossNodes: two nodes append to one key at the same
// positions, round after round, both appends of a round in flight at once
// (each has passed the position check and holds a blob before either
// sends its body). Exactly one wins each position, the other gets
// PositionNotEqualToLength, and the object's bytes are the winners' in
// order. Bodies of several sizes exercise the merging of small extents.
func TestAppendRaceAcrossNodes(t *testing.T) { forBackends(t, testAppendRaceAcrossNodes) }

func testAppendRaceAcrossNodes(t *testing.T, be string) {
	c := newCluster(t, be, 2, service.Config{Region: "cn-hangzhou"})
	if err := c.nodes[0].CreateBucket(context.Background(), ownerP, service.CreateBucketInput{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	sizes := []int{100, 3000, 70 << 10, 17, 1 << 20, 5}
	var want []byte
	for round := range 24 {
		size := sizes[round%len(sizes)]
		bodies := make([]*gatedBody, 2)
		var all sync.WaitGroup
		all.Add(2)
		for i := range bodies {
			bodies[i] = newGatedBody(bytes.Repeat([]byte{byte('A' + i), byte('a' + round%26)}, size/2+1)[:size])
			bodies[i].whenOpen = func() { all.Done(); all.Wait() } // both in flight
		}
		errs := make([]error, 2)
		var done sync.WaitGroup
		for i, svc := range c.nodes {
			done.Add(1)
			go func() {
				defer done.Done()
				errs[i] = appendAt(svc, "log", int64(len(want)), bodies[i], int64(size))
			}()
		}
		for _, b := range bodies {
			<-b.arrived
		}
		for _, b := range bodies {
			close(b.release)
		}
		done.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Fatalf("round %d: both appends at %d succeeded", round, len(want))
			case !positionRefused(err):
				t.Fatalf("round %d: node %d: %v, want success or PositionNotEqualToLength", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no append at %d succeeded: %v", round, len(want), errs)
		}
		want = append(want, bytes.Repeat([]byte{byte('A' + winner), byte('a' + round%26)}, size/2+1)[:size]...)
		for i, svc := range c.nodes {
			if got := readObject(t, svc, "log"); !bytes.Equal(got, want) {
				t.Fatalf("round %d: node %d reads %d bytes that differ from the %d the winners appended", round, i, len(got), len(want))
			}
		}
	}
	v, err := c.nodes[1].Head(context.Background(), service.GetInput{Bucket: "bkt", Key: "log"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(v.Extents); n > 12 {
		t.Errorf("%d extents after 24 appends of %d bytes: small extents are not merged", n, len(want))
	}
	if v.CRC64 != crc64.Checksum(want, crc64.MakeTable(crc64.ECMA)) {
		t.Errorf("stored CRC-64 does not match the bytes")
	}
}

// TestAppendLoserLeavesCommittedBytes: node B's append at position 0 is in
// flight (checked, blob open) when node A's append at 0 commits; B's bytes
// arrive after that. B must be refused and A's committed bytes stay as A
// wrote them — on a single shared blob written at offset=length, B's late
// write lands on them.
func TestAppendLoserLeavesCommittedBytes(t *testing.T) {
	forBackends(t, testAppendLoserLeavesCommittedBytes)
}

func testAppendLoserLeavesCommittedBytes(t *testing.T, be string) {
	ctx := context.Background()
	c := newCluster(t, be, 2, service.Config{Region: "cn-hangzhou"})
	a, b := c.nodes[0], c.nodes[1]
	if err := a.CreateBucket(ctx, ownerP, service.CreateBucketInput{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	first := bytes.Repeat([]byte("first "), 20000)
	if err := appendAt(a, "obj", 0, bytes.NewReader(first), int64(len(first))); err != nil {
		t.Fatal(err)
	}
	winner := bytes.Repeat([]byte("A wins "), 1000)
	loser := bytes.Repeat([]byte("B loses"), 1000)
	lb := newGatedBody(loser)
	berr := make(chan error, 1)
	go func() { berr <- appendAt(b, "obj", int64(len(first)), lb, int64(len(loser))) }()
	<-lb.arrived
	if err := appendAt(a, "obj", int64(len(first)), bytes.NewReader(winner), int64(len(winner))); err != nil {
		t.Fatalf("node A's append: %v", err)
	}
	want := append(bytes.Clone(first), winner...)
	if got := readObject(t, b, "obj"); !bytes.Equal(got, want) {
		t.Fatalf("before the loser's bytes arrive: %d bytes, not what A committed", len(got))
	}
	close(lb.release)
	if err := <-berr; !positionRefused(err) {
		t.Fatalf("node B's late append: %v, want PositionNotEqualToLength", err)
	}
	for i, svc := range c.nodes {
		if got := readObject(t, svc, "obj"); !bytes.Equal(got, want) {
			j := 0
			for j < len(got) && j < len(want) && got[j] == want[j] {
				j++
			}
			t.Fatalf("node %d: committed bytes altered by the losing append (first difference at %d of %d)", i, j, len(want))
		}
	}
}

// TestSweepSparesWriteInFlight: node B starts (and sweeps the shared blob
// directory) while node A has a write in flight — its blob created and
// partly written, its metadata not yet committed. The sweep must leave the
// blob, and once A commits the object reads back whole: a put, a part
// (then completed), an append creating an object and one extending it.
func TestSweepSparesWriteInFlight(t *testing.T) { forBackends(t, testSweepSparesWriteInFlight) }

func testSweepSparesWriteInFlight(t *testing.T, be string) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("in flight "), 20000) // over the inline limit
	tests := []struct {
		name  string
		write func(a *service.Service, r io.Reader) error
		want  []byte
	}{
		{"put", func(a *service.Service, r io.Reader) error {
			_, err := a.PutObject(ctx, service.PutInput{Bucket: "bkt", Key: "k", Body: r, Size: int64(len(body)), Template: objTmpl})
			return err
		}, body},
		{"part", func(a *service.Service, r io.Reader) error {
			u, err := a.Initiate(ctx, "bkt", "k", objTmpl, false)
			if err != nil {
				return err
			}
			p, err := a.UploadPart(ctx, service.PartInput{Bucket: "bkt", Key: "k", UploadID: u.UploadID, Number: 1, Body: r, Size: int64(len(body))})
			if err != nil {
				return err
			}
			_, err = a.Complete(ctx, "bkt", "k", u.UploadID, []service.CompletePart{{Number: 1, ETag: p.ETag}}, false, service.WriteCondition{}, "")
			return err
		}, body},
		{"first append", func(a *service.Service, r io.Reader) error {
			return appendAt(a, "k", 0, r, int64(len(body)))
		}, body},
		{"later append", func(a *service.Service, r io.Reader) error {
			if err := appendAt(a, "k", 0, bytes.NewReader([]byte("head ")), 5); err != nil {
				return err
			}
			return appendAt(a, "k", 5, r, int64(len(body)))
		}, append([]byte("head "), body...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, be, 2, service.Config{Region: "cn-hangzhou"})
			a, b := c.nodes[0], c.nodes[1]
			if err := a.CreateBucket(ctx, ownerP, service.CreateBucketInput{Name: "bkt"}); err != nil {
				t.Fatal(err)
			}
			gb := newGatedBody(body)
			werr := make(chan error, 1)
			go func() { werr <- tc.write(a, gb) }()
			<-gb.arrived
			// B starts an hour after A's blob was created: by file age
			// the blob is a leftover.
			if _, err := b.Sweep(ctx, time.Now().Add(time.Hour)); err != nil {
				t.Fatalf("sweep: %v", err)
			}
			close(gb.release)
			if err := <-werr; err != nil {
				t.Fatalf("write: %v", err)
			}
			for i, svc := range c.nodes {
				if got := readObject(t, svc, "k"); !bytes.Equal(got, tc.want) {
					t.Fatalf("node %d: %d bytes, want the %d written", i, len(got), len(tc.want))
				}
			}
		})
	}
}

// TestSweepTakesBackStaleIntents: intents older than a day are a dead
// writer's; a sweep takes them back and removes their files, and removes
// a leftover nobody announced. A writer that was only stalled that long
// finds its intent gone and fails the write: nothing visible, no object
// referencing a removed file.
func TestSweepTakesBackStaleIntents(t *testing.T) { forBackends(t, testSweepTakesBackStaleIntents) }

func testSweepTakesBackStaleIntents(t *testing.T, be string) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	c := newCluster(t, be, 1, service.Config{Region: "cn-hangzhou", Now: func() time.Time { return t0 }})
	a := c.nodes[0]
	later := service.New(service.Config{Region: "cn-hangzhou", Now: func() time.Time { return t0.Add(25 * time.Hour) }}, c.store, c.blobs)
	if err := a.CreateBucket(ctx, ownerP, service.CreateBucketInput{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	if err := appendAt(a, "kept", 0, bytes.NewReader(bytes.Repeat([]byte("k"), 100<<10)), 100<<10); err != nil {
		t.Fatal(err)
	}
	leftover, err := c.blobs.Create() // a crashed writer's file, no intent
	if err != nil {
		t.Fatal(err)
	}
	leftover.Write([]byte("x"))
	leftover.Commit()

	body := bytes.Repeat([]byte("stalled "), 20000)
	gb := newGatedBody(body)
	werr := make(chan error, 1)
	go func() {
		_, err := a.PutObject(ctx, service.PutInput{Bucket: "bkt", Key: "stalled", Body: gb, Size: int64(len(body)), Template: objTmpl})
		werr <- err
	}()
	<-gb.arrived
	n, err := later.Sweep(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("sweep removed %d files, want 2 (the leftover and the stalled write's)", n)
	}
	close(gb.release)
	if err := <-werr; err == nil {
		t.Fatal("a write whose intent a sweep took back succeeded")
	}
	if _, err := a.Head(ctx, service.GetInput{Bucket: "bkt", Key: "stalled"}); !errors.Is(err, oss.ErrNoSuchKey) {
		t.Fatalf("stalled write: head = %v, want NoSuchKey", err)
	}
	if got := readObject(t, later, "kept"); len(got) != 100<<10 {
		t.Fatalf("committed object: %d bytes after the sweep", len(got))
	}
	ids, err := c.blobs.IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Errorf("%d blob files left, want the committed object's one", len(ids))
	}
	intents := 0
	c.store.View(ctx, func(tx meta.Tx) error {
		return meta.ScanBlobIntents(tx, func(string, time.Time) bool { intents++; return true })
	})
	if intents != 0 {
		t.Errorf("%d blob intents left", intents)
	}
}

// TestAppendMergeDuringRead: an append that merges the object's small
// extents into its new blob removes theirs; a GET that began before it
// still reads the object it began on, whole.
func TestAppendMergeDuringRead(t *testing.T) { forBackends(t, testAppendMergeDuringRead) }

func testAppendMergeDuringRead(t *testing.T, be string) {
	ctx := context.Background()
	c := newCluster(t, be, 2, service.Config{Region: "cn-hangzhou"})
	a, b := c.nodes[0], c.nodes[1]
	if err := a.CreateBucket(ctx, ownerP, service.CreateBucketInput{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	first, second := bytes.Repeat([]byte("1"), 100), bytes.Repeat([]byte("2"), 40)
	for _, p := range [][]byte{first, second} {
		v, _ := a.Head(ctx, service.GetInput{Bucket: "bkt", Key: "k"})
		var pos int64
		if v != nil {
			pos = v.Size
		}
		if err := appendAt(a, "k", pos, bytes.NewReader(p), int64(len(p))); err != nil {
			t.Fatal(err)
		}
	}
	v, err := b.Head(ctx, service.GetInput{Bucket: "bkt", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Extents) != 2 {
		t.Fatalf("%d extents, want 2 (100 and 40 bytes)", len(v.Extents))
	}
	r, err := b.Open(v, 0, v.Size)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head := make([]byte, 10)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	third := bytes.Repeat([]byte("3"), 30) // merges both earlier extents
	if err := appendAt(a, "k", 140, bytes.NewReader(third), 30); err != nil {
		t.Fatal(err)
	}
	if nv, _ := a.Head(ctx, service.GetInput{Bucket: "bkt", Key: "k"}); len(nv.Extents) != 1 {
		t.Fatalf("after the third append: %d extents, want 1 (merged)", len(nv.Extents))
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("GET begun before the merge: %v", err)
	}
	if got := append(head, rest...); !bytes.Equal(got, append(bytes.Clone(first), second...)) {
		t.Fatalf("GET begun before the merge read %q", got)
	}
	if got := readObject(t, b, "k"); !bytes.Equal(got, slices.Concat(first, second, third)) {
		t.Fatalf("after the merge: %q", got)
	}
}
