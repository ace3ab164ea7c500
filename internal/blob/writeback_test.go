package blob

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteback: an upload copied in through ReadFrom (a request body is
// not a file) starts writeback every writebackStep bytes, and the blob
// reads back whole after Commit.
func TestWriteback(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	size := 3*writebackStep + 12345
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	// strings.Reader is not an *os.File: the buffered path is taken.
	n, err := io.Copy(w, io.LimitReader(strings.NewReader(string(data)), int64(size)))
	if err != nil || n != int64(size) {
		t.Fatalf("copy: %d, %v", n, err)
	}
	// Writeback is started each time writebackStep bytes have piled up:
	// less than a step is left unstarted, and at least two were started.
	if left := int64(size) - w.kicked; left < 0 || left >= writebackStep || w.kicked < 2*writebackStep {
		t.Fatalf("writeback started up to %d of %d bytes", w.kicked, size)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(w.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(io.NewSectionReader(f, 0, int64(size)+1))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (err %v), equal %v", len(got), err, bytes.Equal(got, data))
	}
}
