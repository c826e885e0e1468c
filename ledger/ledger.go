package ledger

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Posting kinds. Earning kinds add to an account's cumulative earnings,
// which is what the settlement tree pays.
const (
	KindDeposit     = "deposit"     // credit from a deposit on-chain
	KindCall        = "call"        // the caller's debit for an invocation
	KindDeveloper   = "developer"   // the agent developer's share of the price
	KindProtocol    = "protocol"    // the operator's fee
	KindAccess      = "access"      // a datanet's per-record read fee
	KindAttribution = "attribution" // a contributor's attributed share of the price
)

func earning(kind string) bool {
	switch kind {
	case KindDeveloper, KindProtocol, KindAccess, KindAttribution, KindRefund:
		return true
	}
	return false
}

// Posting moves Amount (negative for a debit) into Account.
type Posting struct {
	Account string   `json:"account"`
	Kind    string   `json:"kind"`
	Amount  *big.Int `json:"amount"`
	Memo    string   `json:"memo,omitempty"` // e.g. the record an access fee is for
}

// Access is one metered record read, as the receipt keeps it.
type Access struct {
	Datanet     string   `json:"datanet"`
	Record      string   `json:"record"`
	Contributor string   `json:"contributor"`
	Bytes       int      `json:"bytes"`
	Fee         *big.Int `json:"fee"`
}

// Score is one record's attribution weight.
type Score struct {
	Record      string  `json:"record"`
	Contributor string  `json:"contributor"`
	Weight      float64 `json:"weight"`
}

// Receipt is the record of one invocation: what ran, on what, who read what,
// who was attributed what, and the postings that paid for it.
type Receipt struct {
	ID              string    `json:"id"`
	RequestID       string    `json:"request_id,omitempty"` // the caller's, if it chose one
	Caller          string    `json:"caller"`
	Agent           string    `json:"agent"` // name@version
	AgentHash       string    `json:"agent_hash"`
	Attribution     string    `json:"attribution"` // name@version of the attribution plugin
	AttributionHash string    `json:"attribution_hash"`
	Method          string    `json:"method"` // what the attribution plugin said it did
	InputHash       string    `json:"input_hash"`
	OutputHash      string    `json:"output_hash"`
	Accesses        []Access  `json:"accesses"`
	Scores          []Score   `json:"scores"`
	Postings        []Posting `json:"postings"`
	// Datanets are the versions of the granted datanets when the agent ran.
	Datanets []DatanetVersion `json:"datanets,omitempty"`
	Epoch    uint64           `json:"epoch"`
	Time     time.Time        `json:"time"`
	// Fuel is the compute the call used, where the runtime meters it.
	Fuel uint64 `json:"fuel,omitempty"`
	// PrevBundle is the bundle hash of the epoch before this one, where
	// settlement records one.
	PrevBundle string `json:"prev_bundle,omitempty"`
	// The operator's EIP-712 signature over the receipt (see TypedData).
	Domain    *Domain `json:"domain,omitempty"`
	Signer    string  `json:"signer,omitempty"`
	Signature string  `json:"signature,omitempty"`
}

// Debit returns what the receipt charged its caller.
func (r *Receipt) Debit() *big.Int {
	d := new(big.Int)
	for _, p := range r.Postings {
		if p.Amount.Sign() < 0 {
			d.Sub(d, p.Amount)
		}
	}
	return d
}

// Epoch is a closed epoch: every account's cumulative earnings at its close
// and the root of their tree.
type Epoch struct {
	N        uint64   `json:"n"`
	Domain   Domain   `json:"domain"`
	Root     string   `json:"root"`  // 0x-hex
	Total    *big.Int `json:"total"` // sum of Leaves' cumulative earnings
	Leaves   []Leaf   `json:"leaves"`
	Receipts int      `json:"receipts"` // receipts committed in this epoch
	// Bundle chains the epoch's receipts and outputs to every epoch before
	// it (see [BundleHash]); the root is posted with it.
	Bundle string    `json:"bundle"`
	Closed time.Time `json:"closed"`
	// PostIntent is the signed transaction that posts Root, recorded
	// before it is sent, so a restart can tell whether it landed.
	PostIntent string `json:"post_intent,omitempty"`
	// PostRaw is that transaction, signed (hex), to send again after a crash.
	PostRaw string `json:"post_raw,omitempty"`
	// PostTx is the transaction that posted Root on-chain, once it has.
	PostTx string `json:"post_tx,omitempty"`
	// Settled is, for each datanet, the highest version a receipt of this
	// epoch or an earlier one read: verifying the epoch needs its records
	// up to there.
	Settled map[string]uint64 `json:"settled,omitempty"`
}

