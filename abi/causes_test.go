package abi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorfKeepsNoCauseAsText fails where an error is formatted into an
// abi.Errorf message: its text survives but errors.Is and errors.As no
// longer see it. Such a call should be abi.Wrap(code, err, ...) or an
// *abi.Error with its Cause set. An argument counts as an error when it is
// named err, ends in Err or err, or is a call of .Error().
func TestErrorfKeepsNoCauseAsText(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != ".." && (name == "gen" || name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Errorf" {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "abi" {
				return true
			}
			checked++
			for _, a := range call.Args[min(2, len(call.Args)):] {
				if isErrorArg(a) {
					t.Errorf("%s: abi.Errorf formats an error into its message and drops it as a cause; use abi.Wrap", fset.Position(a.Pos()))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d abi.Errorf calls: the walk misses packages", checked)
	}
}

func isErrorArg(a ast.Expr) bool {
	switch a := a.(type) {
	case *ast.Ident:
		return a.Name == "err" || strings.HasSuffix(a.Name, "Err") || strings.HasSuffix(a.Name, "err")
	case *ast.CallExpr:
		if sel, ok := a.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Error" && len(a.Args) == 0 {
			return true
		}
		for _, arg := range a.Args {
			if isErrorArg(arg) {
				return true
			}
		}
	}
	return false
}
