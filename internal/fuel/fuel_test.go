package fuel_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/tollgate-dev/tollgate/internal/fuel"
)

// modules returns the test set: the plugins Tollgate ships and Extism's own
// test plugins (Rust, Haskell, Go, C).
func modules(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{"../../plugins/ngram/ngram.wasm", "../../plugins/access/access.wasm", "../../plugins/ngram-as/ngram-as.wasm",
		"../../examples/agents/qa/qa.wasm", "../../examples/attribution/position/position.wasm"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/extism/go-sdk").Output()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(dir)), "wasm", "*.wasm"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out["extism/"+filepath.Base(p)] = b
	}
	return out
}

// Every module of the test set instruments into a module wazero compiles.
func TestInstrumentedModulesCompile(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	done := 0
	all := modules(t)
	defer func() {
		if done < len(all)-2 {
			t.Errorf("only %d of %d modules were instrumented and compiled", done, len(all))
		}
	}()
	for name, wasm := range all {
		if _, err := rt.CompileModule(ctx, wasm); err != nil {
			continue // not ours to judge: wazero refuses the original too
		}
		out, err := fuel.Instrument(wasm, 1<<40)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := rt.CompileModule(ctx, out.Wasm); err != nil {
			t.Errorf("%s: the instrumented module does not compile: %v", name, err)
			continue
		}
		done++
	}
}

func plugin(t testing.TB, wasm []byte, terminate bool) *extism.Plugin {
	t.Helper()
	ctx := context.Background()
	cfg := extism.PluginConfig{EnableWasi: true, RuntimeConfig: wazero.NewRuntimeConfig().WithCloseOnContextDone(terminate)}
	p, err := extism.NewPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: wasm}}}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	return p
}

// An instrumented plugin answers as the original does while it has fuel,
// and stops with unreachable, at the same point every run, when it has not.
func TestFuelStopsAPluginDeterministically(t *testing.T) {
	wasm := modules(t)["extism/count_vowels.wasm"]
	input := []byte(strings.Repeat("Payable AI pays the people whose data shaped the answer. ", 2000))
	_, want, err := plugin(t, wasm, false).Call("count_vowels", input)
	if err != nil {
		t.Fatal(err)
	}
	plenty, err := fuel.Instrument(wasm, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := plugin(t, plenty.Wasm, false).Call("count_vowels", input); err != nil || string(got) != string(want) {
		t.Fatalf("with plenty of fuel: %q, %v; want %q", got, err, want)
	}
	little, err := fuel.Instrument(wasm, 20_000)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, _, err := plugin(t, little.Wasm, false).Call("count_vowels", input)
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("out of fuel: %v", err)
		}
	}
}

// A module that loops forever stops by fuel alone, with no wall-clock
// interrupt: compiled without termination checks, and no deadline.
func TestFuelStopsAnEndlessLoop(t *testing.T) {
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wat2wasm not found: .ci/run installs wabt")
		}
		t.Skip("wat2wasm not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "spin.wat")
	os.WriteFile(src, []byte(`(module (func (export "spin") (loop $l (br $l))))`), 0o600)
	if out, err := exec.Command("wat2wasm", src, "-o", filepath.Join(dir, "spin.wasm")).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, out)
	}
	wasm, _ := os.ReadFile(filepath.Join(dir, "spin.wasm"))
	metered, err := fuel.Instrument(wasm, 50_000_000)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	m, err := rt.Instantiate(ctx, metered.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.ExportedFunction("spin").Call(ctx); done <- err }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("an endless loop ran on with 50,000,000 fuel")
	}
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("out of fuel: %v", err)
	}
	if left := int64(m.ExportedGlobal(fuel.GlobalName).Get()); left >= 0 {
		t.Fatalf("fuel left %d after running out", left)
	}
}

// Instrumenting anything wazero accepts gives a module wazero accepts, or
// an error; never a panic.
func FuzzInstrument(f *testing.F) {
	for _, wasm := range modules(f) {
		f.Add(wasm[:min(len(wasm), 4096)])
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		if _, err := rt.CompileModule(ctx, wasm); err != nil {
			return
		}
		out, err := fuel.Instrument(wasm, 1000)
		if err != nil {
			return // refused: it runs unmetered nowhere
		}
		if _, err := rt.CompileModule(ctx, out.Wasm); err != nil {
			t.Fatalf("instrumented module does not compile: %v", err)
		}
	})
}

