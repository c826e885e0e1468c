package chain_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/tollgate-dev/tollgate/internal/testkit"
	"github.com/tollgate-dev/tollgate/ledger"
)

// BenchmarkSettlementGas reports what settling costs in gas on the embedded
// chain: posting a root over 10 accounts and over 2^20 (the same: a root is
// a root), and claiming with a proof of depth 20 to a fresh address, to one
// that already holds the token, and again after a later root; against plain
// ERC-20 transfers to the same kinds of recipient in the same run.
//
//	go test ./ledger/chain -run '^$' -bench SettlementGas -benchtime 1x
func BenchmarkSettlementGas(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	operator, payer, fresh, holder, freshT, holderT := newKey(b), newKey(b), newKey(b), newKey(b), newKey(b), newKey(b)
	kit := testkit.NewChain(b, "", operator)
	node, dep, c := kit.Node, kit.Deployment, kit.Client
	gas := func(tx string, err error) float64 {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
		rc, err := node.Client().TransactionReceipt(ctx, common.HexToHash(tx))
		if err != nil {
			b.Fatal(err)
		}
		return float64(rc.GasUsed)
	}
	for _, k := range []string{addr(payer), addr(fresh), addr(holder)} {
		gas(c.SendETH(ctx, operator, k, big.NewInt(1e18)))
	}
	gas(c.Mint(ctx, operator, addr(payer), big.NewInt(1e12)))
	gas(c.Mint(ctx, operator, addr(holder), big.NewInt(1)))
	gas(c.Mint(ctx, operator, addr(holderT), big.NewInt(1)))
	if _, err := c.Deposit(ctx, payer, addr(payer), big.NewInt(1e11)); err != nil {
		b.Fatal(err)
	}
	dom := ledger.Domain{ChainID: c.ChainID(), Settlement: dep.Settlement}
	// tree puts fresh and holder at cumulative `mine`, and n-2 others at 1.
	tree := func(n int, mine int64) (*ledger.Tree, *big.Int) {
		hashes := make([]ledger.Hash, 0, n)
		hashes = append(hashes, ledger.LeafHash(dom, ledger.Leaf{Account: addr(fresh), Cumulative: big.NewInt(mine)}))
		hashes = append(hashes, ledger.LeafHash(dom, ledger.Leaf{Account: addr(holder), Cumulative: big.NewInt(mine)}))
		for i := 2; i < n; i++ {
			hashes = append(hashes, ledger.LeafHash(dom, ledger.Leaf{Account: common.BigToAddress(big.NewInt(int64(i) + 1<<40)).Hex(), Cumulative: big.NewInt(1)}))
		}
		t, err := ledger.BuildTree(hashes)
		if err != nil {
			b.Fatal(err)
		}
		return t, big.NewInt(int64(n-2) + 2*mine)
	}
	claim := func(t *ledger.Tree, who string, mine int64) (float64, int) {
		p, ok := t.Proof(ledger.LeafHash(dom, ledger.Leaf{Account: who, Cumulative: big.NewInt(mine)}))
		if !ok {
			b.Fatal("no proof")
		}
		hs := make([]string, len(p))
		for i, h := range p {
			hs[i] = h.Hex()
		}
		return gas(c.Claim(ctx, payer, who, big.NewInt(mine), hs)), len(p)
	}
	const big20 = 1 << 20
	b.ResetTimer()
	small, total := tree(10, 5)
	post10 := gas(c.PostRoot(ctx, operator, 1, small.Root().Hex(), total, ledger.ZeroBundle, nil))
	large, total := tree(big20, 10)
	post1M := gas(c.PostRoot(ctx, operator, 2, large.Root().Hex(), total, ledger.ZeroBundle, nil))
	claimFresh, depth := claim(large, addr(fresh), 10)
	claimHolder, _ := claim(large, addr(holder), 10)
	later, total := tree(big20, 20)
	gas(c.PostRoot(ctx, operator, 3, later.Root().Hex(), total, ledger.ZeroBundle, nil))
	claimRepeat, _ := claim(later, addr(fresh), 20)
	transferFresh := gas(c.Transfer(ctx, payer, addr(freshT), big.NewInt(10)))
	transferHolder := gas(c.Transfer(ctx, payer, addr(holderT), big.NewInt(10)))
	b.StopTimer()
	b.ReportMetric(post10, "post-10-accounts-gas")
	b.ReportMetric(post1M, "post-2^20-accounts-gas")
	b.ReportMetric(post1M/post10, "post-ratio")
	b.ReportMetric(float64(depth), "proof-depth")
	b.ReportMetric(claimFresh, "claim-fresh-gas")
	b.ReportMetric(claimHolder, "claim-holder-gas")
	b.ReportMetric(claimRepeat, "claim-repeat-gas")
	b.ReportMetric(transferFresh, "transfer-fresh-gas")
	b.ReportMetric(transferHolder, "transfer-holder-gas")
}
