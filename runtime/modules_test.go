package runtime_test

import (
	"context"
	"os"
	"testing"

	"github.com/tollgate-dev/tollgate/runtime"
)

// A module is compiled once per key, and closing the set closes them all.
func TestModulesCompileOncePerKey(t *testing.T) {
	rt := newRuntime(t)
	wasm, err := os.ReadFile(extismWasm(t, "count_vowels.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mods := runtime.NewModules(rt)
	a, hit, err := mods.Get(ctx, "a", wasm, runtime.ModuleOptions{})
	if err != nil || hit {
		t.Fatalf("first get: hit %v, %v", hit, err)
	}
	again, hit, err := mods.Get(ctx, "a", wasm, runtime.ModuleOptions{})
	if err != nil || !hit || again != a {
		t.Fatalf("second get of the same key: hit %v, same %v, %v", hit, again == a, err)
	}
	b, hit, err := mods.Get(ctx, "b", wasm, runtime.ModuleOptions{})
	if err != nil || hit || b == a {
		t.Fatalf("another key: hit %v, same %v, %v", hit, b == a, err)
	}
	if out, err := a.Call(ctx, "count_vowels", []byte("aei"), nil); err != nil || len(out) == 0 {
		t.Fatalf("call: %s, %v", out, err)
	}
	if _, _, err := mods.Get(ctx, "bad", []byte("not wasm"), runtime.ModuleOptions{}); err == nil {
		t.Fatal("compiling garbage succeeded")
	}
	mods.Close(ctx)
	if _, hit, err := mods.Get(ctx, "a", wasm, runtime.ModuleOptions{}); err != nil || hit {
		t.Fatalf("after Close, a key is compiled anew: hit %v, %v", hit, err)
	}
	mods.Close(ctx)
}
