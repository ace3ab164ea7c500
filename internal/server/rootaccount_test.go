package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/ossd/ossd/internal/meta/boltmeta"
)

// TestAgreeRoot: nodes sharing one metadata store answer as one root
// account. The first start stores its account; a data directory that made
// up a key pair adopts the stored id and pair (and writes them to its
// credentials.json for `ossd logs`); one given a pair explicitly keeps the
// pair but takes the stored id, so owners agree across nodes.
func TestAgreeRoot(t *testing.T) {
	m, err := boltmeta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, _, err := RootCredentials(t.TempDir(), "LTAIfirstnode", "first-secret")
	if err != nil {
		t.Fatal(err)
	}
	dataA := t.TempDir()
	got, gen, err := agreeRoot(ctx, m, dataA, first, false, quiet)
	if err != nil || got != first || gen {
		t.Fatalf("first start: got %+v generated=%v err=%v, want its own account %+v", got, gen, err, first)
	}

	dataB := t.TempDir()
	fresh, generated, err := RootCredentials(dataB, "", "")
	if err != nil || !generated || fresh.ID == first.ID {
		t.Fatalf("fresh data dir: %+v generated=%v err=%v", fresh, generated, err)
	}
	got, gen, err = agreeRoot(ctx, m, dataB, fresh, true, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || got.AccessKeyID != first.AccessKeyID || got.AccessKeySecret != first.AccessKeySecret || gen {
		t.Fatalf("joining node with a made-up pair: got %+v generated=%v, want the stored account %+v, not generated", got, gen, first)
	}
	onDisk, err := ReadRootCredentials(dataB)
	if err != nil || onDisk.ID != first.ID || onDisk.AccessKeyID != first.AccessKeyID {
		t.Fatalf("credentials.json of the joining node: %+v %v, want the stored account", onDisk, err)
	}

	dataC := t.TempDir()
	own, _, err := RootCredentials(dataC, "LTAIthirdnode", "third-secret")
	if err != nil {
		t.Fatal(err)
	}
	got, _, err = agreeRoot(ctx, m, dataC, own, false, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || got.AccessKeyID != "LTAIthirdnode" || got.AccessKeySecret != "third-secret" {
		t.Fatalf("joining node with an explicit pair: got %+v, want id %s with its own pair", got, first.ID)
	}

	// A restart of the first node changes nothing.
	got, _, err = agreeRoot(ctx, m, dataA, first, false, quiet)
	if err != nil || got != first {
		t.Fatalf("restart: %+v %v", got, err)
	}
}
