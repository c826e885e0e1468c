//go:build wasip1

// Package model is how a Go agent calls a model it is granted
// ([abi.FnModelGenerate]). It is a package of its own, beside package
// guest, so that plugins which call no model are built to the same bytes
// as before models existed.
package model

import (
	"encoding/json"

	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi"
)

//go:wasmimport extism:host/user model_generate
func hostModelGenerate(uint64) uint64

// Generate asks a model the agent's manifest grants for a completion. The
// tokens are charged to the caller, and pay the model's publisher and the
// records the model was built from.
func Generate(req abi.GenerateRequest) (abi.GenerateResponse, error) {
	var resp abi.GenerateResponse
	in, err := json.Marshal(req)
	if err != nil {
		return resp, err
	}
	mem := pdk.AllocateBytes(in)
	defer mem.Free()
	out := pdk.FindMemory(hostModelGenerate(mem.Offset()))
	defer out.Free()
	if err := json.Unmarshal(out.ReadBytes(), &resp); err != nil {
		return resp, abi.Wrap(abi.CodeBadPluginOutput, err, "model_generate answered")
	}
	if resp.Error != nil {
		return resp, resp.Error
	}
	return resp, nil
}
