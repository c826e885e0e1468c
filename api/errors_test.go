package api

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/ledger"

	"connectrpc.com/connect"

	"github.com/tollgate-dev/tollgate/abi"
)

const abiPath = "github.com/tollgate-dev/tollgate/abi"

// definedCodes parses the module's sources and returns every constant of
// type abi.Code, by value, with where it is defined. Main packages are left
// out: the host cannot import them, so their codes never reach the API edge.
func definedCodes(t *testing.T, root string) map[abi.Code]string {
	t.Helper()
	fset := token.NewFileSet()
	codes := map[abi.Code]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "gen" || name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		// isCode reports whether x names the type abi.Code in this file.
		abiName := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == abiPath {
				abiName = "abi"
				if imp.Name != nil {
					abiName = imp.Name.Name
				}
			}
		}
		inABI := f.Name.Name == "abi" && filepath.Base(filepath.Dir(path)) == "abi" && filepath.Dir(filepath.Dir(path)) == filepath.Clean(root)
		isCode := func(x ast.Expr) bool {
			switch x := x.(type) {
			case *ast.Ident:
				return inABI && x.Name == "Code"
			case *ast.SelectorExpr:
				pkg, ok := x.X.(*ast.Ident)
				return ok && abiName != "" && pkg.Name == abiName && x.Sel.Name == "Code"
			}
			return false
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					v := vs.Values[i]
					typed := vs.Type != nil && isCode(vs.Type)
					// const X = abi.Code("x")
					if call, ok := v.(*ast.CallExpr); ok && len(call.Args) == 1 && isCode(call.Fun) {
						typed, v = true, call.Args[0]
					}
					if !typed {
						continue
					}
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Errorf("%s: %s is an abi.Code this test cannot read; give it a string literal", fset.Position(n.Pos()), n.Name)
						continue
					}
					s, _ := strconv.Unquote(lit.Value)
					codes[abi.Code(s)] = fset.Position(n.Pos()).String() + " " + n.Name
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// TestEveryCodeHasAConnectCode fails when a package defines an error code
// the API edge has no transport code for: such an error would reach clients
// as whatever connectErr's fallback is, which says nothing about it.
func TestEveryCodeHasAConnectCode(t *testing.T) {
	codes := definedCodes(t, "..")
	// The parse must see the codes it is meant to guard.
	for _, c := range []abi.Code{abi.CodeNotFound, abi.CodeBadIdentifier, ledger.CodeRequestConflict} {
		if _, ok := codes[c]; !ok {
			t.Fatalf("parsed %d codes, not %s: the walk misses packages", len(codes), c)
		}
	}
	missing := []string{}
	for c, where := range codes {
		if _, ok := connectCodes[c]; !ok {
			missing = append(missing, fmt.Sprintf("%s: code %q has no connect code in connectCodes", where, c))
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Error(m)
	}
}

const notFoundNext = "check the name or id (ListPlugins, ListReceipts and GetDatanet list what exists)"

// TestNoMessageOnlyRepeatsItsCode gives every code an error with no
// message: what a client reads must say more than the code.
func TestNoMessageOnlyRepeatsItsCode(t *testing.T) {
	for c := range connectCodes {
		var ce *connect.Error
		if !errors.As(connectErr(&abi.Error{Code: c}), &ce) {
			t.Fatal("not a connect error")
		}
		msg := strings.TrimPrefix(ce.Message(), string(c)+": ")
		if msg == string(c) || strings.EqualFold(msg, strings.ReplaceAll(string(c), "_", " ")) || strings.Contains(ce.Error(), string(c)+": "+string(c)) {
			t.Errorf("%s: message %q repeats its code", c, ce.Message())
		}
	}
}

// TestConnectErrMessage checks the message a client reads after the
// connect code: the abi code only where it adds something, never empty.
func TestConnectErrMessage(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"same code", abi.Errorf(abi.CodeNotFound, "no plugin a/b@1.0.0"), "no plugin a/b@1.0.0; " + notFoundNext},
		{"other code", abi.Errorf(abi.CodeTimeout, "a/b: ran past 5s"), "plugin_timeout: a/b: ran past 5s"},
		{"empty message", &abi.Error{Code: abi.CodeNotFound}, "the plugin, datanet, record, receipt or account asked for does not exist on this node; " + notFoundNext},
		{"empty message, other code", &abi.Error{Code: abi.CodeTrap}, "plugin_trap: the plugin trapped"},
		{"empty message, no meaning", &abi.Error{Code: abi.CodeExit}, "plugin_exit: the request failed with plugin exit"},
		{"wrapped", fmt.Errorf("load: %w", abi.Errorf(abi.CodeNotFound, "no datanet x")), "load: not_found: no datanet x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ce *connect.Error
			if !errors.As(connectErr(c.err), &ce) {
				t.Fatal("not a connect error")
			}
			if ce.Message() != c.want {
				t.Errorf("message %q, want %q", ce.Message(), c.want)
			}
		})
	}
}
