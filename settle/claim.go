package settle

import (
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tgt"
)

// Relayed claims: the settlement contract pays a claim to the account it
// names whoever sends it, so the node can send an earner's claim from the
// operator's key and the earner needs no coin for gas. The operator's gas
// is what a user could waste, so a relay sends nothing it has not checked
// will pay (the amount is read from the contract, and the transaction's gas
// is estimated, which fails on a revert, before it is sent), runs one at a
// time per account, and at most once per account per RelayClaimEvery.
const (
	CodeNothingToClaim   abi.Code = "nothing_to_claim"   // the account has no earnings left to claim on-chain
	CodeClaimRateLimited abi.Code = "claim_rate_limited" // a relayed claim for the account is running or was sent too recently
)

// DefaultRelayClaimEvery is how often one account may have the node relay
// a claim: earnings grow once per epoch, so a claim more often pays little.
const DefaultRelayClaimEvery = 10 * time.Minute

type relays struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time // the last relay that sent a transaction, by account
	busy  map[string]bool
}

// begin admits one relay for account, or says why not.
func (r *relays) begin(account string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busy[account] {
		return abi.Errorf(CodeClaimRateLimited, "a relayed claim for %s is already running", account)
	}
	if t, ok := r.last[account]; ok && time.Since(t) < r.every {
		return abi.Errorf(CodeClaimRateLimited, "the node relayed a claim for %s at %s and relays one per account every %s", account, t.UTC().Format(time.RFC3339), r.every)
	}
	r.busy[account] = true
	return nil
}

// end ends account's relay; sent says whether it sent a transaction, which
// starts the account's wait for the next.
func (r *relays) end(account string, sent bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.busy, account)
	if sent {
		if len(r.last) >= 1<<16 {
			for a, t := range r.last {
				if time.Since(t) >= r.every {
					delete(r.last, a)
				}
			}
		}
		r.last[account] = time.Now()
	}
}

// RelayedClaim is a claim the node sent for an account.
type RelayedClaim struct {
	Account    string
	Epoch      uint64
	Cumulative *big.Int
	Amount     *big.Int
	Tx         string
}

// RelayClaim claims account's earnings on-chain, proven against the root
// the contract pays claims against now (the pending one if its challenge
// delay has passed, as the contract promotes it), paying the gas from the
// operator's key.
func (s *Settler) RelayClaim(ctx context.Context, account string) (*RelayedClaim, error) {
	if s.chain == nil {
		return nil, ErrNoChain
	}
	if err := s.notSettler(); err != nil {
		return nil, err
	}
	if err := s.relays.begin(account); err != nil {
		return nil, err
	}
	sent := false
	defer func() { s.relays.end(account, sent) }()
	current, pending, err := s.chain.CurrentRoot(ctx)
	if err != nil {
		return nil, err
	}
	root := current
	if pending.Epoch != 0 && time.Now().Unix() >= int64(pending.ClaimableAt) {
		root = pending
	}
	if root.Epoch == 0 {
		return nil, abi.Errorf(CodeNothingToClaim, "%s has nothing to claim: no root has been posted on-chain yet", account)
	}
	p, err := s.Proof(ctx, root.Epoch, account)
	if abi.CodeOf(err) == abi.CodeNotFound {
		return nil, abi.Errorf(CodeNothingToClaim, "%s has nothing to claim: it earned nothing by epoch %d, the last root on-chain", account, root.Epoch)
	} else if err != nil {
		return nil, err
	}
	if p.Epoch.Root != root.Root {
		return nil, abi.Errorf(abi.CodeInternal, "epoch %d: the ledger's root %s is not the root on-chain %s", root.Epoch, p.Epoch.Root, root.Root)
	}
	claimed, err := s.chain.Claimed(ctx, account)
	if err != nil {
		return nil, err
	}
	if p.Leaf.Cumulative.Cmp(claimed) <= 0 {
		return nil, abi.Errorf(CodeNothingToClaim, "%s has nothing to claim: it has claimed %s, all it earned by epoch %d, the last root on-chain", account, tgt.WithUnits(claimed), root.Epoch)
	}
	sent = true // from here a transaction may be sent, or its gas estimated
	tx, err := s.chain.Claim(ctx, s.operator, account, p.Leaf.Cumulative, p.Proof)
	if err != nil {
		return nil, err
	}
	s.logger.Info("relayed claim", "account", account, "epoch", root.Epoch, "amount", tgt.WithUnits(new(big.Int).Sub(p.Leaf.Cumulative, claimed)), "tx", tx)
	return &RelayedClaim{Account: account, Epoch: root.Epoch, Cumulative: p.Leaf.Cumulative, Amount: new(big.Int).Sub(p.Leaf.Cumulative, claimed), Tx: tx}, nil
}
