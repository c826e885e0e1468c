package ledger

import (
	"context"
	"hash/maphash"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
)

// Reservation is credit held for a call in flight. It starts at what the
// call is sure to cost and grows, with [Reservation.Extend], as the call
// reads priced records.
type Reservation struct {
	l       *Ledger
	account string
	amount  *big.Int
	mu      sync.Mutex
	done    bool
	// counted is whether the reservation counts in l.active: from Reserve
	// until its commit is written or it is released, whichever is first.
	counted atomic.Bool
}

// inFlight reports whether r counts among the calls in flight.
func (r *Reservation) inFlight() bool { return r != nil && r.counted.Load() }

// landed takes r out of the calls in flight (once), when its commit is
// written or it is released; it is safe on nil.
func (r *Reservation) landed() {
	if r != nil && r.counted.CompareAndSwap(true, false) {
		r.l.active.Add(-1)
	}
}

// accountStripes is how many locks accounts' reservations are spread
// over.
const accountStripes = 256

// accountLock is the lock account's credit is read and its holds changed
// under.
func (l *Ledger) accountLock(account string) *sync.Mutex {
	return &l.acctMu[maphash.String(stripeSeed, account)%accountStripes]
}

var stripeSeed = maphash.MakeSeed()

// Reserve holds amount of account's credit for a call about to run, so
// concurrent calls cannot together spend more than the account has. Release
// it (Commit does) when the call ends. The credit is read under the same
// lock (the account's) that releases reservations, and a commit debits the
// credit before it releases its reservation, so no interleaving admits a
// call that cannot pay.
func (l *Ledger) Reserve(ctx context.Context, account string, amount *big.Int) (*Reservation, error) {
	if amount == nil || amount.Sign() < 0 {
		return nil, abi.Errorf(abi.CodeBadRequest, "ledger: reserve a non-negative amount")
	}
	mu := l.accountLock(account)
	mu.Lock()
	defer mu.Unlock()
	if err := l.hold(account, amount); err != nil {
		return nil, err
	}
	res := &Reservation{l: l, account: account, amount: new(big.Int).Set(amount)}
	res.counted.Store(true)
	l.active.Add(1)
	return res, nil
}

// hold adds amount to what account holds if its free credit covers it.
// The account's lock must be held.
func (l *Ledger) hold(account string, amount *big.Int) error {
	for leased := false; ; leased = true {
		bal, err := l.spendable(account)
		if err != nil {
			return err
		}
		l.resMu.Lock()
		held := l.reserved[account]
		if held == nil {
			held = new(big.Int)
		}
		free := new(big.Int).Sub(bal, held)
		if free.Cmp(amount) >= 0 {
			l.reserved[account] = new(big.Int).Add(held, amount)
			if l.seat >= 0 {
				l.leaseUse[account] = time.Now()
			}
			l.resMu.Unlock()
			return nil
		}
		l.resMu.Unlock()
		if l.seat < 0 || leased {
			return abi.Errorf(abi.CodeInsufficientCredit, "ledger: %s has %s free (%s held by calls in flight), needs %s", account, free, held, amount)
		}
		// Shared books: lease what this seat lacks from the account's
		// free credit, then check again.
		if err := l.takeLease(context.Background(), account, free.Sub(amount, free)); err != nil {
			return err
		}
		l.resMu.Lock()
		l.leaseUse[account] = time.Now() // returned when idle, even if this call is refused
		l.resMu.Unlock()
	}
}

// Extend holds amount more for the same call, or refuses with
// CodeInsufficientCredit and holds nothing more.
func (r *Reservation) Extend(amount *big.Int) error {
	if amount == nil || amount.Sign() < 0 {
		return abi.Errorf(abi.CodeBadRequest, "ledger: extend a reservation by a non-negative amount")
	}
	if amount.Sign() == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return abi.Errorf(abi.CodeInternal, "ledger: reservation already released")
	}
	mu := r.l.accountLock(r.account)
	mu.Lock()
	defer mu.Unlock()
	if err := r.l.hold(r.account, amount); err != nil {
		return err
	}
	r.amount.Add(r.amount, amount)
	return nil
}

// Shrink gives back amount of what the reservation holds, as when a model
// call held its worst case and used less. It refuses to give back more
// than the reservation holds.
func (r *Reservation) Shrink(amount *big.Int) error {
	if amount == nil || amount.Sign() < 0 {
		return abi.Errorf(abi.CodeBadRequest, "ledger: shrink a reservation by a non-negative amount")
	}
	if amount.Sign() == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return abi.Errorf(abi.CodeInternal, "ledger: reservation already released")
	}
	if amount.Cmp(r.amount) > 0 {
		return abi.Errorf(abi.CodeInternal, "ledger: shrink a reservation of %s by %s", r.amount, amount)
	}
	mu := r.l.accountLock(r.account)
	mu.Lock()
	defer mu.Unlock()
	r.l.resMu.Lock()
	defer r.l.resMu.Unlock()
	left := new(big.Int).Sub(r.l.reserved[r.account], amount)
	if left.Sign() <= 0 {
		delete(r.l.reserved, r.account)
	} else {
		r.l.reserved[r.account] = left
	}
	r.amount.Sub(r.amount, amount)
	return nil
}

// Amount returns what the reservation holds.
func (r *Reservation) Amount() *big.Int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return new(big.Int).Set(r.amount)
}

// Release frees the reservation; it is safe to call more than once and on nil.
func (r *Reservation) Release() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	r.landed()
	mu := r.l.accountLock(r.account)
	mu.Lock()
	defer mu.Unlock()
	r.l.resMu.Lock()
	defer r.l.resMu.Unlock()
	held := r.l.reserved[r.account]
	if held == nil {
		held = new(big.Int) // only zero-amount reservations held nothing
	}
	left := new(big.Int).Sub(held, r.amount)
	if left.Sign() <= 0 {
		delete(r.l.reserved, r.account)
	} else {
		r.l.reserved[r.account] = left
	}
}
