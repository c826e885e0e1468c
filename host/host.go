package host

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// Fees says how a call's price is divided, in basis points of the price.
// The developer gets what the protocol fee and the contributors' share leave.
type Fees struct {
	ProtocolBps    uint32
	ContributorBps uint32
}

// Default fee split.
const (
	DefaultProtocolBps    = 500  // 5%
	DefaultContributorBps = 3000 // 30%
)

// Config wires a Host. Registry, Ledger, Runtime and Operator are required;
// without Chain the host runs and records, but cannot settle.
type Config struct {
	Registry *registry.Registry
	Ledger   *ledger.Ledger
	Runtime  *runtime.Runtime
	Chain    *chain.Client
	// Operator signs built-in plugins, receives the protocol fee and posts
	// roots.
	Operator *ecdsa.PrivateKey
	Fees     Fees
	Logger   *slog.Logger
}

// Host runs invocations. It is safe for concurrent use.
type Host struct {
	reg      *registry.Registry
	led      *ledger.Ledger
	rt       *runtime.Runtime
	chain    *chain.Client
	operator *ecdsa.PrivateKey
	opAddr   string
	fees     Fees
	attr     *attribution.Runner
	logger   *slog.Logger

	mu      sync.Mutex
	modules map[string]*runtime.Module // agents by wasm sha256
}

