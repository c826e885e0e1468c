package attribution

import (
	"context"
	"fmt"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/grant"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// FallbackPrefix starts the method of a result that weighs records by the
// bytes read because the attribution plugin failed.
const FallbackPrefix = "fallback:"

// RunOrFallback runs the attribution plugin p; if it fails, the accesses
// are weighted by bytes read instead, so the contributors' share is never
// lost, and the result's method says so ("fallback:bytes (code)"). The
// node and the verifier both attribute through it, so a re-run falls back
// exactly when the original did. The plugin's failure, if any, is
// returned as pluginErr for the caller to log.
func (r *Runner) RunOrFallback(ctx context.Context, p *registry.Plugin, req abi.AttributeRequest, data runtime.DataSource, grants grant.List) (res *Result, pluginErr error, err error) {
	res, pluginErr = r.Run(ctx, p, req, data, grants)
	if pluginErr == nil {
		return res, nil, nil
	}
	res, err = Validate(ByBytes(req.Accesses), req.Accesses)
	if err != nil {
		return nil, pluginErr, err
	}
	res.Method = fmt.Sprintf("%s%s (%s)", FallbackPrefix, res.Method, abi.CodeOf(pluginErr))
	return res, pluginErr, nil
}
