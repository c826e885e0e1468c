package runtime

import (
	"bytes"
	"context"
	"encoding/json"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero/api"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/wire"
	"github.com/tollgate-dev/tollgate/internal/fuel"
	"github.com/tollgate-dev/tollgate/internal/grant"
)

// DataSource serves the records host functions return. The host implements
// it over the registry; the runtime adds grants, limits and metering.
type DataSource interface {
	Search(ctx context.Context, datanet, query string, limit int) ([]abi.Record, error)
	Get(ctx context.Context, datanet, id string) (abi.Record, error)
	CorpusMatch(ctx context.Context, datanet, text string, minTokens int) ([]abi.Span, error)
}

// Env is what one call's plugin may reach.
type Env struct {
	Data DataSource
	// Grants is the datanets the plugin may read.
	Grants grant.List
	// CorpusMatch lets the plugin call corpus_match (attribution plugins).
	CorpusMatch bool
	// Meter sees every record a host function would return, before the
	// plugin does. A record it refuses (say, the caller cannot pay for it)
	// is not returned: a search returns the records before it, or the
	// refusal as the call's error envelope if there are none.
	Meter func(abi.Record) error
	// Config is the plugin's Extism config (read with the PDKs' GetConfig).
	Config map[string]string
	// Models answers model_generate, for the models in ModelGrants, each
	// up to its cap of tokens per call. The time it takes counts against
	// the plugin's wall-clock limit, not its fuel.
	Models      ModelCaller
	ModelGrants grant.Models
	// Session names the caller, for modules that reuse an instance within
	// one session (ModuleOptions.ReuseWithinSession).
	Session string
	// FuelUsed is set by the call: the fuel the plugin spent.
	FuelUsed uint64
}

// ModelCaller runs the model calls a plugin makes; the host implements it
// and charges for them. Its request has a granted model and a MaxTokens
// within the grant's cap.
type ModelCaller interface {
	Generate(ctx context.Context, req abi.GenerateRequest) (abi.GenerateResponse, error)
}

// MaxSearchLimit bounds the records one datanet_search returns.
const MaxSearchLimit = 100

type stateKey struct{}

// callState is one call's counters. A call runs on one goroutine, so it needs
// no lock.
type callState struct {
	env       *Env
	limits    Limits
	inst      *instance
	hostCalls int
	records   int
	fatal     *abi.Error
	// outputSet is whether the plugin called output_set, and with what
	// length (see output.go).
	outputSet    bool
	outputSetLen uint64
	out          *bytes.Buffer // response encoding, reused across host calls
	enc          *json.Encoder
}

func newCallState(env *Env, limits Limits, inst *instance) *callState {
	st := &callState{env: env, limits: limits, inst: inst, out: &bytes.Buffer{}}
	st.enc = json.NewEncoder(st.out)
	return st
}

// abort ends the call: the panic unwinds through wazero, which returns it as
// the call's error, and Call reports fatal.
func (st *callState) abort(err *abi.Error) {
	st.fatal = err
	panic(err)
}

func (m *Module) hostFunctions() []extism.HostFunction {
	fns := []extism.HostFunction{
		extism.NewHostFunctionWithStack(abi.FnDatanetSearch, hostCall(search), []extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR}),
		extism.NewHostFunctionWithStack(abi.FnDatanetGet, hostCall(get), []extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR}),
		extism.NewHostFunctionWithStack(abi.FnCorpusMatch, hostCall(corpusMatch), []extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR}),
		extism.NewHostFunctionWithStack(abi.FnModelGenerate, hostCall(modelGenerate), []extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR}),
		extism.NewHostFunctionWithStack(configGetName, configGet, []extism.ValueType{extism.ValueTypePTR}, []extism.ValueType{extism.ValueTypePTR}),
		extism.NewHostFunctionWithStack(refillName, refillFuel, []extism.ValueType{extism.ValueTypeI64}, []extism.ValueType{extism.ValueTypeI64}),
	}
	for i := range fns {
		fns[i].SetNamespace(abi.HostNamespace)
	}
	return fns
}

// The go-sdk's config_get makes two wazero call engines each time (one to
// read the key's length, one to allocate the value), which made it a
// standard-Go agent's slowest call. Compiling a plugin points its
// config_get import at configGet, which does what the go-sdk's does with
// the kernel functions the instance looked up once
// (TestCallsMatchTheGoSDK holds the two to the same results).
const configGetName = "tollgate_config_get"

var configGetRename = fuel.Rename{Module: "extism:host/env", Name: "config_get", ToModule: abi.HostNamespace, ToName: configGetName}

