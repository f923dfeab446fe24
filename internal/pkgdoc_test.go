package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryPackageHasADocComment fails for any package under internal/,
// cmd/ and bench/ whose non-test files carry no package doc comment.
func TestEveryPackageHasADocComment(t *testing.T) {
	for _, root := range []string{".", "../cmd", "../bench"} {
		err := filepath.WalkDir(root, func(dir string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if name := d.Name(); name == "testdata" || (strings.HasPrefix(name, ".") && name != "." && name != "..") {
				return filepath.SkipDir
			}
			files, err := filepath.Glob(filepath.Join(dir, "*.go"))
			if err != nil {
				return err
			}
			pkgs, documented := map[string]bool{}, map[string]bool{}
			fset := token.NewFileSet()
			for _, f := range files {
				if strings.HasSuffix(f, "_test.go") {
					continue
				}
				af, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly|parser.ParseComments)
				if err != nil {
					return err
				}
				pkgs[af.Name.Name] = true
				if af.Doc != nil && strings.TrimSpace(af.Doc.Text()) != "" {
					documented[af.Name.Name] = true
				}
			}
			for name := range pkgs {
				if !documented[name] {
					t.Errorf("package %s in %s has no doc comment (add a doc.go)", name, dir)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
