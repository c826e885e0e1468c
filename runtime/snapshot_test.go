package runtime_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	wabin "github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/runtime"
)

// scribbled is what the scribble plugin saw when its call began.
type scribbled struct {
	g, h  uint64
	f     float64
	sum   uint64 // of every byte of its memory
	pages uint64
}

func scribble(t *testing.T, m *runtime.Module, export string) scribbled {
	t.Helper()
	out, err := m.Call(context.Background(), export, nil, nil)
	if err != nil {
		t.Error(err)
		return scribbled{}
	}
	if len(out) != 40 {
		t.Errorf("output is %d bytes", len(out))
		return scribbled{}
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(out[8*i:]) }
	return scribbled{g: u(0), h: u(1), f: math.Float64frombits(u(2)), sum: u(3), pages: u(4)}
}

// Every call of a plugin that writes every byte of its memory and sets
// every global starts from the state initialisation left, whether its
// instance is new, a copy of the snapshot, or reset after another
// caller's call; and a call that grows memory does not pass the growth on.
func TestNoStateCrossesAReset(t *testing.T) {
	rt := newRuntime(t)
	var fresh uint64
	for _, c := range "hello, snapshot" {
		fresh += uint64(c)
	}
	// h is what the plugin's prewarm export set.
	want := scribbled{g: 7, h: 42, f: 1.5, sum: fresh, pages: 3}
	m := compile(t, rt, plugin(t, "scribble"), runtime.ModuleOptions{PoolSize: 2})
	for i := range 20 {
		export := "scribble"
		if i%3 == 1 {
			export = "grow"
		}
		w := want
		if export == "grow" {
			w.pages++
		}
		if got := scribble(t, m, export); got != w {
			t.Fatalf("call %d (%s) began from %+v, want %+v", i, export, got, w)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				if got := scribble(t, m, "scribble"); got != want {
					t.Errorf("a concurrent call began from %+v, want %+v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	s := m.Stats()
	if s.Resets < 90 {
		t.Fatalf("stats %+v: want most of 120 calls served by reset instances", s)
	}
}

// A plugin's view of time and randomness in deterministic mode is the
// go-sdk's on a fresh instance, call after call, from a new instance, a
// copy of the snapshot or a reset one: the go-sdk with wazero's own fakes
// is the reference.
func TestResetInstancesReadTheFreshClocks(t *testing.T) {
	wasmBytes, err := os.ReadFile(plugin(t, "hostile"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	noop := func(name string) extism.HostFunction {
		f := extism.NewHostFunctionWithStack(name, func(context.Context, *extism.CurrentPlugin, []uint64) {},
			[]extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR})
		f.SetNamespace(abi.HostNamespace)
		return f
	}
	ref, err := extism.NewPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: wasmBytes}}},
		extism.PluginConfig{EnableWasi: true}, []extism.HostFunction{noop(abi.FnDatanetSearch), noop(abi.FnDatanetGet), noop(abi.FnCorpusMatch)})
	if err != nil {
		t.Fatal(err)
	}
	// The runtime runs the plugin's initialisation and its prewarm before
	// any call: so does the reference, in that order, on one instance.
	if _, _, err := ref.Call(abi.ExportPrewarm, nil); err != nil {
		t.Fatal(err)
	}
	_, want, err := ref.Call("entropy", nil)
	ref.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}

	rt := newRuntime(t)
	m := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{ReuseWithinSession: true, PoolSize: 2})
	deadline := time.Now().Add(10 * time.Second)
	for m.Stats().Instantiations < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// The first call keeps its instance for its session, so the second
	// takes the other pre-warmed one (a copy of the snapshot) and the rest
	// that one again, reset.
	sessions := []string{"kept", "", "", ""}
	for i, s := range sessions {
		got, err := m.Call(ctx, "entropy", nil, &runtime.Env{Session: s})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("call %d read %q; a fresh go-sdk instance reads %q", i, got, want)
		}
	}
	if s := m.Stats(); s.Resets < 2 || s.PoolHits != 2 {
		t.Fatalf("stats %+v: want two pre-warmed instances and two resets", s)
	}

	// A nondeterministic module reads fresh random bytes in every call,
	// though its instances share one snapshot.
	nd := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{Nondeterministic: true, PoolSize: -1})
	seen := map[string]bool{}
	for range 3 {
		out, err := nd.Call(ctx, "entropy", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ns, since int64
		var random string
		var mr int64
		if _, err := fmt.Sscan(string(out), &ns, &since, &random, &mr); err != nil {
			t.Fatalf("entropy %q: %v", out, err)
		}
		if seen[random] {
			t.Fatalf("two calls read the same random bytes %s", random)
		}
		seen[random] = true
		if d := time.Since(time.Unix(0, ns)); d < 0 || d > time.Minute {
			t.Fatalf("a nondeterministic plugin read the time %v", time.Unix(0, ns))
		}
	}
	if s := nd.Stats(); s.Resets != 2 {
		t.Fatalf("stats %+v: want the nondeterministic calls served by reset instances", s)
	}
}

