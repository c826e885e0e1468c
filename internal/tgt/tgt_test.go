package tgt_test

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/tgt"
)

func TestString(t *testing.T) {
	e18 := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	for _, c := range []struct {
		name string
		v    *big.Int
		want string
	}{
		{"nil", nil, "0 TGT"},
		{"zero", big.NewInt(0), "0 TGT"},
		{"one base unit", big.NewInt(1), "0.000000000000000001 TGT"},
		{"one token", e18, "1 TGT"},
		{"one and a half", new(big.Int).Mul(big.NewInt(15), new(big.Int).Div(e18, big.NewInt(10))), "1.5 TGT"},
		{"negative", big.NewInt(-2500000000000000000), "-2.5 TGT"},
		{"large", new(big.Int).Mul(e18, big.NewInt(123456789)), "123456789 TGT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := tgt.String(c.v); got != c.want {
				t.Errorf("String(%v) = %q, want %q", c.v, got, c.want)
			}
		})
	}
}

func ExampleWithUnits() {
	fmt.Println(tgt.WithUnits(big.NewInt(1000)))
	fmt.Println(tgt.WithUnits(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)))
	// Output:
	// 0.000000000000001 TGT (1000 base units)
	// 1 TGT
}
