package ledger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

func open(t *testing.T) *ledger.Ledger { return openWith(t, ledger.Options{}) }

// openWith opens a ledger in a temporary directory with opts, signed by
// operatorKey, and closes it when the test ends.
func openWith(t *testing.T, opts ledger.Options) *ledger.Ledger {
	t.Helper()
	opts.Signer = operatorKey
	l, err := openStore(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

const (
	caller = "0x1111111111111111111111111111111111111111"
	dev    = "0x2222222222222222222222222222222222222222"
	alice  = "0x3333333333333333333333333333333333333333"
)

// operatorKey signs every receipt the test ledgers commit.
var operatorKey, _ = crypto.GenerateKey()

// commit commits r with no output or reservation, under the test domain.
func commit(l *ledger.Ledger, r *ledger.Receipt) error {
	r.Domain = &domain
	return l.Commit(context.Background(), r, nil, nil)
}

var domain = ledger.Domain{ChainID: big.NewInt(1337), Settlement: "0x4444444444444444444444444444444444444444"}

func withDomain(r *ledger.Receipt) *ledger.Receipt { r.Domain = &domain; return r }

func receipt(id string, price int64) *ledger.Receipt {
	return &ledger.Receipt{ID: id, Caller: caller, Postings: []ledger.Posting{
		{Account: caller, Kind: ledger.KindCall, Amount: big.NewInt(-price)},
		{Account: dev, Kind: ledger.KindDeveloper, Amount: big.NewInt(price - price/3)},
		{Account: alice, Kind: ledger.KindAttribution, Amount: big.NewInt(price / 3)},
	}}
}

func TestCommitRefusesWhatWouldOverdrawOrUnbalance(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	if err := l.Credit(ctx, ledger.Deposit{Ref: "tx1:0", Account: caller, Amount: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	if err := l.Credit(ctx, ledger.Deposit{Ref: "tx1:0", Account: caller, Amount: big.NewInt(100)}); abi.CodeOf(err) != abi.CodeAlreadyExists {
		t.Fatalf("a deposit credited twice: %v", err)
	}
	unbalanced := receipt("bad", 90)
	unbalanced.Postings[1].Amount = big.NewInt(1000)
	thief := receipt("thief", 30)
	thief.Postings[0].Account = alice
	cases := []struct {
		name string
		r    *ledger.Receipt
		want abi.Code
	}{
		{"more than the caller's credit", receipt("big", 101), abi.CodeInsufficientCredit},
		{"postings do not sum to zero", unbalanced, ledger.CodeUnbalanced},
		{"debits someone else", thief, ledger.CodeUnbalanced},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := commit(l, c.r); abi.CodeOf(err) != c.want {
				t.Fatalf("err = %v, want %s", err, c.want)
			}
			if _, err := l.Receipt(ctx, c.r.ID); abi.CodeOf(err) != abi.CodeNotFound {
				t.Fatalf("refused receipt was stored: %v", err)
			}
			if b, _ := l.Balance(ctx, caller); b.Cmp(big.NewInt(100)) != 0 {
				t.Fatalf("caller balance %s after a refused commit, want 100", b)
			}
		})
	}
	if err := commit(l, receipt("ok", 90)); err != nil {
		t.Fatal(err)
	}
	if err := commit(l, receipt("ok", 5)); abi.CodeOf(err) != abi.CodeAlreadyExists {
		t.Fatalf("receipt id reused: %v", err)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestEpochsKeepCumulativeEarnings(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	if _, err := l.CloseEpoch(ctx, domain); abi.CodeOf(err) != ledger.CodeEpochEmpty {
		t.Fatalf("closing an empty epoch: %v", err)
	}
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1000)})
	for i := range 3 {
		if err := commit(l, receipt(fmt.Sprint("a", i), 30)); err != nil {
			t.Fatal(err)
		}
	}
	e1, err := l.CloseEpoch(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	if e1.Total.Int64() != 90 || e1.Receipts != 3 || len(e1.Leaves) != 2 {
		t.Fatalf("epoch 1 = %+v", e1)
	}
	commit(l, receipt("b", 60))
	e2, err := l.CloseEpoch(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	leaf, proof, err := l.Proof(ctx, e2.N, alice)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Cumulative.Int64() != 50 {
		t.Fatalf("alice cumulative %s, want 30+20", leaf.Cumulative)
	}
	if !ledger.VerifyProof(hash(e2.Root), ledger.LeafHash(domain, leaf), hashes(proof)) {
		t.Fatal("proof does not verify")
	}
	rs, err := l.Receipts(ctx, 2)
	if err != nil || len(rs) != 1 || rs[0].ID != "b" {
		t.Fatalf("epoch 2 receipts = %v, %v", rs, err)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTreeMatchesOpenZeppelin rebuilds roots and proofs with the
// @openzeppelin/merkle-tree package itself and compares them with ours.
func TestTreeMatchesOpenZeppelin(t *testing.T) {
	lib := filepath.Join("contracts", "node_modules", "@openzeppelin", "merkle-tree")
	if _, err := os.Stat(lib); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: .ci/run installs it", lib)
		}
		t.Skipf("run npm ci in ledger/contracts to compare with OpenZeppelin: %v", err)
	}
	for _, n := range []int{1, 2, 3, 7, 16, 33} {
		var leaves []ledger.Leaf
		var values [][]string
		for i := range n {
			acct := fmt.Sprintf("0x%040x", i*7919+1)
			amt := new(big.Int).Lsh(big.NewInt(int64(i+1)), uint(i*5))
			leaves = append(leaves, ledger.Leaf{Account: acct, Cumulative: amt})
			values = append(values, []string{domain.ChainID.String(), domain.Settlement, acct, amt.String()})
		}
		in, _ := json.Marshal(values)
		script := `const {StandardMerkleTree} = require("@openzeppelin/merkle-tree");
const values = JSON.parse(process.argv[1]);
const t = StandardMerkleTree.of(values, ["uint256","address","address","uint256"]);
console.log(JSON.stringify({root: t.root, proof: t.getProof(values.length - 1)}));`
		cmd := exec.Command("node", "-e", script, string(in))
		cmd.Dir = "contracts"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		var oz struct {
			Root  string   `json:"root"`
			Proof []string `json:"proof"`
		}
		if err := json.Unmarshal(out, &oz); err != nil {
			t.Fatal(err)
		}
		var hs []ledger.Hash
		for _, lf := range leaves {
			hs = append(hs, ledger.LeafHash(domain, lf))
		}
		tree, err := ledger.BuildTree(hs)
		if err != nil {
			t.Fatal(err)
		}
		if got := tree.Root().Hex(); got != oz.Root {
			t.Fatalf("%d leaves: root %s, OpenZeppelin %s", n, got, oz.Root)
		}
		proof, _ := tree.Proof(hs[n-1])
		var got []string
		for _, p := range proof {
			got = append(got, p.Hex())
		}
		if strings.Join(got, ",") != strings.Join(oz.Proof, ",") {
			t.Fatalf("%d leaves: proof %v, OpenZeppelin %v", n, got, oz.Proof)
		}
	}
}

func hash(s string) ledger.Hash {
	var h ledger.Hash
	b, _ := new(big.Int).SetString(strings.TrimPrefix(s, "0x"), 16)
	b.FillBytes(h[:])
	return h
}

func hashes(ss []string) []ledger.Hash {
	out := make([]ledger.Hash, len(ss))
	for i, s := range ss {
		out[i] = hash(s)
	}
	return out
}

func TestReservationsStopConcurrentOverdraw(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(100)})
	a, err := l.Reserve(ctx, caller, big.NewInt(60))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, caller, big.NewInt(60)); abi.CodeOf(err) != abi.CodeInsufficientCredit {
		t.Fatalf("second reservation beyond the credit: %v", err)
	}
	// Committing releases the reservation; what is left can be reserved.
	if err := l.Commit(ctx, withDomain(receipt("r1", 30)), []byte("out"), a); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, caller, big.NewInt(70)); err != nil {
		t.Fatalf("reserving the 70 left: %v", err)
	}
	if out, err := l.Output(ctx, "r1"); err != nil || string(out) != "out" {
		t.Fatalf("output %q, %v", out, err)
	}
}