// New returns a Host.
func New(cfg Config) (*Host, error) {
	if cfg.Registry == nil || cfg.Ledger == nil || cfg.Runtime == nil || cfg.Operator == nil {
		return nil, errors.New("host: Registry, Ledger, Runtime and Operator are required")
	}
	if cfg.Fees == (Fees{}) {
		cfg.Fees = Fees{ProtocolBps: DefaultProtocolBps, ContributorBps: DefaultContributorBps}
	}
	if cfg.Fees.ProtocolBps+cfg.Fees.ContributorBps > 10000 {
		return nil, fmt.Errorf("host: fees of %d+%d basis points exceed the price", cfg.Fees.ProtocolBps, cfg.Fees.ContributorBps)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Host{
		reg: cfg.Registry, led: cfg.Ledger, rt: cfg.Runtime, chain: cfg.Chain,
		operator: cfg.Operator, opAddr: registry.Address(cfg.Operator), fees: cfg.Fees,
		attr: attribution.NewRunner(cfg.Runtime), logger: cfg.Logger,
		modules: map[string]*runtime.Module{},
	}, nil
}

// Operator returns the operator's address.
func (h *Host) Operator() string { return h.opAddr }

// Close frees compiled plugins (not the stores, which the caller owns).
func (h *Host) Close(ctx context.Context) {
	h.attr.Close(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, m := range h.modules {
		m.Close(ctx)
		delete(h.modules, k)
	}
}

// Publish signs a manifest for wasm with key and publishes it.
func (h *Host) Publish(ctx context.Context, key *ecdsa.PrivateKey, m registry.Manifest, wasm []byte) (*registry.Plugin, error) {
	sum := sha256.Sum256(wasm)
	m.WasmSHA256 = hex.EncodeToString(sum[:])
	m.Publisher = registry.Address(key)
	sig, err := registry.SignText(key, m.SigningBytes())
	if err != nil {
		return nil, err
	}
	return h.reg.Publish(ctx, m, sig, wasm)
}

// InvokeRequest is one call of an agent.
type InvokeRequest struct {
	Caller    string // the authenticated caller's address
	Agent     string // name@version or name@latest
	Input     []byte
	RequestID string // empty: the host picks one
}

// InvokeResult is the agent's output and the committed receipt.
type InvokeResult struct {
	Output  []byte
	Receipt *ledger.Receipt
	// Replayed is true when the request id had already been answered: the
	// stored receipt and output are returned and nothing is charged again.
	Replayed bool
}

// Invoke runs one invocation; see the package documentation for the steps.
// It returns only after the receipt is durable. A call that fails before
// the commit charges nothing.
func (h *Host) Invoke(ctx context.Context, req InvokeRequest) (*InvokeResult, error) {
	caller, err := registry.CanonicalAddress(req.Caller)
	if err != nil {
		return nil, err
	}
	agent, err := h.reg.Load(ctx, req.Agent)
	if err != nil {
		return nil, err
	}
	m := agent.Manifest
	if m.Kind != abi.KindAgent {
		return nil, abi.Errorf(abi.CodeBadRequest, "%s is not an agent", m.Ref())
	}
	if agent.Yanked {
		return nil, abi.Errorf(abi.CodeNotFound, "%s was yanked", m.Ref())
	}
	datanets, err := h.grantedDatanets(ctx, m)
	if err != nil {
		return nil, err
	}
	id := receiptID(caller, req.RequestID)
	if rc, err := h.led.Receipt(ctx, id); err == nil {
		return h.replay(ctx, rc) // a retry: the same receipt, charged once
	} else if abi.CodeOf(err) != abi.CodeNotFound {
		return nil, err
	}
	price := m.PriceAmount()
	mod, err := h.agentModule(ctx, agent)
	if err != nil {
		return nil, err
	}
	// Hold the worst case (the price and every record the agent may read
	// at the dearest granted datanet's price) before the agent runs.
	worst := worstCase(datanets, mod.Limits().MaxRecords)
	res, err := h.led.Reserve(ctx, caller, worst.Add(worst, price))
	if err != nil {
		return nil, err
	}
	defer res.Release()

	var versions []ledger.DatanetVersion
	for _, name := range m.Datanets {
		d := datanets[name]
		versions = append(versions, ledger.DatanetVersion{Name: name, Version: d.Version, Root: d.Root})
	}
	// The agent and its attribution read the datanets at the versions the
	// receipt records, whatever is appended while they run.
	view := h.reg.At(versionMap(versions))
	var accesses []abi.Access
	env := &runtime.Env{
		Data:   view,
		Grants: m.Datanets,
		Meter: func(r abi.Record) {
			accesses = append(accesses, abi.Access{Datanet: r.Datanet, Record: r.ID, Contributor: r.Contributor, Bytes: len(r.Content), Content: r.Content})
		},
		Config:  map[string]string{"tollgate.datanets": strings.Join(m.Datanets, ",")},
		Session: caller,
	}
	out, err := mod.Call(ctx, m.ExportName(), req.Input, env)
	if err != nil {
		return nil, fmt.Errorf("host: %s: %w", m.Ref(), err)
	}

	attrRef := m.Attribution
	if attrRef == "" {
		attrRef = registry.DefaultAttribution
	}
	attrReq := abi.AttributeRequest{Invocation: id, Output: string(out), Accesses: accesses, Datanets: m.Datanets}
	result, attrPlugin, err := h.attribute(ctx, attrRef, attrReq, m.Datanets, view)
	if err != nil {
		return nil, err
	}
	rc, err := h.receipt(ctx, id, caller, agent, attrRef, attrPlugin, req.Input, out, accesses, result, price, datanets)
	if err != nil {
		return nil, err
	}
	rc.RequestID = req.RequestID
	rc.Datanets = versions
	if err := rc.Sign(h.operator, h.domain()); err != nil {
		return nil, err
	}
	if err := h.led.Commit(ctx, rc, out, res); err != nil {
		if abi.CodeOf(err) == abi.CodeAlreadyExists {
			// A concurrent call with the same request id committed first.
			if prev, perr := h.led.Receipt(ctx, id); perr == nil {
				return h.replay(ctx, prev)
			}
		}
		return nil, err
	}
	h.logger.Info("invoked", "id", id, "agent", m.Ref(), "caller", caller, "charged", rc.Debit(), "records", len(accesses))
	return &InvokeResult{Output: out, Receipt: rc}, nil
}

// Warm loads and compiles an agent and its attribution plugin ahead of the
// first call.
func (h *Host) Warm(ctx context.Context, ref string) error {
	p, err := h.reg.Load(ctx, ref)
	if err != nil {
		return err
	}
	if _, err = h.agentModule(ctx, p); err != nil {
		return err
	}
	attrRef := p.Manifest.Attribution
	if attrRef == "" {
		attrRef = registry.DefaultAttribution
	}
	ap, err := h.reg.Load(ctx, attrRef)
	if err != nil {
		return err
	}
	return h.attr.Warm(ctx, ap)
}

// replay answers a retried request with its committed receipt and output.
func (h *Host) replay(ctx context.Context, rc *ledger.Receipt) (*InvokeResult, error) {
	out, err := h.led.Output(ctx, rc.ID)
	if err != nil {
		return nil, err
	}
	return &InvokeResult{Output: out, Receipt: rc, Replayed: true}, nil
}

// grantedDatanets loads each datanet the agent is granted, once, and checks
// that its owner's policy still admits the agent (owners may have tightened
// it since the agent was published).
func (h *Host) grantedDatanets(ctx context.Context, m registry.Manifest) (map[string]*registry.Datanet, error) {
	out := make(map[string]*registry.Datanet, len(m.Datanets))
	for _, name := range m.Datanets {
		d, err := h.reg.Datanet(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := d.Allows(m); err != nil {
			return nil, err
		}
		out[name] = d
	}
	return out, nil
}

// worstCase is what reading maxRecords records can cost at the dearest of
// the granted datanets.
func worstCase(datanets map[string]*registry.Datanet, maxRecords int) *big.Int {
	dearest := new(big.Int)
	for _, d := range datanets {
		if p := d.Price(); p.Cmp(dearest) > 0 {
			dearest = p
		}
	}
	return dearest.Mul(dearest, big.NewInt(int64(maxRecords)))
}

// receiptID names a caller's request: the same caller retrying the same
// request id gets the same receipt; different callers never collide.
func receiptID(caller, requestID string) string {
	if requestID == "" {
		return newID()
	}
	s := sha256.Sum256([]byte(caller + "\x00" + requestID))
	return hex.EncodeToString(s[:16])
}

func (h *Host) agentModule(ctx context.Context, p *registry.Plugin) (*runtime.Module, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.modules[p.Hash()]; m != nil {
		return m, nil
	}
	m, err := h.rt.Compile(ctx, p.Wasm, runtime.ModuleOptions{
		Limits: limitsOf(p.Manifest.Limits), Nondeterministic: true, ReuseWithinSession: p.Manifest.ReuseWithinCaller,
	})
	if err != nil {
		return nil, fmt.Errorf("host: compile %s: %w", p.Manifest.Ref(), err)
	}
	h.modules[p.Hash()] = m
	return m, nil
}

// attribute runs the attribution plugin; if it fails, the accesses are
// weighted by bytes read instead, and the receipt's method says so.
func (h *Host) attribute(ctx context.Context, ref string, req abi.AttributeRequest, grants []string, data runtime.DataSource) (*attribution.Result, *registry.Plugin, error) {
	p, err := h.reg.Load(ctx, ref)
	if err == nil {
		var res *attribution.Result
		if res, err = h.attr.Run(ctx, p, req, data, grants); err == nil {
			return res, p, nil
		}
	}
	h.logger.Warn("attribution failed, weighting by bytes read", "plugin", ref, "err", err)
	res, verr := attribution.Validate(ctx, attribution.ByBytes(req.Accesses), req.Accesses, data, grants)
	if verr != nil {
		return nil, nil, verr
	}
	res.Method = fmt.Sprintf("fallback:%s (%s)", res.Method, abi.CodeOf(err))
	return res, p, nil
}

func (h *Host) receipt(ctx context.Context, id, caller string, agent *registry.Plugin, attrRef string, attrPlugin *registry.Plugin,
	in, out []byte, accesses []abi.Access, res *attribution.Result, price *big.Int, datanets map[string]*registry.Datanet) (*ledger.Receipt, error) {
	rc := &ledger.Receipt{
		ID: id, Caller: caller, Agent: agent.Manifest.Ref(), AgentHash: agent.Hash(),
		Attribution: attrRef, Method: res.Method,
		InputHash: sha256Hex(in), OutputHash: sha256Hex(out), Time: time.Now().UTC(),
	}
	if attrPlugin != nil {
		rc.AttributionHash = attrPlugin.Hash()
	}
	var post []ledger.Posting
	credit := func(acct, kind string, amt *big.Int, memo string) {
		if amt.Sign() > 0 {
			post = append(post, ledger.Posting{Account: acct, Kind: kind, Amount: amt, Memo: memo})
		}
	}
	debit := new(big.Int).Set(price)
	prices := map[string]*big.Int{}
	for _, a := range accesses {
		p, ok := prices[a.Datanet]
		if !ok {
			d := datanets[a.Datanet]
			if d == nil {
				var err error
				if d, err = h.reg.Datanet(ctx, a.Datanet); err != nil {
					return nil, err
				}
			}
			p = d.Price()
			prices[a.Datanet] = p
		}
		rc.Accesses = append(rc.Accesses, ledger.Access{Datanet: a.Datanet, Record: a.Record, Contributor: a.Contributor, Bytes: a.Bytes, Fee: p})
		debit.Add(debit, p)
	}
	for _, w := range res.Weights {
		rc.Scores = append(rc.Scores, ledger.Score{Record: w.Record, Contributor: w.Contributor, Weight: w.Weight})
	}
	protocol := bps(price, h.fees.ProtocolBps)
	contributors := bps(price, h.fees.ContributorBps)
	shares := res.Shares()
	parts, ok := attribution.Split(contributors, shares)
	if !ok {
		// Nobody's data shaped the output: the developer keeps that share.
		contributors = new(big.Int)
	}
	developer := new(big.Int).Sub(price, protocol)
	developer.Sub(developer, contributors)

	post = append(post, ledger.Posting{Account: caller, Kind: ledger.KindCall, Amount: new(big.Int).Neg(debit)})
	credit(agent.Manifest.Publisher, ledger.KindDeveloper, developer, "")
	credit(h.opAddr, ledger.KindProtocol, protocol, "")
	for _, a := range rc.Accesses {
		credit(a.Contributor, ledger.KindAccess, a.Fee, a.Record)
	}
	if ok {
		for i, s := range shares {
			credit(s.Key, ledger.KindAttribution, parts[i], "")
		}
	}
	rc.Postings = post
	return rc, nil
}

// limitsOf turns a manifest's limits into the runtime's; the runtime caps
// them with the operator's maxima.
func limitsOf(l *registry.Limits) runtime.Limits {
	if l == nil {
		return runtime.Limits{}
	}
	return runtime.Limits{
		MaxMemoryPages: l.MemoryPages, Timeout: time.Duration(l.TimeoutMillis) * time.Millisecond,
		MaxInputBytes: l.MaxInputBytes, MaxOutputBytes: l.MaxOutputBytes, MaxHostCalls: l.MaxHostCalls, MaxRecords: l.MaxRecords,
	}
}

func bps(amount *big.Int, bps uint32) *big.Int {
	v := new(big.Int).Mul(amount, big.NewInt(int64(bps)))
	return v.Quo(v, big.NewInt(10000))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// versionMap returns a receipt's datanet versions by name.
func versionMap(vs []ledger.DatanetVersion) map[string]uint64 {
	m := make(map[string]uint64, len(vs))
	for _, v := range vs {
		m[v.Name] = v.Version
	}
	return m
}
