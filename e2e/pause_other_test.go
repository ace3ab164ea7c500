//go:build !unix

package e2e

import (
	"os"
	"testing"
)

// pauseSignals skips: pausing a process needs SIGSTOP and SIGCONT.
func pauseSignals(t *testing.T) (stop, cont os.Signal) {
	t.Skip("pausing a process needs SIGSTOP/SIGCONT (Unix)")
	return nil, nil
}
