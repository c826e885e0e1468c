package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Books shared by several writing hosts.
//
// A store that several hosts write at once (PostgreSQL, opened with
// writer seats: kv.PostgresOptions.Seats) gives each host a seat, fenced
// on its own. Nothing a receipt writes is shared between seats, so hosts
// never wait for one another on the hot path:
//
//   - a caller's credit is c/<account>, free to lease; a host spends only
//     from its seat's lease of it, l/<account>/<seat>, taken with one
//     conditional write (never below zero) and returned when idle, when
//     the host closes, or by the next holder of the seat;
//   - earnings a seat's receipts pay are e/<account>/<seat>, beside the
//     e/<account> that withdrawals and a sole writer keep; an account's
//     cumulative earnings are their sum;
//   - what a seat's receipts moved from credit to earnings is
//     t/spent/<seat>, so the running totals t/credit and t/earned change
//     only with deposits.
//
// Every commit reads the open epoch and the seal (m/seal): closing an
// epoch first seals it, in a small transaction that any commit still
// aiming at the epoch conflicts with, so the close then reads an epoch no
// host can add to.
func leaseKey(account string, seat int) []byte {
	return []byte("l/" + account + "/" + strconv.Itoa(seat))
}
func leasePrefix(account string) []byte { return []byte("l/" + account + "/") }
func seatEarnedKey(account string, seat int) []byte {
	return []byte("e/" + account + "/" + strconv.Itoa(seat))
}
func spentKey(seat int) []byte { return []byte("t/spent/" + strconv.Itoa(seat)) }

var sealKey = []byte("m/seal")

// seated is a store written by several hosts, each in a numbered seat.
type seated interface {
	Seat() (seat, seats int)
}

// The lease policy: a host leases a quarter of a caller's free credit,
// and at least what the call needs, so hosts sharing a hot caller each
// get a smaller part of what is left; it gives back a lease no call of
// its has used for LeaseIdle.
const (
	leaseShare = 4
	LeaseIdle  = 2 * time.Second
)

// Seat returns the writer seat this ledger holds in books several hosts
// write, or -1 if it is the books' sole writer (or a reader).
func (l *Ledger) Seat() int { return l.seat }

// Fenced reports whether another host has taken this ledger's writer seat
// (as far as it has found out): nothing it commits lands any more.
func (l *Ledger) Fenced() bool {
	f, ok := l.db.(interface{ Fenced() bool })
	return ok && f.Fenced()
}

// spendKey is where the credit this host spends from lives: the account's
// own credit for a sole writer, its seat's lease of it when shared.
func (l *Ledger) spendKey(account string) []byte {
	if l.seat < 0 {
		return balanceKey(account)
	}
	return leaseKey(account, l.seat)
}

// sumUnder returns the sum of every amount under prefix.
func sumUnder(txn kv.Txn, prefix string) (*big.Int, error) {
	total := new(big.Int)
	err := scan(txn, prefix, func(_, v []byte) error {
		a, err := parseAmount(v)
		if err == nil {
			total.Add(total, a)
		}
		return err
	})
	return total, err
}

// sumPrefixed returns the amount at key plus every amount under key+"/":
// an account's own part and each seat's.
func sumPrefixed(txn kv.Txn, key []byte) (*big.Int, error) {
	own, err := getAmount(txn, key)
	if err != nil {
		return nil, err
	}
	parts, err := sumUnder(txn, string(key)+"/")
	if err != nil {
		return nil, err
	}
	return own.Add(own, parts), nil
}

// creditOf is account's whole credit: what is free to lease (c/<account>)
// and what every seat holds leased (l/<account>/<seat>).
func creditOf(txn kv.Txn, account string) (*big.Int, error) {
	free, err := getAmount(txn, balanceKey(account))
	if err != nil {
		return nil, err
	}
	leased, err := sumUnder(txn, string(leasePrefix(account)))
	if err != nil {
		return nil, err
	}
	return free.Add(free, leased), nil
}

// spentTotal is Σ t/spent/<seat>: what every seat's receipts moved from
// credit to earnings.
func spentTotal(txn kv.Txn) (*big.Int, error) { return sumUnder(txn, "t/spent/") }

