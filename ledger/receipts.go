package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

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
	KindModel       = "model"       // a model publisher's share of a model call's cost
	KindTraining    = "training"    // a training record's contributor's share of a model call's cost
)

func earning(kind string) bool {
	switch kind {
	case KindDeveloper, KindProtocol, KindAccess, KindAttribution, KindModel, KindTraining, KindRefund:
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
	// AgentManifest and AttributionManifest are the sha256 of the signed
	// manifests of the agent and the attribution plugin that ran (see
	// registry.Manifest.Hash), beside their modules' hashes above.
	AgentManifest       string `json:"agent_manifest,omitempty"`
	AttributionManifest string `json:"attribution_manifest,omitempty"`
	// Generations are the model calls the agent made, in order.
	Generations []Generation `json:"generations,omitempty"`
	// Schema is the signed format the receipt was made in; 0 is 2, the
	// format before models.
	Schema int `json:"schema,omitempty"`
	// The operator's EIP-712 signature over the receipt (see TypedData).
	Domain    *Domain `json:"domain,omitempty"`
	Signer    string  `json:"signer,omitempty"`
	Signature string  `json:"signature,omitempty"`
}

// Generation is one model call an invocation made: which model, asked
// what, how it answered, what it cost, and how many of the tokens it
// generated each training record made. The prompt and the text are kept so
// that anyone can re-run the call.
type Generation struct {
	Model       string       `json:"model"`      // name@version
	ModelHash   string       `json:"model_hash"` // sha256 of its signed manifest
	Backend     string       `json:"backend"`
	Seed        uint64       `json:"seed"`
	Temperature float64      `json:"temperature"`
	MaxTokens   int          `json:"max_tokens"`
	Stop        []string     `json:"stop,omitempty"`
	Prompt      string       `json:"prompt"`
	TokensIn    int          `json:"tokens_in"`
	TokensOut   int          `json:"tokens_out"`
	Finish      string       `json:"finish"`
	Text        string       `json:"text"`
	Cost        *big.Int     `json:"cost"`
	Shares      []TokenShare `json:"shares,omitempty"`
}

// TokenShare is how many of a generation's tokens one training record
// made, exactly: a token drawn from continuations seen in several records
// counts for each in proportion to how often it holds it.
type TokenShare struct {
	Datanet     string   `json:"datanet"`
	Record      string   `json:"record"`
	Contributor string   `json:"contributor"`
	Tokens      *big.Rat `json:"tokens"`
}

// Bounds on what a receipt keeps of its model calls.
const (
	// MaxGenerationText bounds a generation's prompt and its text.
	MaxGenerationText = 256 << 10
	// MaxGenerations bounds the model calls of one invocation.
	MaxGenerations = 8
	// MaxSharesPerGeneration bounds a generation's token shares: at most
	// model.MaxSources records for each of registry.MaxModelTokens tokens.
	MaxSharesPerGeneration = 16 * 1024
)

// MethodGenerate is the method of the receipt of a model called directly,
// with no agent: its one generation is what it answered.
const MethodGenerate = "generate"

// IsGeneration reports whether the receipt is of a model called directly.
func (r *Receipt) IsGeneration() bool {
	return r.Agent == "" && len(r.Generations) == 1 && (r.Method == MethodGenerate || r.Method == "failed:"+string(abi.CodeModelFailed))
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
	switch {
	case len(r.Generations) > MaxGenerations:
		return abi.Errorf(abi.CodeBadRequest, "ledger: receipt %s records %d model calls, at most %d", r.ID, len(r.Generations), MaxGenerations)
	case r.SchemaVersion() == schema2 && (len(r.Generations) > 0 || r.AgentManifest != "" || r.AttributionManifest != ""):
		// Schema 2 signs none of these: a receipt carrying them could have
		// had them added by anyone.
		return abi.Errorf(abi.CodeBadRequest, "ledger: receipt %s is in schema 2 and carries fields it does not sign", r.ID)
	}
	for i, g := range r.Generations {
		if err := validateGeneration(g); err != nil {
			return abi.Wrap(abi.CodeBadRequest, err, "ledger: receipt %s generation %d", r.ID, i)
		}
	}
	return nil
}

func validateGeneration(g Generation) error {
	switch {
	case g.Cost == nil || g.Cost.Sign() < 0 || g.Cost.BitLen() > 256:
		return fmt.Errorf("cost %v", g.Cost)
	case g.TokensIn < 0 || g.TokensOut < 0 || g.MaxTokens < 0 || g.TokensOut > g.MaxTokens:
		return fmt.Errorf("tokens %d in, %d out of %d", g.TokensIn, g.TokensOut, g.MaxTokens)
	case len(g.Prompt) > MaxGenerationText || len(g.Text) > MaxGenerationText:
		return fmt.Errorf("prompt or text past %d bytes", MaxGenerationText)
	case len(g.Shares) > MaxSharesPerGeneration:
		return fmt.Errorf("%d token shares, at most %d", len(g.Shares), MaxSharesPerGeneration)
	}
	total := new(big.Rat)
	for _, s := range g.Shares {
		if s.Tokens == nil || s.Tokens.Sign() <= 0 || !common.IsHexAddress(s.Contributor) {
			return fmt.Errorf("share of record %.80q", s.Record)
		}
		total.Add(total, s.Tokens)
	}
	if total.Cmp(new(big.Rat).SetInt64(int64(g.TokensOut))) > 0 {
		return fmt.Errorf("shares of %s tokens of %d", total.RatString(), g.TokensOut)
	}
	return nil
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
	if r.Schema == 0 {
		r.Schema = ReceiptSchema
	}
	if err := validate(r); err != nil {
		return err
	}
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	sums := sumPostings(r)
	// The epoch is read before signing and checked again in the writer; if
	// an epoch closed in between (here or on another host), sign again for
	// the new one; while one is being closed, wait for it.
	deadline := time.Now().Add(maxSealWait)
	for attempt := 0; ; attempt++ {
		st := l.open.Load()
		epoch := st.epoch
		r.Epoch, r.PrevBundle = epoch, st.bundle
		if err := r.Sign(l.signer, *r.Domain); err != nil {
			return err
		}
		err := l.writeHeld(ctx, res, func(txn kv.Txn) error {
			return l.writeReceipt(txn, r, output, epoch, sums)
		})
		// By identity: errors.Is matches any error of the same code.
		moved, waiting := err == errEpochMoved, err == errEpochSealed //nolint:errorlint
		if !moved && !waiting || time.Now().After(deadline) {
			return err
		}
		if waiting {
			select {
			case <-time.After(time.Duration(min(1+attempt, 20)) * 5 * time.Millisecond):
			case <-ctx.Done():
				return abi.FromContext(ctx.Err())
			}
		}
		if err := l.refreshOpen(); err != nil {
			return err
		}
	}
}

// maxSealWait bounds how long a commit waits for an epoch being closed.
const maxSealWait = time.Minute

// postingSums is what a receipt's postings move: the caller's debit, and
// the earnings of each account credited and in all.
type postingSums struct {
	debit    *big.Int
	earnings map[string]*big.Int
	earned   *big.Int
}

func sumPostings(r *Receipt) postingSums {
	s := postingSums{debit: new(big.Int), earnings: map[string]*big.Int{}, earned: new(big.Int)}
	for _, p := range r.Postings {
		if p.Amount.Sign() < 0 {
			s.debit.Sub(s.debit, p.Amount)
			continue
		}
		if s.earnings[p.Account] == nil {
			s.earnings[p.Account] = new(big.Int)
		}
		s.earnings[p.Account].Add(s.earnings[p.Account], p.Amount)
		s.earned.Add(s.earned, p.Amount)
	}
	return s
}

// writeReceipt writes r, signed for epoch, with its output and postings in
// txn, or refuses it and writes nothing: a refused op leaves nothing in the
// shared transaction.
func (l *Ledger) writeReceipt(txn kv.Txn, r *Receipt, output []byte, epoch uint64, sums postingSums) error {
	if _, err := txn.Get(receiptKey(r.ID)); err == nil {
		return abi.Errorf(abi.CodeAlreadyExists, "ledger: receipt %s exists", r.ID)
	} else if !errors.Is(err, kv.ErrNotFound) {
		return err
	}
	open, err := openEpoch(txn)
	if err != nil {
		return err
	}
	if open != epoch {
		return errEpochMoved
	}
	if s, err := sealed(txn); err != nil {
		return err
	} else if s == epoch {
		return errEpochSealed
	}
	// Check before writing anything. The caller's credit is spent from
	// where this ledger keeps it: the account for a sole writer, this
	// seat's lease when shared.
	credit, err := getAmount(txn, l.spendKey(r.Caller))
	if err != nil {
		return err
	}
	if l.seat >= 0 && credit.Cmp(sums.debit) < 0 {
		// A commit made under no reservation (or more than it reserved)
		// pays what the seat's lease lacks from the credit free to lease.
		if credit, err = l.leaseShortfall(txn, r.Caller, credit, sums.debit); err != nil {
			return err
		}
	}
	if credit.Sub(credit, sums.debit).Sign() < 0 {
		return abi.Errorf(abi.CodeInsufficientCredit, "ledger: %s would be %s short", r.Caller, new(big.Int).Neg(credit))
	}
	if l.seat < 0 {
		if err := solvent(txn, new(big.Int).Neg(sums.debit), sums.earned); err != nil {
			return fmt.Errorf("ledger: receipt %s: %w", r.ID, err)
		}
	}
	// (Shared books skip the check against the shared totals, which every
	// seat would then read: validate has made the postings sum to zero, so
	// a receipt moves credit to earnings and leaves what is owed as it was.)
	if err := l.setCredit(txn, r.Caller, credit); err != nil {
		return err
	}
	if l.seat < 0 {
		if err := addAmount(txn, creditKey, new(big.Int).Neg(sums.debit)); err != nil {
			return err
		}
		if err := addAmount(txn, earnedTotKey, sums.earned); err != nil {
			return err
		}
	} else if err := addAmount(txn, spentKey(l.seat), sums.debit); err != nil {
		return err
	}
	for acct, amt := range sums.earnings {
		k := earnedKey(acct)
		if l.seat >= 0 {
			k = seatEarnedKey(acct, l.seat)
		}
		if err := addAmount(txn, k, amt); err != nil {
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
}

var errEpochMoved = abi.Errorf(abi.CodeUnavailable, "ledger: the epoch closed while the receipt was signed")

// Output returns the output a committed receipt answered with.
func (l *Ledger) Output(ctx context.Context, id string) ([]byte, error) {
	var out []byte
	err := l.db.View(func(txn kv.Txn) (err error) {
		out, err = txn.Get(outputKey(id))
		return err
	})
	if errors.Is(err, kv.ErrNotFound) {
		return nil, abi.Errorf(abi.CodeNotFound, "ledger: no output for %s", id)
	}
	return out, err
}

// Receipt returns a receipt by id.
func (l *Ledger) Receipt(ctx context.Context, id string) (*Receipt, error) {
	var r Receipt
	err := l.db.View(func(txn kv.Txn) error { return kv.GetJSON(txn, receiptKey(id), &r) })
	if errors.Is(err, kv.ErrNotFound) {
		return nil, abi.Errorf(abi.CodeNotFound, "ledger: no receipt %s", id)
	}
	return &r, err
}

// Receipts returns the receipts committed during epoch n, by id.
func (l *Ledger) Receipts(ctx context.Context, n uint64) ([]*Receipt, error) {
	var out []*Receipt
	err := l.db.View(func(txn kv.Txn) error {
		prefix := epochReceiptsPrefix(n)
		it := txn.NewIterator(kv.IterOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := strings.TrimPrefix(string(it.Key()[len(prefix):]), "/")
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
