package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/rules"
	"github.com/tollgate-dev/tollgate/runtime"
)

// EpochData is everything verifying an epoch reads. A node serves it from
// its own stores ([StoreData]); a third party can serve it from data it
// downloaded. Verification only reads through it.
type EpochData interface {
	// Epoch returns closed epoch n.
	Epoch(ctx context.Context, n uint64) (*ledger.Epoch, error)
	// Receipts returns the receipts committed in epoch n.
	Receipts(ctx context.Context, n uint64) ([]*ledger.Receipt, error)
	// Output returns the output a receipt answered with.
	Output(ctx context.Context, id string) ([]byte, error)
	// Plugin returns a plugin by name@version, yanked or not; the verifier
	// checks its hash against the receipt.
	Plugin(ctx context.Context, ref string) (*registry.Plugin, error)
	// Datanet returns a datanet's metadata (its read price).
	Datanet(ctx context.Context, name string) (*registry.Datanet, error)
	// At reads datanets as they were at the given versions.
	At(versions map[string]uint64) runtime.DataSource
	// VersionRoot returns the Merkle root of a datanet's records at a
	// version, as rebuilt from the records.
	VersionRoot(ctx context.Context, datanet string, version uint64) (string, error)
	// RecordsAt lists a datanet's records up to a version, in the order
	// they were added: what a model a receipt called was built from.
	RecordsAt(ctx context.Context, datanet string, at, after uint64, limit int) ([]registry.Record, uint64, error)
}

// RootReader reads what the settlement contract holds.
type RootReader interface {
	// OperatorAt returns the operator whose key signs epoch's receipts
	// (and receives its protocol fees).
	OperatorAt(ctx context.Context, epoch uint64) (string, error)
	// RootOf returns the root and receipt bundle hash posted for epoch;
	// found is false if none was (or it was vetoed).
	RootOf(ctx context.Context, epoch uint64) (root, bundle string, found bool, err error)
}

// StoreData serves EpochData from a node's ledger and registry, which may
// be opened read-only.
func StoreData(led *ledger.Ledger, reg *registry.Registry) EpochData { return storeData{led, reg} }

type storeData struct {
	led *ledger.Ledger
	reg *registry.Registry
}

func (d storeData) Epoch(ctx context.Context, n uint64) (*ledger.Epoch, error) {
	return d.led.Epoch(ctx, n)
}
func (d storeData) Receipts(ctx context.Context, n uint64) ([]*ledger.Receipt, error) {
	return d.led.Receipts(ctx, n)
}
func (d storeData) Output(ctx context.Context, id string) ([]byte, error) {
	return d.led.Output(ctx, id)
}
func (d storeData) Plugin(ctx context.Context, ref string) (*registry.Plugin, error) {
	return d.reg.Load(ctx, ref)
}
func (d storeData) Datanet(ctx context.Context, name string) (*registry.Datanet, error) {
	return d.reg.Datanet(ctx, name)
}
func (d storeData) At(versions map[string]uint64) runtime.DataSource { return d.reg.At(versions) }
func (d storeData) VersionRoot(ctx context.Context, datanet string, version uint64) (string, error) {
	return d.reg.VersionRoot(ctx, datanet, version)
}
func (d storeData) RecordsAt(ctx context.Context, datanet string, at, after uint64, limit int) ([]registry.Record, uint64, error) {
	return d.reg.RecordsAt(ctx, datanet, at, after, limit)
}

// Config wires a [Verifier]. Data, Runtime and Chain are required:
// a verification that cannot read the chain does not pass. The operator a
// receipt must be signed by is the contract's operator at its epoch.
type Config struct {
	Data    EpochData
	Runtime *runtime.Runtime
	Chain   RootReader
	Fees    rules.Fees // zero: the default split
	Logger  *slog.Logger
}

// Verifier re-runs epochs the way a third party would. It writes nothing.
// It is not safe for concurrent use.
type Verifier struct {
	data      EpochData
	chain     RootReader
	operators map[uint64]string // by epoch, as read from the chain
	fees      rules.Fees
	attr      *attribution.Runner
	models    *model.Cache
	logger    *slog.Logger
	notes     []string
}

// NewVerifier returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Data == nil || cfg.Runtime == nil || cfg.Chain == nil {
		return nil, errors.New("verify: a verifier needs Data, Runtime and Chain")
	}
	cfg.Fees = cfg.Fees.OrDefault()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Verifier{data: cfg.Data, chain: cfg.Chain, operators: map[uint64]string{}, fees: cfg.Fees,
		attr: attribution.NewRunner(cfg.Runtime), models: model.NewCache(dataSource{cfg.Data}, nil, 0), logger: cfg.Logger}, nil
}

