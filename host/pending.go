package host

import (
	"context"
	"fmt"
	"math/big"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
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
func (h *Host) PendingDeposits(ctx context.Context, account string) ([]PendingDeposit, error) {
	if h.chain == nil || h.confirms == 0 {
		// Without confirmations a deposit is credited by the next sync.
		return nil, nil
	}
	cursor, err := h.led.DepositCursor(ctx)
	if err != nil {
		return nil, err
	}
	head, err := h.chain.Head(ctx)
	if err != nil {
		return nil, err
	}
	from := max(cursor.Block+1, h.chain.Deployment().Block)
	if from > head {
		return nil, nil
	}
	// Only the unconfirmed tail is read: at most confirms blocks past what
	// the next sync credits, plus what it has not reached yet.
	if head > h.confirms+h.chain.LogRange() && from < head-h.confirms-h.chain.LogRange() {
		from = head - h.confirms - h.chain.LogRange()
	}
	events, err := h.chain.Deposits(ctx, from, head)
	if err != nil {
		return nil, err
	}
	var out []PendingDeposit
	for _, d := range events {
		if d.Block+h.confirms <= head {
			continue // the next sync credits it
		}
		p := PendingDeposit{Ref: d.Ref, Account: d.Account, Amount: d.Amount.String(), Block: d.Block, BlocksToGo: d.Block + h.confirms - head}
		h.logPending(p, d.Amount)
		if account == "" || account == d.Account {
			out = append(out, p)
		}
	}
	return out, nil
}

// logPending says once per deposit what it waits for: on a chain that
// seals blocks only when transactions arrive, it may wait long.
func (h *Host) logPending(p PendingDeposit, amount *big.Int) {
	h.pendingMu.Lock()
	defer h.pendingMu.Unlock()
	if h.pendingLogged[p.Ref] {
		return
	}
	if h.pendingLogged == nil || len(h.pendingLogged) >= 1<<16 {
		h.pendingLogged = map[string]bool{}
	}
	h.pendingLogged[p.Ref] = true
	h.logger.Info(fmt.Sprintf("deposit %s of %s for %s waits for %d more blocks before it is credited (%d confirmations; a dev chain that seals blocks only when transactions arrive needs --confirmations 0)",
		p.Ref, tgt.WithUnits(amount), p.Account, p.BlocksToGo, h.confirms), "deposit", p.Ref, "blocks_to_go", p.BlocksToGo)
}

// onChainBalance adds to a balance what the chain holds for account: its
// wallet's tokens, what it has claimed, and its deposits not yet credited.
func (h *Host) onChainBalance(ctx context.Context, account string, out *tollgatev1.GetBalanceResponse) error {
	wallet, err := h.chain.TokenBalance(ctx, account)
	if err != nil {
		return err
	}
	claimed, err := h.chain.Claimed(ctx, account)
	if err != nil {
		return err
	}
	out.Wallet, out.Claimed = wallet.String(), claimed.String()
	pending, err := h.PendingDeposits(ctx, account)
	if err != nil {
		return err
	}
	for _, p := range pending {
		out.Pending = append(out.Pending, &tollgatev1.PendingDeposit{Amount: p.Amount, Ref: p.Ref, Block: p.Block, BlocksToGo: p.BlocksToGo})
	}
	return nil
}
