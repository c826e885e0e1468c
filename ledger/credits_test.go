package ledger

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// A value read before a batch was published is not kept: it may be older
// than what the batch committed. A batch that fails drops its accounts.
func TestCreditsKeepNoValueOlderThanAPublishedBatch(t *testing.T) {
	onePass(t)
	var c credits
	_, gen, ok := c.get("a")
	if ok {
		t.Fatal("an empty mirror holds a")
	}
	c.stage("a", big.NewInt(5))
	c.publish(true)
	c.fill("a", big.NewInt(9), gen) // read before the batch: stale
	if v, _, _ := c.get("a"); v.Int64() != 5 {
		t.Fatalf("a stale read replaced the published credit: %s", v)
	}
	_, gen, _ = c.get("b")
	c.fill("b", big.NewInt(7), gen)
	if v, _, ok := c.get("b"); !ok || v.Int64() != 7 {
		t.Fatalf("a fresh read was not kept: %v %v", v, ok)
	}
	c.stage("b", big.NewInt(1))
	c.publish(false)
	if _, _, ok := c.get("b"); ok {
		t.Fatal("a failed batch left its account mirrored")
	}
	if v, _, _ := c.get("a"); v.Int64() != 5 {
		t.Fatalf("a failed batch dropped another account: %s", v)
	}
}

// Under concurrent deposits, calls (reserved, extended and committed),
// withdrawals and a reorganisation, the credit Balance answers from memory
// is, once the writes are done, the credit the books hold.
func TestCreditMirrorMatchesTheBooks(t *testing.T) {
	onePass(t)
	ctx := context.Background()
	key, _ := crypto.GenerateKey()
	l, err := Open(t.TempDir(), Options{Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dom := Domain{ChainID: big.NewInt(1337), Settlement: "0x4444444444444444444444444444444444444444"}
	accounts := make([]string, 6)
	for i := range accounts {
		accounts[i] = common.BigToAddress(big.NewInt(int64(i + 1))).Hex()
	}
	dev := common.BigToAddress(big.NewInt(99)).Hex()
	var wg sync.WaitGroup
	for i, acct := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 40 {
				d := Deposit{Ref: fmt.Sprintf("d-%d-%d", i, j), Account: acct, Amount: big.NewInt(50)}
				if err := l.Credit(ctx, d); err != nil {
					t.Error(err)
					return
				}
				res, err := l.Reserve(ctx, acct, big.NewInt(20))
				if err != nil {
					continue // another goroutine's call holds the credit
				}
				if res.Extend(big.NewInt(5)) != nil {
					res.Release()
					continue
				}
				r := &Receipt{ID: fmt.Sprintf("r-%d-%d", i, j), Caller: acct, Domain: &dom, Postings: []Posting{
					{Account: acct, Kind: KindCall, Amount: big.NewInt(-25)},
					{Account: dev, Kind: KindDeveloper, Amount: big.NewInt(25)},
				}}
				if err := l.Commit(ctx, r, nil, res); err != nil {
					t.Error(err)
				}
				if j%10 == 0 {
					l.Withdraw(ctx, Withdrawal{ID: fmt.Sprintf("w-%d-%d", i, j), Account: acct, Amount: big.NewInt(10), Domain: dom})
				}
				l.Balance(ctx, acct) // fill the mirror between writes
			}
		}()
	}
	// Readers keep filling the mirror while the writer publishes.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, a := range accounts {
					l.Balance(ctx, a)
				}
			}
		}()
	}
	wg.Wait()
	// A reorganisation undoes one deposit of each account.
	var undo []Deposit
	for i, acct := range accounts {
		undo = append(undo, Deposit{Ref: fmt.Sprintf("d-%d-%d", i, 39), Account: acct, Amount: big.NewInt(50)})
	}
	if err := l.Reorg(ctx, undo, Cursor{}); err != nil {
		t.Fatal(err)
	}
	close(stop)
	readers.Wait()
	for _, acct := range accounts {
		got, err := l.Balance(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		var books *big.Int
		if err := l.db.View(func(txn kv.Txn) (err error) { books, err = getAmount(txn, balanceKey(acct)); return err }); err != nil {
			t.Fatal(err)
		}
		if got.Cmp(books) != 0 {
			t.Errorf("%s: Balance says %s, the books %s", acct, got, books)
		}
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// Credit is written only through setCredit, which the mirror sees: a
// write of an account's credit key anywhere else would leave Balance
// answering an old credit.
func TestOnlySetCreditWritesCredit(t *testing.T) {
	onePass(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	write := regexp.MustCompile(`(Set|addAmount|Delete)\([^)]*balanceKey\(`)
	seen := false
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if !write.MatchString(line) {
				continue
			}
			// shared.go writes an account's credit free to lease, which is
			// not mirrored when the books are shared (it mirrors the seat's
			// lease, written through setCredit and giveBack).
			if f == "credits.go" || f == "shared.go" {
				seen = true
				continue
			}
			t.Errorf("%s:%d writes an account's credit without setCredit: %s", f, i+1, strings.TrimSpace(line))
		}
	}
	if !seen {
		t.Fatal("the pattern no longer finds setCredit's own write: it would miss others")
	}
}
