package ledger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tgt"
)

// CodeRequestConflict refuses a request id that already answered another
// request.
const CodeRequestConflict abi.Code = "request_conflict"

// MaxRequestIDBytes bounds a caller-chosen request id.
const MaxRequestIDBytes = 128

// RequestKind is what a request id names: a caller's ids for invocations
// and for withdrawals are apart, so the same id used for both is two
// requests.
type RequestKind string

// The request kinds. RequestInvoke is the empty string: invocation ids
// were derived before withdrawals had ids of their own, and keep their
// form so receipts already written keep answering their retries.
const (
	RequestInvoke   RequestKind = ""
	RequestWithdraw RequestKind = "withdraw"
	RequestGenerate RequestKind = "generate" // a model called directly, with no agent
)

// RequestKey is the receipt id of caller's request: the same caller
// retrying the same request id of the same kind gets the same id, so its
// receipt is found and nothing is charged twice; different callers and
// kinds never collide. Without a request id every request is new. It is
// the one path every idempotent write takes.
func RequestKey(kind RequestKind, caller, requestID string) (string, error) {
	if len(requestID) > MaxRequestIDBytes {
		return "", abi.Errorf(abi.CodeBadRequest, "request id is %d bytes, limit %d", len(requestID), MaxRequestIDBytes)
	}
	if requestID == "" {
		var b [16]byte
		rand.Read(b[:])
		return hex.EncodeToString(b[:]), nil
	}
	prefix := ""
	if kind != RequestInvoke {
		prefix = string(kind) + "\x00"
	}
	s := sha256.Sum256([]byte(prefix + caller + "\x00" + requestID))
	return hex.EncodeToString(s[:16]), nil
}

// ExplainShort restates an insufficient-credit error in TGT, with what
// account has and what it needs ("the call may cost" what); other errors
// pass through unchanged.
func (l *Ledger) ExplainShort(ctx context.Context, account string, need *big.Int, what string, err error) error {
	if abi.CodeOf(err) != abi.CodeInsufficientCredit {
		return err
	}
	bal, berr := l.Balance(ctx, account)
	if berr != nil {
		return err
	}
	return &abi.Error{Code: abi.CodeInsufficientCredit, Cause: err,
		Message: "insufficient credit: " + account + " has " + tgt.WithUnits(bal) + " of credit (less what calls in flight hold), and " + what + " " + tgt.WithUnits(need)}
}