// Close frees the plugins the verifier compiled.
func (v *Verifier) Close(ctx context.Context) { v.attr.Close(ctx) }

// Verification is what re-running an epoch found.
type Verification struct {
	Epoch    uint64
	Receipts int      // receipts re-run, epochs 1..Epoch
	Problems []string // every receipt that did not re-run to itself
	Root     string   // the root rebuilt from the re-run postings
	Posted   string   // the root recorded for the epoch
	OnChain  string   // the root the contract holds for the epoch ("" if none)
	// Bundle is the receipt bundle hash rebuilt from epochs 1..Epoch's
	// receipts and outputs; PostedBundle and OnChainBundle are the epoch's
	// and the contract's.
	Bundle, PostedBundle, OnChainBundle string
	// NotRerun says which parts of which receipts could only be checked
	// against their signature, not re-run (a model on a server the
	// verifier cannot call).
	NotRerun []string
}

// OK reports whether everything matched, the chain included.
func (v *Verification) OK() bool {
	return len(v.Problems) == 0 && v.Root == v.Posted && strings.EqualFold(v.OnChain, v.Root) &&
		v.Bundle == v.PostedBundle && strings.EqualFold(v.OnChainBundle, v.Bundle)
}

// VerifyEpoch re-runs epoch n from its data: see [Verifier.Verify].
func (v *Verifier) VerifyEpoch(ctx context.Context, n uint64) (*Verification, error) {
	e, err := v.data.Epoch(ctx, n)
	if err != nil {
		return nil, err
	}
	var all []*ledger.Receipt
	for i := uint64(1); i <= n; i++ {
		rs, err := v.data.Receipts(ctx, i)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	return v.Verify(ctx, e, all)
}

// Verify checks an epoch the way a third party would: every receipt's
// signature, by the operator, for this deployment; its agent and
// attribution plugin, checked against the hashes the receipt names; the
// attribution re-run on the recorded output and the records read, at the
// datanet versions the receipt records; the price and fees split again;
// and the postings compared with the receipt's. The cumulative earnings of
// the re-run postings then rebuild the tree, whose root must equal the
// epoch's and the one the contract holds for it. It fails (an error, not a
// Verification) when the chain cannot be read.
func (v *Verifier) Verify(ctx context.Context, e *ledger.Epoch, receipts []*ledger.Receipt) (*Verification, error) {
	out := &Verification{Epoch: e.N, Posted: e.Root, PostedBundle: e.Bundle}
	v.notes = nil
	defer func() { out.NotRerun = v.notes }()
	bad := func(rc *ledger.Receipt, format string, args ...any) {
		out.Problems = append(out.Problems, fmt.Sprintf("receipt %s: %s", rc.ID, fmt.Sprintf(format, args...)))
	}
	earned := map[string]*big.Int{}
	outputs := map[string][]byte{} // read once, for the re-run and the bundle
	for _, rc := range receipts {
		if rc.Epoch > e.N {
			continue
		}
		out.Receipts++
		if err := ledger.Validate(rc); err != nil {
			bad(rc, "%v", err)
			continue
		}
		op, err := v.operatorAt(ctx, rc.Epoch)
		if err != nil {
			return nil, fmt.Errorf("verify: read the chain: %w", err)
		}
		if err := rc.VerifySignedBy(op); err != nil {
			bad(rc, "%v", err)
		}
		if rc.Domain == nil || rc.Domain.ChainID == nil || rc.Domain.ChainID.Cmp(e.Domain.ChainID) != 0 || !strings.EqualFold(rc.Domain.Settlement, e.Domain.Settlement) {
			bad(rc, "signed for another deployment")
		}
		postings, err := v.rerun(ctx, rc, op, outputs)
		if err != nil {
			bad(rc, "re-run: %v", err)
			postings = nil
		} else if got, want := postingSet(postings), postingSet(rc.Postings); got != want {
			bad(rc, "postings re-run to\n  %s\nbut the receipt says\n  %s", got, want)
		}
		for _, p := range postings {
			if p.Amount.Sign() > 0 {
				if earned[p.Account] == nil {
					earned[p.Account] = new(big.Int)
				}
				earned[p.Account].Add(earned[p.Account], p.Amount)
			}
		}
	}
	var hashes []ledger.Hash
	for acct, amt := range earned {
		hashes = append(hashes, ledger.LeafHash(e.Domain, ledger.Leaf{Account: acct, Cumulative: amt}))
	}
	if tree, err := ledger.BuildTree(hashes); err == nil {
		out.Root = tree.Root().Hex()
	}
	bundle, err := v.bundle(ctx, e.N, receipts, outputs)
	if err != nil {
		out.Problems = append(out.Problems, fmt.Sprintf("receipt bundle: %v", err))
	}
	out.Bundle = bundle
	root, onChainBundle, found, err := v.chain.RootOf(ctx, e.N)
	if err != nil {
		return nil, fmt.Errorf("verify: read the chain: %w", err)
	}
	if found {
		out.OnChain, out.OnChainBundle = root, onChainBundle
	} else {
		out.Problems = append(out.Problems, fmt.Sprintf("epoch %d was never posted on-chain", e.N))
	}
	return out, nil
}

// operatorAt is the chain's operator for epoch, read once per epoch.
func (v *Verifier) operatorAt(ctx context.Context, epoch uint64) (string, error) {
	if op, ok := v.operators[epoch]; ok {
		return op, nil
	}
	op, err := v.chain.OperatorAt(ctx, epoch)
	if err != nil {
		return "", err
	}
	v.operators[epoch] = op
	return op, nil
}

// bundle rebuilds the receipt bundle chain of epochs 1..n from the receipts
// and their outputs.
func (v *Verifier) bundle(ctx context.Context, n uint64, receipts []*ledger.Receipt, outputs map[string][]byte) (string, error) {
	byEpoch := map[uint64][]*ledger.Receipt{}
	for _, rc := range receipts {
		byEpoch[rc.Epoch] = append(byEpoch[rc.Epoch], rc)
	}
	bundle := ledger.ZeroBundle
	for e := uint64(1); e <= n; e++ {
		outs := make([][]byte, len(byEpoch[e]))
		for i, rc := range byEpoch[e] {
			out, err := v.output(ctx, rc.ID, outputs)
			if err != nil {
				return "", err
			}
			outs[i] = out
		}
		for _, rc := range byEpoch[e] {
			if !strings.EqualFold(rc.PrevBundle, bundle) {
				return "", fmt.Errorf("receipt %s signs previous bundle %s, epoch %d's is %s", rc.ID, rc.PrevBundle, e-1, bundle)
			}
		}
		next, err := ledger.BundleHash(bundle, byEpoch[e], outs)
		if err != nil {
			return "", err
		}
		bundle = next
	}
	return bundle, nil
}

// output returns a receipt's output, from outputs if it was read already.
func (v *Verifier) output(ctx context.Context, id string, outputs map[string][]byte) ([]byte, error) {
	if out, ok := outputs[id]; ok {
		return out, nil
	}
	out, err := v.data.Output(ctx, id)
	if err == nil {
		outputs[id] = out
	}
	return out, err
}

// rerun recomputes a receipt's postings from what it records.
func (v *Verifier) rerun(ctx context.Context, rc *ledger.Receipt, operator string, outputs map[string][]byte) ([]ledger.Posting, error) {
	if rc.IsWithdrawal() {
		// A withdrawal runs nothing: it moves what the caller's credit lost
		// to the caller's own earnings, and has no output.
		if rc.Agent != "" || len(rc.Accesses) != 0 {
			return nil, fmt.Errorf("a withdrawal that records a call")
		}
		if out, err := v.output(ctx, rc.ID, outputs); err != nil {
			return nil, err
		} else if len(out) != 0 {
			return nil, fmt.Errorf("a withdrawal recorded %d bytes of output", len(out))
		}
		return ledger.WithdrawalPostings(rc.Caller, rc.Debit()), nil
	}
	if rc.IsGeneration() {
		return v.rerunGeneration(ctx, rc, operator, outputs)
	}
	agent, err := v.data.Plugin(ctx, rc.Agent)
	if err != nil {
		return nil, err
	}
	if agent.Hash() != rc.AgentHash {
		return nil, abi.Errorf(abi.CodeHashMismatch, "agent %s is %s, the receipt ran %s", rc.Agent, agent.Hash(), rc.AgentHash)
	}
	if rc.SchemaVersion() >= 3 && agent.Manifest.Hash() != rc.AgentManifest {
		return nil, abi.Errorf(abi.CodeHashMismatch, "agent %s's manifest is %s, the receipt ran %s", rc.Agent, agent.Manifest.Hash(), rc.AgentManifest)
	}
	uses, err := v.rerunModels(ctx, rc, &agent.Manifest)
	if err != nil {
		return nil, err
	}
	out, err := v.output(ctx, rc.ID, outputs)
	if err != nil {
		return nil, err
	}
	if sha256Hex(out) != rc.OutputHash {
		return nil, abi.Errorf(abi.CodeHashMismatch, "stored output does not hash to %s", rc.OutputHash)
	}
	// The datanets as the receipt says the invocation read them: the
	// records at each version must hash to the root the receipt signs.
	for _, dv := range rc.Datanets {
		if dv.Root == "" {
			continue
		}
		root, err := v.data.VersionRoot(ctx, dv.Name, dv.Version)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(root, dv.Root) {
			return nil, abi.Errorf(abi.CodeHashMismatch, "datanet %s at version %d has root %s, the receipt signs %s", dv.Name, dv.Version, root, dv.Root)
		}
	}
	view := v.data.At(ledger.Versions(rc.Datanets))
	var accesses []abi.Access
	var reads []ledger.Access
	prices := map[string]*big.Int{}
	for _, a := range rc.Accesses {
		r, err := view.Get(ctx, a.Datanet, a.Record)
		if err != nil {
			return nil, err
		}
		fee, ok := prices[a.Datanet]
		if !ok {
			d, err := v.data.Datanet(ctx, a.Datanet)
			if err != nil {
				return nil, err
			}
			fee = d.Price()
			prices[a.Datanet] = fee
		}
		accesses = append(accesses, abi.Access{Datanet: a.Datanet, Record: a.Record, Contributor: r.Contributor, Bytes: len(r.Content), Content: r.Content})
		reads = append(reads, ledger.Access{Datanet: a.Datanet, Record: a.Record, Contributor: r.Contributor, Bytes: len(r.Content), Fee: fee})
	}
	b := rules.Bill{Caller: rc.Caller, Developer: agent.Manifest.Publisher, Operator: operator, Fees: v.fees, Reads: reads, Models: uses}
	if strings.HasPrefix(rc.Method, "failed:") {
		// A failed call pays its reads only; its output is empty.
		if len(out) != 0 {
			return nil, fmt.Errorf("a failed call recorded %d bytes of output", len(out))
		}
		return b.Failed().Postings(), nil
	}
	req := abi.AttributeRequest{Invocation: rc.ID, Output: string(out), Accesses: accesses, Datanets: []string(agent.Manifest.Datanets)}
	// A plugin yanked since still re-runs: the receipt was made before.
	attrPlugin, err := v.data.Plugin(ctx, rc.Attribution)
	if err != nil {
		// The node loaded it to make the receipt (a call whose attribution
		// plugin cannot be loaded is refused): one that cannot be had now
		// is withheld, not a reason to fall back.
		return nil, fmt.Errorf("attribution plugin %s: %w", rc.Attribution, err)
	}
	res, pluginErr, err := v.attr.RunOrFallback(ctx, attrPlugin, req, view, agent.Manifest.Datanets)
	if err != nil {
		return nil, err
	}
	if pluginErr != nil {
		v.logger.Warn("attribution failed on re-run, weighting by bytes read", "receipt", rc.ID, "err", pluginErr)
	}
	if attrPlugin.Hash() != rc.AttributionHash {
		return nil, abi.Errorf(abi.CodeHashMismatch, "attribution %s is %s, the receipt ran %s", rc.Attribution, attrPlugin.Hash(), rc.AttributionHash)
	}
	if rc.SchemaVersion() >= 3 && attrPlugin.Manifest.Hash() != rc.AttributionManifest {
		return nil, abi.Errorf(abi.CodeHashMismatch, "attribution %s's manifest is %s, the receipt ran %s", rc.Attribution, attrPlugin.Manifest.Hash(), rc.AttributionManifest)
	}
	if strings.HasPrefix(rc.Method, attribution.FallbackPrefix) != strings.HasPrefix(res.Method, attribution.FallbackPrefix) {
		return nil, fmt.Errorf("attribution re-ran as %q, the receipt says %q", res.Method, rc.Method)
	}
	b.Price, b.Shares = agent.Manifest.PriceAmount(), res.Shares()
	return b.Postings(), nil
}

// postingSet is a canonical text of postings, order-free.
func postingSet(ps []ledger.Posting) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = fmt.Sprintf("%s %s %s %s", p.Account, p.Kind, p.Amount, p.Memo)
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
