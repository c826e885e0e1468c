package ledger_test

import (
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

// A receipt is found by its id or by a prefix of at least
// MinReceiptPrefix hex digits that only it has; a shared prefix is refused
// saying how many share it.
func TestReceiptByPrefix(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1000)})
	for _, id := range []string{"abcdef0011", "abcdef0022", "12345678ff"} {
		if err := commit(l, receipt(id, 30)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, id, want string
		code           abi.Code
	}{
		{"whole id", "abcdef0011", "abcdef0011", ""},
		{"unique prefix", "12345678", "12345678ff", ""},
		{"upper case", "ABCDEF001", "abcdef0011", ""},
		{"shared prefix", "abcdef00", "", ledger.CodeAmbiguous},
		{"too short", "1234567", "", abi.CodeNotFound},
		{"no match", "99999999", "", abi.CodeNotFound},
		{"not hex", "zzzzzzzz", "", abi.CodeNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := l.ReceiptByPrefix(ctx, c.id)
			if abi.CodeOf(err) != c.code {
				t.Fatalf("%s: %v, want code %q", c.id, err, c.code)
			}
			if c.code == "" && r.ID != c.want {
				t.Fatalf("%s found %s, want %s", c.id, r.ID, c.want)
			}
		})
	}
	if _, err := l.ReceiptByPrefix(ctx, "abcdef00"); err == nil || !strings.Contains(err.Error(), "2 receipts") {
		t.Fatalf("an ambiguous prefix says %v, want how many share it", err)
	}
}
