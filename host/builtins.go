package host

import (
	"context"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/plugins"
	"github.com/tollgate-dev/tollgate/registry"
)

// PublishBuiltins publishes the built-in plugins, signed by the operator,
// unless they already are. A built-in whose bytes changed under the same
// version is an error: published versions are immutable.
func (h *Host) PublishBuiltins(ctx context.Context) error {
	for _, b := range plugins.All() {
		ref := b.Name + "@" + b.Version
		p, err := h.reg.Load(ctx, ref)
		if err == nil {
			if p.Hash() != sha256Hex(b.Wasm) {
				return abi.Errorf(abi.CodeHashMismatch, "built-in %s changed without a new version", ref)
			}
			continue
		}
		if abi.CodeOf(err) != abi.CodeNotFound {
			return err
		}
		if _, err := h.Publish(ctx, h.operator, registry.Manifest{Name: b.Name, Version: b.Version, Kind: b.Kind, Methods: b.Methods}, b.Wasm); err != nil {
			return err
		}
	}
	return nil
}
