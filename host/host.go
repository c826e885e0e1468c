package host

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/metrics"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/rules"
	"github.com/tollgate-dev/tollgate/runtime"
)

// Config wires a Host. Registry, Ledger, Runtime and Operator are required.
// The host runs calls and records them; settling them on-chain is the
// settle package's.
type Config struct {
	Registry *registry.Registry
	Ledger   *ledger.Ledger
	Runtime  *runtime.Runtime
	// Domain is the chain and contract receipts are signed for
	// (settle.Domain of the settlement chain; zero: chain 0 and the zero
	// address, for a node that does not settle).
	Domain ledger.Domain
	// Operator signs built-in plugins, receives the protocol fee and
	// keys the input salts.
	Operator *ecdsa.PrivateKey
	Fees     rules.Fees // zero: rules.DefaultFees
	Logger   *slog.Logger
	// Metrics, if set, counts invocations, reads and module compiles.
	Metrics *metrics.Metrics
	// MaxRunning bounds the invocations running at once (0: two per
	// core); the others wait for a turn, in order.
	MaxRunning int
	// ModelServers are the OpenAI-compatible servers models may be
	// published on, by the name their manifests give.
	ModelServers map[string]model.Server
	// MinPrice, if set, is the operator's floor on an agent's price per
	// call, in base units: every call writes a receipt the node keeps for
	// good, so an operator may refuse to serve calls nobody pays for.
	// Agents priced below it are refused at publish and at invoke.
	MinPrice *big.Int
}

// Host runs invocations. It is safe for concurrent use.
type Host struct {
	reg     *registry.Registry
	led     *ledger.Ledger
	rt      *runtime.Runtime
	domain  ledger.Domain
	metrics *metrics.Metrics

	running chan struct{} // a slot per invocation running

	operator *ecdsa.PrivateKey
	opAddr   string
	fees     rules.Fees
	attr     *attribution.Runner
	logger   *slog.Logger
	minPrice *big.Int

	agents *runtime.Modules // by attribution.ModuleKey
	models *model.Cache
}

// New returns a Host.
func New(cfg Config) (*Host, error) {
	if cfg.Registry == nil || cfg.Ledger == nil || cfg.Runtime == nil || cfg.Operator == nil {
		return nil, errors.New("host: Registry, Ledger, Runtime and Operator are required")
	}
	cfg.Fees = cfg.Fees.OrDefault()
	if cfg.MinPrice != nil && cfg.MinPrice.Sign() < 0 {
		return nil, fmt.Errorf("host: a negative minimum price %s", cfg.MinPrice)
	}
	if err := cfg.Fees.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Domain.ChainID == nil {
		cfg.Domain = ledger.NoChain()
	}
	if cfg.MaxRunning <= 0 {
		cfg.MaxRunning = 2 * goruntime.GOMAXPROCS(0)
	}
	return &Host{
		reg: cfg.Registry, led: cfg.Ledger, rt: cfg.Runtime, domain: cfg.Domain,
		operator: cfg.Operator, opAddr: registry.Address(cfg.Operator), fees: cfg.Fees,
		attr: attribution.NewRunner(cfg.Runtime), logger: cfg.Logger, minPrice: cfg.MinPrice, metrics: cfg.Metrics,
		agents: runtime.NewModules(cfg.Runtime), running: make(chan struct{}, cfg.MaxRunning),
		models: model.NewCache(model.RegistrySource(cfg.Registry), cfg.ModelServers, 0),
	}, nil
}

// Operator returns the operator's address.
func (h *Host) Operator() string { return h.opAddr }

// Close frees compiled plugins (not the stores, which the caller owns).
func (h *Host) Close(ctx context.Context) {
	h.attr.Close(ctx)
	h.agents.Close(ctx)
}

// Publish signs a manifest for wasm with key and publishes it (a model,
// with no wasm).
func (h *Host) Publish(ctx context.Context, key *ecdsa.PrivateKey, m registry.Manifest, wasm []byte) (*registry.Plugin, error) {
	if m.Kind != abi.KindModel {
		sum := sha256.Sum256(wasm)
		m.WasmSHA256 = hex.EncodeToString(sum[:])
	}
	m.Publisher = registry.Address(key)
	if err := h.checkModelServer(m); err != nil {
		return nil, err
	}
	sig, err := registry.Sign(key, h.reg.Domain().ManifestDigest(m))
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
	// MaxPrice, if set, is the most the caller agreed to pay as the
	// agent's per-call price: a call whose agent, resolved now, asks more
	// is refused with rules.CodePriceExceeded before anything is reserved or
	// run. nil sets no bound.
	MaxPrice *big.Int
}

