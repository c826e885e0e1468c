package runtime_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/runtime"
)

// The benchmarks report each figure against a baseline measured in the same
// run, as custom metrics: run them with
//
//	go test ./runtime -run '^$' -bench . -benchtime 2000x
//
// (ColdStart takes -benchtime 5x; it compiles a 3 MB module per iteration).

// bareExtism returns an extism go-sdk instance of the plugin; sandboxed
// gives it the same wazero termination checks the runtime uses.
func bareExtism(b *testing.B, path string, fns []extism.HostFunction, sandboxed bool) *extism.Plugin {
	b.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cfg := extism.PluginConfig{EnableWasi: true}
	if sandboxed {
		cfg.RuntimeConfig = wazero.NewRuntimeConfig().WithCloseOnContextDone(true)
	}
	c, err := extism.NewCompiledPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: wasm}}}, cfg, fns)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(ctx) })
	p, err := c.Instance(ctx, extism.PluginInstanceConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close(ctx) })
	return p
}

func perOp(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }

// BenchmarkInvokeVsExtism: a call through the runtime (limits, timeout,
// error mapping, instance handling) against a bare extism Plugin.Call of the
// same plugin on one reused instance. The fresh-instance mode (every call
// starts from the snapshot taken after initialisation) is measured after,
// on its own, so its pool refills do not compete with the others.
func BenchmarkInvokeVsExtism(b *testing.B) {
	path := extismWasm(b, "count_vowels.wasm")
	input := []byte("Payable AI pays the people whose data shaped the answer")
	bare := bareExtism(b, path, nil, false)
	rt := newRuntime(b)
	reuse := compile(b, rt, path, runtime.ModuleOptions{ReuseWithinSession: true, PoolSize: -1})
	ctx := context.Background()
	env := &runtime.Env{Session: "bench"}
	b.ResetTimer()

	var base, reused time.Duration
	// Alternate in blocks so drift in the machine's speed hits both alike.
	for done := 0; done < b.N; {
		n := min(100, b.N-done)
		start := time.Now()
		for range n {
			if _, _, err := bare.Call("count_vowels", input); err != nil {
				b.Fatal(err)
			}
		}
		base += time.Since(start)
		start = time.Now()
		for range n {
			if _, err := reuse.Call(ctx, "count_vowels", input, env); err != nil {
				b.Fatal(err)
			}
		}
		reused += time.Since(start)
		done += n
	}
	b.StopTimer()
	fresh := compile(b, rt, path, runtime.ModuleOptions{PoolSize: 4})
	time.Sleep(200 * time.Millisecond) // let the pool warm
	b.StartTimer()
	start := time.Now()
	for range b.N {
		if _, err := fresh.Call(ctx, "count_vowels", input, nil); err != nil {
			b.Fatal(err)
		}
	}
	freshD := time.Since(start)
	b.ReportMetric(perOp(base, b.N), "extism-ns/call")
	b.ReportMetric(perOp(reused, b.N), "reuse-ns/call")
	b.ReportMetric(perOp(freshD, b.N), "fresh-ns/call")
	b.ReportMetric(float64(reused)/float64(base), "reuse/extism")
	b.ReportMetric(float64(freshD)/float64(base), "fresh/extism")
	// Calls served by an instance already made: one reset to the snapshot
	// after another call, or one the pool made ready.
	st := fresh.Stats()
	b.ReportMetric(float64(st.Resets+st.PoolHits)/float64(max(st.Calls, 1)), "fresh-ready-rate")
}