// configGet returns, in a new block, the call's config value for the key
// in the block at stack[0], or 0 when there is none.
func configGet(ctx context.Context, _ *extism.CurrentPlugin, stack []uint64) {
	st, _ := ctx.Value(stateKey{}).(*callState)
	if st == nil {
		panic(abi.Errorf(abi.CodeInternal, "config_get called outside a runtime call"))
	}
	k := st.kernel(ctx)
	k.stack[0] = stack[0]
	if err := k.length.CallWithStack(context.Background(), k.stack[:]); err != nil {
		st.abort(abi.Wrap(abi.CodeBadPointer, err, "config_get"))
	}
	key, ok := k.mod.Memory().Read(uint32(stack[0]), uint32(k.stack[0]))
	if !ok {
		st.abort(abi.Errorf(abi.CodeBadPointer, "config_get: offset %#x is not a memory block", stack[0]))
	}
	value, found := st.env.Config[string(key)]
	if !found {
		stack[0] = 0
		return
	}
	// As the go-sdk does, even for an empty value: whatever block the
	// kernel gives for it.
	k.stack[0] = uint64(len(value))
	if err := k.alloc.CallWithStack(context.Background(), k.stack[:]); err != nil || (k.stack[0] == 0 && len(value) > 0) {
		st.abort(abi.Errorf(abi.CodeMemoryLimit, "config_get: no memory for a %d-byte value", len(value)))
	}
	off := k.stack[0]
	if !k.mod.Memory().WriteString(uint32(off), value) {
		st.abort(abi.Errorf(abi.CodeMemoryLimit, "config_get: no memory for a %d-byte value", len(value)))
	}
	stack[0] = off
}

// handler serves one host function: request bytes in, response value out.
type handler func(ctx context.Context, st *callState, req []byte) any

func hostCall(h handler) extism.HostFunctionStackCallback {
	return func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
		st, _ := ctx.Value(stateKey{}).(*callState)
		if st == nil {
			panic(abi.Errorf(abi.CodeInternal, "host function called outside a runtime call"))
		}
		st.hostCalls++
		if st.hostCalls > st.limits.MaxHostCalls {
			st.abort(abi.Errorf(abi.CodeHostCallLimit, "more than %d host calls", st.limits.MaxHostCalls))
		}
		k := st.kernel(ctx)
		req, ok := k.read(stack[0])
		if !ok {
			st.abort(abi.Errorf(abi.CodeBadPointer, "offset %#x is not a live memory block", stack[0]))
		}
		resp := h(ctx, st, req)
		st.out.Reset()
		if rr, ok := resp.(abi.RecordsResponse); ok && wire.IsBinary(req) {
			st.out.Write(wire.AppendRecordsResponse(st.out.AvailableBuffer(), rr))
		} else if err := st.enc.Encode(resp); err != nil {
			st.abort(abi.Wrap(abi.CodeInternal, err, "encode response"))
		}
		off, ok := k.write(st.out.Bytes())
		if !ok {
			st.abort(abi.Errorf(abi.CodeMemoryLimit, "no memory for a %d-byte response", st.out.Len()))
		}
		stack[0] = off
	}
}

// kernel calls the Extism kernel's length and alloc directly. The go-sdk's
// CurrentPlugin looks each export up per call, and every lookup allocates a
// fresh wazero call engine; these are looked up once per instance.
type kernel struct {
	mod    api.Module
	length api.Function
	alloc  api.Function
	stack  [1]uint64
}

func (st *callState) kernel(ctx context.Context) *kernel {
	if st.inst.kernel == nil {
		mod := st.inst.kern // seen by the fuel listener, during initialisation too
		if mod == nil {
			mod, _ = ctx.Value(extism.PluginCtxKey("extism")).(api.Module)
		}
		if mod == nil {
			panic(abi.Errorf(abi.CodeInternal, "host function called before the instance's kernel was seen"))
		}
		st.inst.kernel = &kernel{mod: mod, length: mod.ExportedFunction("length"), alloc: mod.ExportedFunction("alloc")}
	}
	return st.inst.kernel
}

// read returns a view of the block at off, valid until the next kernel call.
// Kernel calls take a context without cancellation: they are short, and a
// cancellable context would make wazero start a watcher goroutine per call.
func (k *kernel) read(off uint64) ([]byte, bool) {
	k.stack[0] = off
	if err := k.length.CallWithStack(context.Background(), k.stack[:]); err != nil || k.stack[0] == 0 {
		return nil, false
	}
	return k.mod.Memory().Read(uint32(off), uint32(k.stack[0]))
}

func (k *kernel) write(b []byte) (uint64, bool) {
	k.stack[0] = uint64(len(b))
	if err := k.alloc.CallWithStack(context.Background(), k.stack[:]); err != nil || k.stack[0] == 0 {
		return 0, false
	}
	off := k.stack[0]
	return off, k.mod.Memory().Write(uint32(off), b)
}

func decode(st *callState, req []byte, v any) {
	if err := json.Unmarshal(req, v); err != nil {
		st.abort(abi.Wrap(abi.CodeBadHostCall, err, "request is not valid JSON"))
	}
}

