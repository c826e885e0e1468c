package runtime_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/runtime"
)

// A prewarm that sleeps an hour does not hold the node's instantiation:
// before an instance is live its clocks are the boot clocks, which a sleep
// only moves on. An export that wants parameters fails its call, as in the
// go-sdk, and the module goes on.
func TestSleepyPrewarmAndExportsWithParameters(t *testing.T) {
	wasm, err := os.ReadFile(plugin(t, "sleepy"))
	if err != nil {
		t.Fatal(err)
	}
	rt := newRuntime(t)
	start := time.Now()
	err = rt.Check(context.Background(), wasm, runtime.ModuleOptions{Nondeterministic: true, Limits: runtime.Limits{Timeout: 200 * time.Millisecond}})
	if err != nil || time.Since(start) > 10*time.Second {
		t.Fatalf("check of a prewarm sleeping an hour: %v after %v", err, time.Since(start))
	}
	scribbler := compile(t, rt, plugin(t, "scribble"), runtime.ModuleOptions{})
	for range 3 {
		if _, err := scribbler.Call(context.Background(), "scribble", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The deterministic clock does not sleep, so the module runs; its
	// five-parameter export fails every call.
	m := compile(t, rt, plugin(t, "sleepy"), runtime.ModuleOptions{})
	for range 3 {
		if _, err := m.Call(context.Background(), abi.ExportInvoke, nil, nil); err == nil {
			t.Fatal("called an export that wants five parameters with none")
		}
	}
}

// Calls racing a module's Close either run or are refused as unavailable;
// none touches what Close frees.
func TestCallsRacingClose(t *testing.T) {
	rt := newRuntime(t)
	wasm, err := os.ReadFile(plugin(t, "scribble"))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		m, err := rt.Compile(context.Background(), wasm, runtime.ModuleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 20 {
					_, err := m.Call(context.Background(), "scribble", nil, nil)
					var ae *abi.Error
					if err != nil && (!errors.As(err, &ae) || ae.Code != abi.CodeUnavailable) {
						t.Errorf("a call racing Close: %v", err)
						return
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		m.Close(context.Background())
		wg.Wait()
	}
}
