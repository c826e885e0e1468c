package settle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"github.com/tollgate-dev/tollgate/registry"
)

// Faucet refusals, each with its own code.
const (
	// CodeFaucetClosed says the faucet is off (a real chain) or was used by
	// the account too recently.
	CodeFaucetClosed abi.Code = "faucet_closed"
	// CodeFaucetBudget says the faucet gave all the drips it may give, across
	// all accounts, in its window: fresh keys cannot drain it.
	CodeFaucetBudget abi.Code = "faucet_budget"
)

// Faucet limits when a [Faucet] leaves them zero.
const (
	DefaultFaucetEvery  = time.Hour // one drip per account per hour
	DefaultFaucetBudget = 20        // drips across all accounts per window
	DefaultFaucetWindow = time.Hour
)

// Faucet gives a new caller credit on a development chain: it mints test
// tokens with the operator's key (the test token's minter), deposits them
// for the caller, and sends the caller gas to claim with. One drip per
// account per Every, and at most Budget drips across all accounts in any
// Window, so that making fresh keys does not drain it. With Path set, the
// drips it counts are kept in that file, so a restart resets neither limit.
type Faucet struct {
	Amount *big.Int      // credit per drip
	Gas    *big.Int      // wei per drip
	Every  time.Duration // per account (0: DefaultFaucetEvery; negative: no limit)
	Budget int           // drips across all accounts per Window (0: DefaultFaucetBudget; negative: no limit)
	Window time.Duration // (0: DefaultFaucetWindow)
	// Path is the file recording the drips that still count against the
	// limits, rewritten atomically before each drip's chain work ("":
	// memory only).
	Path string

	mu     sync.Mutex
	loaded bool
	state  faucetState
}

// faucetState is what the faucet's file holds: each account's last drip
// within Every, and every drip within Window, oldest first.
type faucetState struct {
	Last   map[string]time.Time `json:"last"`
	Recent []time.Time          `json:"recent"`
}

func (f *Faucet) every() time.Duration {
	if f.Every == 0 {
		return DefaultFaucetEvery
	}
	return f.Every
}

func (f *Faucet) budget() int {
	if f.Budget == 0 {
		return DefaultFaucetBudget
	}
	return f.Budget
}

func (f *Faucet) window() time.Duration {
	if f.Window <= 0 {
		return DefaultFaucetWindow
	}
	return f.Window
}

// Load reads the faucet's record from Path. Drip loads it if Load was not
// called; calling it at start-up reports a damaged file at once.
func (f *Faucet) Load() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.load()
}

func (f *Faucet) load() error {
	if f.loaded {
		return nil
	}
	f.state = faucetState{Last: map[string]time.Time{}}
	if f.Path != "" {
		b, err := os.ReadFile(f.Path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return fmt.Errorf("host: faucet: %w", err)
		default:
			if err := json.Unmarshal(b, &f.state); err != nil {
				return fmt.Errorf("host: faucet %s: %w", f.Path, err)
			}
			if f.state.Last == nil {
				f.state.Last = map[string]time.Time{}
			}
		}
	}
	f.loaded = true
	return nil
}

func (f *Faucet) save() error {
	if f.Path == "" {
		return nil
	}
	b, err := json.Marshal(f.state)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("host: faucet: %w", err)
	}
	if err := fsutil.WriteFileAtomic(f.Path, b, 0o600); err != nil {
		return fmt.Errorf("host: faucet: %w", err)
	}
	return nil
}

// take counts a drip for acct at now, or says why the faucet refuses it,
// and returns how to uncount it. The record is durable before it returns:
// a crash after the chain work cannot give the drip again.
func (f *Faucet) take(acct string, now time.Time) (undo func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.load(); err != nil {
		return nil, err
	}
	every, window := f.every(), f.window()
	for a, at := range f.state.Last {
		if now.Sub(at) >= every {
			delete(f.state.Last, a)
		}
	}
	f.state.Recent = slices.DeleteFunc(f.state.Recent, func(at time.Time) bool { return now.Sub(at) >= window })
	if at, ok := f.state.Last[acct]; ok && every > 0 {
		return nil, abi.Errorf(CodeFaucetClosed, "%s used the faucet at %s; again after %s", acct, at.Format(time.RFC3339), at.Add(every).Format(time.RFC3339))
	}
	if b := f.budget(); b > 0 && len(f.state.Recent) >= b {
		next := slices.MinFunc(f.state.Recent, time.Time.Compare).Add(window)
		return nil, abi.Errorf(CodeFaucetBudget, "the faucet gave its %d drips for the last %s; again after %s", b, window, next.Format(time.RFC3339))
	}
	now = now.UTC()
	f.state.Last[acct] = now
	f.state.Recent = append(f.state.Recent, now)
	remove := func() {
		delete(f.state.Last, acct)
		if i := slices.IndexFunc(f.state.Recent, now.Equal); i >= 0 {
			f.state.Recent = slices.Delete(f.state.Recent, i, i+1)
		}
	}
	if err := f.save(); err != nil {
		remove()
		return nil, err
	}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		remove()
		f.save() // at worst the account waits for its next drip
	}, nil
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
func (s *Settler) Drip(ctx context.Context, account string, toWallet bool) (*FaucetResult, error) {
	f := s.faucet
	if f == nil || s.chain == nil {
		return nil, abi.Errorf(CodeFaucetClosed, "this node has no faucet: it settles on a real chain")
	}
	acct, err := registry.CanonicalAddress(account)
	if err != nil {
		return nil, err
	}
	undo, err := f.take(acct, time.Now())
	if err != nil {
		return nil, err
	}
	// The chain work is the operator's: one drip at a time keeps its
	// nonces in order, and a caller going away does not stop it halfway.
	ctx = context.WithoutCancel(ctx)
	s.faucetMu.Lock()
	defer s.faucetMu.Unlock()
	if _, err := s.chain.SendETH(ctx, s.operator, acct, f.Gas); err != nil {
		undo()
		return nil, err
	}
	if toWallet {
		if _, err := s.chain.Mint(ctx, s.operator, acct, f.Amount); err != nil {
			undo()
			return nil, err
		}
		s.logger.Info("faucet", "account", acct, "minted", f.Amount, "gas", f.Gas)
		return &FaucetResult{Account: acct, Amount: new(big.Int).Set(f.Amount), Gas: new(big.Int).Set(f.Gas), ToWallet: true}, nil
	}
	if _, err := s.chain.Mint(ctx, s.operator, s.opAddr, f.Amount); err != nil {
		undo()
		return nil, err
	}
	d, err := s.chain.Deposit(ctx, s.operator, acct, f.Amount)
	if err != nil {
		undo()
		return nil, err
	}
	if _, err := s.SyncDeposits(ctx); err != nil {
		return nil, err
	}
	s.logger.Info("faucet", "account", acct, "amount", f.Amount, "gas", f.Gas)
	return &FaucetResult{Account: acct, Amount: new(big.Int).Set(f.Amount), Gas: new(big.Int).Set(f.Gas), DepositRef: d.Ref}, nil
}
