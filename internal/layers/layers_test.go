// Package layers holds only a test: the README's import direction
// (cmd → server → httpapi → service → auth/accesslog/blob →
// meta/osslog/vfs, with oss and metrics usable from anywhere), checked
// over every non-test Go file of the module, so that a shortcut across
// the layers (a handler writing metadata, an engine reaching up into the
// service) fails a test instead of waiting for a reviewer.
package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ossd/ossd"

// rank is each package's layer, top (0) to bottom: a package may import
// packages of a greater rank (never one above or beside it), the packages
// of its own family (a listed package and those below it, such as meta
// and its engines), and the leaves.
// A package of the module missing here is reported in the test's log and
// not checked (so that another change adding a package does not turn this
// test red before it is placed): placing it is a decision the README's
// Layout section records.
var rank = map[string]int{
	"cmd/ossd":           0,
	"bench":              0, // bench/s3setup: a client of the wire API
	"e2e":                0,
	"ossdtest":           0, // an in-process server for Go tests
	"internal/server":    1,
	"internal/tlsconf":   4,
	"internal/httpapi":   2,
	"internal/service":   3,
	"internal/auth":      4,
	"internal/accesslog": 4,
	"internal/blob":      4,
	"internal/faultfs":   4, // for tests: wraps meta and vfs
	"osslog/stats":       4,
	"internal/meta":      5,
	"osslog":             5,
	"internal/vfs":       5,
	"internal/pgtest":    5,
}

// leaves may be imported from anywhere.
var leaves = map[string]bool{"internal/oss": true, "internal/metrics": true}

// rankOf is the rank of the package at rel (a path in the module), taken
// from its nearest listed ancestor.
func rankOf(rel string) (int, string, bool) {
	for p := rel; p != "." && p != ""; p = path.Dir(p) {
		if r, ok := rank[p]; ok {
			return r, p, true
		}
		if leaves[p] {
			return 99, p, true
		}
	}
	return 0, "", false
}

func TestImportDirection(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	unplaced := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "scripts" || name == "docs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		from, fromPkg, ok := rankOf(rel)
		if !ok {
			if !unplaced[rel] {
				unplaced[rel] = true
				t.Logf("package %s has no place in the layers: not checked (add it to rank, and to the README's Layout)", rel)
			}
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			target, ok := strings.CutPrefix(ip, module+"/")
			if !ok {
				continue
			}
			to, toPkg, ok := rankOf(target)
			switch {
			case !ok:
				if !unplaced[target] {
					unplaced[target] = true
					t.Logf("package %s has no place in the layers: not checked", target)
				}
			case toPkg == fromPkg || leaves[toPkg]:
				// the same family (meta and its engines), or a leaf
			case to <= from:
				t.Errorf("%s: %s imports %s, against the layers (%s is above or beside it)", fset.Position(imp.Pos()), fromPkg, ip, toPkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d files checked: is the module root ../..?", checked)
	}
}
