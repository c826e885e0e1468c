package host

import (
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// CodeFaucetClosed says the faucet is off (a real chain) or was used by
// the account too recently.
const CodeFaucetClosed abi.Code = "faucet_closed"

// Faucet gives a new caller credit on a development chain: it mints test
// tokens with the operator's key (the test token's minter), deposits them
// for the caller, and sends the caller gas to claim with. One drip per
// account per Every.
type Faucet struct {
	Amount *big.Int // credit per drip
	Gas    *big.Int // wei per drip
	Every  time.Duration

	mu   sync.Mutex
	last map[string]time.Time
}

// FaucetResult is what one drip gave.
type FaucetResult struct {
	Account    string
	Amount     *big.Int
	Gas        *big.Int
	DepositRef string
	ToWallet   bool // minted to the account's wallet, not deposited
}

// Drip runs the faucet for account, crediting it at once. With toWallet,
// the tokens are minted to the account's wallet instead, for it to deposit
// itself (or keep).
func (h *Host) Drip(ctx context.Context, account string, toWallet bool) (*FaucetResult, error) {
	f := h.faucet
	if f == nil || h.chain == nil {
		return nil, abi.Errorf(CodeFaucetClosed, "this node has no faucet: it settles on a real chain")
	}
	acct, err := registry.CanonicalAddress(account)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.last == nil {
		f.last = map[string]time.Time{}
	}
	if at, ok := f.last[acct]; ok && time.Since(at) < f.Every {
		f.mu.Unlock()
		return nil, abi.Errorf(CodeFaucetClosed, "%s used the faucet at %s; again after %s", acct, at.Format(time.RFC3339), at.Add(f.Every).Format(time.RFC3339))
	}
	f.last[acct] = time.Now()
	f.mu.Unlock()
	undo := func() { f.mu.Lock(); delete(f.last, acct); f.mu.Unlock() }
	// The chain work is the operator's: one drip at a time keeps its
	// nonces in order, and a caller going away does not stop it halfway.
	ctx = context.WithoutCancel(ctx)
	h.faucetMu.Lock()
	defer h.faucetMu.Unlock()
	if _, err := h.chain.SendETH(ctx, h.operator, acct, f.Gas); err != nil {
		undo()
		return nil, err
	}
	if toWallet {
		if _, err := h.chain.Mint(ctx, h.operator, acct, f.Amount); err != nil {
			undo()
			return nil, err
		}
		h.logger.Info("faucet", "account", acct, "minted", f.Amount, "gas", f.Gas)
		return &FaucetResult{Account: acct, Amount: new(big.Int).Set(f.Amount), Gas: new(big.Int).Set(f.Gas), ToWallet: true}, nil
	}
	if _, err := h.chain.Mint(ctx, h.operator, h.opAddr, f.Amount); err != nil {
		undo()
		return nil, err
	}
	d, err := h.chain.Deposit(ctx, h.operator, acct, f.Amount)
	if err != nil {
		undo()
		return nil, err
	}
	if _, err := h.SyncDeposits(ctx); err != nil {
		return nil, err
	}
	h.logger.Info("faucet", "account", acct, "amount", f.Amount, "gas", f.Gas)
	return &FaucetResult{Account: acct, Amount: new(big.Int).Set(f.Amount), Gas: new(big.Int).Set(f.Gas), DepositRef: d.Ref}, nil
}