// InvokeResult is the agent's output and the committed receipt.
type InvokeResult struct {
	Output  []byte
	Receipt *ledger.Receipt
	// Replayed is true when the request id had already been answered: the
	// stored receipt and output are returned and nothing is charged again.
	Replayed bool
	// InputSalt is the secret salt of the receipt's input hash,
	// sha256(salt || input): the caller can show which input a receipt
	// answered, while receipts made public with their epoch let nobody
	// confirm a guessed input.
	InputSalt []byte
}

// inputSalt is the salt of a receipt's input hash: a MAC of the receipt id
// under the operator's key, so the node stores none and gives the same
// salt to a retry.
func (h *Host) inputSalt(receiptID string) []byte {
	mac := hmac.New(sha256.New, h.operator.D.Bytes())
	mac.Write([]byte("tollgate input salt\x00"))
	mac.Write([]byte(receiptID))
	return mac.Sum(nil)
}

// saltedHash is the hex sha256 of salt followed by input.
func saltedHash(salt, input []byte) string {
	d := sha256.New()
	d.Write(salt)
	d.Write(input)
	return hex.EncodeToString(d.Sum(nil))
}

// checkMinPrice refuses an agent priced below the operator's floor.
func (h *Host) checkMinPrice(m registry.Manifest) error {
	if m.Kind != abi.KindAgent {
		return nil
	}
	return rules.CheckMinPrice(m.Ref(), m.PriceAmount(), h.minPrice)
}

// Invoke runs one invocation; see the package documentation for the steps.
// It returns only after the receipt is durable. A call refused before the
// agent runs charges nothing; a call that fails after reading records is
// charged those records' fees (paid to their contributors), not the price,
// and gets a receipt whose method is "failed:<code>".
func (h *Host) Invoke(ctx context.Context, req InvokeRequest) (*InvokeResult, error) {
	start := time.Now()
	res, err := h.invoke(ctx, req)
	var rc *ledger.Receipt
	replayed := false
	if res != nil {
		rc, replayed = res.Receipt, res.Replayed
	}
	h.metrics.Invoked(start, rc, replayed, err)
	return res, err
}

