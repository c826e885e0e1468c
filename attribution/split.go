package attribution

import (
	"math/big"
	"sort"
)

// Share is one party's claim on an amount, by relative weight.
type Share struct {
	Key    string
	Weight float64
}

// Split divides total among shares in proportion to their weights, in
// integers: each gets floor(total·w/Σw), and the units left over go one each
// to the largest remainders (ties to the smaller key). The parts always sum
// to total. Weights must be finite and non-negative; if they sum to zero,
// every part is zero and ok is false. Parts are in the order of shares.
func Split(total *big.Int, shares []Share) (parts []*big.Int, ok bool) {
	parts = make([]*big.Int, len(shares))
	sum := new(big.Rat)
	ws := make([]*big.Rat, len(shares))
	for i, s := range shares {
		parts[i] = new(big.Int)
		ws[i] = new(big.Rat)
		if s.Weight > 0 {
			ws[i].SetFloat64(s.Weight) // exact: every finite float64 is a rational
		}
		sum.Add(sum, ws[i])
	}
	if sum.Sign() == 0 || total.Sign() <= 0 {
		return parts, sum.Sign() != 0
	}
	rems := make([]*big.Rat, len(shares))
	given := new(big.Int)
	for i := range shares {
		exact := new(big.Rat).Mul(new(big.Rat).SetInt(total), ws[i])
		exact.Quo(exact, sum)
		q, r := new(big.Int).QuoRem(exact.Num(), exact.Denom(), new(big.Int))
		parts[i] = q
		rems[i] = new(big.Rat).SetFrac(r, exact.Denom())
		given.Add(given, q)
	}
	order := make([]int, len(shares))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		if c := rems[order[a]].Cmp(rems[order[b]]); c != 0 {
			return c > 0
		}
		return shares[order[a]].Key < shares[order[b]].Key
	})
	left := new(big.Int).Sub(total, given) // < len(shares)
	for k := 0; left.Sign() > 0; k++ {
		parts[order[k]].Add(parts[order[k]], big.NewInt(1))
		left.Sub(left, big.NewInt(1))
	}
	return parts, true
}