// Options configures [Open]. The zero value opens a ledger that can credit
// deposits and be read; committing receipts needs a Signer.
type Options struct {
	InMemory bool
	// ReadOnly opens the books for reading only (verification): nothing is
	// written and every write is refused.
	ReadOnly bool
	// Signer is the operator's key. The ledger signs each receipt with it
	// when it commits the receipt, after assigning its epoch, so the
	// signature covers everything the receipt says.
	Signer *ecdsa.PrivateKey
	// Operator is the address every receipt must be signed by; it defaults
	// to Signer's. Check refuses a ledger with neither.
	Operator string
	Logger   *slog.Logger
	// CommitDelay is how long the writer may hold a batch open for the
	// commits of other calls in flight, so that they share one sync
	// (PostgreSQL's commit_delay). It applies only while at least
	// CommitSiblings other reservations are outstanding, so a lone call
	// never waits. Zero uses DefaultCommitDelay; negative disables it.
	CommitDelay time.Duration
	// CommitSiblings is how many other calls in flight make a commit worth
	// delaying; zero uses DefaultCommitSiblings.
	CommitSiblings int
}

// The defaults for Options.CommitDelay and Options.CommitSiblings.
const (
	DefaultCommitDelay    = 2 * time.Millisecond
	DefaultCommitSiblings = 2
)

// Ledger is the book of record. It is safe for concurrent use.
type Ledger struct {
	db       *badger.DB
	blog     *badgerLog
	logger   *slog.Logger
	signer   *ecdsa.PrivateKey
	operator string
	readOnly bool
	// open is the open epoch and the bundle of the one before it, as last
	// committed: what Commit signs a receipt for.
	open atomic.Pointer[openState]

	ops      chan *op
	quit     chan struct{}
	stopped  chan struct{}
	batches  atomic.Uint64
	closeMu  sync.RWMutex
	closed   bool
	inflight sync.WaitGroup
	closeOne sync.Once
	closeErr error

	resMu    sync.Mutex
	reserved map[string]*big.Int // account -> credit held by calls in flight
	// active counts unreleased reservations: calls in flight that will
	// commit, which the writer may wait for.
	active   atomic.Int64
	delay    time.Duration
	siblings int64

	treeMu    sync.Mutex
	treeEpoch uint64
	tree      *Tree
}

// The ledger's own error codes.
const (
	CodeUnbalanced abi.Code = "ledger_unbalanced" // postings would not sum to zero, or debit someone else
	CodeInsolvent  abi.Code = "ledger_insolvent"  // a write would owe more than was deposited
	CodeEpochEmpty abi.Code = "epoch_empty"       // an epoch with no new receipts cannot close
)

// openState is the epoch receipts are committed to and the previous epoch's
// bundle, which they sign.
type openState struct {
	epoch  uint64
	bundle string
}

// Format is the version of the ledger's key layout. A ledger written in
// another layout is refused at Open rather than misread.
const Format = 2

