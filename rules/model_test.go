package rules_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/rules"
)

const (
	pub = "0x00000000000000000000000000000000000000a1"
	op  = "0x00000000000000000000000000000000000000b2"
	c1  = "0x00000000000000000000000000000000000000c3"
	c2  = "0x00000000000000000000000000000000000000c4"
)

func TestModelCostRoundsUp(t *testing.T) {
	for _, c := range []struct {
		in, out, pin, pout int64
		want               string
	}{
		{0, 0, 5, 5, "0"},
		{1, 0, 1, 0, "1"},    // 0.001 rounds up to 1
		{1000, 0, 7, 9, "7"}, // exactly 7
		{1000, 1, 7, 9, "8"}, // 7.009
		{10, 20, 1000, 2000, "50"},
	} {
		if got := rules.ModelCost(big.NewInt(c.pin), big.NewInt(c.pout), int(c.in), int(c.out)); got.String() != c.want {
			t.Errorf("ModelCost(%d in at %d, %d out at %d) = %s, want %s", c.in, c.pin, c.out, c.pout, got, c.want)
		}
	}
}

// A generation whose every token one record made pays that record the
// whole contributors' share; the rest goes to the publisher and the
// operator, and the caller pays exactly the cost.
func TestModelUseOneRecordTakesTheWholePool(t *testing.T) {
	use := rules.ModelUse{Model: "m@1.0.0", Publisher: pub, Cost: big.NewInt(10000), TokensOut: 4,
		Shares: []ledger.TokenShare{{Datanet: "d", Record: "r", Contributor: c1, Tokens: big.NewRat(4, 1)}}}
	b := rules.Bill{Caller: "0x00000000000000000000000000000000000000d5", Developer: pub, Operator: op, Fees: rules.DefaultFees(), Models: []rules.ModelUse{use}}
	got := byKind(b.Postings())
	want := map[string]string{"call:" + b.Caller: "-10000", "model:" + pub: "6500", "protocol:" + op: "500", "training:" + c1: "3000"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("postings %v, want %v", got, want)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("postings %v, want %v", got, want)
	}
}

// Random shares: the postings balance, the caller pays the cost, the
// training credits never exceed the pool, and they reach it exactly when
// every token was made by some record.
func TestModelUseSplitsExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		n := 1 + rng.IntN(40)
		var shares []ledger.TokenShare
		left := big.NewRat(int64(n), 1)
		full := rng.IntN(2) == 0
		for j := 0; j < 1+rng.IntN(6); j++ {
			part := new(big.Rat).Mul(left, big.NewRat(int64(1+rng.IntN(9)), 10))
			if part.Sign() == 0 {
				break
			}
			left.Sub(left, part)
			shares = append(shares, ledger.TokenShare{Record: string(rune('a' + j)), Contributor: []string{c1, c2}[rng.IntN(2)], Tokens: part})
		}
		if full && len(shares) > 0 {
			shares[len(shares)-1].Tokens.Add(shares[len(shares)-1].Tokens, left)
		}
		cost := big.NewInt(rng.Int64N(1e6))
		b := rules.Bill{Caller: "0x00000000000000000000000000000000000000d5", Operator: op, Fees: rules.DefaultFees(),
			Models: []rules.ModelUse{{Model: "m@1.0.0", Publisher: pub, Cost: cost, TokensOut: n, Shares: shares}}}
		ps := b.Postings()
		if s := sum(ps); s.Sign() != 0 {
			t.Fatalf("case %d: postings sum to %s", i, s)
		}
		if ps[0].Amount.Cmp(new(big.Int).Neg(cost)) != 0 {
			t.Fatalf("case %d: caller pays %s, cost %s", i, ps[0].Amount, cost)
		}
		training := new(big.Int)
		for _, p := range ps {
			if p.Kind == ledger.KindTraining {
				training.Add(training, p.Amount)
			}
		}
		pool := new(big.Int).Quo(new(big.Int).Mul(cost, big.NewInt(3000)), big.NewInt(10000))
		if training.Cmp(pool) > 0 || (full && len(shares) > 0 && training.Cmp(pool) != 0) {
			t.Fatalf("case %d: training gets %s of a pool of %s (all tokens attributed: %v)", i, training, pool, full)
		}
	}
}
