package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/boltmeta"
	"github.com/ossd/ossd/osslog"
	"github.com/ossd/ossd/osslog/stats"
)

// sharedStore is one metadata store several Servers in a test use, as
// nodes on one PostgreSQL would; a Server's Close leaves it open.
type sharedStore struct{ meta.Store }

func (sharedStore) Close() error { return nil }

// Shared tells the service other nodes commit to the store (meta.Shared).
func (sharedStore) Shared() bool { return true }

// logNodes is several ossd nodes in one process sharing a metadata store,
// a blob directory and a journal directory, on one fake clock.
type logNodes struct {
	t       *testing.T
	store   meta.Store
	blobs   string
	logDir  string
	clk     *accesslog.FakeClock
	dataDir map[string]string
	// cut, by node id: the node is cut off from the store while set.
	cut map[string]*atomic.Bool
}

var nodesRoot = User{ID: "1000000000000001", DisplayName: "root", AccessKeyID: "ak", AccessKeySecret: "sk"}

func newLogNodes(t *testing.T) *logNodes {
	st, err := boltmeta.Open(filepath.Join(t.TempDir(), "shared.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &logNodes{t: t, store: st, blobs: t.TempDir(), logDir: t.TempDir(),
		clk: accesslog.NewFakeClock(time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)), dataDir: map[string]string{}, cut: map[string]*atomic.Bool{}}
}

// start starts node id (again, on the same data directory, after a stop).
func (c *logNodes) start(id string) *Server {
	c.t.Helper()
	if c.dataDir[id] == "" {
		c.dataDir[id] = c.t.TempDir()
		c.cut[id] = new(atomic.Bool)
	}
	srv, err := New(Config{DataDir: c.dataDir[id], BlobDir: c.blobs, Root: nodesRoot, NodeID: id, LogDir: c.logDir,
		LogClock: c.clk, NoMetrics: true,
		WrapMeta: func(own meta.Store) meta.Store { own.Close(); return cutStore{sharedStore{c.store}, c.cut[id]} }})
	if err != nil {
		c.t.Fatalf("start node %s: %v", id, err)
	}
	return srv
}

// lease is the stored lease row of journal.
func (c *logNodes) lease(journal string) string {
	var out string
	c.store.View(context.Background(), func(tx meta.Tx) error {
		v, err := tx.Get(meta.SpaceSystem, []byte("loglease/"+journal))
		out = string(v)
		return err
	})
	return out
}

// do sends a V1-signed request to srv and returns the status, the body and
// the request id.
func do(t *testing.T, srv *Server, method, bucket, key, query string, body []byte) (int, string, string) {
	t.Helper()
	target := "/" + bucket + "/" + key
	if query != "" {
		target += "?" + query
	}
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Host = "127.0.0.1:9800"
	auth.SignV1(req, bucket, key, "ak", "sk", time.Now())
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	return w.Code, w.Body.String(), w.Header().Get("x-oss-request-id")
}

var keyRE = regexp.MustCompile(`<Key>([^<]*)</Key>`)

// logLines reads every log object in bucket logs through srv and counts
// the lines by request id; names are the objects' names.
func logLines(t *testing.T, srv *Server) (count map[string]int, names []string) {
	t.Helper()
	code, body, _ := do(t, srv, "GET", "logs", "", "prefix=src", nil)
	if code != 200 {
		t.Fatalf("list logs: %d %s", code, body)
	}
	count = map[string]int{}
	for _, m := range keyRE.FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
		if _, ok := stats.ParseObjectName("", m[1], time.FixedZone("UTC+8", 8*3600)); !ok {
			t.Errorf("log object name %q does not parse", m[1])
		}
		code, obj, _ := do(t, srv, "GET", "logs", m[1], "", nil)
		if code != 200 {
			t.Fatalf("get %s: %d", m[1], code)
		}
		for ln := range strings.SplitSeq(strings.TrimSuffix(obj, "\n"), "\n") {
			l, err := osslog.Parse(ln)
			if err != nil {
				t.Fatalf("%s: %v", m[1], err)
			}
			count[l.RequestID]++
		}
	}
	return count, names
}

// putN makes n logged requests through srv and returns their request ids.
func putN(t *testing.T, srv *Server, n int, key string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		code, body, id := do(t, srv, "PUT", "src", key+string(rune('a'+i)), "", []byte("x"))
		if code != 200 {
			t.Fatalf("put: %d %s", code, body)
		}
		ids = append(ids, id)
	}
	return ids
}