// Open opens (creating if needed) the ledger in dir, with SyncWrites on: a
// commit returns only once it is on disk.
func Open(dir string, opts Options) (*Ledger, error) {
	blog := &badgerLog{logger: opts.Logger}
	bo := badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(blog).WithReadOnly(opts.ReadOnly).
		// Receipts and outputs (kilobytes each, written once) go to the
		// value log; the LSM tree keeps keys and small values. With
		// Badger's defaults (every value in the tree, 64 MB memtables, a
		// 256 MB block cache) compaction rewrote each receipt level after
		// level, and held a gigabyte of a loaded node's heap.
		WithValueThreshold(256).WithMemTableSize(16 << 20).WithNumMemtables(3).WithBlockCacheSize(32 << 20)
	if opts.InMemory {
		// No value log in memory: values stay in the tree, and count in
		// full against a transaction's limit, which the memtable sets.
		d := badger.DefaultOptions("")
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true).WithValueThreshold(d.ValueThreshold).WithMemTableSize(d.MemTableSize)
	}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", dir, err)
	}
	l := &Ledger{db: db, blog: blog, logger: opts.Logger, signer: opts.Signer, operator: opts.Operator, readOnly: opts.ReadOnly,
		ops: make(chan *op, MaxBatch), quit: make(chan struct{}), stopped: make(chan struct{}), reserved: map[string]*big.Int{},
		delay: opts.CommitDelay, siblings: int64(opts.CommitSiblings)}
	if l.delay == 0 {
		l.delay = DefaultCommitDelay
	}
	if l.siblings <= 0 {
		l.siblings = DefaultCommitSiblings
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if l.operator == "" && l.signer != nil {
		l.operator = crypto.PubkeyToAddress(l.signer.PublicKey).Hex()
	}
	if err := l.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	n, err := l.OpenEpoch(context.Background())
	if err != nil {
		db.Close()
		return nil, err
	}
	st := &openState{epoch: n, bundle: ZeroBundle}
	if n > 1 {
		e, err := l.Epoch(context.Background(), n-1)
		if err != nil {
			db.Close()
			return nil, err
		}
		st.bundle = e.Bundle
	}
	l.open.Store(st)
	if !l.readOnly && l.signer != nil {
		if err := l.recordOperator(crypto.PubkeyToAddress(l.signer.PublicKey).Hex(), n); err != nil {
			db.Close()
			return nil, err
		}
	}
	if !l.readOnly {
		if err := l.indexAccounts(); err != nil {
			db.Close()
			return nil, err
		}
	}
	if l.readOnly {
		close(l.stopped)
		l.closed = true
		return l, nil
	}
	go l.run()
	return l, nil
}

// checkFormat stamps a new ledger with Format and refuses one written in
// another layout (the first layout kept earnings in the spendable balance).
func (l *Ledger) checkFormat() error {
	have, err := kv.Layout(l.db, Format, l.readOnly)
	if err != nil {
		return fmt.Errorf("ledger: read format: %w", err)
	}
	if have != "" {
		return abi.Errorf(abi.CodeInternal, "ledger: the books are in format %s, this build reads format %d: keep them with the build that wrote them", have, Format)
	}
	return nil
}

// Close lets every write already started finish, stops the writer and
// closes the database. Writes that start after Close has begun are refused
// with CodeUnavailable. It is safe to call more than once, concurrently.
func (l *Ledger) Close() error {
	l.closeOne.Do(func() {
		l.closeMu.Lock()
		wasClosed := l.closed
		l.closed = true
		l.closeMu.Unlock()
		if !wasClosed {
			l.inflight.Wait()
			close(l.quit)
		}
		<-l.stopped
		l.closeErr = l.db.Close()
	})
	return l.closeErr
}

func balanceKey(a string) []byte   { return []byte("c/" + a) }
func earnedKey(a string) []byte    { return []byte("e/" + a) }
func receiptKey(id string) []byte  { return []byte("r/" + id) }
func depositKey(ref string) []byte { return []byte("D/" + ref) }
func outputKey(id string) []byte   { return []byte("o/" + id) }
func epochKey(n uint64) []byte     { return binary.BigEndian.AppendUint64([]byte("E/"), n) }
func epochReceiptsPrefix(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("x/"), n)
}
func epochReceiptKey(n uint64, id string) []byte { return append(epochReceiptsPrefix(n), "/"+id...) }

var (
	openEpochKey = []byte("m/open")
	// depositCursorKey is the last chain block whose deposits are credited.
	depositCursorKey = []byte("m/deposit-cursor")
	// Running totals, kept in the same transactions as the amounts they sum,
	// so solvency is checked on every write in constant time.
	depositedKey = []byte("t/deposited") // Σ deposits credited
	creditKey    = []byte("t/credit")    // Σ credit
	earnedTotKey = []byte("t/earned")    // Σ cumulative earnings
)