// takeLease moves at least need of account's free credit into this seat's
// lease, in one write that never takes credit below zero. It returns what
// it moved. The account's lock is held.
func (l *Ledger) takeLease(ctx context.Context, account string, need *big.Int) error {
	return l.write(ctx, func(txn kv.Txn) error {
		free, err := getAmount(txn, balanceKey(account))
		if err != nil {
			return err
		}
		if free.Cmp(need) < 0 {
			all, err := creditOf(txn, account)
			if err != nil {
				return err
			}
			mine, err := getAmount(txn, l.spendKey(account))
			if err != nil {
				return err
			}
			elsewhere := all.Sub(all, free).Sub(all, mine)
			return abi.Errorf(abi.CodeInsufficientCredit, "ledger: %s has %s free to lease here, needs %s more (%s is leased by other hosts, and returns to it within %s of their last call, or when a host that died is replaced)", account, free, need, elsewhere, LeaseIdle)
		}
		take := new(big.Int).Quo(free, big.NewInt(leaseShare))
		if take.Cmp(need) < 0 {
			take.Set(need)
		}
		held, err := getAmount(txn, l.spendKey(account))
		if err != nil {
			return err
		}
		if err := txn.Set(balanceKey(account), []byte(free.Sub(free, take).String())); err != nil {
			return err
		}
		return l.setCredit(txn, account, held.Add(held, take))
	})
}

// leaseShortfall tops the seat's lease of account, held, up to need from
// the account's free credit, in txn, if the free credit covers it; it
// returns the lease as it would then be. Nothing is written unless it
// covers it.
func (l *Ledger) leaseShortfall(txn kv.Txn, account string, held, need *big.Int) (*big.Int, error) {
	free, err := getAmount(txn, balanceKey(account))
	if err != nil {
		return nil, err
	}
	short := new(big.Int).Sub(need, held)
	if free.Cmp(short) < 0 {
		return held, nil // the caller's check refuses it
	}
	if err := txn.Set(balanceKey(account), []byte(free.Sub(free, short).String())); err != nil {
		return nil, err
	}
	return new(big.Int).Set(need), nil
}

// returnLease gives this seat's lease of account back to its free credit,
// if no call holds any of it and none has used it for idle. The account's
// lock is taken here.
func (l *Ledger) returnLease(ctx context.Context, account string, idle time.Duration) error {
	mu := l.accountLock(account)
	mu.Lock()
	defer mu.Unlock()
	l.resMu.Lock()
	busy := l.reserved[account] != nil || time.Since(l.leaseUse[account]) < idle
	l.resMu.Unlock()
	if busy {
		return nil
	}
	if err := l.write(ctx, func(txn kv.Txn) error { return l.giveBack(txn, account, l.seat, true) }); err != nil {
		return err // kept in leaseUse: tried again at the next tick
	}
	l.resMu.Lock()
	delete(l.leaseUse, account)
	l.resMu.Unlock()
	return nil
}

// giveBack moves seat's lease of account back to the account's free
// credit, staging it in the mirror if the seat is this ledger's.
func (l *Ledger) giveBack(txn kv.Txn, account string, seat int, mine bool) error {
	k := leaseKey(account, seat)
	held, err := getAmount(txn, k)
	if err != nil {
		return err
	}
	if err := addAmount(txn, balanceKey(account), held); err != nil {
		return err
	}
	if mine {
		l.credits.stage(account, new(big.Int))
	}
	return txn.Delete(k)
}

// leaseLoop gives back leases gone idle, until the ledger closes.
func (l *Ledger) leaseLoop() {
	defer close(l.leasesDone)
	tick := time.NewTicker(LeaseIdle / 2)
	defer tick.Stop()
	lastAdopt := time.Now()
	for {
		select {
		case <-l.quit:
			return
		case <-tick.C:
		}
		if l.seat == 0 && time.Since(lastAdopt) >= adoptEvery {
			lastAdopt = time.Now()
			if err := l.adoptVacantSeats(); err != nil {
				l.logger.Warn("return the leases of vacant seats", "err", err)
			}
		}
		l.resMu.Lock()
		var idle []string
		for a, t := range l.leaseUse {
			if time.Since(t) >= LeaseIdle {
				idle = append(idle, a)
			}
		}
		l.resMu.Unlock()
		for _, a := range idle {
			if err := l.returnLease(context.Background(), a, LeaseIdle); err != nil && abi.CodeOf(err) != abi.CodeUnavailable {
				l.logger.Warn("return an idle lease", "account", a, "err", err)
			}
		}
	}
}

// adopter is a store that can take a vacant writer seat for a moment,
// fencing whoever held it.
type adopter interface {
	Vacant(seat int) bool
	Adopt(seat int) (release func(), ok bool, err error)
}

// adoptEvery is how often the settling host looks for leases left in
// seats nobody holds.
const adoptEvery = 5 * time.Second