// A call that leaves a file descriptor open does not move the next
// call's: its instance is closed rather than reset.
func TestDescriptorsDoNotCrossCalls(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, plugin(t, "hostile"), runtime.ModuleOptions{PoolSize: -1})
	var fds []string
	for range 3 {
		out, err := m.Call(context.Background(), "opendir", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, string(out))
	}
	if fds[0] != fds[1] || fds[1] != fds[2] {
		t.Fatalf("descriptors %v: a call saw another's open descriptor", fds)
	}
	if s := m.Stats(); s.Resets != 0 {
		t.Fatalf("stats %+v: an instance holding a descriptor was reset", s)
	}
}

// A plugin whose prewarm export fails is refused when it is published.
func TestAFailingPrewarmIsRefused(t *testing.T) {
	rt := newRuntime(t)
	wasm, err := os.ReadFile(plugin(t, "badprewarm"))
	if err != nil {
		t.Fatal(err)
	}
	err = rt.Check(context.Background(), wasm, runtime.ModuleOptions{})
	if abi.CodeOf(err) != abi.CodeInvalidPlugin || !strings.Contains(err.Error(), "prewarm") {
		t.Fatalf("check: %v", err)
	}
}

// The runtime resets exactly the Extism kernel's mutable globals.
func TestKernelGlobalsAreKnown(t *testing.T) {
	dir := filepath.Dir(filepath.Dir(extismWasm(t, "x")))
	b, err := os.ReadFile(filepath.Join(dir, "extism-runtime.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := wabin.DecodeModule(b, wasm.CoreFeaturesV2)
	if err != nil {
		t.Fatal(err)
	}
	var mutable []string
	for i, g := range mod.GlobalSection {
		if !g.Type.Mutable {
			continue
		}
		name := ""
		for _, e := range mod.ExportSection {
			if e.Type == wasm.ExternTypeGlobal && e.Index == mod.ImportGlobalCount()+uint32(i) {
				name = e.Name
			}
		}
		if name == "" {
			t.Fatalf("the kernel's mutable global %d is not exported: a reset cannot reach it", i)
		}
		mutable = append(mutable, name)
	}
	if !slices.Equal(mutable, runtime.KernelGlobals) {
		t.Fatalf("kernel mutable globals %v, the runtime resets %v", mutable, runtime.KernelGlobals)
	}
}

// The Go example agent's prewarm leaves the allocator a span in every small
// size class (prewarm.Allocator), so a call that starts from the snapshot
// finds room for what it allocates: its memory never grows, where before
// every call grew it by 768 KiB and took a dozen spans from the heap.
func TestGoAgentCallsDoNotGrowMemory(t *testing.T) {
	rt := newRuntime(t)
	m := compile(t, rt, "../examples/agents/qa/qa.wasm", runtime.ModuleOptions{PoolSize: -1, Nondeterministic: true})
	env := &runtime.Env{Data: exampleRecords, Grants: []string{"facts"}, Config: map[string]string{"tollgate.datanets": "facts"},
		Meter: func(abi.Record) error { return nil }}
	const calls = 20
	for range calls {
		out, err := m.Call(context.Background(), abi.ExportInvoke, []byte("Why is the sky blue?"), env)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "[1] facts/8f1e2d3c4b5a") {
			t.Fatalf("answer %q does not come from the records", out)
		}
	}
	s := m.Stats()
	if s.Resets < calls-1 {
		t.Fatalf("%d of %d calls ran on a reset instance: the test measures nothing", s.Resets, calls)
	}
	if s.Grows != 0 {
		t.Fatalf("%d of %d calls grew the agent's memory", s.Grows, calls)
	}
}
