package attribution_test

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// TestAccessPluginIsDeterministic runs the shipped access plugin twice on one
// runtime and once on another, and gets the same validated result each time.
func TestAccessPluginIsDeterministic(t *testing.T) {
	wasm, err := os.ReadFile("../plugins/access/access.wasm")
	if err != nil {
		t.Fatal(err)
	}
	p := &registry.Plugin{Manifest: registry.Manifest{Name: "builtin/access", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: "x"}, Wasm: wasm}
	data := records{"r1": {Datanet: "facts", ID: "r1", Contributor: "0xA"}, "r2": {Datanet: "facts", ID: "r2", Contributor: "0xB"}}
	req := abi.AttributeRequest{Invocation: "inv", Output: "answer", Accesses: []abi.Access{
		{Datanet: "facts", Record: "r2", Contributor: "0xB", Bytes: 30},
		{Datanet: "facts", Record: "r1", Contributor: "0xA", Bytes: 10},
		{Datanet: "facts", Record: "r2", Contributor: "0xB", Bytes: 30},
	}}
	run := func() *attribution.Result {
		rt, err := runtime.New(runtime.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close(context.Background())
		r := attribution.NewRunner(rt)
		defer r.Close(context.Background())
		res, err := r.Run(context.Background(), p, req, data, []string{"facts"})
		if err != nil {
			t.Fatal(err)
		}
		again, err := r.Run(context.Background(), p, req, data, []string{"facts"})
		if err != nil || !reflect.DeepEqual(res, again) {
			t.Fatalf("second run on the same runtime differs: %+v vs %+v (%v)", res, again, err)
		}
		return res
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("runs on two runtimes differ: %+v vs %+v", a, b)
	}
	want := []attribution.Weight{{Datanet: "facts", Record: "r1", Contributor: "0xA", Weight: 10}, {Datanet: "facts", Record: "r2", Contributor: "0xB", Weight: 60}}
	if a.Method != "access-bytes/v1" || !reflect.DeepEqual(a.Weights, want) {
		t.Fatalf("result %+v", a)
	}
}

// TestExamplePositionPlugin runs the example attribution plugin a newcomer
// copies, through the host's validation.
func TestExamplePositionPlugin(t *testing.T) {
	wasm, err := os.ReadFile("../examples/attribution/position/position.wasm")
	if err != nil {
		t.Fatal(err)
	}
	p := &registry.Plugin{Manifest: registry.Manifest{Name: "you/position", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: "position"}, Wasm: wasm}
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	r := attribution.NewRunner(rt)
	defer r.Close(context.Background())
	data := records{"r1": {Datanet: "facts", ID: "r1", Contributor: "0xA"}, "r2": {Datanet: "facts", ID: "r2", Contributor: "0xB"}}
	res, err := r.Run(context.Background(), p, abi.AttributeRequest{Accesses: []abi.Access{
		{Datanet: "facts", Record: "r2", Contributor: "0xB"}, {Datanet: "facts", Record: "r1", Contributor: "0xA"}, {Datanet: "facts", Record: "r2", Contributor: "0xB"},
	}}, data, []string{"facts"})
	if err != nil {
		t.Fatal(err)
	}
	want := []attribution.Weight{{Datanet: "facts", Record: "r1", Contributor: "0xA", Weight: 0.5}, {Datanet: "facts", Record: "r2", Contributor: "0xB", Weight: 1}}
	if res.Method != "position/v1" || !reflect.DeepEqual(res.Weights, want) {
		t.Fatalf("result %+v", res)
	}
}
