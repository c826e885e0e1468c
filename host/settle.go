package host

import (
	"context"
	"math/big"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/plugins"
	"github.com/tollgate-dev/tollgate/registry"
)

// PublishBuiltins publishes the built-in plugins, signed by the operator,
// unless they already are. A built-in whose bytes changed under the same
// version is an error: published versions are immutable.
func (h *Host) PublishBuiltins(ctx context.Context) error {
	for _, b := range plugins.All() {
		ref := b.Name + "@" + b.Version
		p, err := h.reg.Load(ctx, ref)
		if err == nil {
			if p.Hash() != sha256Hex(b.Wasm) {
				return abi.Errorf(abi.CodeHashMismatch, "host: built-in %s changed without a new version", ref)
			}
			continue
		}
		if abi.CodeOf(err) != abi.CodeNotFound {
			return err
		}
		if _, err := h.Publish(ctx, h.operator, registry.Manifest{Name: b.Name, Version: b.Version, Kind: b.Kind}, b.Wasm); err != nil {
			return err
		}
	}
	return nil
}

// ErrNoChain is returned by operations that need the settlement chain when
// the host has none.
var ErrNoChain = abi.Errorf(abi.CodeChain, "host: no settlement chain configured")

// SyncDeposits credits every deposit made on-chain that the ledger has not
// credited yet, and returns how many it credited. Deposits are keyed by
// transaction and log index, so running it again credits nothing twice.
func (h *Host) SyncDeposits(ctx context.Context) (int, error) {
	if h.chain == nil {
		return 0, ErrNoChain
	}
	deps, err := h.chain.Deposits(ctx, h.chain.Deployment().Block, 0)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range deps {
		err := h.led.Credit(ctx, ledger.Deposit{Ref: d.Ref, Account: d.Account, Amount: d.Amount})
		switch {
		case err == nil:
			n++
		case abi.CodeOf(err) == abi.CodeAlreadyExists:
		default:
			return n, err
		}
	}
	return n, nil
}

// Settle closes the open epoch and posts its root on-chain. If the post
// fails the epoch stays closed; the next Settle posts a later root, which
// supersedes it, since leaves hold cumulative earnings.
func (h *Host) Settle(ctx context.Context) (*ledger.Epoch, error) {
	if h.chain == nil {
		return nil, ErrNoChain
	}
	if _, err := h.SyncDeposits(ctx); err != nil {
		return nil, err
	}
	e, err := h.led.CloseEpoch(ctx, h.domain())
	if err != nil {
		return nil, err
	}
	tx, err := h.chain.PostRoot(ctx, h.operator, e.N, e.Root, e.Total)
	if err != nil {
		return e, err
	}
	e.PostTx = tx
	return e, h.led.SetPostTx(ctx, e.N, tx)
}

// domain is the chain and contract receipts and trees are bound to; a host
// without a chain signs under chain 0 and the zero address.
func (h *Host) domain() ledger.Domain {
	if h.chain == nil {
		return ledger.Domain{ChainID: new(big.Int), Settlement: "0x0000000000000000000000000000000000000000"}
	}
	return ledger.Domain{ChainID: h.chain.ChainID(), Settlement: h.chain.Deployment().Settlement}
}

// Proof is what an account needs to claim on-chain.
type Proof struct {
	Epoch      *ledger.Epoch
	Leaf       ledger.Leaf
	Proof      []string
	ChainID    uint64
	Settlement string
}

// Proof returns account's claim for epoch n (0: the last closed epoch).
func (h *Host) Proof(ctx context.Context, n uint64, account string) (*Proof, error) {
	account, err := registry.CanonicalAddress(account)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		open, err := h.led.OpenEpoch(ctx)
		if err != nil {
			return nil, err
		}
		if open <= 1 {
			return nil, abi.Errorf(abi.CodeNotFound, "no epoch has closed yet")
		}
		n = open - 1
	}
	e, err := h.led.Epoch(ctx, n)
	if err != nil {
		return nil, err
	}
	leaf, proof, err := h.led.Proof(ctx, n, account)
	if err != nil {
		return nil, err
	}
	return &Proof{Epoch: e, Leaf: leaf, Proof: proof, ChainID: e.Domain.ChainID.Uint64(), Settlement: e.Domain.Settlement}, nil
}
