package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/accesslog"
	"github.com/ossd/ossd/internal/auth"
)

// fullFS is the OS filesystem whose file syncs fail with ENOSPC while full
// is set: a disk that filled up under the journal.
type fullFS struct {
	accesslog.OSFS
	full *atomic.Bool
}

type fullFile struct {
	accesslog.File
	full *atomic.Bool
}

func (f fullFS) Create(name string) (accesslog.File, error) {
	fl, err := f.OSFS.Create(name)
	return fullFile{fl, f.full}, err
}

func (f fullFS) Open(name string) (accesslog.File, error) {
	fl, err := f.OSFS.Open(name)
	return fullFile{fl, f.full}, err
}

func (f fullFile) WriteAt(p []byte, off int64) (int, error) {
	if f.full.Load() {
		return 0, syscall.ENOSPC
	}
	return f.File.WriteAt(p, off)
}

func (f fullFile) Sync() error {
	if f.full.Load() {
		return syscall.ENOSPC
	}
	return f.File.Sync()
}

// TestJournalFull: when the access-log journal cannot be written, a request
// to a logged bucket is never acknowledged: the one that hit the failure is
// cut off, later ones get 503 InsufficientStorage, unlogged buckets keep
// working, and logged requests work again once space is back.
func TestJournalFull(t *testing.T) {
	var full atomic.Bool
	root := User{ID: "1000000000000001", DisplayName: "root", AccessKeyID: "ak", AccessKeySecret: "sk"}
	srv, err := New(Config{DataDir: t.TempDir(), Root: root, LogFS: fullFS{full: &full}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	do := func(method, bucket, key, query, body string) (int, string, error) {
		u := hs.URL + "/" + bucket + "/" + key
		if query != "" {
			u += "?" + query
		}
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		auth.SignV1(req, bucket, key, "ak", "sk", time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b), nil
	}
	for _, b := range []string{"logged", "plain"} {
		if s, body, _ := do("PUT", b, "", "", ""); s != 200 {
			t.Fatalf("create %s: %d %s", b, s, body)
		}
	}
	cfg := "<BucketLoggingStatus><LoggingEnabled><TargetBucket>plain</TargetBucket></LoggingEnabled></BucketLoggingStatus>"
	if s, body, _ := do("PUT", "logged", "", "logging", cfg); s != 200 {
		t.Fatalf("PutBucketLogging: %d %s", s, body)
	}
	full.Store(true)
	if s, _, err := do("PUT", "logged", "k1", "", "v"); err == nil && s == 200 {
		t.Fatal("a write was acknowledged although its log record could not be written")
	}
	s, body, err := do("PUT", "logged", "k2", "", "v")
	if err != nil || s != 503 || !strings.Contains(body, "InsufficientStorage") {
		t.Fatalf("logged bucket while the journal is full: %d %s %v, want 503 InsufficientStorage", s, body, err)
	}
	if s, body, _ := do("PUT", "plain", "k", "", "v"); s != 200 {
		t.Fatalf("unlogged bucket while the journal is full: %d %s", s, body)
	}
	full.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, _, err := do("PUT", "logged", "k3", "", "v")
		if err == nil && s == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("logged writes did not recover after space came back: %d %v", s, err)
		}
		time.Sleep(100 * time.Millisecond) // the refusal window is one second
	}
}
