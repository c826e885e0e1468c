package model

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

// Request is one completion a model is asked for.
type Request struct {
	Prompt      string
	MaxTokens   int
	Temperature float64
	Seed        uint64
	Stop        []string
}

// Result is a completion: its text, its token counts in the model's
// tokenizer, why it ended, and how many of its tokens each training record
// made.
type Result struct {
	Text      string
	TokensIn  int
	TokensOut int
	Finish    string // "length", "stop" or "end"
	Shares    []ledger.TokenShare
}

// PromptText is the text a model continues for r: its Prompt, or its
// messages' contents one per line.
func PromptText(r abi.GenerateRequest) string {
	if len(r.Messages) == 0 {
		return r.Prompt
	}
	parts := make([]string, len(r.Messages))
	for i, m := range r.Messages {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n")
}

// Backend runs one model.
type Backend interface {
	// PromptTokens counts the tokens of prompt, as the model will be
	// charged for them, before it runs: what a call's worst case is
	// reserved from.
	PromptTokens(prompt string) int
	// Generate runs one completion. A backend that fails after using
	// tokens returns what it used with the error.
	Generate(ctx context.Context, req Request) (Result, error)
}

// Records lists a datanet's records at a version, in the order they were
// added: what a model is built from. The registry is one.
type Records interface {
	RecordsAt(ctx context.Context, datanet string, at, after uint64, limit int) ([]registry.Record, uint64, error)
}

// Source is what models are built from and attributed against: the
// training records, and a view of the datanets at given versions. A
// registry is one ([RegistrySource]).
type Source interface {
	Records
	At(versions map[string]uint64) Matcher
}

// Cache keeps the backends of the models called, built once per manifest
// and shared by every call. It is safe for concurrent use.
type Cache struct {
	src     Source
	servers map[string]Server
	max     int

	mu      sync.Mutex
	entries map[string]*entry // by manifest hash
	order   []string          // least recently built first
}

type entry struct {
	done chan struct{}
	b    Backend
	err  error
}

// DefaultCacheSize is how many built models a Cache keeps.
const DefaultCacheSize = 4

// NewCache returns a cache building models from src, calling the
// OpenAI-compatible servers by name, keeping at most max models built (0:
// DefaultCacheSize).
func NewCache(src Source, servers map[string]Server, max int) *Cache {
	if max <= 0 {
		max = DefaultCacheSize
	}
	return &Cache{src: src, servers: servers, max: max, entries: map[string]*entry{}}
}

// HasServer reports whether the cache calls a server of that name.
func (c *Cache) HasServer(name string) bool {
	_, ok := c.servers[name]
	return ok
}

// PromptTokens counts a prompt's tokens as model spec will be charged for
// them, without building the model: what a call's worst case is held from
// before anything runs.
func PromptTokens(spec *registry.ModelSpec, prompt string) int {
	if spec.Backend == registry.BackendInfgram {
		return infgramPromptTokens(prompt)
	}
	return len(prompt) + promptOverhead
}

// Backend returns the backend of model p, building it on first use; calls
// for a model being built wait for it. The models least recently used are
// the ones dropped.
func (c *Cache) Backend(ctx context.Context, p *registry.Plugin) (Backend, error) {
	m := p.Manifest
	if m.Kind != abi.KindModel || m.Model == nil {
		return nil, abi.Errorf(abi.CodeBadRequest, "%s is not a model", m.Ref())
	}
	key := p.ManifestHash()
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok {
		c.touch(key)
	} else {
		e = &entry{done: make(chan struct{})}
		c.entries[key] = e
		c.order = append(c.order, key)
		if len(c.order) > c.max {
			delete(c.entries, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	if !ok {
		e.b, e.err = c.build(context.WithoutCancel(ctx), m)
		if e.err != nil {
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key) // a failed build is tried again next time
				c.order = slices.DeleteFunc(c.order, func(k string) bool { return k == key })
			}
			c.mu.Unlock()
		}
		close(e.done)
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, abi.FromContext(ctx.Err())
	}
	return e.b, e.err
}

// touch makes key the most recently used; c.mu must be held.
func (c *Cache) touch(key string) {
	if i := slices.Index(c.order, key); i >= 0 {
		c.order = append(append(c.order[:i:i], c.order[i+1:]...), key)
	}
}

func (c *Cache) build(ctx context.Context, m registry.Manifest) (Backend, error) {
	switch m.Model.Backend {
	case registry.BackendInfgram:
		return BuildInfgram(ctx, c.src, m.Model)
	case registry.BackendOpenAI:
		s, ok := c.servers[m.Model.Server]
		if !ok {
			return nil, abi.Errorf(abi.CodeModelFailed, "%s runs on the OpenAI-compatible server %q, which this node does not have", m.Ref(), m.Model.Server)
		}
		return NewOpenAI(s, m.Model, c.src.At(m.Model.TrainingVersions())), nil
	}
	return nil, fmt.Errorf("model: %s: unknown backend %q", m.Ref(), m.Model.Backend)
}

// RegistrySource is a registry as a [Source].
func RegistrySource(r *registry.Registry) Source { return registrySource{r} }

type registrySource struct{ *registry.Registry }

func (s registrySource) At(versions map[string]uint64) Matcher { return s.Registry.At(versions) }
