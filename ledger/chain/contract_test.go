package chain_test

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/internal/testkit"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/ledger/contracts"
)

// reverts asserts that err is the contract's custom error name.
func reverts(t *testing.T, what string, err error, name string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("%s: %v, want a revert with %s", what, err, name)
	}
}

// TestSettlementTrustModel walks every guard of the Settlement contract on
// the embedded chain: argument checks, the challenge delay and the veto,
// claims against the current root while a newer one waits, pausing, and
// operator rotation with its delay.
func TestSettlementTrustModel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	operator, guardian, caller, alice, newOp := newKey(t), newKey(t), newKey(t), newKey(t), newKey(t)
	// Seconds, for the challenge and the rotation: long enough that the
	// checks made before them cannot race the dev chain's clock, which
	// advances at least a second per block.
	const delay = 30
	kit := testkit.NewChain(t, "", operator, chain.WithGuardian(addr(guardian)), chain.WithDelays(delay, delay))
	node, dep, c := kit.Node, kit.Deployment, kit.Client
	must := func(tx string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	// emits asserts that tx emitted exactly the settlement events want, in
	// order, each written Name(arg, …) with its arguments in declaration
	// order; "*" stands for an argument that varies (a time).
	emits := func(what, tx string, want ...string) {
		t.Helper()
		rc, err := node.Client().TransactionReceipt(ctx, common.HexToHash(tx))
		if err != nil {
			t.Fatal(err)
		}
		if got := settlementEvents(t, rc.Logs, dep.Settlement); !matchEvents(got, want) {
			t.Fatalf("%s emitted\n  %v\nwant\n  %v", what, got, want)
		}
	}
	// advance moves the chain's clock past secs from now. The dev chain
	// seals a block per transaction, each at least a second after the one
	// before, so its clock runs ahead of the wall's: wait on its blocks.
	advance := func(secs uint64) {
		t.Helper()
		head, err := node.Client().HeaderByNumber(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		target := head.Time + secs
		for head.Time <= target {
			must(c.Promote(ctx, alice))
			if head, err = node.Client().HeaderByNumber(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, k := range []string{addr(caller), addr(guardian), addr(newOp), addr(alice)} {
		must(c.SendETH(ctx, operator, k, big.NewInt(1e18)))
	}
	must(c.Mint(ctx, operator, addr(caller), big.NewInt(10_000)))

	// Deposits.
	_, err := c.Deposit(ctx, caller, common.Address{}.Hex(), big.NewInt(10))
	reverts(t, "deposit for address(0)", err, "ZeroAddress")
	_, err = c.Deposit(ctx, caller, addr(caller), big.NewInt(0))
	reverts(t, "deposit of nothing", err, "ZeroAmount")
	d, err := c.Deposit(ctx, caller, addr(caller), big.NewInt(1000))
	if err != nil || d.Amount.Int64() != 1000 || d.Account != addr(caller) {
		t.Fatalf("deposit event %+v, %v", d, err)
	}
	depTx, _, _ := strings.Cut(d.Ref, ":")
	emits("a deposit", depTx, "Deposited("+addr(caller)+", "+addr(caller)+", 1000)")
	deployLogs, err := node.Client().FilterLogs(ctx, ethereum.FilterQuery{FromBlock: new(big.Int).SetUint64(dep.Block), ToBlock: new(big.Int).SetUint64(dep.Block)})
	if err != nil {
		t.Fatal(err)
	}
	var deployLogPtrs []*types.Log
	for i := range deployLogs {
		deployLogPtrs = append(deployLogPtrs, &deployLogs[i])
	}
	if got, want := settlementEvents(t, deployLogPtrs, dep.Settlement), []string{
		"OperatorChanged(" + common.Address{}.Hex() + ", " + addr(operator) + ", 1)",
		"GuardianChanged(" + common.Address{}.Hex() + ", " + addr(guardian) + ")",
	}; !matchEvents(got, want) {
		t.Fatalf("the deployment emitted %v, want %v", got, want)
	}

	// A root of alice's earnings, epoch 1, waits out the delay.
	dom := ledger.Domain{ChainID: c.ChainID(), Settlement: dep.Settlement}
	leaf := ledger.Leaf{Account: addr(alice), Cumulative: big.NewInt(300)}
	tree, _ := ledger.BuildTree([]ledger.Hash{ledger.LeafHash(dom, leaf), ledger.LeafHash(dom, ledger.Leaf{Account: addr(caller), Cumulative: big.NewInt(1)})})
	proof, _ := tree.Proof(ledger.LeafHash(dom, leaf))
	hexProof := func(p []ledger.Hash) []string {
		out := make([]string, len(p))
		for i, h := range p {
			out[i] = h.Hex()
		}
		return out
	}
	bundle := common.HexToHash("0xb1").Hex()
	_, err = c.PostRoot(ctx, alice, 1, tree.Root().Hex(), big.NewInt(301), bundle, nil)
	reverts(t, "a root posted by another key", err, "NotOperator")
	_, err = c.PostRoot(ctx, operator, 1, tree.Root().Hex(), big.NewInt(1001), bundle, nil)
	reverts(t, "a root owing more than the deposits", err, "TotalExceedsDeposits")
	_, err = c.PostRoot(ctx, operator, 1_000_001, tree.Root().Hex(), big.NewInt(301), bundle, nil)
	reverts(t, "an absurd epoch", err, "EpochJump")
	emits("a post", must(c.PostRoot(ctx, operator, 1, tree.Root().Hex(), big.NewInt(301), bundle, nil)),
		"RootPosted(1, "+tree.Root().Hex()+", 301, "+bundle+", *)")
	_, err = c.PostRoot(ctx, operator, 1, tree.Root().Hex(), big.NewInt(301), bundle, nil)
	reverts(t, "the same epoch again", err, "StaleEpoch")
	if root, b, found, err := c.RootOf(ctx, 1); err != nil || !found || root != tree.Root().Hex() || b != bundle {
		t.Fatalf("RootOf(1) = %s %s %v %v", root, b, found, err)
	}
	_, err = c.Claim(ctx, alice, addr(alice), leaf.Cumulative, hexProof(proof))
	reverts(t, "a claim before the challenge delay", err, "InvalidProof")
	advance(delay)
	emits("a claim", must(c.Claim(ctx, alice, addr(alice), leaf.Cumulative, hexProof(proof))), "Claimed("+addr(alice)+", 300, 300)")
	if got, _ := c.TokenBalance(ctx, addr(alice)); got.Int64() != 300 {
		t.Fatalf("alice holds %s after her claim", got)
	}
	_, err = c.Claim(ctx, alice, addr(alice), leaf.Cumulative, hexProof(proof))
	reverts(t, "a claim paid already", err, "NothingToClaim")

	// Epoch 2 raises alice to 500 and is vetoed; epoch 3 lowers the total.
	leaf2 := ledger.Leaf{Account: addr(alice), Cumulative: big.NewInt(500)}
	tree2, _ := ledger.BuildTree([]ledger.Hash{ledger.LeafHash(dom, leaf2), ledger.LeafHash(dom, ledger.Leaf{Account: addr(caller), Cumulative: big.NewInt(1)})})
	proof2, _ := tree2.Proof(ledger.LeafHash(dom, leaf2))
	_, err = c.PostRoot(ctx, operator, 2, tree2.Root().Hex(), big.NewInt(300), bundle, nil)
	reverts(t, "a total below the current root's", err, "TotalDecreased")
	must(c.PostRoot(ctx, operator, 2, tree2.Root().Hex(), big.NewInt(501), bundle, nil))
	_, err = c.Veto(ctx, operator, 2)
	reverts(t, "a veto by the operator", err, "NotGuardian")
	_, err = c.Veto(ctx, guardian, 3)
	reverts(t, "a veto of an epoch not pending", err, "NoPendingRoot")
	emits("a veto", must(c.Veto(ctx, guardian, 2)), "RootVetoed(2, "+tree2.Root().Hex()+")")
	if _, _, found, _ := c.RootOf(ctx, 2); found {
		t.Fatal("a vetoed root still counts as posted")
	}
	advance(delay)
	_, err = c.Claim(ctx, alice, addr(alice), leaf2.Cumulative, hexProof(proof2))
	reverts(t, "a claim against a vetoed root", err, "InvalidProof")

	// Reposted: while it waits, the current root still pays.
	must(c.PostRoot(ctx, operator, 3, tree2.Root().Hex(), big.NewInt(501), bundle, nil))
	cur, pen, err := c.CurrentRoot(ctx)
	if err != nil || cur.Epoch != 1 || pen.Epoch != 3 {
		t.Fatalf("current %+v, pending %+v, %v", cur, pen, err)
	}

	// Pause stops deposits and claims.
	_, err = c.SetPaused(ctx, operator, true)
	reverts(t, "a pause by the operator", err, "NotGuardian")
	emits("a pause", must(c.SetPaused(ctx, guardian, true)), "Paused(true)")
	_, err = c.Deposit(ctx, caller, addr(caller), big.NewInt(10))
	reverts(t, "a deposit while paused", err, "IsPaused")
	_, err = c.Claim(ctx, alice, addr(alice), leaf.Cumulative, hexProof(proof))
	reverts(t, "a claim while paused", err, "IsPaused")
	emits("a resume", must(c.SetPaused(ctx, guardian, false)), "Paused(false)")

	// The guardian role moves to another key (a multisig, say) and back.
	_, err = c.SetGuardian(ctx, operator, addr(alice))
	reverts(t, "a guardian change by the operator", err, "NotGuardian")
	_, err = c.SetGuardian(ctx, guardian, common.Address{}.Hex())
	reverts(t, "a guardian of address(0)", err, "ZeroAddress")
	emits("a guardian change", must(c.SetGuardian(ctx, guardian, addr(alice))), "GuardianChanged("+addr(guardian)+", "+addr(alice)+")")
	must(c.SetGuardian(ctx, alice, addr(guardian)))

	// Rotation: proposed by the guardian, effective after its delay; the
	// pending root of the old operator is dropped.
	_, err = c.RotateOperator(ctx, alice)
	reverts(t, "a rotation with nobody proposed", err, "NoOperatorProposed")
	_, err = c.ProposeOperator(ctx, guardian, common.Address{}.Hex())
	reverts(t, "proposing address(0)", err, "ZeroAddress")
	emits("a proposal", must(c.ProposeOperator(ctx, guardian, addr(newOp))), "OperatorProposed("+addr(newOp)+", *)")
	_, err = c.RotateOperator(ctx, alice)
	reverts(t, "a rotation before its delay", err, "RotationNotReady")
	advance(delay)
	emits("a rotation", must(c.RotateOperator(ctx, alice)), "OperatorChanged("+addr(operator)+", "+addr(newOp)+", 4)")
	if op, _ := c.Operator(ctx); op != addr(newOp) {
		t.Fatalf("operator after rotation %s, want %s", op, addr(newOp))
	}
	// Receipts of earlier epochs stay the old operator's to sign.
	for epoch, want := range map[uint64]string{1: addr(operator), 3: addr(operator), 4: addr(newOp), 9: addr(newOp)} {
		if got, err := c.OperatorAt(ctx, epoch); err != nil || got != want {
			t.Fatalf("operator at epoch %d: %s, %v; want %s", epoch, got, err, want)
		}
	}
	_, err = c.PostRoot(ctx, operator, 4, tree2.Root().Hex(), big.NewInt(501), bundle, nil)
	reverts(t, "a root from the rotated-out operator", err, "NotOperator")
	// Epoch 3 matured before the rotation, so it is current and pays.
	must(c.Claim(ctx, alice, addr(alice), leaf2.Cumulative, hexProof(proof2)))
	if got, _ := c.TokenBalance(ctx, addr(alice)); got.Int64() != 500 {
		t.Fatalf("alice holds %s, want 500", got)
	}
}

// A token that takes a fee on transfer credits what the contract received.
func TestFeeOnTransferDepositsCountWhatArrived(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	operator := newKey(t)
	node, err := chain.StartNode(t.TempDir(), crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	ec := node.Client()
	chainID, _ := ec.ChainID(ctx)
	opts := bind.NewKeyedTransactor(operator, chainID)
	opts.Context = ctx
	token, tx, err := bind.DeployContract(opts, common.FromHex(contracts.FeeTokenMetaData.Bin), ec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind.WaitMined(ctx, ec, tx.Hash()); err != nil {
		t.Fatal(err)
	}
	me := common.HexToAddress(addr(operator))
	settlement, tx, err := bind.DeployContract(opts, common.FromHex(contracts.SettlementMetaData.Bin), ec,
		contracts.NewSettlement().PackConstructor(token, me, me, new(big.Int), new(big.Int)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := bind.WaitMined(ctx, ec, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Attach(ctx, ec, chain.Deployment{ChainID: chainID.Uint64(), Token: token.Hex(), Settlement: settlement.Hex(), Block: rc.BlockNumber.Uint64()})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deposit(ctx, operator, addr(operator), big.NewInt(1000))
	if err != nil {
		t.Fatal(err)
	}
	if d.Amount.Int64() != 990 {
		t.Fatalf("deposit of 1000 with a 1%% fee credited %s, want the 990 received", d.Amount)
	}
	if held, _ := c.TokenBalance(ctx, settlement.Hex()); held.Int64() != 990 {
		t.Fatalf("the contract holds %s", held)
	}
}

// settlementEvents decodes the logs the settlement contract emitted as
// Name(arg, …), arguments in declaration order.
func settlementEvents(t *testing.T, logs []*types.Log, settlement string) []string {
	t.Helper()
	a := contracts.NewSettlement().GetABI()
	var out []string
	for _, lg := range logs {
		if lg.Address != common.HexToAddress(settlement) {
			continue
		}
		ev, err := a.EventByID(lg.Topics[0])
		if err != nil {
			t.Fatal(err)
		}
		data, err := ev.Inputs.NonIndexed().Unpack(lg.Data)
		if err != nil {
			t.Fatal(err)
		}
		var args []string
		topic, datum := 1, 0
		for _, in := range ev.Inputs {
			var v any
			if in.Indexed {
				h := lg.Topics[topic]
				topic++
				if in.Type.String() == "address" {
					v = common.BytesToAddress(h.Bytes()).Hex()
				} else {
					v = new(big.Int).SetBytes(h.Bytes())
				}
			} else {
				v = data[datum]
				datum++
				switch x := v.(type) {
				case common.Address:
					v = x.Hex()
				case [32]byte:
					v = common.Hash(x).Hex()
				}
			}
			args = append(args, fmt.Sprint(v))
		}
		out = append(out, ev.Name+"("+strings.Join(args, ", ")+")")
	}
	return out
}

// matchEvents compares decoded events with expected ones, where an
// expected argument "*" matches any value.
func matchEvents(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := strings.Split(got[i], ", "), strings.Split(want[i], ", ")
		if len(g) != len(w) {
			return false
		}
		for j := range g {
			if w[j] != g[j] && !(strings.HasPrefix(w[j], "*") && strings.HasSuffix(g[j], strings.TrimPrefix(w[j], "*"))) {
				return false
			}
		}
	}
	return true
}

// A delay longer than a year is refused at deployment: the maturity of a
// pending root is kept in 64 bits, and a delay near 2^64 would wrap it to
// "claimable now".
func TestDelaysAreBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	operator := newKey(t)
	node, err := chain.StartNode(t.TempDir(), crypto.PubkeyToAddress(operator.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	for _, d := range [][2]uint64{{365*86400 + 1, 0}, {0, 365*86400 + 1}, {1<<64 - 1, 0}} {
		_, err := chain.Deploy(ctx, node.Client(), operator, chain.WithDelays(d[0], d[1]))
		reverts(t, fmt.Sprintf("delays %v", d), err, "DelayTooLong")
	}
	if _, err := chain.Deploy(ctx, node.Client(), operator, chain.WithDelays(365*86400, 365*86400)); err != nil {
		t.Fatalf("a year's delays: %v", err)
	}
}
