package host

import (
	"math/big"

	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/ledger"
)

// bill is what one invocation charges its caller and pays everyone else.
// Invoke and verification build postings only through it, so a re-run
// prices and splits exactly as the original did.
type bill struct {
	caller    string
	developer string // the agent's publisher
	operator  string // receives the protocol fee
	price     *big.Int
	fees      Fees
	// reads are the records read, each with its datanet's fee.
	reads []ledger.Access
	// shares are the attribution weights by contributor; none when the
	// call failed or nothing shaped the output.
	shares []attribution.Share
}

// postings returns the bill's balanced postings: the caller's debit (price
// plus read fees) and the credits that sum to it. The contributors' share
// of the price splits by weight, by largest remainder; if no weight is
// positive, the developer keeps it.
func (b bill) postings() []ledger.Posting {
	price := b.price
	if price == nil {
		price = new(big.Int)
	}
	debit := new(big.Int).Set(price)
	for _, a := range b.reads {
		debit.Add(debit, a.Fee)
	}
	post := []ledger.Posting{{Account: b.caller, Kind: ledger.KindCall, Amount: new(big.Int).Neg(debit)}}
	credit := func(acct, kind string, amt *big.Int, memo string) {
		if amt.Sign() > 0 {
			post = append(post, ledger.Posting{Account: acct, Kind: kind, Amount: amt, Memo: memo})
		}
	}
	protocol := bps(price, b.fees.ProtocolBps)
	contributors := bps(price, b.fees.ContributorBps)
	parts, ok := attribution.Split(contributors, b.shares)
	if !ok {
		contributors = new(big.Int)
	}
	developer := new(big.Int).Sub(price, protocol)
	developer.Sub(developer, contributors)
	credit(b.developer, ledger.KindDeveloper, developer, "")
	credit(b.operator, ledger.KindProtocol, protocol, "")
	for _, a := range b.reads {
		credit(a.Contributor, ledger.KindAccess, a.Fee, a.Record)
	}
	if ok {
		for i, s := range b.shares {
			credit(s.Key, ledger.KindAttribution, parts[i], "")
		}
	}
	return post
}

func bps(amount *big.Int, bps uint32) *big.Int {
	v := new(big.Int).Mul(amount, big.NewInt(int64(bps)))
	return v.Quo(v, big.NewInt(10000))
}