// Balance returns an account's credit: what it deposited less what its
// calls were charged. Earnings are never credit (see [Ledger.Earned]).
func (l *Ledger) Balance(ctx context.Context, account string) (*big.Int, error) {
	var b *big.Int
	err := l.db.View(func(txn *badger.Txn) (err error) {
		b, err = getAmount(txn, balanceKey(account))
		return err
	})
	return b, err
}

// Earned returns an account's cumulative earnings.
func (l *Ledger) Earned(ctx context.Context, account string) (*big.Int, error) {
	var b *big.Int
	err := l.db.View(func(txn *badger.Txn) (err error) {
		b, err = getAmount(txn, earnedKey(account))
		return err
	})
	return b, err
}

// Commit writes a receipt, the output it answered with, and its postings
// in one durable transaction, and then releases res (which may be nil). The
// postings must sum to zero, the only debited account must be the caller,
// no credit may go below zero, and the books must stay solvent. The ledger
// assigns the receipt's epoch and signs it with the operator's key, so the
// signature covers the epoch too. A receipt id already committed is refused
// with CodeAlreadyExists.
func (l *Ledger) Commit(ctx context.Context, r *Receipt, output []byte, res *Reservation) error {
	defer res.Release()
	if l.signer == nil {
		return abi.Errorf(abi.CodeInternal, "ledger: no operator key to sign receipts with")
	}
	if r.Domain == nil || r.Domain.ChainID == nil {
		return abi.Errorf(abi.CodeBadRequest, "ledger: receipt %s has no signing domain", r.ID)
	}
	if err := validate(r); err != nil {
		return err
	}
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	debit := new(big.Int)
	earnings := map[string]*big.Int{}
	earnedSum := new(big.Int)
	for _, p := range r.Postings {
		if p.Amount.Sign() < 0 {
			debit.Sub(debit, p.Amount)
			continue
		}
		if earnings[p.Account] == nil {
			earnings[p.Account] = new(big.Int)
		}
		earnings[p.Account].Add(earnings[p.Account], p.Amount)
		earnedSum.Add(earnedSum, p.Amount)
	}
	// The epoch is read before signing and checked again in the writer; if
	// an epoch closed in between, sign again for the new one.
	for attempt := 0; ; attempt++ {
		st := l.open.Load()
		epoch := st.epoch
		r.Epoch, r.PrevBundle = epoch, st.bundle
		if err := r.Sign(l.signer, *r.Domain); err != nil {
			return err
		}
		err := l.writeHeld(ctx, res, func(txn *badger.Txn) error {
			if _, err := txn.Get(receiptKey(r.ID)); err == nil {
				return abi.Errorf(abi.CodeAlreadyExists, "ledger: receipt %s exists", r.ID)
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			open, err := openEpoch(txn)
			if err != nil {
				return err
			}
			if open != epoch {
				return errEpochMoved
			}
			// Check before writing anything: a refused op leaves nothing in
			// the shared transaction.
			credit, err := getAmount(txn, balanceKey(r.Caller))
			if err != nil {
				return err
			}
			if credit.Sub(credit, debit).Sign() < 0 {
				return abi.Errorf(abi.CodeInsufficientCredit, "ledger: %s would be %s short", r.Caller, new(big.Int).Neg(credit))
			}
			if err := solvent(txn, new(big.Int).Neg(debit), earnedSum); err != nil {
				return fmt.Errorf("ledger: receipt %s: %w", r.ID, err)
			}
			if err := txn.Set(balanceKey(r.Caller), []byte(credit.String())); err != nil {
				return err
			}
			if err := addAmount(txn, creditKey, new(big.Int).Neg(debit)); err != nil {
				return err
			}
			if err := addAmount(txn, earnedTotKey, earnedSum); err != nil {
				return err
			}
			for acct, amt := range earnings {
				if err := addAmount(txn, earnedKey(acct), amt); err != nil {
					return err
				}
			}
			if err := kv.SetJSON(txn, receiptKey(r.ID), r); err != nil {
				return err
			}
			if err := txn.Set(outputKey(r.ID), output); err != nil {
				return err
			}
			if err := indexReceipt(txn, r); err != nil {
				return err
			}
			return txn.Set(epochReceiptKey(epoch, r.ID), nil)
		})
		if errors.Is(err, errEpochMoved) && attempt < 8 {
			continue
		}
		return err
	}
}

var errEpochMoved = abi.Errorf(abi.CodeUnavailable, "ledger: the epoch closed while the receipt was signed")

// solvent checks that after adding dCredit to Σ credit and dEarned to
// Σ cumulative earnings, the books owe no more than was deposited.
func solvent(txn *badger.Txn, dCredit, dEarned *big.Int) error {
	dep, err := getAmount(txn, depositedKey)
	if err != nil {
		return err
	}
	credit, err := getAmount(txn, creditKey)
	if err != nil {
		return err
	}
	earned, err := getAmount(txn, earnedTotKey)
	if err != nil {
		return err
	}
	owed := credit.Add(credit, dCredit)
	owed.Add(owed, earned.Add(earned, dEarned))
	if owed.Cmp(dep) > 0 {
		return abi.Errorf(CodeInsolvent, "credit and earnings would be %s against %s deposited", owed, dep)
	}
	return nil
}

// Output returns the output a committed receipt answered with.
func (l *Ledger) Output(ctx context.Context, id string) ([]byte, error) {
	var out []byte
	err := l.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(outputKey(id))
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, abi.Errorf(abi.CodeNotFound, "ledger: no output for %s", id)
	}
	return out, err
}

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

