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
	"github.com/tetratelabs/wazero/api"

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
		out, err := fuel.Instrument(wasm, refill, nil)
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

// refill is the import the tests' instrumented modules call.
var refill = fuel.Import{Module: "tollgate_test", Name: "refill"}

// slice is the fuel a budget gives per refill.
const slice = 1 << 20

// budget gives an instance its fuel a slice at a time, and traps the call
// ("out of fuel") once it is spent.
type budget struct {
	left    int64
	refills int
}

func (b *budget) refill(stack []uint64) {
	cur := int64(stack[0])
	add := min(b.left, slice-cur)
	b.left -= add
	cur += add
	b.refills++
	if cur < 0 {
		panic("out of fuel")
	}
	stack[0] = uint64(cur)
}

// left is the fuel an instance has not spent: its budget's and its counter's.
func (b *budget) unspent(counter int64) int64 { return b.left + max(counter, 0) }

// withBudget instantiates the refill host module for b in rt.
func withBudget(t testing.TB, rt wazero.Runtime, b *budget) {
	t.Helper()
	ctx := context.Background()
	_, err := rt.NewHostModuleBuilder(refill.Module).NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(_ context.Context, stack []uint64) { b.refill(stack) }), []api.ValueType{api.ValueTypeI64}, []api.ValueType{api.ValueTypeI64}).
		Export(refill.Name).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
}

func plugin(t testing.TB, wasm []byte, terminate bool) *extism.Plugin {
	return pluginWith(t, wasm, terminate, &budget{left: 1 << 60})
}

