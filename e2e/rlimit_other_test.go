//go:build !unix

package e2e

import "testing"

// raiseNoFile skips: the connection flood relies on Unix file limits.
func raiseNoFile(t *testing.T, need uint64, conns int) {
	t.Skipf("needs Unix file-descriptor limits (%d connections)", conns)
}