// turn waits for one of the MaxRunning turns to run plugins; the rest wait
// in order. More plugins running than the cores can serve only holds more
// instances in memory and makes every call slower. A turn covers the
// agent and its attribution, not the wait for the receipt to be durable,
// which needs no core.
func (h *Host) turn(ctx context.Context) (*turn, error) {
	t := &turn{h: h}
	if err := t.take(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// turn is one call's turn to run plugins. A call that waits on something
// using no core of the node (a model server) gives it up while it waits.
type turn struct {
	h    *Host
	mu   sync.Mutex
	held bool
}

func (t *turn) take(ctx context.Context) error {
	select {
	case t.h.running <- struct{}{}:
	case <-ctx.Done():
		return abi.FromContext(ctx.Err())
	}
	t.mu.Lock()
	t.held = true
	t.mu.Unlock()
	t.h.metrics.Running(1)
	return nil
}

// done gives the turn up; it is safe to call more than once.
func (t *turn) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held {
		t.held = false
		t.h.metrics.Running(-1)
		<-t.h.running
	}
}

// away runs wait without the turn, then waits for it again (or for ctx,
// which ends the call anyway). A nil turn runs wait as it is.
func (t *turn) away(ctx context.Context, wait func()) {
	if t == nil {
		wait()
		return
	}
	t.done()
	wait()
	t.take(ctx)
}

// call is an invocation admitted to run: who asks, under which receipt
// id, which agent and attribution plugin, and the datanets it is granted
// at the versions it reads.
type call struct {
	caller   string
	id       string // the receipt's
	salt     []byte // of the input hash
	agent    *registry.Plugin
	attr     *registry.Plugin
	datanets map[string]*registry.Datanet
	versions []ledger.DatanetVersion
}

// meter holds each record's fee as the agent reads it, and keeps what was
// read for attribution (with content) and for the receipt (with fees).
type meter struct {
	res      *ledger.Reservation
	datanets map[string]*registry.Datanet
	accesses []abi.Access
	reads    []ledger.Access
}

func (mt *meter) read(r abi.Record) error {
	fee := mt.datanets[r.Datanet].Price()
	if err := mt.res.Extend(fee); err != nil {
		return err
	}
	mt.accesses = append(mt.accesses, abi.Access{Datanet: r.Datanet, Record: r.ID, Contributor: r.Contributor, Bytes: len(r.Content), Content: r.Content})
	mt.reads = append(mt.reads, ledger.Access{Datanet: r.Datanet, Record: r.ID, Contributor: r.Contributor, Bytes: len(r.Content), Fee: fee})
	return nil
}

func (h *Host) invoke(ctx context.Context, req InvokeRequest) (*InvokeResult, error) {
	defer leave(ctx)
	enter(stageAdmit)
	c, replayed, err := h.admit(ctx, req)
	if c == nil {
		return replayed, err
	}
	m := c.agent.Manifest
	price := m.PriceAmount()
	enter(stageAgent) // the agent's module: compiled at its first call
	mod, err := h.agentModule(ctx, c.agent)
	if err != nil {
		return nil, err
	}
	// Hold the price before the agent runs; each record it reads then holds
	// its fee too, and a read the caller cannot pay for fails (the call's
	// books stay whole).
	enter(stageReserve)
	res, err := h.led.Reserve(ctx, c.caller, price)
	err = h.led.ExplainShort(ctx, c.caller, price, "the call may cost", err)
	if err != nil {
		return nil, err
	}
	defer res.Release()

	// The agent and its attribution read the datanets at the versions the
	// receipt records, whatever is appended while they run.
	view := h.reg.At(ledger.Versions(c.versions))
	mt := &meter{res: res, datanets: c.datanets}
	mc := &modelCalls{h: h, res: res}
	env := &runtime.Env{Data: view, Grants: m.Datanets, Meter: mt.read, Config: callConfig(m), Session: c.caller, Models: mc, ModelGrants: m.Models}
	rc := &ledger.Receipt{
		ID: c.id, RequestID: req.RequestID, Caller: c.caller, Agent: m.Ref(), AgentHash: c.agent.Hash(), AgentManifest: c.agent.ManifestHash(),
		InputHash: saltedHash(c.salt, req.Input), Datanets: c.versions, Time: time.Now().UTC(),
	}
	t, err := h.turn(ctx)
	if err != nil {
		return nil, err
	}
	done := t.done
	defer done()
	mc.turn = t
	enter(stageAgent)
	out, callErr := mod.Call(ctx, m.ExportName(), req.Input, env)
	rc.Fuel = env.FuelUsed // what the agent spent, deterministic for its input and data
	rc.Generations = mc.gens
	b := rules.Bill{Caller: c.caller, Developer: m.Publisher, Operator: h.opAddr, Fees: h.fees, Reads: mt.reads, Models: mc.uses}
	if callErr != nil {
		done()
		return nil, h.failed(ctx, rc, b, res, callErr)
	}
	enter(stageAttribution)
	shares, err := h.attribute(ctx, c, rc, out, mt, view)
	done()
	if err != nil {
		return nil, err
	}
	enter(stageSplit)
	b.Price, b.Shares = price, shares
	rc.Postings = b.Postings()
	enter(stageCommit)
	if err := h.commit(ctx, rc, out, res); err != nil {
		if abi.CodeOf(err) == abi.CodeAlreadyExists {
			// A concurrent call with the same request id committed first.
			if prev, perr := h.led.Receipt(ctx, c.id); perr == nil {
				return h.replay(ctx, prev, req.Agent, req.Input, c.salt)
			}
		}
		return nil, err
	}
	h.logger.Info("invoked", "id", c.id, "agent", m.Ref(), "caller", c.caller, "charged", rc.Debit(), "records", len(mt.reads))
	return &InvokeResult{Output: out, Receipt: rc, InputSalt: c.salt}, nil
}

// admit decides whether a request may run, charging nothing: the caller
// and request id are well formed, the agent and its attribution plugin
// exist, are not yanked and are of their kinds, the price is within the
// operator's floor and the caller's bound, and every granted datanet's
// owner still admits both plugins. A retry of a request already answered
// returns its answer and no call.
func (h *Host) admit(ctx context.Context, req InvokeRequest) (*call, *InvokeResult, error) {
	caller, err := registry.CanonicalAddress(req.Caller)
	if err != nil {
		return nil, nil, err
	}
	id, err := ledger.RequestKey(ledger.RequestInvoke, caller, req.RequestID)
	if err != nil {
		return nil, nil, err
	}
	agent, err := h.reg.Load(ctx, req.Agent)
	if err != nil {
		return nil, nil, err
	}
	m := agent.Manifest
	if m.Kind != abi.KindAgent {
		return nil, nil, abi.Errorf(abi.CodeBadRequest, "%s is not an agent", m.Ref())
	}
	c := &call{caller: caller, id: id, salt: h.inputSalt(id), agent: agent}
	// Without a request id the receipt id is new, so there is no answer to
	// look up.
	if req.RequestID != "" {
		if rc, err := h.led.Receipt(ctx, id); err == nil {
			res, err := h.replay(ctx, rc, req.Agent, req.Input, c.salt) // a retry: the same receipt, charged once
			return nil, res, err
		} else if abi.CodeOf(err) != abi.CodeNotFound {
			return nil, nil, err
		}
	}
	if agent.Yanked {
		return nil, nil, abi.Errorf(abi.CodeNotFound, "%s was yanked", m.Ref())
	}
	if err := h.checkMinPrice(m); err != nil {
		return nil, nil, err
	}
	if err := rules.CheckMaxPrice(m.Ref(), m.PriceAmount(), req.MaxPrice); err != nil {
		return nil, nil, err
	}
	if c.datanets, err = h.grantedDatanets(ctx, m); err != nil {
		return nil, nil, err
	}
	if c.attr, err = h.attributionOf(ctx, m, c.datanets); err != nil {
		return nil, nil, err
	}
	for _, name := range m.Datanets {
		d := c.datanets[name]
		c.versions = append(c.versions, ledger.DatanetVersion{Name: name, Version: d.Version, Root: d.Root})
	}
	return c, nil, nil
}

// attributionOf loads the attribution plugin agent m names (or the
// default) and checks it may run: published, not yanked, of its kind, and
// admitted by every datanet m reads, since it reads the records the agent
// reads (owners may have changed their mind since the agent was
// published).
func (h *Host) attributionOf(ctx context.Context, m registry.Manifest, datanets map[string]*registry.Datanet) (*registry.Plugin, error) {
	ref := m.AttributionRef()
	p, err := h.reg.Load(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("host: %s: attribution plugin: %w", m.Ref(), err)
	}
	if p.Yanked {
		return nil, abi.Errorf(abi.CodeNotFound, "%s: attribution plugin %s was yanked", m.Ref(), ref)
	}
	if p.Manifest.Kind != abi.KindAttribution {
		return nil, abi.Errorf(abi.CodeBadRequest, "%s: %s is not an attribution plugin", m.Ref(), ref)
	}
	for _, name := range m.Datanets {
		if err := datanets[name].AllowsAttribution(p.Manifest.Name); err != nil {
			return nil, fmt.Errorf("host: %s: %w", m.Ref(), err)
		}
	}
	return p, nil
}

// attribute runs c's attribution plugin (falling back to weighting by bytes
// read) on the agent's output and what it read, and records the result on
// rc, returning the contributors' shares.
func (h *Host) attribute(ctx context.Context, c *call, rc *ledger.Receipt, out []byte, mt *meter, view runtime.DataSource) ([]attribution.Share, error) {
	m := c.agent.Manifest
	attrReq := abi.AttributeRequest{Invocation: c.id, Output: string(out), Accesses: mt.accesses, Datanets: []string(m.Datanets)}
	// Attribution is the host's work once the agent has answered: a caller
	// going away must not push it onto the fallback.
	result, pluginErr, err := h.attr.RunOrFallback(context.WithoutCancel(ctx), c.attr, attrReq, view, m.Datanets)
	if err != nil {
		return nil, err
	}
	if pluginErr != nil {
		h.logger.Warn("attribution failed, weighting by bytes read", "agent", m.Ref(), "attribution", c.attr.Manifest.Ref(), "err", pluginErr)
	}
	// The version that ran, not the reference the manifest gives: an
	// attribution named name@latest moves, and verify re-runs what ran.
	rc.Attribution, rc.AttributionHash, rc.AttributionManifest = c.attr.Manifest.Ref(), c.attr.Hash(), c.attr.ManifestHash()
	rc.Method, rc.OutputHash, rc.Accesses = result.Method, sha256Hex(out), mt.reads
	for _, w := range result.Weights {
		rc.Scores = append(rc.Scores, ledger.Score{Record: w.Record, Contributor: w.Contributor, Weight: w.Weight})
	}
	return result.Shares(), nil
}

// commit signs (in the ledger) and commits a receipt. It is not cut short
// by the caller going away: once the agent has run, its reads are owed.
func (h *Host) commit(ctx context.Context, rc *ledger.Receipt, out []byte, res *ledger.Reservation) error {
	d := h.domain
	rc.Domain = &d
	return h.led.Commit(context.WithoutCancel(ctx), rc, out, res)
}

// failed settles a call whose agent failed. If it read nothing, nothing is
// charged. Otherwise the records it read are charged at their datanets'
// fees and paid to their contributors; the price is not charged and no
// attribution runs. Either way the caller gets the failure's code with
// capped text.
func (h *Host) failed(ctx context.Context, rc *ledger.Receipt, b rules.Bill, res *ledger.Reservation, callErr error) error {
	code := abi.CodeOf(callErr)
	if code == abi.CodeInternal && ctx.Err() != nil {
		code = abi.FromContext(ctx.Err()).Code
	}
	msg := callErr.Error()
	if ae := (*abi.Error)(nil); errors.As(callErr, &ae) && ae.Message != "" {
		msg = ae.Message
	}
	if len(b.Reads) == 0 && len(b.Models) == 0 {
		return &abi.Error{Code: code, Message: fmt.Sprintf("%s: %s", rc.Agent, msg), Cause: callErr}
	}
	rc.Method = "failed:" + string(code)
	rc.Accesses = b.Reads
	rc.OutputHash = sha256Hex(nil)
	rc.Postings = b.Failed().Postings()
	if err := h.commit(ctx, rc, nil, res); err != nil {
		return fmt.Errorf("host: %s failed (%s) and its reads could not be recorded: %w", rc.Agent, code, err)
	}
	h.logger.Info("invocation failed", "id", rc.ID, "agent", rc.Agent, "code", code, "charged", rc.Debit(), "records", len(b.Reads), "model_calls", len(b.Models))
	return &abi.Error{Code: code, Message: fmt.Sprintf("%s: %s (receipt %s charged %s for %d records read and %d model calls)", rc.Agent, msg, rc.ID, rc.Debit(), len(b.Reads), len(b.Models)), Cause: callErr}
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
	ap, err := h.reg.Load(ctx, p.Manifest.AttributionRef())
	if err != nil {
		return err
	}
	return h.attr.Warm(ctx, ap)
}

// replay answers a retried request with its committed receipt and output,
// if the retry asks for the same thing: the same agent (and version, if it
// names one) and the same input. A receipt of a failed call replays as the
// same failure.
func (h *Host) replay(ctx context.Context, rc *ledger.Receipt, agentRef string, input, salt []byte) (*InvokeResult, error) {
	name, version, err := registry.ParseRef(agentRef)
	if err != nil {
		return nil, err
	}
	prevName, prevVersion, _ := registry.ParseRef(rc.Agent)
	// Receipts written before inputs were salted hold the bare sha256.
	sameInput := rc.InputHash == saltedHash(salt, input) || rc.InputHash == sha256Hex(input)
	if name != prevName || (version != "latest" && version != prevVersion) || !sameInput {
		return nil, abi.Errorf(ledger.CodeRequestConflict, "request id %q already answered another request (%s); use a new id", rc.RequestID, rc.Agent)
	}
	if code, ok := strings.CutPrefix(rc.Method, "failed:"); ok {
		return nil, abi.Errorf(abi.Code(code), "request %q failed before (receipt %s, charged %s)", rc.RequestID, rc.ID, rc.Debit())
	}
	out, err := h.led.Output(ctx, rc.ID)
	if err != nil {
		return nil, err
	}
	return &InvokeResult{Output: out, Receipt: rc, Replayed: true, InputSalt: salt}, nil
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

func (h *Host) agentModule(ctx context.Context, p *registry.Plugin) (*runtime.Module, error) {
	m, hit, err := h.agents.Get(ctx, attribution.ModuleKey(p), p.Wasm, runtime.ModuleOptions{
		Limits: attribution.RuntimeLimits(p.Manifest.Limits), Nondeterministic: true, ReuseWithinSession: p.Manifest.ReuseWithinCaller,
		Config: callConfig(p.Manifest),
	})
	h.metrics.Module(hit) // a failed compile counts as a compile
	if err != nil {
		return nil, fmt.Errorf("host: compile %s: %w", p.Manifest.Ref(), err)
	}
	return m, nil
}

// callConfig is the Extism config a plugin's calls see: its manifest's,
// and for an agent the datanets (tollgate.datanets) and models
// (tollgate.models) it is granted.
func callConfig(m registry.Manifest) map[string]string {
	if m.Kind != abi.KindAgent {
		return m.ConfigFor(nil)
	}
	host := map[string]string{"tollgate.datanets": strings.Join(m.Datanets, ",")}
	if len(m.Models) > 0 {
		models := make([]string, len(m.Models))
		for i, g := range m.Models {
			models[i] = g.Model
		}
		host["tollgate.models"] = strings.Join(models, ",")
	}
	return m.ConfigFor(host)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