func pluginWith(t testing.TB, wasm []byte, terminate bool, b *budget) *extism.Plugin {
	t.Helper()
	ctx := context.Background()
	cfg := extism.PluginConfig{EnableWasi: true, RuntimeConfig: wazero.NewRuntimeConfig().WithCloseOnContextDone(terminate)}
	fn := extism.NewHostFunctionWithStack(refill.Name, func(_ context.Context, _ *extism.CurrentPlugin, stack []uint64) { b.refill(stack) },
		[]extism.ValueType{extism.ValueTypeI64}, []extism.ValueType{extism.ValueTypeI64})
	fn.SetNamespace(refill.Module)
	p, err := extism.NewPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: wasm}}}, cfg, []extism.HostFunction{fn})
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
	metered, err := fuel.Instrument(wasm, refill, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := plugin(t, metered.Wasm, false).Call("count_vowels", input); err != nil || string(got) != string(want) {
		t.Fatalf("with plenty of fuel: %q, %v; want %q", got, err, want)
	}
	var spent []int
	for range 2 {
		b := &budget{left: 20_000}
		_, _, err := pluginWith(t, metered.Wasm, false, b).Call("count_vowels", input)
		if err == nil || !strings.Contains(err.Error(), "out of fuel") {
			t.Fatalf("out of fuel: %v", err)
		}
		spent = append(spent, b.refills)
	}
	if spent[0] != spent[1] {
		t.Fatalf("two runs out of the same fuel refilled %v times", spent)
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
	b, m := runsOutOfFuel(t, wasm, "spin", 50_000_000)
	if left := b.unspent(int64(m.ExportedGlobal(fuel.GlobalName).Get())); left != 0 {
		t.Fatalf("fuel left %d after running out", left)
	}
	// It returned to Go once per slice of its budget.
	if want := 50_000_000/slice + 1; b.refills < want || b.refills > want+1 {
		t.Fatalf("refilled %d times, want about %d", b.refills, want)
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
		out, err := fuel.Instrument(wasm, refill, nil)
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
	metered, err := fuel.Instrument(wasm, refill, nil)
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
		m, err := fuel.Instrument(wasm, refill, nil)
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

// wat compiles WebAssembly text with wat2wasm.
func wat(t testing.TB, src string) []byte {
	t.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wat2wasm not found: .ci/run installs wabt")
		}
		t.Skip("wat2wasm not installed")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "m.wat")
	os.WriteFile(p, []byte(src), 0o600)
	if out, err := exec.Command("wat2wasm", p, "-o", filepath.Join(dir, "m.wasm")).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "m.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The refill import moves every defined function up one index: calls,
// exports, the start function, table elements and function references
// all still reach the functions they named.
func TestInstrumentRenumbersFunctions(t *testing.T) {
	wasm := wat(t, `(module
	  (import "env" "seven" (func $seven (result i32)))
	  (type $t (func (result i32)))
	  (table 2 funcref) (elem (i32.const 0) $a $b)
	  (global $ref funcref (ref.func $b))
	  (global $started (mut i32) (i32.const 0))
	  (func $a (result i32) (i32.const 100))
	  (func $b (result i32) (i32.const 20))
	  (func $s (global.set $started (call $seven)))
	  (start $s)
	  (func (export "run") (result i32)
	    (i32.add (call_indirect (type $t) (i32.const 1))
	      (i32.add (call $a) (global.get $started)))))`)
	b, m, err := instantiate(t, wasm, nil, 1<<40, func(rt wazero.Runtime) error {
		_, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().
			WithFunc(func() int32 { return 7 }).Export("seven").Instantiate(context.Background())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.ExportedFunction("run").Call(context.Background())
	if err != nil || len(res) != 1 || res[0] != 127 {
		t.Fatalf("run = %v, %v; want 127", res, err)
	}
	if b.refills == 0 {
		t.Fatal("the module ran without asking for fuel")
	}
	if _, ok := m.ExportedFunctionDefinitions()[fuel.InitName]; !ok {
		t.Fatalf("no %s export", fuel.InitName)
	}
}

// A module runs no code, not even its start function, before the host
// gives it fuel.
func TestStartFunctionNeedsFuel(t *testing.T) {
	wasm := wat(t, `(module (func $s (loop $l (br $l))) (start $s))`)
	_, _, err := instantiate(t, wasm, nil, 10_000_000, nil)
	if err == nil || !strings.Contains(err.Error(), "out of fuel") {
		t.Fatalf("a spinning start function: %v", err)
	}
}

// Bulk operations pay by their length: a memory.fill of n bytes costs
// n/BulkBytesPerFuel more than one of none, a memory.copy likewise, and a
// memory.grow by GrowPageFuel a page. A spin on memory.fill of 16 MiB
// (once about six units a pass) runs out of fuel.
func TestBulkOperationsPayByLength(t *testing.T) {
	wasm := wat(t, `(module (memory 1 300)
	  (func (export "fill") (param i32) (memory.fill (i32.const 0) (i32.const 7) (local.get 0)))
	  (func (export "copy") (param i32) (memory.copy (i32.const 0) (i32.const 1) (local.get 0)))
	  (func (export "grow") (param i32) (drop (memory.grow (local.get 0))))
	  (func (export "spin") (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 16777216)) (br $l))))`)
	b, m, err := instantiate(t, wasm, nil, 1<<50, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	spent := func(fn string, arg uint64) int64 { t.Helper(); return spentBy(t, b, m, fn, arg) }
	if _, err := m.ExportedFunction("grow").Call(ctx, 299); err != nil {
		t.Fatal(err)
	}
	const n = 16 << 20
	for _, fn := range []string{"fill", "copy"} {
		if d := spent(fn, n) - spent(fn, 0); d != n/fuel.BulkBytesPerFuel {
			t.Errorf("%s of %d bytes cost %d more than of none, want %d", fn, n, d, n/fuel.BulkBytesPerFuel)
		}
	}
	if d := spent("grow", 1) - spent("grow", 0); d != fuel.GrowPageFuel {
		t.Errorf("growing a page cost %d more than growing none, want %d", d, fuel.GrowPageFuel)
	}
	b.left = 100_000_000
	_, err = m.ExportedFunction("spin").Call(ctx)
	if err == nil || !strings.Contains(err.Error(), "out of fuel") {
		t.Fatalf("a memory.fill spin: %v", err)
	}
}

// module wraps one function body, of type () -> (), exported as "run",
// in a module of its own.
func module(body []byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 1, 4, 1, 0x60, 0, 0) // type section: () -> ()
	b = append(b, 3, 2, 1, 0)          // function section
	b = append(b, 7, 7, 1, 3, 'r', 'u', 'n', 0, 0)
	code := append([]byte{1}, byte(len(body)))
	code = append(code, body...)
	b = append(b, 10, byte(len(code)))
	return append(b, code...)
}

// wazero reads a vector opcode as one byte. A padded encoding (0xfd 0x8c
// 0x00) that a LEB128 reader takes for v128.const, skipping the 16 bytes
// after it, hides a loop from the walker; read as wazero reads it, the
// loop is metered and the plugin runs out of fuel.
func TestVectorOpcodesAreReadAsWazeroRunsThem(t *testing.T) {
	body := []byte{0x00, // no locals
		0x02, 0x40, 0x0c, 0x00, // block; br 0
		0xfd, 0x8c, 0x00, // i16x8.shr_s; unreachable (to a LEB128 reader: v128.const and 16 bytes)
		0x0b, 0x03, 0x40, // end block; loop
		0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
		0x0c, 0x00, // br 0
		0x0b, 0x0b}
	wasm := module(body)
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, wasm); err != nil {
		t.Fatalf("wazero refuses the module as it stands: %v", err)
	}
	runsOutOfFuel(t, wasm, "run", 10_000_000)
}

// runsOutOfFuel instruments wasm, runs export on a budget of fuel, and
// requires it to stop by running out, within 30 s.
func runsOutOfFuel(t *testing.T, wasm []byte, export string, left int64) (*budget, api.Module) {
	t.Helper()
	b, m, err := instantiate(t, wasm, nil, left, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.ExportedFunction(export).Call(context.Background()); done <- err }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s ran on past %d fuel", export, left)
	}
	if err == nil || !strings.Contains(err.Error(), "out of fuel") {
		t.Fatalf("%s: %v, want it out of fuel", export, err)
	}
	return b, m
}

// instantiate instruments wasm with costs and instantiates it in a new
// runtime on a budget of left fuel, after env, if set, has added the host
// modules it imports.
func instantiate(t *testing.T, wasm []byte, costs []fuel.ImportCost, left int64, env func(wazero.Runtime) error) (*budget, api.Module, error) {
	t.Helper()
	metered, err := fuel.Instrument(wasm, refill, costs)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	b := &budget{left: left}
	withBudget(t, rt, b)
	if env != nil {
		if err := env(rt); err != nil {
			t.Fatal(err)
		}
	}
	m, err := rt.Instantiate(ctx, metered.Wasm)
	return b, m, err
}

// spentBy is the fuel a call of fn with args spends.
func spentBy(t *testing.T, b *budget, m api.Module, fn string, args ...uint64) int64 {
	t.Helper()
	g := m.ExportedGlobal(fuel.GlobalName)
	before := b.unspent(int64(g.Get()))
	if _, err := m.ExportedFunction(fn).Call(context.Background(), args...); err != nil {
		t.Fatalf("%s%v: %v", fn, args, err)
	}
	return before - b.unspent(int64(g.Get()))
}

// A function declaring billions of locals in a few bytes is refused before
// anything expands them.
func TestLocalsBombIsRefused(t *testing.T) {
	body := []byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b} // 2^32-1 locals of i32; end
	start := time.Now()
	if _, err := fuel.Instrument(module(body), refill, nil); err == nil || !strings.Contains(err.Error(), "locals") {
		t.Fatalf("a function of 2^32-1 locals: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusing it took %v", d)
	}
}

// Element segments the encoder would write wrongly (of a table other than
// 0) are refused, never rewritten into something else.
func TestElementSegmentsOfOtherTablesAreRefused(t *testing.T) {
	wasm := wat(t, `(module (table 1 funcref) (table 2 funcref) (func $f) (elem (table 1) (i32.const 0) func $f))`)
	if _, err := fuel.Instrument(wasm, refill, nil); err == nil || !strings.Contains(err.Error(), "table 0") {
		t.Fatalf("an element segment of table 1: %v", err)
	}
}

// A call to a charged import costs its fixed charge, and by its length
// argument when it has one.
func TestChargedImports(t *testing.T) {
	wasm := wat(t, `(module
	  (import "env" "alloc" (func $alloc (param i64) (result i64)))
	  (import "env" "ping" (func $ping))
	  (func (export "alloc") (param i64) (drop (call $alloc (local.get 0))))
	  (func (export "ping") (call $ping)))`)
	costs := []fuel.ImportCost{{Module: "env", Name: "alloc", Fixed: 100, PerByte: true}, {Module: "env", Name: "ping", Fixed: 5000}}
	b, m, err := instantiate(t, wasm, costs, 1<<50, func(rt wazero.Runtime) error {
		_, err := rt.NewHostModuleBuilder("env").
			NewFunctionBuilder().WithFunc(func(n int64) int64 { return n }).Export("alloc").
			NewFunctionBuilder().WithFunc(func() {}).Export("ping").Instantiate(context.Background())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	spent := func(fn string, args ...uint64) int64 { t.Helper(); return spentBy(t, b, m, fn, args...) }
	if d := spent("alloc", 1<<20) - spent("alloc", 0); d != (1<<20)/fuel.BulkBytesPerFuel {
		t.Errorf("alloc of 1 MiB cost %d more than of nothing, want %d", d, (1<<20)/fuel.BulkBytesPerFuel)
	}
	if d := spent("ping"); d < 5000 || d > 5100 {
		t.Errorf("a call of ping cost %d, want its 5000 and the function's own few", d)
	}
}
