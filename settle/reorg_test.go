package settle_test

import (
	"context"
	"crypto/ecdsa"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/testkit"

	"github.com/tollgate-dev/tollgate/settle"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

func key(t *testing.T) *ecdsa.PrivateKey { return testkit.Key(t) }

// env is a ledger and the embedded chain with the contracts, for a
// settler to drive.
type env struct {
	led      *ledger.Ledger
	chain    *chain.Client
	operator *ecdsa.PrivateKey
}

func newEnv(t *testing.T) *env {
	op := testkit.Key(t)
	return &env{led: testkit.NewStores(t, op).Ledger, chain: testkit.NewChain(t, "", op).Client, operator: op}
}

// branch is one branch of a chain: a node started from its own copy of
// the chain's directory, so two branches share history up to the copy and
// then diverge, as the two sides of a reorganisation do.
type branch struct {
	node *chain.Node
	c    *chain.Client
}

func startBranch(t *testing.T, dir string, op *ecdsa.PrivateKey, dep *chain.Deployment) *branch {
	t.Helper()
	node, err := chain.StartNode(dir, crypto.PubkeyToAddress(op.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if dep.Settlement == "" {
		if *dep, err = chain.Deploy(ctx, node.Client(), op, chain.WithDurability(node.WaitDurable)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := chain.Attach(ctx, node.Client(), *dep, chain.WithDurability(node.WaitDurable))
	if err != nil {
		t.Fatal(err)
	}
	return &branch{node, c}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A reorganisation replaces the blocks a node credited deposits from. A
// deposit the new branch lacks is undone (credit already spent becomes a
// debt that stops further calls); a deposit the new branch mined too, in
// another block, is credited exactly once, at its new place; and the
// ledger's deposits equal the contract's on the new branch.
func TestReorgUndoesDeposits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	op := key(t)
	var dep chain.Deployment
	a := startBranch(t, filepath.Join(dir, "a"), op, &dep)
	x, z := key(t), key(t)
	for _, k := range []*ecdsa.PrivateKey{x, z} {
		if _, err := a.c.SendETH(ctx, op, registry.Address(k), big.NewInt(1e17)); err != nil {
			t.Fatal(err)
		}
		if _, err := a.c.Mint(ctx, op, registry.Address(k), big.NewInt(10_000)); err != nil {
			t.Fatal(err)
		}
	}
	// The fork point: both branches share the chain up to here.
	a.node.Close()
	copyTree(t, filepath.Join(dir, "a"), filepath.Join(dir, "b"))
	a = startBranch(t, filepath.Join(dir, "a"), op, &dep)
	fork, _ := a.c.Head(ctx)

	// On branch a: x and z deposit, and the node credits both.
	if _, err := a.c.Deposit(ctx, x, registry.Address(x), big.NewInt(4_000)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Deposit(ctx, z, registry.Address(z), big.NewInt(5_000)); err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Open(filepath.Join(dir, "ledger"), ledger.Options{Signer: op})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	hostOn := func(b *branch) *settle.Settler {
		h, err := settle.New(settle.Config{Ledger: led, Chain: b.c, Operator: op})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if n, err := hostOn(a).SyncDeposits(ctx); err != nil || n != 2 {
		t.Fatalf("sync on branch a: %d %v", n, err)
	}
	// z spends 3,000 of its credit.
	zAddr := registry.Address(z)
	spend := &ledger.Receipt{ID: "z-call", Caller: zAddr, Domain: &ledger.Domain{ChainID: a.c.ChainID(), Settlement: dep.Settlement}, Postings: []ledger.Posting{
		{Account: zAddr, Kind: ledger.KindCall, Amount: big.NewInt(-3_000)},
		{Account: registry.Address(op), Kind: ledger.KindDeveloper, Amount: big.NewInt(3_000)},
	}}
	if err := led.Commit(ctx, spend, nil, nil); err != nil {
		t.Fatal(err)
	}
	// x's two transactions (approve, deposit), to mine again on branch b.
	var replay []*types.Transaction
	head, _ := a.c.Head(ctx)
	for n := fork + 1; n <= head; n++ {
		blk, err := a.node.Client().BlockByNumber(ctx, new(big.Int).SetUint64(n))
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range blk.Transactions() {
			if from, _ := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx); from == crypto.PubkeyToAddress(x.PublicKey) {
				replay = append(replay, tx)
			}
		}
	}
	if len(replay) != 2 {
		t.Fatalf("x sent %d transactions on branch a", len(replay))
	}
	a.node.Close()

	// Branch b wins: another block first, then x's transactions, then more
	// blocks than branch a had; z's deposit never happens there.
	b := startBranch(t, filepath.Join(dir, "b"), op, &dep)
	defer b.node.Close()
	if _, err := b.c.SendETH(ctx, op, registry.Address(key(t)), big.NewInt(1)); err != nil {
		t.Fatal(err)
	}
	for _, tx := range replay {
		raw, _ := tx.MarshalBinary()
		if _, err := b.c.Rebroadcast(ctx, nil, hexutil.Encode(raw), nil); err != nil {
			t.Fatal(err)
		}
	}
	for h, _ := b.c.Head(ctx); h <= head; h, _ = b.c.Head(ctx) {
		if _, err := b.c.SendETH(ctx, op, registry.Address(key(t)), big.NewInt(1)); err != nil {
			t.Fatal(err)
		}
	}
	hb := hostOn(b)
	if _, err := hb.SyncDeposits(ctx); err != nil {
		t.Fatal(err)
	}
	if credit, _ := led.Balance(ctx, registry.Address(x)); credit.Int64() != 4_000 {
		t.Fatalf("x's credit after its deposit was mined again: %s, want 4000 once", credit)
	}
	deps, _ := led.DepositsFrom(ctx, 0)
	if len(deps) != 1 || deps[0].Account != registry.Address(x) || deps[0].Block <= fork+2 {
		t.Fatalf("deposits on record after the reorg: %+v", deps)
	}
	if credit, _ := led.Balance(ctx, zAddr); credit.Int64() != -3_000 {
		t.Fatalf("z's credit after its deposit left the chain: %s, want -3000 (the credit it spent)", credit)
	}
	if _, err := led.Reserve(ctx, zAddr, big.NewInt(1)); abi.CodeOf(err) != abi.CodeInsufficientCredit {
		t.Fatalf("an account in debt reserved credit: %v", err)
	}
	onChain, err := b.c.TotalDeposited(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot, _ := led.Totals(ctx); tot.Deposited.Cmp(onChain) != 0 {
		t.Fatalf("the ledger credits %s of deposits, the contract on the winning branch holds %s", tot.Deposited, onChain)
	}
	if err := led.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// Syncing again changes nothing.
	if n, err := hb.SyncDeposits(ctx); err != nil || n != 0 {
		t.Fatalf("a second sync credited %d, %v", n, err)
	}
}

// With confirmations, a deposit is credited only once that many blocks
// are on top of it. The dev chain may seal an empty block of its own now and
// then, so each sync is checked against the head it saw.
func TestDepositsWaitForConfirmations(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const confirms = 5
	h, err := settle.New(settle.Config{Ledger: e.led, Chain: e.chain, Operator: e.operator, Confirmations: confirms})
	if err != nil {
		t.Fatal(err)
	}
	x := key(t)
	addr := registry.Address(x)
	e.chain.SendETH(ctx, e.operator, addr, big.NewInt(1e17))
	e.chain.Mint(ctx, e.operator, addr, big.NewInt(1_000))
	d, err := e.chain.Deposit(ctx, x, addr, big.NewInt(1_000))
	if err != nil {
		t.Fatal(err)
	}
	waited, credited := false, false
	for range 20 {
		before, _ := e.chain.Head(ctx)
		n, err := h.SyncDeposits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := e.chain.Head(ctx)
		if before == after {
			confirmed := after >= d.Block+confirms
			if !credited && (n == 1) != confirmed {
				t.Fatalf("head %d, deposit in block %d, %d confirmations: credited %d", after, d.Block, confirms, n)
			}
			waited = waited || !confirmed
		}
		// A sync after the deposit was mined that credits nothing waited,
		// whether or not the head moved while it ran (on a loaded machine
		// it may move during every sync).
		waited = waited || (!credited && n == 0)
		credited = credited || n == 1
		if credited {
			break
		}
		if _, err := e.chain.SendETH(ctx, e.operator, registry.Address(key(t)), big.NewInt(1)); err != nil {
			t.Fatal(err)
		}
	}
	if !waited || !credited {
		t.Fatalf("waited for confirmations: %v; credited: %v", waited, credited)
	}
	if credit, _ := e.led.Balance(ctx, addr); credit.Int64() != 1_000 {
		t.Fatalf("credit %s", credit)
	}
}
