package attribution

import (
	"context"
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// MaxScores bounds the scores one attribution may return.
const MaxScores = 4096

// Weight is one record's validated attribution weight.
type Weight struct {
	Datanet     string  `json:"datanet"`
	Record      string  `json:"record"`
	Contributor string  `json:"contributor"`
	Weight      float64 `json:"weight"`
}

// Result is a validated attribution.
type Result struct {
	Method  string   `json:"method"`
	Weights []Weight `json:"weights"` // by record id
}

// Shares returns the result's weights summed by contributor, by address.
func (r *Result) Shares() []Share {
	by := map[string]float64{}
	for _, w := range r.Weights {
		by[w.Contributor] += w.Weight
	}
	out := make([]Share, 0, len(by))
	for k, w := range by {
		out = append(out, Share{Key: k, Weight: w})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Runner runs attribution plugins. Plugins run deterministically: no clock,
// no randomness, no files, no network. It is safe for concurrent use.
type Runner struct {
	rt *runtime.Runtime

	mu      sync.Mutex
	modules map[string]*runtime.Module // by ModuleKey
}

// NewRunner returns a Runner compiling plugins with rt.
func NewRunner(rt *runtime.Runtime) *Runner {
	return &Runner{rt: rt, modules: map[string]*runtime.Module{}}
}

func (r *Runner) module(ctx context.Context, p *registry.Plugin) (*runtime.Module, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := ModuleKey(p)
	if m := r.modules[key]; m != nil {
		return m, nil
	}
	m, err := r.rt.Compile(ctx, p.Wasm, runtime.ModuleOptions{Limits: RuntimeLimits(p.Manifest.Limits), Config: p.Manifest.ConfigFor(nil)})
	if err != nil {
		return nil, err
	}
	r.modules[key] = m
	return m, nil
}

// ModuleKey names the module a plugin runs as: its manifest and its bytes.
// Two manifests publishing the same bytes get modules of their own, each
// with its own limits and its own instances; the compiled code is shared
// underneath by the runtime's compilation cache.
func ModuleKey(p *registry.Plugin) string { return p.Manifest.Ref() + "#" + p.Hash() }

// RuntimeLimits turns a manifest's limits into the runtime's; the runtime
// caps them with the operator's maxima.
func RuntimeLimits(l *registry.Limits) runtime.Limits {
	if l == nil {
		return runtime.Limits{}
	}
	return runtime.Limits{
		MaxMemoryPages: l.MemoryPages, Timeout: time.Duration(l.TimeoutMillis) * time.Millisecond,
		MaxInputBytes: l.MaxInputBytes, MaxOutputBytes: l.MaxOutputBytes, MaxHostCalls: l.MaxHostCalls, MaxRecords: l.MaxRecords,
	}
}

// Warm compiles p ahead of its first run.
func (r *Runner) Warm(ctx context.Context, p *registry.Plugin) error {
	_, err := r.module(ctx, p)
	return err
}

// Run runs plugin p on req. The plugin may read the granted datanets through
// data (unmetered: attribution is the host's work, not the caller's). Every
// score must name a record the agent read or one that exists in a granted
// datanet, with a finite, non-negative weight, each record at most once.
func (r *Runner) Run(ctx context.Context, p *registry.Plugin, req abi.AttributeRequest, data runtime.DataSource, grants []string) (*Result, error) {
	if p.Manifest.Kind != abi.KindAttribution {
		return nil, abi.Errorf(abi.CodeInvalidPlugin, "%s is a %s plugin, not an attribution plugin", p.Manifest.Ref(), p.Manifest.Kind)
	}
	m, err := r.module(ctx, p)
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, abi.Errorf(abi.CodeInternal, "encode attribution request: %v", err)
	}
	out, err := m.Call(ctx, p.Manifest.ExportName(), in, &runtime.Env{Data: data, Grants: grants, CorpusMatch: true, Config: p.Manifest.ConfigFor(nil)})
	if err != nil {
		return nil, err
	}
	var resp abi.AttributeResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, abi.Errorf(abi.CodeBadPluginOutput, "%s: output is not an attribution: %v", p.Manifest.Ref(), err)
	}
	return Validate(ctx, resp, req.Accesses, data, grants)
}

// methodRE is what an attribution plugin may call its method: a short
// name, never free text, since it is signed into every receipt.
var methodRE = regexp.MustCompile(`^[A-Za-z0-9._:/-]{0,64}$`)

// Validate checks an attribution response against what the agent read and
// what the granted datanets hold, and returns it sorted by record.
func Validate(ctx context.Context, resp abi.AttributeResponse, accesses []abi.Access, data runtime.DataSource, grants []string) (*Result, error) {
	if len(resp.Scores) > MaxScores {
		return nil, abi.Errorf(abi.CodeBadAttribution, "%d scores, at most %d", len(resp.Scores), MaxScores)
	}
	read := map[string]abi.Access{}
	for _, a := range accesses {
		read[a.Record] = a
	}
	if !methodRE.MatchString(resp.Method) || strings.HasPrefix(resp.Method, "failed:") || strings.HasPrefix(resp.Method, "fallback:") {
		return nil, abi.Errorf(abi.CodeBadAttribution, "method %.80q: want up to 64 of [A-Za-z0-9._:/-], not starting failed: or fallback: (the host's)", resp.Method)
	}
	res := &Result{Method: resp.Method, Weights: make([]Weight, 0, len(resp.Scores))}
	seen := map[string]bool{}
	for _, s := range resp.Scores {
		switch {
		case math.IsNaN(s.Weight) || math.IsInf(s.Weight, 0) || s.Weight < 0:
			return nil, abi.Errorf(abi.CodeBadAttribution, "record %s has weight %v", s.Record, s.Weight)
		case seen[s.Record]:
			return nil, abi.Errorf(abi.CodeBadAttribution, "record %s scored twice", s.Record)
		}
		seen[s.Record] = true
		if s.Weight == 0 {
			continue
		}
		if a, ok := read[s.Record]; ok {
			res.Weights = append(res.Weights, Weight{Datanet: a.Datanet, Record: s.Record, Contributor: a.Contributor, Weight: s.Weight})
			continue
		}
		rec, err := find(ctx, data, grants, s.Record)
		if err != nil {
			return nil, err
		}
		res.Weights = append(res.Weights, Weight{Datanet: rec.Datanet, Record: s.Record, Contributor: rec.Contributor, Weight: s.Weight})
	}
	sort.Slice(res.Weights, func(i, j int) bool { return res.Weights[i].Record < res.Weights[j].Record })
	return res, nil
}

func find(ctx context.Context, data runtime.DataSource, grants []string, id string) (abi.Record, error) {
	if data != nil {
		for _, d := range grants {
			if rec, err := data.Get(ctx, d, id); err == nil {
				return rec, nil
			} else if abi.CodeOf(err) != abi.CodeNotFound {
				return abi.Record{}, err
			}
		}
	}
	return abi.Record{}, abi.Errorf(abi.CodeBadAttribution, "record %s is in no granted datanet", id)
}

// ByBytes is the attribution rule of the built-in access plugin, used as the
// fallback when an attribution plugin fails: every record read is weighted by
// the bytes read.
func ByBytes(accesses []abi.Access) abi.AttributeResponse {
	bytes := map[string]int{}
	for _, a := range accesses {
		bytes[a.Record] += a.Bytes
	}
	resp := abi.AttributeResponse{Method: "access-bytes/v1"}
	for id, n := range bytes {
		resp.Scores = append(resp.Scores, abi.Score{Record: id, Weight: float64(n)})
	}
	sort.Slice(resp.Scores, func(i, j int) bool { return resp.Scores[i].Record < resp.Scores[j].Record })
	return resp
}

// Close frees the compiled plugins.
func (r *Runner) Close(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for h, m := range r.modules {
		m.Close(ctx)
		delete(r.modules, h)
	}
}
