package accesslog

import (
	"path/filepath"
	"testing"
)

// TestOSFSDataSync: the journal's files sync with fdatasync (the zero fill
// is what makes that enough), whether created or reopened.
func TestOSFSDataSync(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	for _, open := range []func(string) (File, error){OSFS{}.Create, OSFS{}.Open} {
		f, err := open(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.(dataSyncFile); !ok {
			t.Errorf("OSFS file is %T, want dataSyncFile", f)
		}
		if _, err := f.WriteAt([]byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}
