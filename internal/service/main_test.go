package service_test

import (
	"os"
	"testing"

	"github.com/ossd/ossd/internal/pgtest"
)

// TestMain stops the PostgreSQL server the multi-node tests start (on
// first use only).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
