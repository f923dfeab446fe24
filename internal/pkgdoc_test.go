package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryPackageHasADocComment fails for any package under internal/ and
// cmd/ whose files carry no package doc comment.
func TestEveryPackageHasADocComment(t *testing.T) {
	for _, root := range []string{".", "../cmd"} {
		err := filepath.WalkDir(root, func(dir string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if base := d.Name(); base == "testdata" || strings.HasPrefix(base, ".") && dir != "." && dir != "../cmd" {
				return filepath.SkipDir
			}
			fset := token.NewFileSet()
			pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
				return !strings.HasSuffix(fi.Name(), "_test.go")
			}, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				return err
			}
			for name, pkg := range pkgs {
				documented := false
				for _, f := range pkg.Files {
					if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
						documented = true
					}
				}
				if !documented {
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
