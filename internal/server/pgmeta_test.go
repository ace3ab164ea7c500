package server

import (
	"encoding/xml"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/pgtest"
)

// TestPostgresMeta: with Config.Meta (--meta postgres://…) the server keeps
// its metadata in PostgreSQL; while PostgreSQL is down (stopped as by a
// crash) requests fail with 503 ServiceUnavailable and an OSS error body,
// not 500 or a hang; when it is back they succeed again and nothing
// acknowledged before is lost.
func TestPostgresMeta(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	root := User{ID: "1000000000000001", DisplayName: "root", AccessKeyID: "ak", AccessKeySecret: "sk"}
	srv, err := New(Config{DataDir: t.TempDir(), Meta: url, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !meta.IsShared(srv.meta) {
		t.Error("the PostgreSQL store does not say it is shared: caches would not read through")
	}
	do := v1Do(srv.Handler(), "ak", "sk")
	if w := do("PUT", "bkt", "", nil); w.Code != 200 {
		t.Fatalf("create bucket: %d %s", w.Code, w.Body)
	}
	for i := range 3 {
		if w := do("PUT", "bkt", "before"+strconv.Itoa(i), []byte("v")); w.Code != 200 {
			t.Fatalf("put: %d %s", w.Code, w.Body)
		}
	}
	if err := pg.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	for _, op := range []struct{ method, key string }{{"PUT", "during"}, {"GET", "before0"}, {"GET", ""}} {
		w := do(op.method, "bkt", op.key, []byte("x"))
		var e struct{ Code, Message string }
		if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != 503 || e.Code != "ServiceUnavailable" {
			t.Errorf("%s /bkt/%s with PostgreSQL down: %d %s, want 503 ServiceUnavailable (xml: %v)", op.method, op.key, w.Code, w.Body, err)
		}
		if strings.Contains(e.Message, "postgres") || strings.Contains(e.Message, "127.0.0.1") {
			t.Errorf("the error body tells clients about the database: %q", e.Message)
		}
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if w := do("PUT", "bkt", "after", []byte("a")); w.Code != 200 {
		t.Fatalf("put after PostgreSQL came back: %d %s", w.Code, w.Body)
	}
	for _, k := range []string{"before0", "before1", "before2", "after"} {
		w := do("GET", "bkt", k, nil)
		if got, _ := io.ReadAll(w.Body); w.Code != 200 || len(got) != 1 {
			t.Errorf("GET %s after the restart: %d %q", k, w.Code, got)
		}
	}
}

// TestPostgresMetaUnreachable: a server that cannot reach its database
// does not start, and says where it tried, without the password.
func TestPostgresMetaUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	url := "postgres://ossd:s3cret@127.0.0.1:" + strconv.Itoa(port) + "/meta?sslmode=disable"
	srv, err := New(Config{DataDir: t.TempDir(), Meta: url, Root: User{ID: "1", AccessKeyID: "ak", AccessKeySecret: "sk"}})
	if err == nil {
		srv.Close()
		t.Fatal("started without its database")
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot reach PostgreSQL at postgres://ossd@127.0.0.1:"+strconv.Itoa(port)+"/meta") || strings.Contains(msg, "s3cret") {
		t.Fatalf("error %q: want where it tried, without the password", msg)
	}
	if got := DescribeMeta(Config{Meta: url}); strings.Contains(got, "s3cret") || !strings.HasPrefix(got, "PostgreSQL postgres://ossd@127.0.0.1") {
		t.Errorf("DescribeMeta = %q", got)
	}
	if got := DescribeMeta(Config{Meta: "postgres://u@h/db?password=s3cret"}); strings.Contains(got, "s3cret") {
		t.Errorf("DescribeMeta = %q: shows the password in the query", got)
	}
}
