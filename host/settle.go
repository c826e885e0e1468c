package host

import (
	"context"
	"math/big"
	"strings"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
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
		if _, err := h.Publish(ctx, h.operator, registry.Manifest{Name: b.Name, Version: b.Version, Kind: b.Kind, Methods: b.Methods}, b.Wasm); err != nil {
			return err
		}
	}
	return nil
}

// errNoChain is returned, with chain.CodeChain, by operations that need the
// settlement chain when the host has none.
func errNoChain() error { return abi.Errorf(chain.CodeChain, "host: no settlement chain configured") }

// ReorgWindow is how many blocks below the deposit cursor a reorganisation
// is looked for: deeper than any reorg of a chain that finalizes (Ethereum
// finalizes in 64 blocks).
const ReorgWindow = 256

// SyncDeposits credits the deposits made on-chain since the ledger's
// deposit cursor, up to the block that has the configured confirmations on
// top, in ranges of at most the chain client's LogRange, advancing the cursor (block and
// hash) after each range, and returns how many it credited. Deposits are
// keyed by transaction and log index, so a range scanned again after a
// crash credits nothing twice. If the block under the cursor is no longer
// canonical, the chain reorganised: deposits credited from blocks that left
// the chain are undone, and the blocks since the last shared one are read
// again.
func (h *Host) SyncDeposits(ctx context.Context) (int, error) {
	n, err := h.syncDeposits(ctx)
	h.metrics.DepositsCredited(n)
	if err == nil && h.confirms > 0 {
		// Say what the deposits still uncredited wait for (each once).
		_, _ = h.PendingDeposits(ctx, "")
	}
	return n, err
}

func (h *Host) syncDeposits(ctx context.Context) (int, error) {
	if h.chain == nil {
		return 0, errNoChain()
	}
	// One sync at a time: each reads the cursor, the chain, and moves the
	// cursor, and two interleaved could credit logs of a branch the other
	// already found replaced.
	h.syncMu.Lock()
	defer h.syncMu.Unlock()
	cursor, err := h.led.DepositCursor(ctx)
	if err != nil {
		return 0, err
	}
	if cursor.Hash != "" {
		hash, err := h.chain.BlockHash(ctx, cursor.Block)
		if err != nil {
			return 0, err
		}
		if hash != cursor.Hash {
			if cursor, err = h.undoReorg(ctx, cursor); err != nil {
				return 0, err
			}
		}
	}
	from := max(cursor.Block+1, h.chain.Deployment().Block)
	head, err := h.chain.Head(ctx)
	if err != nil {
		return 0, err
	}
	if head < h.confirms {
		return 0, nil
	}
	safe := head - h.confirms
	n := 0
	step := h.chain.LogRange()
	for ; from <= safe; from += step {
		to := min(from+step-1, safe)
		// The range's last block is pinned by hash before its logs are read:
		// if it changes meanwhile, the next sync sees a reorg.
		toHash, err := h.chain.BlockHash(ctx, to)
		if err != nil {
			return n, err
		}
		events, err := h.chain.Deposits(ctx, from, to)
		if err != nil {
			return n, err
		}
		deps := make([]ledger.Deposit, len(events))
		for i, d := range events {
			deps[i] = ledger.Deposit{Ref: d.Ref, Account: d.Account, Amount: d.Amount, Block: d.Block, BlockHash: d.BlockHash}
		}
		next := ledger.Cursor{Block: to, Hash: toHash}
		credited, err := h.led.CreditRange(ctx, cursor, deps, next)
		if err != nil {
			return n, err
		}
		n += credited
		cursor = next
	}
	return n, nil
}

// undoReorg undoes the deposits credited from blocks that are no longer
// canonical, within ReorgWindow blocks of the cursor, and moves the cursor
// back to the bottom of that window, to be read again.
func (h *Host) undoReorg(ctx context.Context, cursor ledger.Cursor) (ledger.Cursor, error) {
	floor := h.chain.Deployment().Block
	back := floor
	if cursor.Block > floor+ReorgWindow {
		back = cursor.Block - ReorgWindow
	}
	deps, err := h.led.DepositsFrom(ctx, back)
	if err != nil {
		return cursor, err
	}
	var undo []ledger.Deposit
	hashes := map[uint64]string{}
	for _, d := range deps {
		hash, ok := hashes[d.Block]
		if !ok {
			if hash, err = h.chain.BlockHash(ctx, d.Block); err != nil {
				return cursor, err
			}
			hashes[d.Block] = hash
		}
		if hash != d.BlockHash {
			undo = append(undo, d)
		}
	}
	// The cursor goes to the block before the window, so the window is read
	// again; its hash is read now, as for any cursor.
	var to ledger.Cursor
	if back > 0 {
		to.Block = back - 1
		if to.Hash, err = h.chain.BlockHash(ctx, to.Block); err != nil {
			return cursor, err
		}
	}
	if err := h.led.Reorg(ctx, undo, to); err != nil {
		return cursor, err
	}
	for _, d := range undo {
		h.logger.Warn("deposit undone: its block left the chain", "ref", d.Ref, "account", d.Account, "amount", d.Amount, "block", d.Block)
	}
	return to, nil
}

