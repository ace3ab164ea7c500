package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ossd/ossd/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestURL: two tests' databases are distinct and empty, and usable.
func TestURL(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.URL(t), pgtest.URL(t)
	if a == b {
		t.Fatalf("two databases with one URL %s", a)
	}
	ca := connect(t, a)
	if _, err := ca.Exec(ctx, "CREATE TABLE t (k int)"); err != nil {
		t.Fatal(err)
	}
	cb := connect(t, b)
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("second database sees the first one's table: n=%d err=%v", n, err)
	}
}

// TestStopRestart: a server stopped like a crash comes back on the same
// URL with what was committed.
func TestStopRestart(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Start(t)
	url := s.NewDatabase(t)
	c := connect(t, url)
	if _, err := c.Exec(ctx, "CREATE TABLE t (k int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("query on a stopped server succeeded")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	c = connect(t, url)
	var k int
	if err := c.QueryRow(ctx, "SELECT k FROM t").Scan(&k); err != nil || k != 42 {
		t.Fatalf("after restart k=%d err=%v, want 42", k, err)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
