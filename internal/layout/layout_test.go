package layout

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"obmin/internal/testenv"
)

// allowed lists, for the packages whose place in the layout matters most, every obmin package their code
// may import (tests may import more); nil means none. A package not listed is only checked by never.
var allowed = map[string][]string{
	"commerceml":          {"internal/xmlin", "internal/ctxio"},
	"feed":                {"commerceml", "internal/xmlin", "internal/ctxio"},
	"drop":                {"commerceml", "internal/safezip"},
	"retail":              {"basodata", "checkbox"},
	"internal/atomicfile": nil,
	"folder":              {"drop", "internal/atomicfile"},
	"folder/foldertest":   {"drop", "folder", "watch", "internal/testenv"},
	"store":               {"drop"},
	"spool":               {"drop", "folder", "internal/atomicfile", "internal/ctxio", "internal/voice"},
	"watch":               {"drop", "folder", "spool", "internal/quietlog"},
	"sftpdir":             {"drop", "folder", "internal/quietlog"},
	"checkbox":            {"internal/quietlog"},
	"basodata":            {"internal/quietlog"},
}

// never lists packages only the ones named may import (in their code; tests may import more).
var never = map[string][]string{
	"internal/app":        {"cmd/obmin"},
	"inspect":             {"cmd/obmin"},
	"internal/winservice": {"cmd/obmin"},
	"httpapi":             {"cmd/obmin", "internal/app", "httpapi/staff"},
	"exchange":            {"cmd/obmin", "internal/app", "inspect", "httpapi", "httpapi/staff", "internal/winservice", "internal/torture"},
}

// TestImportArrows reads the imports of every package's code in the module and checks them against
// allowed and never.
func TestImportArrows(t *testing.T) {
	root := testenv.Root(t)
	imports := map[string][]string{} // package dir (slash-separated, relative to root) → obmin packages it imports
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root {
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir // another module, or no code of this one
			}
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			if dep, ok := strings.CutPrefix(path, "obmin/"); ok && dep != pkg && !slices.Contains(imports[pkg], dep) {
				imports[pkg] = append(imports[pkg], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg, ok := range allowed {
		if _, err := os.Stat(filepath.Join(root, pkg)); err != nil {
			t.Errorf("allowed lists %s, which is not a package: %v", pkg, err)
		}
		for _, dep := range imports[pkg] {
			if !slices.Contains(ok, dep) {
				t.Errorf("%s imports %s: it may import only %v (README, Development)", pkg, dep, ok)
			}
		}
	}
	for pkg, deps := range imports {
		for _, dep := range deps {
			if who, ok := never[dep]; ok && !slices.Contains(who, pkg) {
				t.Errorf("%s imports %s, which only %v may import", pkg, dep, who)
			}
		}
	}
}
