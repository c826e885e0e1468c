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
	p := &registry.Plugin{Manifest: registry.Manifest{Name: "builtin/access", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: "x", Methods: []string{"access-bytes/v1"}}, Wasm: wasm}
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
	want := []attribution.Weight{{Datanet: "facts", Record: "r1", Contributor: "0xA", Weight: 9362}, {Datanet: "facts", Record: "r2", Contributor: "0xB", Weight: 56174}} // 10:60 of 2^16
	if a.Method != "access-bytes/v1" || !reflect.DeepEqual(a.Weights, want) {
		t.Fatalf("result %+v", a)
	}
}

// TestExamplePositionPlugin runs the example attribution plugin a newcomer
// copies, through the host's validation: its method is one its manifest
// declares, or the plugin's name if the manifest declares none, and a
// method the manifest does not declare is refused.
func TestExamplePositionPlugin(t *testing.T) {
	wasm, err := os.ReadFile("../examples/attribution/position/position.wasm")
	if err != nil {
		t.Fatal(err)
	}
	p := &registry.Plugin{Manifest: registry.Manifest{Name: "you/position", Version: "1.0.0", Kind: abi.KindAttribution, WasmSHA256: "position", Methods: []string{"position/v1"}}, Wasm: wasm}
	rt, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	r := attribution.NewRunner(rt)
	defer r.Close(context.Background())
	data := records{"r1": {Datanet: "facts", ID: "r1", Contributor: "0xA"}, "r2": {Datanet: "facts", ID: "r2", Contributor: "0xB"}}
	req := abi.AttributeRequest{Accesses: []abi.Access{
		{Datanet: "facts", Record: "r2", Contributor: "0xB"}, {Datanet: "facts", Record: "r1", Contributor: "0xA"}, {Datanet: "facts", Record: "r2", Contributor: "0xB"},
	}}
	res, err := r.Run(context.Background(), p, req, data, []string{"facts"})
	if err != nil {
		t.Fatal(err)
	}
	// 1/2 : 1 of 2^16.
	want := []attribution.Weight{{Datanet: "facts", Record: "r1", Contributor: "0xA", Weight: 21845}, {Datanet: "facts", Record: "r2", Contributor: "0xB", Weight: 43691}}
	if res.Method != "position/v1" || !reflect.DeepEqual(res.Weights, want) {
		t.Fatalf("result %+v", res)
	}
	undeclared := &registry.Plugin{Manifest: registry.Manifest{Name: "you/position", Version: "1.0.1", Kind: abi.KindAttribution, WasmSHA256: "position"}, Wasm: wasm}
	if res, err := r.Run(context.Background(), undeclared, req, data, []string{"facts"}); err != nil || res.Method != "you/position" || !reflect.DeepEqual(res.Weights, want) {
		t.Fatalf("no methods declared: %+v, %v", res, err)
	}
	other := &registry.Plugin{Manifest: registry.Manifest{Name: "you/position", Version: "1.0.2", Kind: abi.KindAttribution, WasmSHA256: "position", Methods: []string{"position/v2"}}, Wasm: wasm}
	if res, err := r.Run(context.Background(), other, req, data, []string{"facts"}); abi.CodeOf(err) != abi.CodeBadAttribution {
		t.Fatalf("an undeclared method: %+v, %v", res, err)
	}
}
