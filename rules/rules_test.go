package rules_test

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/rules"
)

func sum(ps []ledger.Posting) *big.Int {
	s := new(big.Int)
	for _, p := range ps {
		s.Add(s, p.Amount)
	}
	return s
}

func byKind(ps []ledger.Posting) map[string]string {
	out := map[string]string{}
	for _, p := range ps {
		out[p.Kind+":"+p.Account] = p.Amount.String()
	}
	return out
}

func TestBillPostings(t *testing.T) {
	reads := []ledger.Access{{Datanet: "d", Record: "r1", Contributor: "c1", Fee: big.NewInt(7)}, {Datanet: "d", Record: "r2", Contributor: "c2", Fee: big.NewInt(3)}}
	base := rules.Bill{Caller: "caller", Developer: "dev", Operator: "op", Price: big.NewInt(10000), Fees: rules.DefaultFees(), Reads: reads}
	cases := []struct {
		name string
		bill rules.Bill
		want map[string]string
	}{
		{"split by weight", func() rules.Bill {
			b := base
			b.Shares = []attribution.Share{{Key: "c1", Weight: 3}, {Key: "c2", Weight: 1}}
			return b
		}(), map[string]string{
			"call:caller": "-10010", "developer:dev": "6500", "protocol:op": "500",
			"access:c1": "7", "access:c2": "3", "attribution:c1": "2250", "attribution:c2": "750",
		}},
		{"no weight: the developer keeps the contributors' share", base, map[string]string{
			"call:caller": "-10010", "developer:dev": "9500", "protocol:op": "500", "access:c1": "7", "access:c2": "3",
		}},
		{"a failed call pays its reads only", func() rules.Bill {
			b := base
			b.Shares = []attribution.Share{{Key: "c1", Weight: 1}}
			return b.Failed()
		}(), map[string]string{"call:caller": "-10", "access:c1": "7", "access:c2": "3"}},
		{"free agent, no reads: a zero debit", rules.Bill{Caller: "caller", Developer: "dev", Operator: "op", Fees: rules.DefaultFees()}, map[string]string{"call:caller": "0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := c.bill.Postings()
			if s := sum(ps); s.Sign() != 0 {
				t.Fatalf("postings sum to %s, not 0: %v", s, ps)
			}
			if got := byKind(ps); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("postings %v, want %v", got, c.want)
			}
		})
	}
}

// Every split of every price balances, and the caller pays exactly the
// price plus the read fees.
func TestBillBalancesForAnyPrice(t *testing.T) {
	for price := int64(0); price < 2000; price += 37 {
		b := rules.Bill{Caller: "a", Developer: "b", Operator: "c", Price: big.NewInt(price), Fees: rules.Fees{ProtocolBps: 333, ContributorBps: 4444},
			Reads:  []ledger.Access{{Contributor: "x", Fee: big.NewInt(price % 5)}},
			Shares: []attribution.Share{{Key: "x", Weight: 0.1}, {Key: "y", Weight: 0.7}, {Key: "z", Weight: 0.2}}}
		ps := b.Postings()
		if s := sum(ps); s.Sign() != 0 {
			t.Fatalf("price %d: postings sum to %s", price, s)
		}
		if want := -(price + price%5); ps[0].Amount.Int64() != want {
			t.Fatalf("price %d: caller debited %s, want %d", price, ps[0].Amount, want)
		}
	}
}

func TestFeesValidate(t *testing.T) {
	if err := (rules.Fees{ProtocolBps: 6000, ContributorBps: 4001}).Validate(); err == nil {
		t.Fatal("fees over the whole price were accepted")
	}
	if err := (rules.Fees{ProtocolBps: 6000, ContributorBps: 4000}).Validate(); err != nil {
		t.Fatal(err)
	}
	if (rules.Fees{}).OrDefault() != rules.DefaultFees() {
		t.Fatal("zero fees do not default")
	}
}

func TestPriceBounds(t *testing.T) {
	if err := rules.CheckMaxPrice("a@1", big.NewInt(11), big.NewInt(10)); abi.CodeOf(err) != rules.CodePriceExceeded {
		t.Fatalf("price above max: %v", err)
	}
	if err := rules.CheckMaxPrice("a@1", big.NewInt(10), big.NewInt(10)); err != nil {
		t.Fatalf("price at max: %v", err)
	}
	if err := rules.CheckMaxPrice("a@1", big.NewInt(10), nil); err != nil {
		t.Fatalf("no max: %v", err)
	}
	if err := rules.CheckMinPrice("a@1", big.NewInt(9), big.NewInt(10)); abi.CodeOf(err) != rules.CodeBelowMinPrice {
		t.Fatalf("price below floor: %v", err)
	}
	if err := rules.CheckMinPrice("a@1", big.NewInt(0), nil); err != nil {
		t.Fatalf("no floor: %v", err)
	}
}
