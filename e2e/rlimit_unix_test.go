//go:build unix

package e2e

import (
	"syscall"
	"testing"
)

// raiseNoFile raises the soft limit on open files to the hard limit when it
// is below need (restored at cleanup), and skips the test when even the
// hard limit is too low for conns connections.
func raiseNoFile(t *testing.T, need uint64, conns int) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < need {
		t.Skipf("RLIMIT_NOFILE hard limit %d < %d needed for %d connections; set OSSD_HOSTILE_CONNS lower or raise the limit", lim.Max, need, conns)
	}
	if lim.Cur >= need {
		return
	}
	old := lim
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("raise RLIMIT_NOFILE: %v", err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}
