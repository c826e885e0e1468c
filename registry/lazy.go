package registry

import (
	"context"

	"github.com/tollgate-dev/tollgate/abi"
)

// buildState is an index's progress: ready is closed once it is built, or
// once building failed (err set).
type buildState struct {
	ready chan struct{}
	err   error
}

func (b *buildState) state() *buildState { return b }

func (b *buildState) done(err error) {
	b.err = err
	close(b.ready)
}

func (b *buildState) isReady() bool {
	select {
	case <-b.ready:
		return true
	default:
		return false
	}
}

// lazyIndex returns the datanet's index from indexes, waiting for it to be
// built. The first caller makes it (fresh, registered under r.mu so that
// appends find it and queue for it) and fills it without holding r.mu; the
// build runs under the registry's context, so it stops when the registry
// closes, not when the first caller gives up. fill must call done.
func lazyIndex[T interface{ state() *buildState }](ctx context.Context, r *Registry, indexes map[string]T, datanet string, fresh func() T, fill func(context.Context, T)) (T, error) {
	var zero T
	r.mu.Lock()
	ix, ok := indexes[datanet]
	if !ok {
		if err := r.startBuild(); err != nil {
			r.mu.Unlock()
			return zero, err
		}
		ix = fresh()
		ix.state().ready = make(chan struct{})
		indexes[datanet] = ix
		r.mu.Unlock()
		fill(r.ctx, ix)
		r.builds.Done()
	} else {
		r.mu.Unlock()
	}
	select {
	case <-ix.state().ready:
	case <-ctx.Done():
		return zero, abi.FromContext(ctx.Err())
	}
	if err := ix.state().err; err != nil {
		if r.ctx.Err() != nil {
			// The build stopped because the registry is closing.
			return zero, abi.Wrap(abi.CodeUnavailable, err, "registry is closing")
		}
		return zero, err
	}
	return ix, nil
}

// dropIndex forgets a failed or out-of-step index, so that the next use
// builds it again. The caller holds r.mu.
func dropIndex[T comparable](indexes map[string]T, datanet string, ix T) {
	if indexes[datanet] == ix {
		delete(indexes, datanet)
	}
}