// granted returns an error envelope's error if datanet may not be read.
func (st *callState) granted(datanet string) *abi.Error {
	if st.env.Data == nil || !st.env.Grants.Allows(datanet) {
		return abi.Errorf(abi.CodeGrantDenied, "datanet %q is not granted to this plugin", datanet)
	}
	return nil
}

// meter counts and reports records before they are handed to the plugin,
// and returns those the meter admitted: a prefix of recs.
func (st *callState) meter(recs []abi.Record) ([]abi.Record, *abi.Error) {
	if st.records+len(recs) > st.limits.MaxRecords {
		st.abort(abi.Errorf(abi.CodeRecordLimit, "more than %d records read", st.limits.MaxRecords))
	}
	if st.env.Meter == nil {
		st.records += len(recs)
		return recs, nil
	}
	for i, r := range recs {
		if err := st.env.Meter(r); err != nil {
			st.records += i
			if i == 0 {
				return nil, asError(err)
			}
			return recs[:i], nil
		}
	}
	st.records += len(recs)
	return recs, nil
}

func asError(err error) *abi.Error {
	if ae, ok := err.(*abi.Error); ok {
		return ae
	}
	return &abi.Error{Code: abi.CodeOf(err), Message: err.Error(), Cause: err}
}

// decodeBinary decodes a request in the binary encoding (wire.Mark).
func decodeBinary[T any](st *callState, req []byte, dec func([]byte) (T, error)) T {
	r, err := dec(req)
	if err != nil {
		st.abort(abi.Wrap(abi.CodeBadHostCall, err, "request"))
	}
	return r
}

// search and get answer a binary request (wire.Mark) in binary, and
// JSON in JSON (hostCall).
func search(ctx context.Context, st *callState, req []byte) any {
	var r abi.SearchRequest
	if wire.IsBinary(req) {
		r = decodeBinary(st, req, wire.DecodeSearchRequest)
	} else {
		decode(st, req, &r)
	}
	if e := st.granted(r.Datanet); e != nil {
		return abi.RecordsResponse{Error: e}
	}
	if r.Limit <= 0 || r.Limit > MaxSearchLimit {
		r.Limit = MaxSearchLimit
	}
	recs, err := st.env.Data.Search(ctx, r.Datanet, r.Query, r.Limit)
	if err != nil {
		return abi.RecordsResponse{Error: asError(err)}
	}
	if len(recs) > r.Limit {
		recs = recs[:r.Limit]
	}
	recs, e := st.meter(recs)
	if e != nil {
		return abi.RecordsResponse{Error: e}
	}
	return abi.RecordsResponse{Records: recs}
}

func get(ctx context.Context, st *callState, req []byte) any {
	var r abi.GetRequest
	if wire.IsBinary(req) {
		r = decodeBinary(st, req, wire.DecodeGetRequest)
	} else {
		decode(st, req, &r)
	}
	if e := st.granted(r.Datanet); e != nil {
		return abi.RecordsResponse{Error: e}
	}
	rec, err := st.env.Data.Get(ctx, r.Datanet, r.ID)
	if err != nil {
		return abi.RecordsResponse{Error: asError(err)}
	}
	recs, e := st.meter([]abi.Record{rec})
	if e != nil {
		return abi.RecordsResponse{Error: e}
	}
	return abi.RecordsResponse{Records: recs}
}

func corpusMatch(ctx context.Context, st *callState, req []byte) any {
	var r abi.MatchRequest
	decode(st, req, &r)
	if !st.env.CorpusMatch {
		return abi.MatchResponse{Error: abi.Errorf(abi.CodeGrantDenied, "corpus_match is for attribution plugins")}
	}
	if e := st.granted(r.Datanet); e != nil {
		return abi.MatchResponse{Error: e}
	}
	spans, err := st.env.Data.CorpusMatch(ctx, r.Datanet, r.Text, r.MinTokens)
	if err != nil {
		return abi.MatchResponse{Error: asError(err)}
	}
	return abi.MatchResponse{Spans: spans}
}

func modelGenerate(ctx context.Context, st *callState, req []byte) any {
	var r abi.GenerateRequest
	decode(st, req, &r)
	limit, ok := st.env.ModelGrants.Cap(r.Model)
	switch {
	case st.env.Models == nil || !ok:
		return abi.GenerateResponse{Error: abi.Errorf(abi.CodeGrantDenied, "model %q is not granted to this plugin", r.Model)}
	case r.MaxTokens < 0 || r.MaxTokens > limit:
		return abi.GenerateResponse{Error: abi.Errorf(abi.CodeBadRequest, "max_tokens %d: this plugin may generate 1..%d tokens a call with %s", r.MaxTokens, limit, r.Model)}
	case r.MaxTokens == 0:
		r.MaxTokens = limit
	}
	resp, err := st.env.Models.Generate(ctx, r)
	if err != nil {
		resp.Error = asError(err)
	}
	return resp
}