// Reserve holds amount of account's credit for a call about to run, so
// concurrent calls cannot together spend more than the account has. Release
// it (Commit does) when the call ends. The credit is read under the same
// lock that releases reservations, and a commit debits the credit before it
// releases its reservation, so no interleaving admits a call that cannot pay.
func (l *Ledger) Reserve(ctx context.Context, account string, amount *big.Int) (*Reservation, error) {
	if amount == nil || amount.Sign() < 0 {
		return nil, abi.Errorf(abi.CodeBadRequest, "ledger: reserve a non-negative amount")
	}
	l.resMu.Lock()
	defer l.resMu.Unlock()
	if err := l.hold(account, amount); err != nil {
		return nil, err
	}
	res := &Reservation{l: l, account: account, amount: new(big.Int).Set(amount)}
	res.counted.Store(true)
	l.active.Add(1)
	return res, nil
}

// hold adds amount to what account holds if its free credit covers it.
// resMu must be held.
func (l *Ledger) hold(account string, amount *big.Int) error {
	bal, err := l.Balance(context.Background(), account)
	if err != nil {
		return err
	}
	held := l.reserved[account]
	if held == nil {
		held = new(big.Int)
	}
	free := new(big.Int).Sub(bal, held)
	if free.Cmp(amount) < 0 {
		return abi.Errorf(abi.CodeInsufficientCredit, "ledger: %s has %s free (%s held by calls in flight), needs %s", account, free, held, amount)
	}
	l.reserved[account] = new(big.Int).Add(held, amount)
	return nil
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
	r.l.resMu.Lock()
	defer r.l.resMu.Unlock()
	if err := r.l.hold(r.account, amount); err != nil {
		return err
	}
	r.amount.Add(r.amount, amount)
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

// Validate checks a receipt's shape as Commit does: an id, a caller, and
// postings that balance, debit only the caller and credit only earnings (a
// withdrawal: exactly its one amount). A verifier runs it on receipts it
// did not make before reading any amount.
func Validate(r *Receipt) error { return validate(r) }

func validate(r *Receipt) error {
	if r.ID == "" || r.Caller == "" || len(r.Postings) == 0 {
		return abi.Errorf(abi.CodeBadRequest, "ledger: receipt needs an id, a caller and postings")
	}
	if r.IsWithdrawal() {
		return validateWithdrawal(r)
	}
	sum := new(big.Int)
	for _, p := range r.Postings {
		switch {
		case p.Amount == nil || p.Account == "":
			return abi.Errorf(abi.CodeBadRequest, "ledger: receipt %s: posting without account or amount", r.ID)
		case p.Amount.Sign() < 0 && (p.Account != r.Caller || p.Kind != KindCall):
			return abi.Errorf(CodeUnbalanced, "ledger: receipt %s debits %s, not its caller", r.ID, p.Account)
		case p.Amount.Sign() > 0 && (!earning(p.Kind) || p.Kind == KindRefund):
			return abi.Errorf(CodeUnbalanced, "ledger: receipt %s credits %s with kind %q", r.ID, p.Account, p.Kind)
		case !common.IsHexAddress(p.Account):
			return abi.Errorf(abi.CodeBadRequest, "ledger: receipt %s: posting to %q, not an address", r.ID, p.Account)
		}
		sum.Add(sum, p.Amount)
	}
	if sum.Sign() != 0 {
		return abi.Errorf(CodeUnbalanced, "ledger: receipt %s postings sum to %s", r.ID, sum)
	}
	return nil
}

// Receipt returns a receipt by id.
func (l *Ledger) Receipt(ctx context.Context, id string) (*Receipt, error) {
	var r Receipt
	err := l.db.View(func(txn *badger.Txn) error { return kv.GetJSON(txn, receiptKey(id), &r) })
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, abi.Errorf(abi.CodeNotFound, "ledger: no receipt %s", id)
	}
	return &r, err
}

