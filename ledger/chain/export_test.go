package chain

import (
	"math/big"
)

// WithFirstFees makes a client's first attempt at each transaction offer
// tip and feeCap, so a test can send one the market will not mine.
func WithFirstFees(tip, feeCap *big.Int) Option {
	return func(o *options) { o.firstFees = &[2]*big.Int{tip, feeCap} }
}
