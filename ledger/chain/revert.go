package chain

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	gethabi "github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/ledger/contracts"
)

// RevertData returns the revert data an RPC error carries (the
// JSON-RPC error's data field), if any.
func RevertData(err error) ([]byte, bool) {
	var de interface{ ErrorData() any }
	if !errors.As(err, &de) {
		return nil, false
	}
	s, ok := de.ErrorData().(string)
	if !ok || !strings.HasPrefix(s, "0x") || len(s) < 10 {
		return nil, false
	}
	return common.FromHex(s), true
}

// RevertReason says in a sentence why a call to the Settlement contract
// reverted, from the revert data err carries: one of the contract's custom
// errors, or a plain Error(string). ok is false when err carries no revert
// data this package can read.
func RevertReason(err error) (reason string, ok bool) {
	data, ok := RevertData(err)
	if !ok {
		return "", false
	}
	return ExplainRevert(data)
}

// ExplainRevert turns revert data into a sentence for people; ok is false
// for data that is neither a Settlement error nor Error(string).
func ExplainRevert(data []byte) (string, bool) {
	if len(data) < 4 {
		return "", false
	}
	if msg, err := gethabi.UnpackRevert(data); err == nil {
		return "the contract refused: " + msg, true
	}
	e, err := contracts.NewSettlement().UnpackError(data)
	if err != nil {
		return "", false
	}
	switch e := e.(type) {
	case *contracts.SettlementNothingToClaim:
		return fmt.Sprintf("nothing left to claim: the account has already claimed %s of the %s the posted root gives it; earnings from later epochs are claimable once their root is posted",
			tokens(e.Claimed), tokens(e.Cumulative)), true
	case *contracts.SettlementInvalidProof:
		return "the proof does not match the root on-chain: the root may have moved on since the proof was fetched; fetch a new proof and claim again", true
	case *contracts.SettlementIsPaused:
		return "the settlement contract is paused by its guardian; try again once it is resumed", true
	case *contracts.SettlementNoPendingRoot:
		return fmt.Sprintf("there is no pending root for epoch %s to act on", e.Epoch), true
	case *contracts.SettlementNotOperator:
		return fmt.Sprintf("%s is not the settlement's operator, which alone may do this", e.Caller.Hex()), true
	case *contracts.SettlementNotGuardian:
		return fmt.Sprintf("%s is not the settlement's guardian, which alone may do this", e.Caller.Hex()), true
	case *contracts.SettlementZeroAddress:
		return "an address given is the zero address", true
	case *contracts.SettlementZeroAmount:
		return "the amount is zero", true
	case *contracts.SettlementStaleEpoch:
		return fmt.Sprintf("epoch %s is not after the last posted epoch %s", e.Given, e.Last), true
	case *contracts.SettlementEpochJump:
		return fmt.Sprintf("epoch %s is too far past the last posted epoch %s", e.Given, e.Last), true
	case *contracts.SettlementTotalDecreased:
		return fmt.Sprintf("the root's total %s is less than the previous root's %s", tokens(e.Given), tokens(e.Previous)), true
	case *contracts.SettlementTotalExceedsDeposits:
		return fmt.Sprintf("the root's total %s is more than the %s deposited", tokens(e.Total), tokens(e.Deposited)), true
	case *contracts.SettlementNoOperatorProposed:
		return "no new operator has been proposed", true
	case *contracts.SettlementRotationNotReady:
		return fmt.Sprintf("the operator rotation is not ready until %s", time.Unix(e.At.Int64(), 0).UTC().Format(time.RFC3339)), true
	case *contracts.SettlementDelayTooLong:
		return fmt.Sprintf("a delay is longer than the contract's most, %s seconds", e.Max), true
	case *contracts.SettlementSafeERC20FailedOperation:
		return fmt.Sprintf("the token contract %s refused the transfer", e.Token.Hex()), true
	}
	return "", false
}

// tokens formats base units of the 18-decimal token exactly, as TGT.
func tokens(v *big.Int) string {
	if v == nil {
		v = new(big.Int)
	}
	s := v.String()
	for len(s) < 19 {
		s = "0" + s
	}
	frac := strings.TrimRight(s[len(s)-18:], "0")
	for len(frac) < 6 {
		frac += "0"
	}
	return s[:len(s)-18] + "." + frac + " TGT"
}
