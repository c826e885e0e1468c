package chain_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func addr(k *ecdsa.PrivateKey) string { return crypto.PubkeyToAddress(k.PublicKey).Hex() }

// TestSettleClaimAndRestart runs the whole settlement path on the embedded
// chain: a deposit, a root posted from a real ledger epoch, a claim accepted
// with the ledger's proof, a second claim refused, and a restart of the
// chain that finds the contracts and balances as they were.
func TestSettleClaimAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	operator, caller, alice, bob := newKey(t), newKey(t), newKey(t), newKey(t)

	node, err := chain.StartNode(dir, crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	dep, err := chain.Deploy(ctx, node.Client(), operator)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Attach(ctx, node.Client(), dep)
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.SendETH(ctx, operator, addr(caller), big.NewInt(1e18)))
	must(c.Mint(ctx, operator, addr(caller), big.NewInt(1000)))
	d, err := c.Deposit(ctx, caller, addr(caller), big.NewInt(1000))
	if err != nil {
		t.Fatal(err)
	}

	// The ledger credits the deposit and a receipt pays alice 300 and bob 200.
	l, err := ledger.Open(t.TempDir(), ledger.Options{Signer: operator})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Credit(ctx, ledger.Deposit{Ref: d.Ref, Account: d.Account, Amount: d.Amount}); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, &ledger.Receipt{ID: "inv-1", Caller: addr(caller), Postings: []ledger.Posting{
		{Account: addr(caller), Kind: ledger.KindCall, Amount: big.NewInt(-500)},
		{Account: addr(alice), Kind: ledger.KindAttribution, Amount: big.NewInt(300)},
		{Account: addr(bob), Kind: ledger.KindAccess, Amount: big.NewInt(200)},
	}, Domain: &ledger.Domain{ChainID: c.ChainID(), Settlement: dep.Settlement}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	epoch, err := l.CloseEpoch(ctx, ledger.Domain{ChainID: c.ChainID(), Settlement: dep.Settlement})
	if err != nil {
		t.Fatal(err)
	}
	// A total beyond the deposits is refused by the contract.
	if _, err := c.PostRoot(ctx, operator, epoch.N, epoch.Root, big.NewInt(1001), epoch.Bundle, nil); abi.CodeOf(err) != chain.CodeChain {
		t.Fatalf("root with total above deposits: %v", err)
	}
	must(c.PostRoot(ctx, operator, epoch.N, epoch.Root, epoch.Total, epoch.Bundle, nil))

	leaf, proof, err := l.Proof(ctx, epoch.N, addr(alice))
	if err != nil {
		t.Fatal(err)
	}
	// A proof for a larger amount does not verify.
	if _, err := c.Claim(ctx, operator, addr(alice), big.NewInt(301), proof); err == nil {
		t.Fatal("claim of an inflated amount was accepted")
	}
	must(c.Claim(ctx, operator, addr(alice), leaf.Cumulative, proof))
	if bal, _ := c.TokenBalance(ctx, addr(alice)); bal.Cmp(big.NewInt(300)) != 0 {
		t.Fatalf("alice holds %s after claiming, want 300", bal)
	}
	_, err = c.Claim(ctx, operator, addr(alice), leaf.Cumulative, proof)
	if err == nil || !strings.Contains(err.Error(), "NothingToClaim") {
		t.Fatalf("second claim: %v, want NothingToClaim", err)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}

	// Restart: the chain continues from disk.
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	node, err = chain.StartNode(dir, crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	c, err = chain.Attach(ctx, node.Client(), dep)
	if err != nil {
		t.Fatalf("contracts gone after restart: %v", err)
	}
	if bal, _ := c.TokenBalance(ctx, addr(alice)); bal.Cmp(big.NewInt(300)) != 0 {
		t.Fatalf("alice holds %s after restart, want 300", bal)
	}
	if n, root, _ := c.PostedEpoch(ctx); n != epoch.N || root != epoch.Root {
		t.Fatalf("posted epoch after restart = %d %s", n, root)
	}
	deps, err := c.Deposits(ctx, dep.Block, 0)
	if err != nil || len(deps) != 1 || deps[0].Ref != d.Ref {
		t.Fatalf("deposits after restart = %+v, %v", deps, err)
	}
	// Bob's claim still works after the restart.
	leaf, proof, _ = l.Proof(ctx, epoch.N, addr(bob))
	must(c.Claim(ctx, operator, addr(bob), leaf.Cumulative, proof))
}
