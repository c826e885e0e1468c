package settle

import (
	"context"
	"fmt"
	"math/big"

	"github.com/tollgate-dev/tollgate/internal/tgt"
)

// PendingDeposit is a deposit seen on-chain that waits for confirmations
// before it is credited.
type PendingDeposit struct {
	Ref        string
	Account    string
	Amount     string
	Block      uint64
	BlocksToGo uint64
}

// PendingDeposits returns the deposits for account ("" for every account)
// made after the blocks the host has credited, each with how many more
// blocks it waits for, and logs each one's wait once.
func (s *Settler) PendingDeposits(ctx context.Context, account string) ([]PendingDeposit, error) {
	if s.chain == nil || s.confirms == 0 {
		// Without confirmations a deposit is credited by the next sync.
		return nil, nil
	}
	cursor, err := s.led.DepositCursor(ctx)
	if err != nil {
		return nil, err
	}
	head, err := s.chain.Head(ctx)
	if err != nil {
		return nil, err
	}
	from := max(cursor.Block+1, s.chain.Deployment().Block)
	if from > head {
		return nil, nil
	}
	// Only the unconfirmed tail is read: at most confirms blocks past what
	// the next sync credits, plus what it has not reached yet.
	if head > s.confirms+s.chain.LogRange() && from < head-s.confirms-s.chain.LogRange() {
		from = head - s.confirms - s.chain.LogRange()
	}
	events, err := s.chain.Deposits(ctx, from, head)
	if err != nil {
		return nil, err
	}
	var out []PendingDeposit
	for _, d := range events {
		if d.Block+s.confirms <= head {
			continue // the next sync credits it
		}
		p := PendingDeposit{Ref: d.Ref, Account: d.Account, Amount: d.Amount.String(), Block: d.Block, BlocksToGo: d.Block + s.confirms - head}
		s.logPending(p, d.Amount)
		if account == "" || account == d.Account {
			out = append(out, p)
		}
	}
	return out, nil
}

// logPending says once per deposit what it waits for: on a chain that
// seals blocks only when transactions arrive, it may wait long.
func (s *Settler) logPending(p PendingDeposit, amount *big.Int) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	if s.pendingLogged[p.Ref] {
		return
	}
	if s.pendingLogged == nil || len(s.pendingLogged) >= 1<<16 {
		s.pendingLogged = map[string]bool{}
	}
	s.pendingLogged[p.Ref] = true
	s.logger.Info(fmt.Sprintf("deposit %s of %s for %s waits for %d more blocks before it is credited (%d confirmations; a dev chain that seals blocks only when transactions arrive needs --confirmations 0)",
		p.Ref, tgt.WithUnits(amount), p.Account, p.BlocksToGo, s.confirms), "deposit", p.Ref, "blocks_to_go", p.BlocksToGo)
}

// Wallet is what the chain holds for account: its wallet's tokens and
// what it has claimed.
func (s *Settler) Wallet(ctx context.Context, account string) (wallet, claimed *big.Int, err error) {
	if s.chain == nil {
		return nil, nil, ErrNoChain
	}
	if wallet, err = s.chain.TokenBalance(ctx, account); err != nil {
		return nil, nil, err
	}
	if claimed, err = s.chain.Claimed(ctx, account); err != nil {
		return nil, nil, err
	}
	return wallet, claimed, nil
}