// setupLogging creates buckets src and logs through srv, src logged into
// logs.
func setupLogging(t *testing.T, srv *Server) {
	t.Helper()
	for _, b := range []string{"src", "logs"} {
		if code, body, _ := do(t, srv, "PUT", b, "", "", nil); code != 200 {
			t.Fatalf("create %s: %d %s", b, code, body)
		}
	}
	cfg := "<BucketLoggingStatus><LoggingEnabled><TargetBucket>logs</TargetBucket></LoggingEnabled></BucketLoggingStatus>"
	if code, body, _ := do(t, srv, "PUT", "src", "", "logging", []byte(cfg)); code != 200 {
		t.Fatalf("PutBucketLogging: %d %s", code, body)
	}
}

// logsStatus is srv's answer to GET /-/ossd/logs/status (signed by root).
func logsStatus(srv *Server) (int, string) { return admin(srv, "GET", "logs/status") }

// admin sends a request signed by root to srv's admin endpoint path
// (under /-/ossd/) and returns the status and the body.
func admin(srv *Server, method, path string) (int, string) {
	req := httptest.NewRequest(method, "/-/ossd/"+path, nil)
	req.Host = "127.0.0.1:9800"
	auth.SignV1(req, "", "", "ak", "sk", time.Now())
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

// startTail streams srv's /-/ossd/logs/tail through a real HTTP server
// and returns its lines; the request ends with the test.
func startTail(t *testing.T, srv *Server) <-chan string {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); hs.Close() })
	req, err := http.NewRequestWithContext(ctx, "GET", hs.URL+"/-/ossd/logs/tail", nil)
	if err != nil {
		t.Fatal(err)
	}
	auth.SignV1(req, "", "", "ak", "sk", time.Now())
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("logs/tail: %s", resp.Status)
	}
	lines := make(chan string, 100)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

func checkOnce(t *testing.T, got map[string]int, ids []string) {
	t.Helper()
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("request %s logged %d times", id, got[id])
		}
	}
	if len(got) != len(ids) {
		t.Errorf("%d requests logged, want %d", len(got), len(ids))
	}
}

// TestLogNodes: two nodes on one metadata store, blob directory and
// journal directory. Their records land in objects with distinct names
// (each node's id in UniqueString), each once. Node A stops with records
// undelivered; once its lease has lapsed node B takes its journal over and
// delivers them under A's names. A comes back on the same data directory
// (so the same node id), delivers nothing twice, and goes on.
func TestLogNodes(t *testing.T) {
	c := newLogNodes(t)
	a := c.start("nodea")
	setupLogging(t, a)
	b := c.start("nodeb")
	defer func() { b.Close() }()

	ids := putN(t, a, 3, "a")
	ids = append(ids, putN(t, b, 3, "b")...)
	for _, s := range []*Server{a, b} {
		if err := s.Log().Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got, names := logLines(t, a)
	checkOnce(t, got, ids)
	if len(names) != 2 || !strings.HasSuffix(names[0], "-NODEA0000000000000001") || !strings.HasSuffix(names[1], "-NODEB0000000000000001") {
		t.Errorf("log objects %q, want one per node named with its id", names)
	}

	// A stops with records undelivered; B takes them over once A's lease
	// has lapsed (a clean stop leaves it expired; a killed node's expires).
	ids = append(ids, putN(t, a, 2, "c")...)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if got, _ := logLines(t, b); len(got) == len(ids) {
			break
		}
		if i == 1000 {
			t.Fatal("node B never delivered node A's records")
		}
		c.clk.Advance(DefaultLogLease / 3) // B's lease loop steps
		time.Sleep(time.Millisecond)       // and runs (the loop is asynchronous)
	}
	got, names = logLines(t, b)
	checkOnce(t, got, ids)
	if code, body := logsStatus(b); code != 200 || !strings.Contains(body, `"node": "nodeb"`) || !strings.Contains(body, `"leaseEpoch": 1`) {
		t.Errorf("logs status of node B: %d %s", code, body)
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, "-NODEA0000000000000004") }) {
		t.Errorf("node A's second object not delivered under A's name: %q", names)
	}

	// A comes back: same node id (kept in its data directory), nothing
	// delivered again, new records under new names.
	raw, _ := os.ReadFile(filepath.Join(c.dataDir["nodea"], nodeIDFile))
	if strings.TrimSpace(string(raw)) != "" {
		t.Errorf("node-id file written although --node-id was given: %q", raw)
	}
	// B releases A's journal at its next lease step; A waits for it.
	started := make(chan *Server)
	go func() { started <- c.start("nodea") }()
	for !strings.Contains(c.lease("nodea"), `"holder":"nodea"`) {
		c.clk.Advance(time.Second) // B's step, then A's next try
		time.Sleep(time.Millisecond)
	}
	a = <-started
	defer func() { a.Close() }()
	if err := a.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, putN(t, a, 1, "d")...)
	if err := a.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, names = logLines(t, a)
	checkOnce(t, got, ids)
	if len(names) != 4 {
		t.Errorf("log objects %q, want 4", names)
	}
}

