package rules

import (
	"math/big"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tgt"
)

// CodePriceExceeded refuses a call whose agent asks more per call than the
// caller's max price, as when its publisher republished name@latest at a
// higher price after the caller was shown the old one.
const CodePriceExceeded abi.Code = "price_exceeded"

// CodeBelowMinPrice refuses to publish or run an agent priced below the
// operator's floor.
const CodeBelowMinPrice abi.Code = "below_min_price"

// CheckMaxPrice refuses agent's price if it is above the most the caller
// agreed to pay (max); a nil max sets no bound.
func CheckMaxPrice(agent string, price, max *big.Int) error {
	if max != nil && price.Cmp(max) > 0 {
		return abi.Errorf(CodePriceExceeded, "%s costs %s a call, more than the max_price of %s the caller agreed to", agent, tgt.WithUnits(price), tgt.WithUnits(max))
	}
	return nil
}

// CheckMinPrice refuses an agent priced below the operator's floor; a nil
// floor admits every price.
func CheckMinPrice(agent string, price, floor *big.Int) error {
	if floor != nil && price.Cmp(floor) < 0 {
		return abi.Errorf(CodeBelowMinPrice, "%s costs %s a call; this node serves agents from %s a call", agent, tgt.WithUnits(price), tgt.WithUnits(floor))
	}
	return nil
}
