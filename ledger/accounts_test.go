package ledger_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

// Each account lists the receipts that name it, newest first, with
// what it was charged and what it earned by each, a page at a time; a page
// token is only good for the account it was given for. The index is built
// once for books written before it existed, and Check holds it complete.
func TestAccountsListTheirReceipts(t *testing.T) {
	badgerOnly(t)
	ctx := context.Background()
	dir := t.TempDir()
	l, err := ledger.Open(dir, ledger.Options{Signer: operatorKey})
	if err != nil {
		t.Fatal(err)
	}
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1000)})
	for i := range 3 {
		if err := commit(l, receipt(fmt.Sprint("a", i), 30)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.CloseEpoch(ctx, domain); err != nil {
		t.Fatal(err)
	}
	if err := commit(l, receipt("b", 60)); err != nil {
		t.Fatal(err)
	}
	list := func(l *ledger.Ledger, account string, epoch uint64) []string {
		t.Helper()
		var ids []string
		after := ""
		for {
			page, next, err := l.AccountReceipts(ctx, account, epoch, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				ids = append(ids, fmt.Sprintf("%s:%s/%s", r.Receipt.ID, r.Charged, r.Earned))
			}
			if next == "" {
				return ids
			}
			after = next
		}
	}
	want := "[b:0/20 a2:0/10 a1:0/10 a0:0/10]" // newest first
	if got := fmt.Sprint(list(l, alice, 0)); got != want {
		t.Fatalf("alice's receipts: %s, want %s", got, want)
	}
	if got := fmt.Sprint(list(l, caller, 1)); got != "[a2:30/0 a1:30/0 a0:30/0]" {
		t.Fatalf("the caller's receipts of epoch 1: %s", got)
	}
	if got := list(l, "0x9999999999999999999999999999999999999999", 0); len(got) != 0 {
		t.Fatalf("an account no receipt names: %v", got)
	}
	// A page token names its account: another account's is refused.
	_, next, _ := l.AccountReceipts(ctx, alice, 0, "", 1)
	if _, _, err := l.AccountReceipts(ctx, caller, 0, next, 1); abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("alice's page token for the caller's list: %v", err)
	}
	l.Close()

	// Books from before the index: drop it, and reopen.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DropPrefix([]byte("A/"), []byte("m/account-index-by-time")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := ledger.Open(dir, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Check(ctx); err == nil {
		t.Fatal("Check passed books whose receipts are missing from their accounts' lists")
	}
	ro.Close()
	l, err = ledger.Open(dir, ledger.Options{Signer: operatorKey})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := fmt.Sprint(list(l, alice, 0)); got != want {
		t.Fatalf("alice's receipts after the index was rebuilt: %s, want %s", got, want)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
