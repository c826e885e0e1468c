package runtime_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// built holds the paths of the test plugins TestMain builds from
// testdata: the Go hostile plugin and the WAT modules.
var built = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tollgate-runtime-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if err := build(dir); err != nil {
			fmt.Fprintln(os.Stderr, "building test plugins:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func build(dir string) error {
	out := filepath.Join(dir, "hostile.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", out, "./testdata/hostile")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build hostile: %v\n%s", err, b)
	}
	built["hostile"] = out
	wats, _ := filepath.Glob("testdata/*.wat")
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		if os.Getenv("CI") != "" {
			return fmt.Errorf("wat2wasm not found: .ci/run installs wabt")
		}
		return nil // the WAT cases skip
	}
	for _, w := range wats {
		name := filepath.Base(w[:len(w)-len(".wat")])
		out := filepath.Join(dir, name+".wasm")
		if b, err := exec.Command("wat2wasm", "-o", out, w).CombinedOutput(); err != nil {
			return fmt.Errorf("wat2wasm %s: %v\n%s", w, err, b)
		}
		built[name] = out
	}
	return nil
}

func plugin(t testing.TB, name string) string {
	t.Helper()
	p, ok := built[name]
	if !ok {
		t.Skipf("%s.wasm was not built (install wabt for wat2wasm)", name)
	}
	return p
}
