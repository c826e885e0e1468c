package rules

import (
	"fmt"
	"math/big"

	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/ledger"
)

// Fees says how a call's price is divided, in basis points of the price.
// The developer gets what the protocol fee and the contributors' share leave.
type Fees struct {
	ProtocolBps    uint32
	ContributorBps uint32
}

// Default fee split.
const (
	DefaultProtocolBps    = 500  // 5%
	DefaultContributorBps = 3000 // 30%
)

// DefaultFees is the split a node uses unless configured otherwise.
func DefaultFees() Fees {
	return Fees{ProtocolBps: DefaultProtocolBps, ContributorBps: DefaultContributorBps}
}

// OrDefault returns f, or the default split if f is zero.
func (f Fees) OrDefault() Fees {
	if f == (Fees{}) {
		return DefaultFees()
	}
	return f
}

// Validate refuses a split that gives away more than the price.
func (f Fees) Validate() error {
	if f.ProtocolBps+f.ContributorBps > 10000 {
		return fmt.Errorf("rules: fees of %d+%d basis points exceed the price", f.ProtocolBps, f.ContributorBps)
	}
	return nil
}

// Bill is what one invocation charges its caller and pays everyone else.
// Invoke and verification build postings only through it, so a re-run
// prices and splits exactly as the original did.
type Bill struct {
	Caller    string
	Developer string // the agent's publisher
	Operator  string // receives the protocol fee
	Price     *big.Int
	Fees      Fees
	// Reads are the records read, each with its datanet's fee.
	Reads []ledger.Access
	// Shares are the attribution weights by contributor; none when the
	// call failed or nothing shaped the output.
	Shares []attribution.Share
	// Models are the model calls the agent made, charged on top of the
	// price even when the call then failed: the tokens were generated.
	Models []ModelUse
}

// Failed is the bill of a call whose agent failed: the records it read are
// charged at their datanets' fees and paid to their contributors, and the
// model calls it made at their cost; the price is not charged and nothing
// is attributed.
func (b Bill) Failed() Bill {
	b.Price, b.Shares = nil, nil
	return b
}

// Postings returns the bill's balanced postings: the caller's debit (price
// plus read fees) and the credits that sum to it. The contributors' share
// of the price splits by weight, by largest remainder; if no weight is
// positive, the developer keeps it.
func (b Bill) Postings() []ledger.Posting {
	price := b.Price
	if price == nil {
		price = new(big.Int)
	}
	debit := new(big.Int).Set(price)
	for _, a := range b.Reads {
		debit.Add(debit, a.Fee)
	}
	for _, u := range b.Models {
		debit.Add(debit, u.Cost)
	}
	post := []ledger.Posting{{Account: b.Caller, Kind: ledger.KindCall, Amount: new(big.Int).Neg(debit)}}
	credit := func(acct, kind string, amt *big.Int, memo string) {
		if amt.Sign() > 0 {
			post = append(post, ledger.Posting{Account: acct, Kind: kind, Amount: amt, Memo: memo})
		}
	}
	protocol := bps(price, b.Fees.ProtocolBps)
	contributors := bps(price, b.Fees.ContributorBps)
	parts, ok := attribution.Split(contributors, b.Shares)
	if !ok {
		contributors = new(big.Int)
	}
	developer := new(big.Int).Sub(price, protocol)
	developer.Sub(developer, contributors)
	credit(b.Developer, ledger.KindDeveloper, developer, "")
	credit(b.Operator, ledger.KindProtocol, protocol, "")
	for _, a := range b.Reads {
		credit(a.Contributor, ledger.KindAccess, a.Fee, a.Record)
	}
	if ok {
		for i, s := range b.Shares {
			credit(s.Key, ledger.KindAttribution, parts[i], "")
		}
	}
	for _, u := range b.Models {
		post = append(post, u.postings(b.Operator, b.Fees)...)
	}
	return post
}

func bps(amount *big.Int, bps uint32) *big.Int {
	v := new(big.Int).Mul(amount, big.NewInt(int64(bps)))
	return v.Quo(v, big.NewInt(10000))
}