// Settle finishes posting the last closed epoch if a crash interrupted it,
// then closes the open epoch and posts its root on-chain. If the post fails
// the epoch stays closed and the next Settle (or ResumeSettlement) posts it.
func (h *Host) Settle(ctx context.Context) (*ledger.Epoch, error) {
	if h.chain == nil {
		return nil, errNoChain()
	}
	h.settleMu.Lock()
	defer h.settleMu.Unlock()
	if err := h.resumeSettlement(ctx); err != nil {
		return nil, err
	}
	if _, err := h.SyncDeposits(ctx); err != nil {
		return nil, err
	}
	e, err := h.led.CloseEpoch(ctx, h.domain())
	if err != nil {
		return nil, err
	}
	h.metrics.EpochClosed()
	return e, h.post(ctx, e)
}

// post sends epoch e's root, recording the signed transaction as the
// epoch's intent before it is sent and as its PostTx once it is mined.
// postIntent records each signed version of epoch n's post before it is
// sent, so a restart can finish it rather than post twice.
func (h *Host) postIntent(n uint64) func(tx, raw string) error {
	return func(tx, raw string) error { return h.led.SetPostIntent(context.Background(), n, tx, raw) }
}

func (h *Host) post(ctx context.Context, e *ledger.Epoch) error {
	tx, err := h.chain.PostRoot(ctx, h.operator, e.N, e.Root, e.Total, e.Bundle, h.postIntent(e.N))
	if err != nil {
		return err
	}
	e.PostTx = tx
	if h.metrics != nil {
		if gas, err := h.chain.GasUsed(ctx, tx); err == nil {
			h.metrics.GasUsed("post_root", gas)
		}
	}
	return h.led.SetPostTx(ctx, e.N, tx)
}

// ResumeSettlement finishes what a crash may have interrupted: if the last
// closed epoch has no PostTx, the contract's epoch says whether its root
// landed (then it is marked posted with the recorded intent) or not (then
// it is posted now). A contract that holds another root for that epoch, or
// a later epoch than the ledger has closed, is an error: the two books
// disagree.
func (h *Host) ResumeSettlement(ctx context.Context) error {
	if h.chain == nil {
		return errNoChain()
	}
	h.settleMu.Lock()
	defer h.settleMu.Unlock()
	return h.resumeSettlement(ctx)
}

func (h *Host) resumeSettlement(ctx context.Context) error {
	open, err := h.led.OpenEpoch(ctx)
	if err != nil || open <= 1 {
		return err
	}
	e, err := h.led.Epoch(ctx, open-1)
	if err != nil || e.PostTx != "" {
		return err
	}
	onChain, root, err := h.chain.PostedEpoch(ctx)
	if err != nil {
		return err
	}
	switch {
	case onChain > e.N:
		return abi.Errorf(chain.CodeChain, "the contract holds epoch %d, the ledger has closed only %d", onChain, e.N)
	case onChain == e.N && !strings.EqualFold(root, e.Root):
		return abi.Errorf(chain.CodeChain, "epoch %d: the contract holds root %s, the ledger %s", e.N, root, e.Root)
	case onChain == e.N:
		// The post landed; which version of it (a replacement may have
		// been recorded after an earlier one was mined) the chain says.
		tx, found, err := h.chain.PostTxOf(ctx, e.N)
		if err != nil {
			return err
		}
		if !found {
			tx = e.PostIntent
		}
		h.logger.Info("epoch posted before a restart", "epoch", e.N, "tx", tx)
		return h.led.SetPostTx(ctx, e.N, tx)
	}
	if e.PostRaw != "" {
		// The post was signed and maybe sent: send the same transaction
		// again, with its nonce, rather than a second one.
		tx, err := h.chain.Rebroadcast(ctx, h.operator, e.PostRaw, h.postIntent(e.N))
		if err == nil {
			h.logger.Info("finished posting an epoch a restart interrupted", "epoch", e.N, "tx", tx)
			return h.led.SetPostTx(ctx, e.N, tx)
		}
		h.logger.Warn("the interrupted post cannot land, posting again", "epoch", e.N, "err", err)
	}
	h.logger.Info("posting an epoch a restart interrupted", "epoch", e.N)
	return h.post(ctx, e)
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