// TestGroupCommit: concurrent commits share transactions, every one lands
// exactly once, and the books balance.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1_000_000)})
	before := l.Batches()
	const n = 400
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- commit(l, receipt(fmt.Sprint("g", i), 30)) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if b := l.Batches() - before; b >= n {
		t.Fatalf("%d commits took %d transactions: no batching", n, b)
	}
	if bal, _ := l.Balance(ctx, caller); bal.Int64() != 1_000_000-30*n {
		t.Fatalf("balance %s", bal)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCommitDelayGathersCallsInFlight: while other calls hold reservations,
// the writer waits for their commits and syncs them together; it waits no
// longer than they take to arrive, and a call alone never waits.
func TestCommitDelayGathersCallsInFlight(t *testing.T) {
	ctx := context.Background()
	const long = time.Hour // a test that waited for the timer would time out
	l := openWith(t, ledger.Options{CommitDelay: long})
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1_000_000)})

	// Alone: nothing else is in flight (a released reservation is not), so
	// the commit does not wait.
	gone, err := l.Reserve(ctx, caller, big.NewInt(30))
	if err != nil {
		t.Fatal(err)
	}
	gone.Release()
	gone.Release()
	res, err := l.Reserve(ctx, caller, big.NewInt(30))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, withDomain(receipt("alone", 30)), nil, res); err != nil {
		t.Fatal(err)
	}

	// Eight calls in flight, committing one after another: one batch.
	const n = 8
	held := make([]*ledger.Reservation, n)
	for i := range held {
		if held[i], err = l.Reserve(ctx, caller, big.NewInt(30)); err != nil {
			t.Fatal(err)
		}
	}
	before := l.Batches()
	errs := make(chan error, n)
	for i := range n {
		go func() {
			time.Sleep(time.Duration(i) * time.Millisecond)
			errs <- l.Commit(ctx, withDomain(receipt(fmt.Sprint("c", i), 30)), nil, held[i])
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if b := l.Batches() - before; b != 1 {
		t.Fatalf("%d calls in flight committed in %d batches, want 1", n, b)
	}
	if bal, _ := l.Balance(ctx, caller); bal.Int64() != 1_000_000-30*(n+1) {
		t.Fatalf("balance %s", bal)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCommitDelayIsBounded: a call in flight that never commits holds the
// others' commits for at most the delay.
func TestCommitDelayIsBounded(t *testing.T) {
	ctx := context.Background()
	const delay = 50 * time.Millisecond
	l := openWith(t, ledger.Options{CommitDelay: delay, CommitSiblings: 1})
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1000)})
	stuck, err := l.Reserve(ctx, caller, big.NewInt(30))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Release()
	res, err := l.Reserve(ctx, caller, big.NewInt(30))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Commit(ctx, withDomain(receipt("waits", 30)), nil, res); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < delay {
		t.Fatalf("commit with a sibling in flight took %v, less than the %v delay: it did not wait", took, delay)
	}
}