// BenchmarkLoopHeavyPlugin: Extism's count_vowels over 1 MB, run three
// ways: with no limit at all; with a wall-clock limit enforced as extism
// does (wazero's termination checks and a deadline); and metered with fuel
// instead, compiled without termination checks.
//
//	go test ./internal/fuel -run '^$' -bench LoopHeavy -benchtime 20x
func BenchmarkLoopHeavyPlugin(b *testing.B) {
	wasm := modules(b)["extism/count_vowels.wasm"]
	metered, err := fuel.Instrument(wasm, 1<<40)
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(strings.Repeat("Payable AI pays the people whose data shaped the answer. ", 1<<20/57))
	for _, c := range []struct {
		name      string
		wasm      []byte
		terminate bool
		timeout   time.Duration
	}{{"unlimited", wasm, false, 0}, {"deadline", wasm, true, time.Minute}, {"fuel", metered.Wasm, false, 0}} {
		b.Run(c.name, func(b *testing.B) {
			p := plugin(b, c.wasm, c.terminate)
			for b.Loop() {
				ctx := context.Background()
				if c.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, c.timeout)
					defer cancel()
				}
				if _, _, err := p.CallWithContext(ctx, "count_vowels", input); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The instrumentation exports every mutable number global and says when an
// instance holds state elsewhere: in a table it writes, a segment it
// drops, or a global holding a reference.
func TestInstrumentFindsAnInstancesState(t *testing.T) {
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wat2wasm not found: .ci/run installs wabt")
		}
		t.Skip("wat2wasm not installed")
	}
	for _, c := range []struct {
		wat     string
		globals int
		why     string // empty: restorable; "!": refused
	}{
		{`(module (func $g) (func (export "f") (drop (ref.func $g))) (elem declare func $g))`, 0, "!"},
		// Invalid as it stands; instrumented, global 1 would be the fuel.
		{`(module (global (mut i32) (i32.const 0)) (func (export "f") (global.set 1 (i64.const 9999999999))))`, 0, "!"},
		{`(module (memory 1) (global (mut i32) (i32.const 0)) (global i64 (i64.const 1)) (global (mut f64) (f64.const 0))
		   (func (export "f") (memory.fill (i32.const 0) (i32.const 1) (i32.const 8))))`, 2, ""},
		{`(module (table 2 funcref) (func $g) (func (export "f") (table.set 0 (i32.const 0) (ref.func $g))) (elem (i32.const 1) $g))`, 0, "table.set"},
		{`(module (table 1 funcref) (func (export "f") (drop (table.grow 0 (ref.null func) (i32.const 1)))))`, 0, "table.grow"},
		{`(module (memory 1) (data "x") (func (export "f") (data.drop 0)))`, 0, "data.drop"},
		{`(module (global (mut externref) (ref.null extern)) (func (export "f")))`, 0, "externref"},
	} {
		dir := t.TempDir()
		src := filepath.Join(dir, "m.wat")
		os.WriteFile(src, []byte(c.wat), 0o600)
		if out, err := exec.Command("wat2wasm", "--no-check", src, "-o", filepath.Join(dir, "m.wasm")).CombinedOutput(); err != nil {
			t.Fatalf("wat2wasm: %v\n%s", err, out)
		}
		wasm, _ := os.ReadFile(filepath.Join(dir, "m.wasm"))
		m, err := fuel.Instrument(wasm, 1000)
		if c.why == "!" {
			if err == nil {
				t.Errorf("%s: instrumented a module it must refuse", c.wat)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Globals) != c.globals || m.Restorable != (c.why == "") || !strings.Contains(m.Why, c.why) {
			t.Errorf("%s: globals %v, restorable %v (%s)", c.wat, m.Globals, m.Restorable, m.Why)
		}
		// The added exports are there, and the module still compiles.
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		cm, err := rt.CompileModule(ctx, m.Wasm)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := cm.ExportedFunctions()[fuel.InitName]; !ok {
			t.Errorf("%s: no %s export", c.wat, fuel.InitName)
		}
		rt.Close(ctx)
	}
}
