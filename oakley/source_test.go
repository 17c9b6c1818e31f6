package oakley

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoVariableTimeCompare enforces the constant-time rule: the package's
// non-test source never calls bytes.Equal (or bytes.Compare, or
// reflect.DeepEqual); secrets are compared with Equal. It inspects the
// syntax tree, so comments and strings do not count, and it follows import
// renames.
func TestNoVariableTimeCompare(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := map[string][]string{
		"bytes":   {"Equal", "Compare"},
		"reflect": {"DeepEqual"},
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		local := map[string]string{} // local name -> import path
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			n := filepath.Base(path)
			if imp.Name != nil {
				n = imp.Name.Name
			}
			local[n] = path
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			for _, fn := range forbidden[local[id.Name]] {
				if sel.Sel.Name == fn {
					t.Errorf("%s: %s.%s: compare secrets with Equal (constant time)", fset.Position(sel.Pos()), local[id.Name], fn)
				}
			}
			return true
		})
		// Belt and braces: a plain grep, as the rule is stated.
		if strings.Contains(string(src), "bytes.Equal(") {
			t.Errorf("%s contains bytes.Equal(", name)
		}
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
