package runtime

import (
	"context"
	"sync"
)

// Modules keeps compiled modules by a key the caller chooses (a plugin's
// name, version and hash), compiling each once. The agents a node runs
// and the attribution plugins it runs each keep one; the compiled code
// underneath is shared by the Runtime's compilation cache. It is safe for
// concurrent use.
type Modules struct {
	rt *Runtime

	mu   sync.Mutex
	byID map[string]*Module
}

// NewModules returns an empty set of modules compiled with rt.
func NewModules(rt *Runtime) *Modules {
	return &Modules{rt: rt, byID: map[string]*Module{}}
}

// Get returns the module kept under key, compiling wasm with opts the
// first time; hit says whether it was kept already.
func (m *Modules) Get(ctx context.Context, key string, wasm []byte, opts ModuleOptions) (mod *Module, hit bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mod := m.byID[key]; mod != nil {
		return mod, true, nil
	}
	mod, err = m.rt.Compile(ctx, wasm, opts)
	if err != nil {
		return nil, false, err
	}
	m.byID[key] = mod
	return mod, false, nil
}

// Close closes every module kept.
func (m *Modules) Close(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, mod := range m.byID {
		mod.Close(ctx)
		delete(m.byID, k)
	}
}
