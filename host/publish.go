package host

import (
	"context"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// CodeTooLarge refuses a module (or, at the API's edge, a request body)
// past its size limit.
const CodeTooLarge abi.Code = "request_too_large"

// MaxModuleBytes caps a published module.
const MaxModuleBytes = 16 << 20

// PublishSigned publishes a plugin version (or a model) its publisher signed, after
// checking that the module compiles and instantiates with the host's
// functions under the manifest's limits: a module that cannot run is
// refused now, naming what it lacks, not at its first call. Work follows
// authorship: the cheap checks (size, manifest, hash, signature, reserved
// namespace, the name's owner, a new version) all come first, so only a
// publication that could be stored costs the node a compilation.
func (h *Host) PublishSigned(ctx context.Context, m registry.Manifest, sig, wasm []byte) (*registry.Plugin, error) {
	if len(wasm) > MaxModuleBytes {
		return nil, abi.Errorf(CodeTooLarge, "module is %d bytes, limit %d", len(wasm), MaxModuleBytes)
	}
	if err := h.reg.CheckPublish(ctx, m, sig, wasm); err != nil {
		return nil, err
	}
	if err := h.checkMinPrice(m); err != nil {
		return nil, err
	}
	if m.Kind == abi.KindModel {
		if err := h.checkModelServer(m); err != nil {
			return nil, err
		}
		return h.reg.Publish(ctx, m, sig, nil) // no module to compile
	}
	// Checked as it will run: an agent with the real clock and its config.
	opts := runtime.ModuleOptions{Limits: attribution.RuntimeLimits(m.Limits), Config: callConfig(m), Nondeterministic: m.Kind == abi.KindAgent}
	if err := h.rt.Check(ctx, wasm, opts); err != nil {
		return nil, err
	}
	return h.reg.Publish(ctx, m, sig, wasm)
}

// checkModelServer refuses a model on a server the node does not have,
// and one on a server published by anyone but the operator: the servers
// and their keys are the operator's, and a model on one spends them.
func (h *Host) checkModelServer(m registry.Manifest) error {
	if m.Kind != abi.KindModel || m.Model == nil || m.Model.Backend != registry.BackendOpenAI {
		return nil
	}
	if !h.models.HasServer(m.Model.Server) {
		return abi.Errorf(abi.CodeBadRequest, "%s: this node has no model server %q (serve --model-server)", m.Ref(), m.Model.Server)
	}
	if m.Publisher != h.opAddr {
		return abi.Errorf(registry.CodeReservedName, "%s: models on the node's model servers are published by its operator %s, not %s", m.Ref(), h.opAddr, m.Publisher)
	}
	return nil
}
