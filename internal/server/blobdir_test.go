package server

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestBlobDir: with Config.BlobDir (--blobs) the object bytes go to that
// directory and nowhere under the data directory, and read back from there.
func TestBlobDir(t *testing.T) {
	data, blobs := t.TempDir(), t.TempDir()
	root := User{ID: "1000000000000001", DisplayName: "root", AccessKeyID: "ak", AccessKeySecret: "sk"}
	srv, err := New(Config{DataDir: data, BlobDir: blobs, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	do := v1Do(srv.Handler(), "ak", "sk")
	if w := do("PUT", "bkt", "", nil); w.Code != 200 {
		t.Fatalf("create bucket: %d %s", w.Code, w.Body)
	}
	body := bytes.Repeat([]byte("blob dir "), 20000) // past the inline limit
	if w := do("PUT", "bkt", "obj", body); w.Code != 200 {
		t.Fatalf("put: %d %s", w.Code, w.Body)
	}
	countFiles := func(dir string) int {
		n := 0
		filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	if n := countFiles(blobs); n != 1 {
		t.Errorf("%d files in --blobs, want the object's one", n)
	}
	if _, err := os.Stat(filepath.Join(data, "blobs")); !os.IsNotExist(err) {
		t.Errorf("<data>/blobs exists with --blobs set (stat: %v)", err)
	}
	w := do("GET", "bkt", "obj", nil)
	if got, _ := io.ReadAll(w.Body); w.Code != 200 || !bytes.Equal(got, body) {
		t.Fatalf("get: %d, %d bytes, want the %d written", w.Code, len(got), len(body))
	}
}
