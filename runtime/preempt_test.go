package runtime_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/runtime"
)

// Every phase of a plugin's life ends within its limit: a start function
// or an _initialize that spins on memory.fill (once a few units of fuel a
// pass, whatever its length) fails the publish check with CodeTimeout, in
// about its time limit, rather than holding a core for good.
func TestSpinningInitialisationIsRefused(t *testing.T) {
	rt := newRuntime(t)
	limits := runtime.Limits{Timeout: 500 * time.Millisecond, MaxMemoryPages: 256}
	for _, name := range []string{"spinstart", "spininit"} {
		for _, nondet := range []bool{false, true} {
			wasm, err := os.ReadFile(plugin(t, name))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = rt.Check(context.Background(), wasm, runtime.ModuleOptions{Limits: limits, Nondeterministic: nondet})
			took := time.Since(start)
			if abi.CodeOf(err) != abi.CodeTimeout {
				t.Fatalf("%s (nondeterministic %v): %v, want %s", name, nondet, err, abi.CodeTimeout)
			}
			if took > limits.Timeout+2*time.Second {
				t.Fatalf("%s: refused after %v, limit %v", name, took, limits.Timeout)
			}
			t.Logf("%s (nondeterministic %v): refused after %v: %v", name, nondet, took, err)
		}
	}
}

// An _initialize that reads the clock sees the boot clock, in the publish
// check and in every later instance alike, so a bomb set for a date after
// the check cannot hide from it; calls see the real clock.
func TestTimeBombInitialiser(t *testing.T) {
	rt := newRuntime(t)
	wasm, err := os.ReadFile(plugin(t, "timebomb"))
	if err != nil {
		t.Fatal(err)
	}
	opts := runtime.ModuleOptions{Limits: runtime.Limits{Timeout: time.Second}, Nondeterministic: true}
	if err := rt.Check(context.Background(), wasm, opts); err != nil {
		t.Fatalf("check: %v", err)
	}
	m, err := rt.Compile(context.Background(), wasm, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	for range 3 {
		if _, err := m.Call(context.Background(), abi.ExportInvoke, nil, nil); err != nil {
			t.Fatalf("a later instance: %v", err)
		}
	}
	// A call that reads the clock sees today, past the bomb's date: its
	// export returns 1, which the runtime reports as a plugin error.
	if _, err := m.Call(context.Background(), "now", nil, nil); abi.CodeOf(err) != abi.CodePluginError {
		t.Fatalf("a call reading the real clock: %v, want it to see a date past 2023", err)
	}
}

// With every core spinning in compiled Wasm, and the collector asked to
// stop the world again and again, the process still serves HTTP within a
// second, and every spin ends with CodeTimeout close to its limit. Before
// plugins returned to Go once per slice of fuel, a spin on memory.fill
// never ran out of fuel and a stop-the-world waited for it for good.
func TestAllCoresSpinning(t *testing.T) {
	const limit = 2 * time.Second
	rt, err := runtime.New(runtime.Config{Max: runtime.Limits{Timeout: limit}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	limits := runtime.Limits{Timeout: time.Minute, MaxMemoryPages: 256} // capped to the maximum
	m := compile(t, rt, plugin(t, "spin"), runtime.ModuleOptions{Limits: limits, PoolSize: -1})
	if got := m.Limits().Timeout; got != limit {
		t.Fatalf("limit %v, want the maximum %v", got, limit)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()

	spinners := 2 * goruntime.GOMAXPROCS(0)
	exports := []string{"fill", "copy", "init", "plain"}
	var wg sync.WaitGroup
	type result struct {
		export string
		err    error
		over   time.Duration
	}
	results := make(chan result, spinners)
	for i := range spinners {
		wg.Go(func() {
			export := exports[i%len(exports)]
			start := time.Now()
			_, err := m.Call(context.Background(), export, nil, nil)
			results <- result{export, err, time.Since(start) - limit}
		})
	}
	stop := make(chan struct{})
	var gcWG sync.WaitGroup
	gcWG.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				goruntime.GC()
			}
		}
	})
	var worst time.Duration
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		start := time.Now()
		resp, err := client.Get(srv.URL)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("the server did not answer while plugins spun: %v", err)
		}
		resp.Body.Close()
		worst = max(worst, took)
		if took > time.Second {
			t.Errorf("an answer took %v while plugins spun", took)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	close(stop)
	gcWG.Wait()
	close(results)
	var latest time.Duration
	for r := range results {
		if abi.CodeOf(r.err) != abi.CodeTimeout {
			t.Errorf("%s: %v, want %s", r.export, r.err, abi.CodeTimeout)
		}
		latest = max(latest, r.over)
	}
	// Stated slack: the spins share the cores, and a spin's fuel runs out
	// near its limit only when it has a core to itself.
	if latest > 500*time.Millisecond {
		t.Errorf("a spin ended %v past its limit", latest)
	}
	t.Logf("%d spins on %d cores: slowest HTTP answer %v; the last spin ended %v after its %v limit", spinners, goruntime.GOMAXPROCS(0), worst, latest, limit)
}

// Compilations take turns: with every slot taken, a compile waits, and
// gives up with its caller's deadline having compiled nothing.
func TestCompilationsTakeTurns(t *testing.T) {
	rt := newRuntime(t)
	wasm, err := os.ReadFile(plugin(t, "spin"))
	if err != nil {
		t.Fatal(err)
	}
	release := rt.HoldCompileSlots()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := rt.Compile(ctx, wasm, runtime.ModuleOptions{PoolSize: -1}); abi.CodeOf(err) != abi.CodeDeadline {
		t.Fatalf("compile with every slot taken: %v, want %s", err, abi.CodeDeadline)
	}
	release()
	m, err := rt.Compile(context.Background(), wasm, runtime.ModuleOptions{PoolSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	m.Close(context.Background())
	if got := runtime.CompileSlots(2); got != 1 {
		t.Fatalf("slots on two cores: %d, want 1", got)
	}
}
