package attribution

import (
	"context"
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"sort"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/grant"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// MaxScores bounds the scores one attribution may return.
const MaxScores = 4096

// Weight is one record's validated attribution weight.
type Weight struct {
	Datanet     string `json:"datanet"`
	Record      string `json:"record"`
	Contributor string `json:"contributor"`
	// Weight is the record's share in units of 1/WeightUnits: an integer,
	// positive, and the weights of a result sum to WeightUnits.
	Weight float64 `json:"weight"`
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
	modules *runtime.Modules // by ModuleKey
}

// NewRunner returns a Runner compiling plugins with rt.
func NewRunner(rt *runtime.Runtime) *Runner {
	return &Runner{modules: runtime.NewModules(rt)}
}

func (r *Runner) module(ctx context.Context, p *registry.Plugin) (*runtime.Module, error) {
	m, _, err := r.modules.Get(ctx, ModuleKey(p), p.Wasm, runtime.ModuleOptions{Limits: RuntimeLimits(p.Manifest.Limits), Config: p.Manifest.ConfigFor(nil)})
	return m, err
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

// Run runs plugin p on req. The plugin reads only the records the agent
// read (req.Accesses, which the caller paid for): datanet_get and
// corpus_match see those records and no other, datanet_search is refused.
// Its answer must name one of the methods its manifest declares
// ([registry.Manifest.DeclaredMethods]; a manifest declaring none gets its
// name whatever the plugin says) and score only records read, with finite,
// non-negative weights, each record at most once; [Validate] then
// quantises the weights.
func (r *Runner) Run(ctx context.Context, p *registry.Plugin, req abi.AttributeRequest, data runtime.DataSource, grants grant.List) (*Result, error) {
	if p.Manifest.Kind != abi.KindAttribution {
		return nil, abi.Errorf(abi.CodeInvalidPlugin, "%s is a %s plugin, not an attribution plugin", p.Manifest.Ref(), p.Manifest.Kind)
	}
	m, err := r.module(ctx, p)
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, abi.Wrap(abi.CodeInternal, err, "encode attribution request")
	}
	env := &runtime.Env{Data: newReadsOnly(data, req.Accesses), Grants: grants, CorpusMatch: true, Config: p.Manifest.ConfigFor(nil)}
	out, err := m.Call(ctx, p.Manifest.ExportName(), in, env)
	if err != nil {
		return nil, err
	}
	var resp abi.AttributeResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, abi.Wrap(abi.CodeBadPluginOutput, err, "%s: output is not an attribution", p.Manifest.Ref())
	}
	switch declared := p.Manifest.DeclaredMethods(); {
	case len(p.Manifest.Methods) == 0:
		resp.Method = declared[0]
	case !slices.Contains(declared, resp.Method):
		return nil, abi.Errorf(abi.CodeBadAttribution, "%s answered method %.80q, which its manifest does not declare", p.Manifest.Ref(), resp.Method)
	}
	return Validate(resp, req.Accesses)
}

// WeightUnits is what a validated attribution's weights sum to: each
// record's weight is its share of the contributors' part in units of
// 1/2^16, so a receipt carries at most 16 bits per record read, however
// many bits a plugin put in its float64s.
const WeightUnits = 1 << 16

// Validate checks an attribution response against what the agent read:
// a method that is a short name, at most MaxScores scores, each on a
// record read, finite, non-negative and once. It returns the weights
// quantised to WeightUnits by largest remainder (ties to the smaller
// record id), records whose share rounds to nothing dropped, sorted by
// record. Invoke and verify both quantise here, so a re-run gives the
// same integers.
func Validate(resp abi.AttributeResponse, accesses []abi.Access) (*Result, error) {
	if len(resp.Scores) > MaxScores {
		return nil, abi.Errorf(abi.CodeBadAttribution, "%d scores, at most %d", len(resp.Scores), MaxScores)
	}
	// A record's id is the hash of its content, so the same record may be
	// read from several datanets, each copy signed by its own contributor:
	// a score on it is split equally between the copies read, never given
	// whole to whichever copy came last.
	read := map[string][]abi.Access{}
	for _, a := range accesses {
		copies := read[a.Record]
		if !slices.ContainsFunc(copies, func(c abi.Access) bool { return c.Datanet == a.Datanet }) {
			read[a.Record] = append(copies, a)
		}
	}
	if !registry.MethodRE.MatchString(resp.Method) || registry.IsHostMethod(resp.Method) {
		return nil, abi.Errorf(abi.CodeBadAttribution, "method %.80q: want up to 64 of [A-Za-z0-9._:/-], not starting failed: or fallback: (the host's)", resp.Method)
	}
	var weights []Weight
	seen := map[string]bool{}
	for _, s := range resp.Scores {
		switch {
		case math.IsNaN(s.Weight) || math.IsInf(s.Weight, 0) || s.Weight < 0:
			return nil, abi.Errorf(abi.CodeBadAttribution, "record %.80q has weight %v", s.Record, s.Weight)
		case seen[s.Record]:
			return nil, abi.Errorf(abi.CodeBadAttribution, "record %.80q scored twice", s.Record)
		}
		seen[s.Record] = true
		copies, ok := read[s.Record]
		if !ok {
			return nil, abi.Errorf(abi.CodeBadAttribution, "record %.80q was not read in this call", s.Record)
		}
		if s.Weight > 0 {
			for _, a := range copies {
				weights = append(weights, Weight{Datanet: a.Datanet, Record: s.Record, Contributor: a.Contributor, Weight: s.Weight / float64(len(copies))})
			}
		}
	}
	sort.Slice(weights, func(i, j int) bool {
		if weights[i].Record != weights[j].Record {
			return weights[i].Record < weights[j].Record
		}
		return weights[i].Datanet < weights[j].Datanet
	})
	shares := make([]Share, len(weights))
	for i, w := range weights {
		shares[i] = Share{Key: w.Record + "\x00" + w.Datanet, Weight: w.Weight}
	}
	units, _ := Split(big.NewInt(WeightUnits), shares)
	res := &Result{Method: resp.Method, Weights: make([]Weight, 0, len(weights))}
	for i, w := range weights {
		if u := units[i].Int64(); u > 0 {
			w.Weight = float64(u)
			res.Weights = append(res.Weights, w)
		}
	}
	return res, nil
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
	r.modules.Close(ctx)
}