// adoptVacantSeats returns the leases of seats no host holds (a host that
// died and whose seat nobody took again), once each seat's token is
// advanced so the dead holder can no longer commit.
func (l *Ledger) adoptVacantSeats() error {
	ad, ok := l.db.(adopter)
	if !ok {
		return nil
	}
	seats := map[int][]string{}
	if err := l.db.View(func(txn kv.Txn) error {
		return scan(txn, "l/", func(k, _ []byte) error {
			rest := string(k[2:])
			i := strings.LastIndexByte(rest, '/')
			if seat, err := strconv.Atoi(rest[i+1:]); err == nil && i > 0 && seat != l.seat && len(seats[seat]) < 1000 {
				seats[seat] = append(seats[seat], rest[:i])
			}
			return nil
		})
	}); err != nil {
		return err
	}
	for seat, accounts := range seats {
		// A seat must be found vacant twice, adoptEvery apart: a live
		// host whose lock session dropped (PostgreSQL restarted) retakes
		// its seat well within that, and is not fenced.
		if !ad.Vacant(seat) {
			delete(l.vacant, seat)
			continue
		}
		if since, ok := l.vacant[seat]; !ok || time.Since(since) < adoptEvery {
			if !ok {
				l.vacant[seat] = time.Now()
			}
			continue
		}
		delete(l.vacant, seat)
		release, ok, err := ad.Adopt(seat)
		if err != nil || !ok {
			continue // held by a live host, which returns its own
		}
		err = l.update(func(txn kv.Txn) error {
			for _, a := range accounts {
				if err := l.giveBack(txn, a, seat, false); err != nil {
					return err
				}
			}
			return nil
		})
		release()
		if err != nil {
			return err
		}
		l.logger.Info("returned the leases of a vacant seat", "seat", seat, "accounts", len(accounts))
	}
	return nil
}

// returnSeatLeases gives every lease this seat holds back to its
// account's free credit, without the writer: at open, the leases an
// earlier holder of the seat left (the seat's new token fences that
// holder, so what they hold is final); at close, this host's own.
func (l *Ledger) returnSeatLeases() error {
	suffix := []byte("/" + strconv.Itoa(l.seat))
	for {
		var accounts []string
		if err := l.db.View(func(txn kv.Txn) error {
			return scan(txn, "l/", func(k, _ []byte) error {
				if bytes.HasSuffix(k, suffix) && len(accounts) < 1000 {
					accounts = append(accounts, string(k[2:len(k)-len(suffix)]))
				}
				return nil
			})
		}); err != nil {
			return fmt.Errorf("ledger: read the seat's leases: %w", err)
		}
		if len(accounts) == 0 {
			return nil
		}
		if err := l.update(func(txn kv.Txn) error {
			for _, a := range accounts {
				if err := l.giveBack(txn, a, l.seat, false); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("ledger: return the seat's leases: %w", err)
		}
	}
}

// update runs fn in a transaction of its own, again while it conflicts
// with another host's.
func (l *Ledger) update(fn func(kv.Txn) error) error { return kv.UpdateRetrying(l.db, fn) }

// refreshOpen reads the open epoch again from the books, for a commit that
// found it moved: another host may have closed it.
func (l *Ledger) refreshOpen() error {
	var st openState
	err := l.db.View(func(txn kv.Txn) error {
		n, err := openEpoch(txn)
		if err != nil {
			return err
		}
		st = openState{epoch: n, bundle: ZeroBundle}
		if n > 1 {
			var e Epoch
			if err := kv.GetJSON(txn, epochKey(n-1), &e); err != nil {
				return fmt.Errorf("ledger: epoch %d: %w", n-1, err)
			}
			st.bundle = e.Bundle
		}
		return nil
	})
	if err != nil {
		return err
	}
	for {
		cur := l.open.Load()
		if cur != nil && cur.epoch >= st.epoch {
			return nil
		}
		if l.open.CompareAndSwap(cur, &st) {
			return nil
		}
	}
}

// sealed returns the epoch being closed, or 0.
func sealed(txn kv.Txn) (uint64, error) { return epochAt(txn, sealKey, 0) }

// seal marks the open epoch as closing, so no commit adds to it, or
// refuses with CodeEpochEmpty if it has no receipts. Sealing an epoch
// already sealed is a no-op: a close that stopped midway resumes.
func seal(txn kv.Txn) (uint64, error) {
	n, err := openEpoch(txn)
	if err != nil {
		return 0, err
	}
	if s, err := sealed(txn); err != nil || s == n {
		return n, err
	}
	it := txn.NewIterator(kv.IterOptions{Prefix: epochReceiptsPrefix(n), KeysOnly: true})
	it.Rewind()
	any := it.Valid()
	it.Close()
	if !any {
		return 0, abi.Errorf(CodeEpochEmpty, "ledger: epoch %d has no receipts to close", n)
	}
	return n, txn.Set(sealKey, binary.BigEndian.AppendUint64(nil, n))
}

var errEpochSealed = abi.Errorf(abi.CodeUnavailable, "ledger: the epoch is being closed")