// Receipts returns the receipts committed during epoch n, by id.
func (l *Ledger) Receipts(ctx context.Context, n uint64) ([]*Receipt, error) {
	var out []*Receipt
	err := l.db.View(func(txn *badger.Txn) error {
		prefix := epochReceiptsPrefix(n)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := strings.TrimPrefix(string(it.Item().Key()[len(prefix):]), "/")
			var r Receipt
			if err := kv.GetJSON(txn, receiptKey(id), &r); err != nil {
				return fmt.Errorf("receipt %s: %w", id, err)
			}
			out = append(out, &r)
		}
		return nil
	})
	return out, err
}

// OpenEpoch returns the number of the epoch receipts are now committed to.
func (l *Ledger) OpenEpoch(ctx context.Context) (uint64, error) {
	var n uint64
	err := l.db.View(func(txn *badger.Txn) (err error) { n, err = openEpoch(txn); return err })
	return n, err
}

func openEpoch(txn *badger.Txn) (uint64, error) {
	item, err := txn.Get(openEpochKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("ledger: corrupt open epoch")
		}
		n = binary.BigEndian.Uint64(v)
		return nil
	})
	return n, err
}

// CloseEpoch closes the open epoch: it takes every account's cumulative
// earnings, builds their tree under d and opens the next epoch. An epoch in
// which nobody has ever earned cannot close.
func (l *Ledger) CloseEpoch(ctx context.Context, d Domain) (*Epoch, error) {
	if d.ChainID == nil || d.Settlement == "" {
		return nil, abi.Errorf(abi.CodeBadRequest, "ledger: close epoch needs a chain id and a settlement address")
	}
	var e *Epoch
	var tree *Tree
	err := l.write(ctx, func(txn *badger.Txn) error {
		n, err := openEpoch(txn)
		if err != nil {
			return err
		}
		e = &Epoch{N: n, Domain: d, Total: new(big.Int), Closed: time.Now().UTC()}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("e/")})
		for it.Rewind(); it.Valid(); it.Next() {
			var amt *big.Int
			if err := it.Item().Value(func(v []byte) (err error) { amt, err = parseAmount(v); return err }); err != nil {
				it.Close()
				return err
			}
			if amt.Sign() > 0 {
				e.Leaves = append(e.Leaves, Leaf{Account: string(it.Item().Key()[2:]), Cumulative: amt})
				e.Total.Add(e.Total, amt)
			}
		}
		it.Close()
		var receipts []*Receipt
		var outputs [][]byte
		rit := txn.NewIterator(badger.IteratorOptions{Prefix: epochReceiptsPrefix(n)})
		for rit.Rewind(); rit.Valid(); rit.Next() {
			id := string(rit.Item().Key()[len(epochReceiptsPrefix(n))+1:])
			var r Receipt
			if err := kv.GetJSON(txn, receiptKey(id), &r); err != nil {
				rit.Close()
				return fmt.Errorf("ledger: receipt %s: %w", id, err)
			}
			out, err := kv.GetBytes(txn, outputKey(id))
			if err != nil {
				rit.Close()
				return fmt.Errorf("ledger: output of %s: %w", id, err)
			}
			receipts, outputs = append(receipts, &r), append(outputs, out)
		}
		rit.Close()
		count := len(receipts)
		if count == 0 {
			return abi.Errorf(CodeEpochEmpty, "ledger: epoch %d has no receipts to close", n)
		}
		if len(e.Leaves) == 0 {
			return abi.Errorf(CodeEpochEmpty, "ledger: epoch %d: nobody has earned anything yet", n)
		}
		// The contract refuses a root owing more than was deposited. Only
		// a reorganisation that undid deposits already spent gets here; say
		// so rather than post a root that can only revert.
		if dep, err := getAmount(txn, depositedKey); err != nil {
			return err
		} else if e.Total.Cmp(dep) > 0 {
			return abi.Errorf(CodeInsolvent, "ledger: epoch %d would owe %s in earnings against %s deposited: a reorganisation undid deposits that were already spent; %s more must be deposited before it can be posted", n, e.Total, dep, new(big.Int).Sub(e.Total, dep))
		}
		e.Receipts = count
		if tree, err = e.tree(); err != nil {
			return err
		}
		e.Root = tree.Root().Hex()
		prev := ZeroBundle
		e.Settled = map[string]uint64{}
		if n > 1 {
			var before Epoch
			if err := kv.GetJSON(txn, epochKey(n-1), &before); err != nil {
				return fmt.Errorf("ledger: epoch %d: %w", n-1, err)
			}
			prev = before.Bundle
			maps.Copy(e.Settled, before.Settled)
		}
		for _, r := range receipts {
			for _, dv := range r.Datanets {
				e.Settled[dv.Name] = max(e.Settled[dv.Name], dv.Version)
			}
		}
		if e.Bundle, err = BundleHash(prev, receipts, outputs); err != nil {
			return err
		}
		if err := kv.SetJSON(txn, epochKey(n), e); err != nil {
			return err
		}
		return txn.Set(openEpochKey, binary.BigEndian.AppendUint64(nil, n+1))
	})
	if err != nil {
		return nil, err
	}
	l.open.Store(&openState{epoch: e.N + 1, bundle: e.Bundle})
	l.cacheTree(e.N, tree)
	l.logger.Info("closed epoch", "epoch", e.N, "root", e.Root, "accounts", len(e.Leaves), "total", e.Total)
	return e, nil
}