// cutStore is one node's view of the shared store, cut off (every
// transaction fails) while cut is set: a partition between that node and
// the store.
type cutStore struct {
	sharedStore
	cut *atomic.Bool
}

var errCut = errors.New("metadata store unreachable from this node")

func (s cutStore) View(ctx context.Context, fn func(meta.Tx) error) error {
	if s.cut.Load() {
		return errCut
	}
	return s.sharedStore.View(ctx, fn)
}

func (s cutStore) Update(ctx context.Context, fn func(meta.Tx) error) error {
	if s.cut.Load() {
		return errCut
	}
	return s.sharedStore.Update(ctx, fn)
}

// tryPut is a logged PUT to srv that may be refused: it returns the status,
// 0 for a connection the server aborted (a failed append: the response is
// never completed), and the request id.
func tryPut(t *testing.T, srv *Server, key string) (code int, id string) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			code = 0
		}
	}()
	code, _, id = do(t, srv, "PUT", "src", key, "", []byte("x"))
	return code, id
}

// getText sends an unsigned GET of path to srv (health, ready).
func getText(srv *Server, path string) (int, string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Host = "127.0.0.1:9800"
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

// TestLogNodeReclaim: node A is cut off from the metadata store past its
// journal's lease; node B takes A's journal over and delivers what A had
// left. Once A reaches the store again, requests to logged buckets on A
// get 503 (and /-/ossd/ready says why) until A has its journal back, at a
// new epoch, without a restart; then they are served and logged again.
// Every acknowledged request is logged once.
func TestLogNodeReclaim(t *testing.T) {
	c := newLogNodes(t)
	a := c.start("nodea")
	defer func() { a.Close() }()
	setupLogging(t, a)
	b := c.start("nodeb")
	defer func() { b.Close() }()
	ids := putN(t, a, 3, "a")
	if err := a.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, putN(t, a, 2, "b")...) // left to B
	epoch := a.node.Lease().Epoch()
	tail := startTail(t, a) // follows A's journal through the reclaim

	// A is cut off; B takes its journal over once its lease has expired.
	c.cut["nodea"].Store(true)
	for i := 0; ; i++ {
		if got, _ := logLines(t, b); len(got) == len(ids) {
			break
		}
		if i == 1000 {
			t.Fatal("node B never delivered node A's records")
		}
		c.clk.Advance(DefaultLogLease / 3) // the lease loops step
		time.Sleep(time.Millisecond)       // and run (asynchronously)
	}
	c.cut["nodea"].Store(false)
	// The first refused request is aborted (its record failed), the next
	// ones are refused up front.
	for i := range 2 {
		if code, _ := tryPut(t, a, "refused"); code != 0 && code != 503 || i == 1 && code != 503 {
			t.Fatalf("logged request %d on a node whose journal was taken: %d, want 503", i, code)
		}
	}
	if code, body := getText(a, "/-/ossd/ready"); code != 503 || !strings.Contains(body, "access-log journal") {
		t.Errorf("ready of a node whose journal was taken: %d %q", code, body)
	}
	if code, body := admin(a, "POST", "logs/flush"); code != 503 || !strings.Contains(body, "access-log journal") {
		t.Errorf("logs flush on a node whose journal was taken: %d %s", code, body)
	}
	if code, body := logsStatus(a); code != 200 || strings.Contains(body, `"lease": "held"`) {
		t.Errorf("logs status of a node whose journal was taken: %d %s", code, body)
	}

	// A's lease loop finds its lease taken and asks for its journal
	// back; B hands it back at its next step; A re-opens it.
	for i := 0; a.node.OwnState() != accesslog.OwnHeld; i++ {
		if i == 1000 {
			t.Fatalf("node A never got its journal back: state %v, lease %s", a.node.OwnState(), c.lease("nodea"))
		}
		c.clk.Advance(time.Second)
		time.Sleep(time.Millisecond)
	}
	if e := a.node.Lease().Epoch(); e != epoch+2 {
		t.Errorf("A's journal back at epoch %d, want %d (taken over, then handed back)", e, epoch+2)
	}
	// The refusals of before are remembered for a second of real time
	// (journalSink.Healthy); then A serves logged requests again.
	for i := 0; ; i++ {
		code, id := tryPut(t, a, "back")
		if code == 200 {
			ids = append(ids, id)
			break
		}
		if code != 503 || i == 1000 {
			t.Fatalf("logged request on A after it got its journal back: %d", code)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, body := getText(a, "/-/ossd/ready"); code != 200 {
		t.Errorf("ready of A with its journal back: %d %q", code, body)
	}
	ids = append(ids, putN(t, a, 2, "c")...)
	// The tail begun before the takeover shows the records of the journal
	// A re-opened.
	// A re-opened. (A record written between the swap and the tail's
	// new subscription may be missed, as by any subscriber that falls
	// behind: the lines are looked for, not counted.)
	for _, id := range ids[len(ids)-2:] {
		for found := false; !found; {
			select {
			case line := <-tail:
				found = strings.Contains(line, `"`+id+`"`)
			case <-time.After(10 * time.Second):
				t.Fatalf("tail begun before the takeover does not show request %s, logged after the reclaim", id)
			}
		}
	}
	if err := a.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, names := logLines(t, a)
	checkOnce(t, got, ids)
	want := []string{"-NODEA0000000000000001", "-NODEA0000000000000004", "-NODEA0000000000000006"}
	if len(names) != len(want) {
		t.Fatalf("log objects %q, want names ending %q", names, want)
	}
	for i, n := range names {
		if !strings.HasSuffix(n, want[i]) {
			t.Errorf("log object %q, want a name ending %q", n, want[i])
		}
	}
	if code, body := logsStatus(a); code != 200 || !strings.Contains(body, `"lease": "held"`) {
		t.Errorf("logs status of node A: %d %s", code, body)
	}
}

// TestNodeIDResolve: a generated node id is kept in the data directory and
// reused; a given one is checked.
func TestNodeIDResolve(t *testing.T) {
	dir := t.TempDir()
	id, err := ResolveNodeID(dir, "")
	if err != nil || accesslog.CheckNodeID(id) != nil {
		t.Fatalf("generated %q, %v", id, err)
	}
	again, err := ResolveNodeID(dir, "")
	if err != nil || again != id {
		t.Fatalf("second start: %q, %v; want %q", again, err, id)
	}
	if _, err := ResolveNodeID(dir, "Node-1"); err == nil || !strings.Contains(err.Error(), "--node-id") {
		t.Fatalf("bad --node-id accepted: %v", err)
	}
	os.WriteFile(filepath.Join(dir, nodeIDFile), []byte("../x\n"), 0o644)
	if _, err := ResolveNodeID(dir, ""); err == nil {
		t.Fatal("a corrupt node-id file was accepted")
	}
}

// TestLogObjectFenced: a log object put with a failing fence (the lease of
// its journal was taken over) is not stored: the fence runs in the commit.
func TestLogObjectFenced(t *testing.T) {
	c := newLogNodes(t)
	a := c.start("nodea")
	defer a.Close()
	if code, body, _ := do(t, a, "PUT", "logs", "", "", nil); code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	lost := func(meta.Tx) error { return accesslog.ErrLeaseLost }
	ctx := accesslog.WithFence(context.Background(), lost)
	err := objectSink{a.Service}.PutLogObject(ctx, "logs", "src2026-12-02-10-00-00-NODEA0000000000000001", strings.NewReader("line\n"), 5)
	if !errors.Is(err, accesslog.ErrLeaseLost) {
		t.Fatalf("fenced put: %v, want ErrLeaseLost", err)
	}
	if code, _, _ := do(t, a, "GET", "logs", "src2026-12-02-10-00-00-NODEA0000000000000001", "", nil); code != 404 {
		t.Fatalf("fenced log object readable: %d", code)
	}
	ok := accesslog.WithFence(context.Background(), func(meta.Tx) error { return nil })
	if err := (objectSink{a.Service}).PutLogObject(ok, "logs", "k", strings.NewReader("line\n"), 5); err != nil {
		t.Fatalf("put with a holding fence: %v", err)
	}
}

// TestLogDirRefusesLocalJournal: a node switched to --log-dir while its
// data directory's journal still holds records refuses to start (nothing
// would deliver them) and says what to do; once they are flushed it starts.
func TestLogDirRefusesLocalJournal(t *testing.T) {
	data, logDir := t.TempDir(), t.TempDir()
	start := func(logDir string) (*Server, error) {
		return New(Config{DataDir: data, Root: nodesRoot, NodeID: "solo", LogDir: logDir, NoMetrics: true})
	}
	srv, err := start("")
	if err != nil {
		t.Fatal(err)
	}
	setupLogging(t, srv)
	ids := putN(t, srv, 1, "k")
	srv.Close()
	if srv, err = start(logDir); err == nil || !strings.Contains(err.Error(), "ossd logs flush") {
		if err == nil {
			srv.Close()
		}
		t.Fatalf("start with --log-dir over undelivered records: %v", err)
	}
	if srv, err = start(""); err != nil {
		t.Fatal(err)
	}
	if err := srv.Log().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if srv, err = start(logDir); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	got, _ := logLines(t, srv)
	checkOnce(t, got, ids)
}
