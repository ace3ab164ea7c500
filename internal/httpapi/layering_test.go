package httpapi

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoMetaImport keeps the layering true: httpapi parses and renders,
// service decides and writes, and only service talks to the metadata
// store. An httpapi file that imports internal/meta (or an engine below
// it) could write records past the service's rules, and a second store
// would need changes here; the records httpapi renders come through
// service's names for them (service/records.go).
func TestNoMetaImport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Go files found: the test must run in the package directory")
	}
	const meta = "github.com/ossd/ossd/internal/meta"
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if path == meta || strings.HasPrefix(path, meta+"/") {
				t.Errorf("%s imports %s: use service's operations and record types instead", fset.Position(imp.Pos()), path)
			}
		}
	}
}