func (e *Epoch) tree() (*Tree, error) {
	hashes := make([]common.Hash, len(e.Leaves))
	for i, lf := range e.Leaves {
		hashes[i] = LeafHash(e.Domain, lf)
	}
	return BuildTree(hashes)
}

func (l *Ledger) cacheTree(n uint64, t *Tree) {
	l.treeMu.Lock()
	l.treeEpoch, l.tree = n, t
	l.treeMu.Unlock()
}

// Epoch returns closed epoch n.
func (l *Ledger) Epoch(ctx context.Context, n uint64) (*Epoch, error) {
	var e Epoch
	err := l.db.View(func(txn *badger.Txn) error { return kv.GetJSON(txn, epochKey(n), &e) })
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, abi.Errorf(abi.CodeNotFound, "ledger: epoch %d is not closed", n)
	}
	return &e, err
}

// SetPostIntent records the transaction about to post epoch n's root: its
// hash and its signed bytes.
func (l *Ledger) SetPostIntent(ctx context.Context, n uint64, tx, raw string) error {
	return l.updateEpoch(ctx, n, func(e *Epoch) { e.PostIntent, e.PostRaw = tx, raw })
}

// SetPostTx records the transaction that posted epoch n's root.
func (l *Ledger) SetPostTx(ctx context.Context, n uint64, tx string) error {
	return l.updateEpoch(ctx, n, func(e *Epoch) { e.PostTx = tx })
}

func (l *Ledger) updateEpoch(ctx context.Context, n uint64, fn func(*Epoch)) error {
	return l.write(ctx, func(txn *badger.Txn) error {
		var e Epoch
		if err := kv.GetJSON(txn, epochKey(n), &e); errors.Is(err, badger.ErrKeyNotFound) {
			return abi.Errorf(abi.CodeNotFound, "ledger: epoch %d is not closed", n)
		} else if err != nil {
			return err
		}
		fn(&e)
		return kv.SetJSON(txn, epochKey(n), &e)
	})
}

