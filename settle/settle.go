package settle

import (
	"context"
	"strings"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

// ErrNoChain is returned, with chain.CodeChain, by operations that need
// the settlement chain when the node has none.
var ErrNoChain error = abi.Errorf(chain.CodeChain, "no settlement chain configured")

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
func (s *Settler) SyncDeposits(ctx context.Context) (int, error) {
	if s.notSettler() != nil {
		return 0, nil // the settling host credits them, for every host
	}
	n, err := s.syncDeposits(ctx)
	s.metrics.DepositsCredited(n)
	if err == nil && s.confirms > 0 {
		// Say what the deposits still uncredited wait for (each once).
		_, _ = s.PendingDeposits(ctx, "")
	}
	return n, err
}

func (s *Settler) syncDeposits(ctx context.Context) (int, error) {
	if s.chain == nil {
		return 0, ErrNoChain
	}
	// One sync at a time: each reads the cursor, the chain, and moves the
	// cursor, and two interleaved could credit logs of a branch the other
	// already found replaced.
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	cursor, err := s.led.DepositCursor(ctx)
	if err != nil {
		return 0, err
	}
	if cursor.Hash != "" {
		hash, err := s.chain.BlockHash(ctx, cursor.Block)
		if err != nil {
			return 0, err
		}
		if hash != cursor.Hash {
			if cursor, err = s.undoReorg(ctx, cursor); err != nil {
				return 0, err
			}
		}
	}
	from := max(cursor.Block+1, s.chain.Deployment().Block)
	head, err := s.chain.Head(ctx)
	if err != nil {
		return 0, err
	}
	if head < s.confirms {
		return 0, nil
	}
	safe := head - s.confirms
	n := 0
	step := s.chain.LogRange()
	for ; from <= safe; from += step {
		to := min(from+step-1, safe)
		// The range's last block is pinned by hash before its logs are read:
		// if it changes meanwhile, the next sync sees a reorg.
		toHash, err := s.chain.BlockHash(ctx, to)
		if err != nil {
			return n, err
		}
		events, err := s.chain.Deposits(ctx, from, to)
		if err != nil {
			return n, err
		}
		deps := make([]ledger.Deposit, len(events))
		for i, d := range events {
			deps[i] = ledger.Deposit{Ref: d.Ref, Account: d.Account, Amount: d.Amount, Block: d.Block, BlockHash: d.BlockHash}
		}
		next := ledger.Cursor{Block: to, Hash: toHash}
		credited, err := s.led.CreditRange(ctx, cursor, deps, next)
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
func (s *Settler) undoReorg(ctx context.Context, cursor ledger.Cursor) (ledger.Cursor, error) {
	floor := s.chain.Deployment().Block
	back := floor
	if cursor.Block > floor+ReorgWindow {
		back = cursor.Block - ReorgWindow
	}
	deps, err := s.led.DepositsFrom(ctx, back)
	if err != nil {
		return cursor, err
	}
	var undo []ledger.Deposit
	hashes := map[uint64]string{}
	for _, d := range deps {
		hash, ok := hashes[d.Block]
		if !ok {
			if hash, err = s.chain.BlockHash(ctx, d.Block); err != nil {
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
		if to.Hash, err = s.chain.BlockHash(ctx, to.Block); err != nil {
			return cursor, err
		}
	}
	if err := s.led.Reorg(ctx, undo, to); err != nil {
		return cursor, err
	}
	for _, d := range undo {
		s.logger.Warn("deposit undone: its block left the chain", "ref", d.Ref, "account", d.Account, "amount", d.Amount, "block", d.Block)
	}
	return to, nil
}

// Settle finishes posting the last closed epoch if a crash interrupted it,
// then closes the open epoch and posts its root on-chain. If the post fails
// the epoch stays closed and the next Settle (or ResumeSettlement) posts it.
func (s *Settler) Settle(ctx context.Context) (*ledger.Epoch, error) {
	if s.chain == nil {
		return nil, ErrNoChain
	}
	if err := s.notSettler(); err != nil {
		return nil, err
	}
	s.settleMu.Lock()
	defer s.settleMu.Unlock()
	if err := s.resumeSettlement(ctx); err != nil {
		return nil, err
	}
	if _, err := s.SyncDeposits(ctx); err != nil {
		return nil, err
	}
	e, err := s.led.CloseEpoch(ctx, s.Domain())
	if err != nil {
		return nil, err
	}
	s.metrics.EpochClosed()
	return e, s.post(ctx, e)
}

// post sends epoch e's root, recording the signed transaction as the
// epoch's intent before it is sent and as its PostTx once it is mined.
// postIntent records each signed version of epoch n's post before it is
// sent, so a restart can finish it rather than post twice.
func (s *Settler) postIntent(n uint64) func(tx, raw string) error {
	return func(tx, raw string) error { return s.led.SetPostIntent(context.Background(), n, tx, raw) }
}

func (s *Settler) post(ctx context.Context, e *ledger.Epoch) error {
	tx, err := s.chain.PostRoot(ctx, s.operator, e.N, e.Root, e.Total, e.Bundle, s.postIntent(e.N))
	if err != nil {
		return err
	}
	e.PostTx = tx
	if s.metrics != nil {
		if gas, err := s.chain.GasUsed(ctx, tx); err == nil {
			s.metrics.GasUsed("post_root", gas)
		}
	}
	return s.led.SetPostTx(ctx, e.N, tx)
}

// ResumeSettlement finishes what a crash may have interrupted: if the last
// closed epoch has no PostTx, the contract's epoch says whether its root
// landed (then it is marked posted with the recorded intent) or not (then
// it is posted now). A contract that holds another root for that epoch, or
// a later epoch than the ledger has closed, is an error: the two books
// disagree.
func (s *Settler) ResumeSettlement(ctx context.Context) error {
	if s.chain == nil {
		return ErrNoChain
	}
	if s.notSettler() != nil {
		return nil // the settling host resumes
	}
	s.settleMu.Lock()
	defer s.settleMu.Unlock()
	return s.resumeSettlement(ctx)
}

func (s *Settler) resumeSettlement(ctx context.Context) error {
	open, err := s.led.OpenEpoch(ctx)
	if err != nil || open <= 1 {
		return err
	}
	e, err := s.led.Epoch(ctx, open-1)
	if err != nil || e.PostTx != "" {
		return err
	}
	onChain, root, err := s.chain.PostedEpoch(ctx)
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
		tx, found, err := s.chain.PostTxOf(ctx, e.N)
		if err != nil {
			return err
		}
		if !found {
			tx = e.PostIntent
		}
		s.logger.Info("epoch posted before a restart", "epoch", e.N, "tx", tx)
		return s.led.SetPostTx(ctx, e.N, tx)
	}
	if e.PostRaw != "" {
		// The post was signed and maybe sent: send the same transaction
		// again, with its nonce, rather than a second one.
		tx, err := s.chain.Rebroadcast(ctx, s.operator, e.PostRaw, s.postIntent(e.N))
		if err == nil {
			s.logger.Info("finished posting an epoch a restart interrupted", "epoch", e.N, "tx", tx)
			return s.led.SetPostTx(ctx, e.N, tx)
		}
		s.logger.Warn("the interrupted post cannot land, posting again", "epoch", e.N, "err", err)
	}
	s.logger.Info("posting an epoch a restart interrupted", "epoch", e.N)
	return s.post(ctx, e)
}

// Domain is the chain and contract receipts and trees are bound to; with
// no chain, chain 0 and the zero address.
func Domain(c *chain.Client) ledger.Domain {
	if c == nil {
		return ledger.NoChain()
	}
	return ledger.Domain{ChainID: c.ChainID(), Settlement: c.Deployment().Settlement}
}

// Domain is the domain the settler's epochs are bound to.
func (s *Settler) Domain() ledger.Domain { return Domain(s.chain) }

// Proof is what an account needs to claim on-chain.
type Proof struct {
	Epoch      *ledger.Epoch
	Leaf       ledger.Leaf
	Proof      []string
	ChainID    uint64
	Settlement string
}

// Proof returns account's claim for epoch n (0: the last closed epoch).
func (s *Settler) Proof(ctx context.Context, n uint64, account string) (*Proof, error) {
	account, err := registry.CanonicalAddress(account)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		open, err := s.led.OpenEpoch(ctx)
		if err != nil {
			return nil, err
		}
		if open <= 1 {
			return nil, abi.Errorf(abi.CodeNotFound, "no epoch has closed yet")
		}
		n = open - 1
	}
	e, err := s.led.Epoch(ctx, n)
	if err != nil {
		return nil, err
	}
	leaf, proof, err := s.led.Proof(ctx, n, account)
	if err != nil {
		return nil, err
	}
	return &Proof{Epoch: e, Leaf: leaf, Proof: proof, ChainID: e.Domain.ChainID.Uint64(), Settlement: e.Domain.Settlement}, nil
}

// CodeNotSettler says a host asked to settle does not: of hosts sharing
// one set of books, only the one in writer seat 0 closes epochs, posts
// roots, credits deposits and relays claims, so that they send one
// transaction each from the operator's key.
const CodeNotSettler abi.Code = "not_settler"

// notSettler refuses what only the settling host does, on any other.
func (s *Settler) notSettler() error {
	if s.led.Fenced() {
		return abi.Errorf(CodeNotSettler, "another host took this host's writer seat: it settles no more; restart it")
	}
	if seat := s.led.Seat(); seat > 0 {
		return abi.Errorf(CodeNotSettler, "this host is in writer seat %d of the shared books; epochs close, roots post and claims relay on the host in seat 0", seat)
	}
	return nil
}