// BenchmarkMeteredHostCall: the plugin calls datanet_get 1000 times per
// invocation. Baseline: the same plugin on bare extism under the same
// sandbox (wazero termination checks, a deadline), with host functions that
// do nothing. The difference per host call is what reading the request,
// checking grant and limits, metering and writing the response cost.
// unsandboxed-ns/hostcall shows what the termination checks themselves cost
// (wazero starts a watcher goroutine per wasm call when they are on).
func BenchmarkMeteredHostCall(b *testing.B) {
	const calls = 1000
	path := plugin(b, "hostile")
	empty := func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) { stack[0] = 0 }
	var fns []extism.HostFunction
	for _, name := range []string{abi.FnDatanetSearch, abi.FnDatanetGet, abi.FnCorpusMatch} {
		fn := extism.NewHostFunctionWithStack(name, empty, []extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
		fn.SetNamespace(abi.HostNamespace)
		fns = append(fns, fn)
	}
	bare := bareExtism(b, path, fns, false)
	sandboxed := bareExtism(b, path, fns, true)
	rt := newRuntime(b)
	m := compile(b, rt, path, runtime.ModuleOptions{ReuseWithinSession: true, PoolSize: -1, Limits: runtime.Limits{MaxHostCalls: calls, MaxRecords: calls}})
	metered := 0
	env := &runtime.Env{Data: records, Grants: []string{"facts"}, Session: "bench", Meter: func(abi.Record) error { metered++; return nil }}
	in := binary.LittleEndian.AppendUint32(nil, calls)
	ctx := context.Background()
	b.ResetTimer()

	var unsandboxed, base, ours time.Duration
	for range b.N {
		start := time.Now()
		if _, _, err := bare.Call("gets", in); err != nil {
			b.Fatal(err)
		}
		unsandboxed += time.Since(start)
		start = time.Now()
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		if _, _, err := sandboxed.CallWithContext(dctx, "gets", in); err != nil {
			b.Fatal(err)
		}
		cancel()
		base += time.Since(start)
		start = time.Now()
		if _, err := m.Call(ctx, "gets", in, env); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
	}
	if metered != b.N*calls {
		b.Fatalf("metered %d records, want %d", metered, b.N*calls)
	}
	b.ReportMetric(perOp(unsandboxed, b.N*calls), "unsandboxed-ns/hostcall")
	b.ReportMetric(perOp(base, b.N*calls), "empty-ns/hostcall")
	b.ReportMetric(perOp(ours, b.N*calls), "metered-ns/hostcall")
	b.ReportMetric(perOp(ours-base, b.N*calls), "added-ns/hostcall")
}