// Totals are the ledger's running sums.
type Totals struct {
	Deposited *big.Int // every deposit credited
	Credit    *big.Int // Σ credit
	Earned    *big.Int // Σ cumulative earnings
}

// Totals returns the running sums solvency is checked against.
func (l *Ledger) Totals(ctx context.Context) (Totals, error) {
	var t Totals
	err := l.db.View(func(txn *badger.Txn) (err error) {
		if t.Deposited, err = getAmount(txn, depositedKey); err != nil {
			return err
		}
		if t.Credit, err = getAmount(txn, creditKey); err != nil {
			return err
		}
		t.Earned, err = getAmount(txn, earnedTotKey)
		return err
	})
	return t, err
}

// Proof returns account's leaf in epoch n and its Merkle proof (0x-hex).
func (l *Ledger) Proof(ctx context.Context, n uint64, account string) (Leaf, []string, error) {
	e, err := l.Epoch(ctx, n)
	if err != nil {
		return Leaf{}, nil, err
	}
	var leaf *Leaf
	for i := range e.Leaves {
		if e.Leaves[i].Account == account {
			leaf = &e.Leaves[i]
			break
		}
	}
	if leaf == nil {
		return Leaf{}, nil, abi.Errorf(abi.CodeNotFound, "ledger: %s earned nothing by epoch %d", account, n)
	}
	l.treeMu.Lock()
	tree := l.tree
	if l.treeEpoch != n || tree == nil {
		if tree, err = e.tree(); err != nil {
			l.treeMu.Unlock()
			return Leaf{}, nil, err
		}
		l.treeEpoch, l.tree = n, tree
	}
	l.treeMu.Unlock()
	proof, ok := tree.Proof(LeafHash(e.Domain, *leaf))
	if !ok {
		return Leaf{}, nil, abi.Errorf(abi.CodeInternal, "ledger: leaf of %s missing from epoch %d's tree", account, n)
	}
	out := make([]string, len(proof))
	for i, p := range proof {
		out[i] = p.Hex()
	}
	return *leaf, out, nil
}

// ZeroBundle is the bundle before the first epoch.
const ZeroBundle = "0x0000000000000000000000000000000000000000000000000000000000000000"

// BundleHash chains an epoch's receipts and outputs to the bundle of the
// epoch before it: keccak256(prev ‖ keccak256(receiptᵢ) ‖ keccak256(outputᵢ) …)
// over the epoch's receipts in id order, each receipt as its JSON encoding,
// each output as its bytes: the order and form an epoch export streams them
// in. A verifier that rebuilds the chain up to epoch n and finds the bundle
// posted with the root proves it checked exactly the data the root was built
// from.
func BundleHash(prev string, receipts []*Receipt, outputs [][]byte) (string, error) {
	if len(receipts) != len(outputs) {
		return "", fmt.Errorf("ledger: %d receipts and %d outputs", len(receipts), len(outputs))
	}
	order := make([]int, len(receipts))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return receipts[order[a]].ID < receipts[order[b]].ID })
	h := crypto.NewKeccakState()
	h.Write(common.HexToHash(prev).Bytes())
	for _, i := range order {
		b, err := json.Marshal(receipts[i])
		if err != nil {
			return "", err
		}
		h.Write(crypto.Keccak256(b))
		h.Write(crypto.Keccak256(outputs[i]))
	}
	return common.BytesToHash(h.Sum(nil)).Hex(), nil
}

func parseAmount(v []byte) (*big.Int, error) {
	a, ok := new(big.Int).SetString(string(v), 10)
	if !ok {
		return nil, fmt.Errorf("ledger: corrupt amount %q", v)
	}
	return a, nil
}

func getAmount(txn *badger.Txn, key []byte) (*big.Int, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return new(big.Int), nil
	}
	if err != nil {
		return nil, err
	}
	var a *big.Int
	err = item.Value(func(v []byte) (err error) { a, err = parseAmount(v); return err })
	return a, err
}

func addAmount(txn *badger.Txn, key []byte, delta *big.Int) error {
	a, err := getAmount(txn, key)
	if err != nil {
		return err
	}
	return txn.Set(key, []byte(a.Add(a, delta).String()))
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
