package rules

import (
	"math/big"
	"slices"
	"sort"

	"github.com/tollgate-dev/tollgate/ledger"
)

// ModelCost is what a model call of in prompt tokens and out generated
// tokens costs at prices per 1,000 tokens: (in × priceIn + out ×
// priceOut) / 1000, rounded up, so no call of a priced model is free.
func ModelCost(priceIn, priceOut *big.Int, in, out int) *big.Int {
	c := new(big.Int).Mul(priceIn, big.NewInt(int64(max(in, 0))))
	c.Add(c, new(big.Int).Mul(priceOut, big.NewInt(int64(max(out, 0)))))
	c.Add(c, big.NewInt(999))
	return c.Quo(c, big.NewInt(1000))
}

// ModelUse is one model call as a bill charges it: its cost and who it
// pays.
type ModelUse struct {
	Model     string // name@version, the postings' memo
	Publisher string // the model's
	Cost      *big.Int
	// TokensOut and Shares are the tokens generated and how many of them
	// each training record made.
	TokensOut int
	Shares    []ledger.TokenShare
}

// postings credits a model call's cost: the protocol fee to the operator;
// the contributors' share to the training records' contributors, each
// record paid for the fraction of the tokens it made (so a generation
// every token of which a record made pays that record the whole share);
// the rest to the model's publisher, including the part of the
// contributors' share for tokens no record made.
func (u ModelUse) postings(operator string, fees Fees) []ledger.Posting {
	var out []ledger.Posting
	credit := func(acct, kind string, amt *big.Int) {
		if amt.Sign() > 0 {
			out = append(out, ledger.Posting{Account: acct, Kind: kind, Amount: amt, Memo: u.Model})
		}
	}
	protocol := bps(u.Cost, fees.ProtocolBps)
	pool := bps(u.Cost, fees.ContributorBps)
	parts := splitTokens(pool, u.TokensOut, u.Shares)
	paid := new(big.Int)
	byContributor := map[string]*big.Int{}
	for i, s := range u.Shares {
		if byContributor[s.Contributor] == nil {
			byContributor[s.Contributor] = new(big.Int)
		}
		byContributor[s.Contributor].Add(byContributor[s.Contributor], parts[i])
		paid.Add(paid, parts[i])
	}
	publisher := new(big.Int).Sub(u.Cost, protocol)
	publisher.Sub(publisher, paid)
	credit(u.Publisher, ledger.KindModel, publisher)
	credit(operator, ledger.KindProtocol, protocol)
	accts := make([]string, 0, len(byContributor))
	for a := range byContributor {
		accts = append(accts, a)
	}
	slices.Sort(accts)
	for _, a := range accts {
		credit(a, ledger.KindTraining, byContributor[a])
	}
	return out
}

// splitTokens divides pool over shares in integers: share i is owed
// pool × tokens_i / total exactly; each gets the floor of that, and the
// units the floors leave of the total owed, floor(pool × Σ tokens /
// total), go one each to the largest remainders (ties to the earlier
// share). The parts sum to that total, never more than pool.
func splitTokens(pool *big.Int, total int, shares []ledger.TokenShare) []*big.Int {
	parts := make([]*big.Int, len(shares))
	for i := range parts {
		parts[i] = new(big.Int)
	}
	if total <= 0 || pool.Sign() <= 0 || len(shares) == 0 {
		return parts
	}
	p := new(big.Rat).SetInt(pool)
	denom := new(big.Rat).SetInt64(int64(total))
	sum := new(big.Rat)
	rems := make([]*big.Rat, len(shares))
	given := new(big.Int)
	for i, s := range shares {
		exact := new(big.Rat).Mul(p, s.Tokens)
		exact.Quo(exact, denom)
		sum.Add(sum, exact)
		parts[i].Quo(exact.Num(), exact.Denom())
		given.Add(given, parts[i])
		rems[i] = exact.Sub(exact, new(big.Rat).SetInt(parts[i]))
	}
	owed := new(big.Int).Quo(sum.Num(), sum.Denom())
	if owed.Cmp(pool) > 0 {
		owed.Set(pool) // shares over the tokens made (Validate refuses them)
	}
	order := make([]int, len(shares))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].Cmp(rems[order[b]]) > 0 })
	for k := 0; given.Cmp(owed) < 0; k++ {
		parts[order[k%len(order)]].Add(parts[order[k%len(order)]], big.NewInt(1))
		given.Add(given, big.NewInt(1))
	}
	return parts
}
