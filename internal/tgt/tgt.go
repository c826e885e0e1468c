// Package tgt formats amounts of the settlement token for people: base
// units (18 decimals) as exact decimal TGT, such as "1.5 TGT". Amounts are
// never rounded: a message that says what a call costs says it exactly.
package tgt

import (
	"math/big"
	"strings"
)

// Decimals is how many decimal places of TGT one base unit is.
const Decimals = 18

var one = new(big.Int).Exp(big.NewInt(10), big.NewInt(Decimals), nil)

// String formats base units as TGT, exactly, without trailing zeros:
// 1500000000000000000 is "1.5 TGT", 1000 is "0.000000000000001 TGT".
// nil is "0 TGT".
func String(v *big.Int) string {
	if v == nil {
		return "0 TGT"
	}
	sign := ""
	a := new(big.Int).Set(v)
	if a.Sign() < 0 {
		sign = "-"
		a.Neg(a)
	}
	q, r := new(big.Int).QuoRem(a, one, new(big.Int))
	s := sign + q.String()
	if r.Sign() != 0 {
		frac := r.String()
		frac = strings.Repeat("0", Decimals-len(frac)) + frac
		s += "." + strings.TrimRight(frac, "0")
	}
	return s + " TGT"
}

// WithUnits is String followed by the base units in parentheses, for
// messages a program may also read: "1.5 TGT (1500000000000000000 base
// units)". A whole number of TGT, and nil, are given as String alone.
func WithUnits(v *big.Int) string {
	if v == nil || new(big.Int).Rem(v, one).Sign() == 0 {
		return String(v)
	}
	return String(v) + " (" + v.String() + " base units)"
}