// BenchmarkColdStart: compiling a 3.3 MB Go plugin from scratch against
// loading it from the on-disk compilation cache, each with a new Runtime as
// after a restart.
func BenchmarkColdStart(b *testing.B) {
	wasm, err := os.ReadFile("../examples/agents/qa/qa.wasm")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	load := func(dir string) time.Duration {
		start := time.Now()
		rt, err := runtime.New(runtime.Config{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		m, err := rt.Compile(ctx, wasm, runtime.ModuleOptions{PoolSize: -1})
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		m.Close(ctx)
		rt.Close(ctx)
		return d
	}
	warm := b.TempDir()
	load(warm)
	b.ResetTimer()
	var compile, cached time.Duration
	for range b.N {
		compile += load(b.TempDir())
		cached += load(warm)
	}
	b.ReportMetric(float64(len(wasm))/1e6, "module-MB")
	b.ReportMetric(perOp(compile, b.N)/1e6, "compile-ms")
	b.ReportMetric(perOp(cached, b.N)/1e6, "cached-ms")
	b.ReportMetric(float64(cached)/float64(compile), "cached/compile")
}

// BenchmarkConcurrentInvoke: throughput of b.N calls made by one goroutine
// and by two (each its own session, reusing its instance), and the scaling.
func BenchmarkConcurrentInvoke(b *testing.B) {
	path := extismWasm(b, "count_vowels.wasm")
	input := []byte("Payable AI pays the people whose data shaped the answer")
	rt := newRuntime(b)
	m := compile(b, rt, path, runtime.ModuleOptions{ReuseWithinSession: true, PoolSize: -1})
	ctx := context.Background()
	run := func(workers int) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env := &runtime.Env{Session: string(rune('a' + w))}
				for range b.N / workers {
					if _, err := m.Call(ctx, "count_vowels", input, env); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	run(2) // warm both sessions
	b.ResetTimer()
	one, two := run(1), run(2)
	b.ReportMetric(float64(b.N)/one.Seconds(), "calls/s-1")
	b.ReportMetric(float64(b.N)/two.Seconds(), "calls/s-2")
	b.ReportMetric(one.Seconds()/two.Seconds(), "scaling-1to2")
}

// BenchmarkFreshGoAgent: the Go example agent in fresh-instance mode with
// no pool, on records the size of the example datanet's: the first call
// instantiates and snapshots, every later one runs on an instance reset to
// that snapshot, so it pays neither instantiation nor the Go runtime's
// start. grows/op counts the calls that grew its memory.
//
//	go test ./runtime -run '^$' -bench FreshGoAgent -benchtime 200x
func BenchmarkFreshGoAgent(b *testing.B) {
	rt := newRuntime(b)
	m := compile(b, rt, "../examples/agents/qa/qa.wasm", runtime.ModuleOptions{PoolSize: -1})
	env := &runtime.Env{Data: exampleRecords, Grants: []string{"facts"}, Config: map[string]string{"tollgate.datanets": "facts"},
		Meter: func(abi.Record) error { return nil }}
	defer func() { b.ReportMetric(float64(m.Stats().Grows)/float64(b.N), "grows/op") }()
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := m.Call(ctx, abi.ExportInvoke, []byte("Why is the sky blue?"), env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInstanceMemory: what each instance of the example agents adds
// to the process's resident set once it has served calls and been reset:
// its own copies of the pages its calls write, wazero's bookkeeping, and
// its share of the snapshot (mapped once for all of them). Eight callers
// at once make eight instances.
//
//	go test ./runtime -run '^$' -bench InstanceMemory -benchtime 100x
func BenchmarkInstanceMemory(b *testing.B) {
	for _, agent := range []struct{ name, path string }{
		{"go", "../examples/agents/qa/qa.wasm"}, {"assemblyscript", "../examples/agents/qa-as/qa-as.wasm"},
	} {
		b.Run(agent.name, func(b *testing.B) {
			rt := newRuntime(b)
			env := func() *runtime.Env {
				return &runtime.Env{Data: records, Grants: []string{"facts"}, Config: map[string]string{"tollgate.datanets": "facts"},
					Meter: func(abi.Record) error { return nil }}
			}
			m := compile(b, rt, agent.path, runtime.ModuleOptions{PoolSize: -1, Nondeterministic: true})
			ctx := context.Background()
			if _, err := m.Call(ctx, abi.ExportInvoke, []byte("Why is the sky blue?"), env()); err != nil {
				b.Fatal(err)
			}
			debug.FreeOSMemory()
			before := residentBytes(b)
			const callers = 8
			// The first call of each caller waits inside its search until
			// all eight are running, so eight instances exist at once.
			var arrived sync.WaitGroup
			arrived.Add(callers)
			first := &barrierData{tableData: records, all: &arrived}
			b.ResetTimer()
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					for i := range max(b.N/callers, 1) {
						e := env()
						if i == 0 {
							e.Data = first
						}
						if _, err := m.Call(ctx, abi.ExportInvoke, []byte("Why is the sky blue?"), e); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			debug.FreeOSMemory()
			s := m.Stats()
			b.ReportMetric(float64(residentBytes(b)-before)/float64(s.Instantiations)/1024, "rss-KiB/instance")
			b.ReportMetric(float64(s.Instantiations), "instances")
			b.ReportMetric(float64(s.Resets)/float64(s.Calls), "reset-rate")
		})
	}
}

// barrierData is tableData whose searches wait until all have arrived.
type barrierData struct {
	tableData
	all *sync.WaitGroup
}

func (d *barrierData) Search(ctx context.Context, datanet, query string, limit int) ([]abi.Record, error) {
	d.all.Done()
	d.all.Wait()
	return d.tableData.Search(ctx, datanet, query, limit)
}

// residentBytes is the process's resident set.
func residentBytes(b *testing.B) int64 {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Skip("no /proc/self/statm")
	}
	var size, resident int64
	fmt.Sscan(string(statm), &size, &resident)
	return resident * int64(os.Getpagesize())
}
