//go:build unix

package e2e

import (
	"os"
	"syscall"
	"testing"
)

// pauseSignals returns the signals that stop and continue a process.
func pauseSignals(t *testing.T) (stop, cont os.Signal) {
	return syscall.SIGSTOP, syscall.SIGCONT
}
