package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/runtime"
)

// The runtime calls plugins its own way (instances reset to a snapshot,
// functions looked up once, the guest initialised before any call); the
// go-sdk calling a fresh instance is the reference. Every export of every
// plugin in Extism's own test set, called with the same input and config,
// succeeds with the same output in both, or fails in both; and the same
// holds on the second and third call, made on a reset instance.
func TestCallsMatchTheGoSDK(t *testing.T) {
	dir := filepath.Dir(extismWasm(t, "count_vowels.wasm"))
	paths, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
	if len(paths) < 20 {
		t.Fatalf("found %d of Extism's test plugins in %s", len(paths), dir)
	}
	ctx := context.Background()
	input := []byte("Hello, World! Payable AI")
	config := map[string]string{"thing": "tollgate", "greeting": "Howdy", "code": "2", "duration": "1", "key": "value"}
	skip := []string{"_start", "_initialize", "hs_init", "hs_exit", "__wasm_call_ctors"}
	rt := newRuntime(t)
	compared := 0
	for _, path := range paths {
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var exports []string
		wrt := wazero.NewRuntime(ctx)
		cm, err := wrt.CompileModule(ctx, wasm)
		if err == nil {
			for name, def := range cm.ExportedFunctions() {
				if len(def.ParamTypes()) == 0 && len(def.ResultTypes()) <= 1 && !slices.Contains(skip, name) {
					exports = append(exports, name)
				}
			}
		}
		wrt.Close(ctx)
		sort.Strings(exports)
		name := filepath.Base(path)
		ref, err := extism.NewCompiledPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: wasm}}, Config: config},
			extism.PluginConfig{EnableWasi: true}, nil)
		if err != nil {
			t.Logf("%s: the go-sdk does not compile it (%v)", name, err)
			continue
		}
		m, err := rt.Compile(ctx, wasm, runtime.ModuleOptions{PoolSize: -1, Limits: runtime.Limits{Timeout: 10 * time.Second}})
		if err != nil {
			t.Fatalf("%s: the go-sdk compiles it, the runtime refuses: %v", name, err)
		}
		for _, export := range exports {
			inst, err := ref.Instance(ctx, extism.PluginInstanceConfig{})
			if err != nil {
				// Imports a host function the test set's host provides.
				if _, ours := m.Call(ctx, export, input, &runtime.Env{Config: config}); ours == nil {
					t.Errorf("%s %s: the go-sdk cannot instantiate it, the runtime ran it", name, export)
				}
				continue
			}
			inst.SetLogger(func(extism.LogLevel, string) {})
			rc, want, refErr := inst.Call(export, input)
			inst.Close(ctx)
			refOK := refErr == nil && rc == 0
			for call := range 3 {
				got, err := m.Call(ctx, export, input, &runtime.Env{Config: config})
				switch {
				case refOK && err != nil:
					t.Errorf("%s %s call %d: the go-sdk returns %q, the runtime fails: %v", name, export, call, want, err)
				case refOK && string(got) != string(want):
					t.Errorf("%s %s call %d: the go-sdk returns %q, the runtime %q", name, export, call, want, got)
				case !refOK && err == nil:
					t.Errorf("%s %s call %d: the go-sdk fails (rc %d, %v), the runtime returns %q", name, export, call, rc, refErr, got)
				case !refOK && abi.CodeOf(err) == abi.CodePluginError && refErr != nil &&
					!strings.Contains(refErr.Error(), strings.TrimSuffix(strings.SplitN(err.Error(), " (rc ", 2)[0][len("plugin_error: "):], "…")):
					t.Errorf("%s %s call %d: the go-sdk fails with %q, the runtime with %q", name, export, call, refErr, err)
				}
			}
			compared++
		}
		m.Close(ctx)
		ref.Close(ctx)
	}
	if compared < 25 {
		t.Fatalf("compared %d exports; the test set has more", compared)
	}
	t.Logf("%d exports of %d plugins behave as the go-sdk's", compared, len(paths))
}
