package pgmeta_test

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/meta/metatest"
	"github.com/ossd/ossd/internal/meta/pgmeta"
	"github.com/ossd/ossd/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// open opens a Store on url, closed when t ends.
func open(t testing.TB, url string, opts pgmeta.Options) *pgmeta.Store {
	t.Helper()
	s, err := pgmeta.OpenOptions(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts pgmeta.Options
	}{
		{"batched", pgmeta.Options{}},
		{"unbatched", pgmeta.Options{MaxBatch: 1}},
		// Every rerun exclusive: the escalation path under the suite's
		// conflicting cases.
		{"escalating", pgmeta.Options{MaxBatch: 1, EscalateAfter: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last string // the database open(t, false) made last
			metatest.Run(t, func(t *testing.T, reopen bool) meta.Store {
				if !reopen {
					last = pgtest.URL(t)
				}
				return open(t, last, tc.opts)
			}, func(t *testing.T) meta.Store {
				return open(t, last, tc.opts)
			})
		})
	}
}

// TestOpenConcurrently: nodes starting together on an empty database all
// open it (the schema is created once, under a lock), and share it.
func TestOpenConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	const n = 6
	stores := make([]*pgmeta.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = pgmeta.Open(context.Background(), url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ctx := context.Background()
	if err := stores[0].Update(ctx, func(tx meta.Tx) error { return tx.Put(meta.SpaceBuckets, []byte("b"), []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	if err := stores[n-1].View(ctx, func(tx meta.Tx) error {
		if v, err := tx.Get(meta.SpaceBuckets, []byte("b")); err != nil || string(v) != "1" {
			return fmt.Errorf("another store reads %q, %v", v, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestCanceledView: a View whose context is canceled returns an error
// that says so (a client went away), not that the database is unavailable.
func TestCanceledView(t *testing.T) {
	s := open(t, pgtest.URL(t), pgmeta.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	err := s.View(ctx, func(tx meta.Tx) error {
		cancel()
		_, err := tx.Get(meta.SpaceBuckets, []byte("b"))
		return err
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, meta.ErrUnavailable) {
		t.Fatalf("err = %v, want context.Canceled and not ErrUnavailable", err)
	}
}

// TestBatch: Updates queued while the committer is busy go into one
// transaction; one whose fn fails or panics gets its own error and leaves
// nothing, while the others commit.
func TestBatch(t *testing.T) {
	s := open(t, pgtest.URL(t), pgmeta.Options{})
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	first := make(chan error, 1)
	go func() {
		first <- s.Update(ctx, func(tx meta.Tx) error {
			once.Do(func() { close(started) })
			<-release // hold the committer until the others are queued
			return tx.Put(meta.SpaceObjects, []byte("first"), []byte("v"))
		})
	}()
	<-started // the committer runs it: the others queue behind
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(ctx, func(tx meta.Tx) error {
				// What a failed Update of the batch wrote is gone for the
				// Updates after it too.
				if v, err := tx.Get(meta.SpaceObjects, []byte("k3")); err != nil || v != nil {
					return fmt.Errorf("k3 = %q, %v: the failed Update's write is visible", v, err)
				}
				if err := tx.Put(meta.SpaceObjects, fmt.Appendf(nil, "k%d", i), []byte("v")); err != nil {
					return err
				}
				switch i {
				case 3:
					return errors.New("fail 3")
				case 7:
					panic("panic 7")
				}
				return nil
			})
		}()
	}
	for pgmeta.Queued(s) < n {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Batches != 1 || st.Batched != n {
		t.Fatalf("stats %+v: want the %d queued Updates in one batch", st, n)
	}
	err := s.View(ctx, func(tx meta.Tx) error {
		for i := range n {
			v, err := tx.Get(meta.SpaceObjects, fmt.Appendf(nil, "k%d", i))
			if err != nil {
				return err
			}
			if failed := i == 3 || i == 7; (v == nil) != failed {
				return fmt.Errorf("k%d = %q after its Update returned %v", i, v, errs[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		switch {
		case i == 3 && (err == nil || err.Error() != "fail 3"),
			i == 7 && (err == nil || !strings.Contains(err.Error(), "panic 7")),
			i != 3 && i != 7 && err != nil:
			t.Errorf("Update %d: %v", i, err)
		}
	}
}

// TestHungServer: a server that stops answering (its processes frozen,
// connections open) fails Updates and Views with meta.ErrUnavailable once
// TxTimeout has passed, rather than hanging requests; when it answers
// again, so does the store.
func TestHungServer(t *testing.T) {
	pg := pgtest.Start(t)
	s := open(t, pg.NewDatabase(t), pgmeta.Options{TxTimeout: 2 * time.Second})
	ctx := context.Background()
	put := func() error {
		return s.Update(ctx, func(tx meta.Tx) error { return tx.Put(meta.SpaceBuckets, []byte("b"), []byte("1")) })
	}
	if err := put(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := put(); !errors.Is(err, meta.ErrUnavailable) {
		t.Errorf("Update on a hung server: %v, want ErrUnavailable", err)
	}
	err := s.View(ctx, func(tx meta.Tx) error { _, err := tx.Get(meta.SpaceBuckets, []byte("b")); return err })
	if !errors.Is(err, meta.ErrUnavailable) {
		t.Errorf("View on a hung server: %v, want ErrUnavailable", err)
	}
	if err := pg.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := put(); err != nil {
		t.Fatalf("Update once the server answers again: %v", err)
	}
}

// TestLeastPrivilege: a user with only SELECT, INSERT, UPDATE and DELETE on
// a table an administrator made (README: what PostgreSQL must provide)
// opens the store and uses it; without the table, Open says what is
// missing.
func TestLeastPrivilege(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) }) // after the role's cleanup below
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	role := strings.TrimPrefix(u.Path, "/") + "_user" // one per database: roles are server-wide
	exec := func(q string) {
		t.Helper()
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE ROLE " + role + " LOGIN")
	t.Cleanup(func() {
		for _, q := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	u.User = neturl.User(role)
	limited := u.String()
	if _, err := pgmeta.Open(ctx, limited); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Open without the table nor the right to create it: %v, want permission denied", err)
	}
	exec(`CREATE TABLE ossd_kv (space text COLLATE "C" NOT NULL, k bytea NOT NULL, v bytea NOT NULL, PRIMARY KEY (space, k))`)
	exec("GRANT SELECT, INSERT, UPDATE, DELETE ON ossd_kv TO " + role)
	s := open(t, limited, pgmeta.Options{})
	if err := s.Update(ctx, func(tx meta.Tx) error { return tx.Put(meta.SpaceBuckets, []byte("b"), []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx meta.Tx) error {
		v, err := tx.Get(meta.SpaceBuckets, []byte("b"))
		if err == nil && string(v) != "1" {
			err = fmt.Errorf("read %q", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
