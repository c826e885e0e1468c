package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/internal/keys"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
)

// The whole settlement on a real `geth --dev`, driven as users would: a
// `serve` process with a keystore operator key and a challenge delay, the
// CLI and the Connect API. A caller invokes and withdraws, epochs close and
// post, the host is killed mid-settlement and restarted, claims wait out
// the delay, and at the end the books match the chain.
func TestSettlementOnGethDev(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ipc, logs := startGethDev(t, ctx)
	dir := t.TempDir()
	devKey, _ := crypto.HexToECDSA(gethDevKey)
	keyFile, passFile := filepath.Join(t.TempDir(), "operator.json"), filepath.Join(t.TempDir(), "pass")
	os.WriteFile(passFile, []byte("correct horse\n"), 0o600)
	if err := keys.Write(keyFile, devKey, "correct horse", keys.Light); err != nil {
		t.Fatal(err)
	}
	const delay = 2 // seconds a posted root waits
	args := []string{"serve", "--data", dir, "--rpc", ipc, "--key", keyFile, "--passphrase-file", passFile,
		"--addr", "127.0.0.1:0", "--challenge-delay", fmt.Sprint(delay), "--confirmations", "0"}
	child, out := startServeWith(t, args...)
	stop := func() {
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
	}
	defer func() { stop() }()
	info := readUntilServing(t, out)
	api, caller, callTok, opTok := info["api"], info["funded caller"], info["caller token"], info["operator token"]
	if !strings.Contains(api, "://") {
		api = "http://" + api
	}
	operator := crypto.PubkeyToAddress(devKey.PublicKey).Hex()
	cli := func(args ...string) string {
		t.Helper()
		var b bytes.Buffer
		if err := run(ctx, args, &b); err != nil {
			t.Fatalf("tollgate %s: %v\n%s\n%s", strings.Join(args, " "), err, b.String(), logs.String())
		}
		return b.String()
	}
	op := newClient(api, opTok)
	closeEpoch := func() (*tollgatev1.CloseEpochResponse, error) {
		res, err := op.ledger.CloseEpoch(ctx, authed(op, &tollgatev1.CloseEpochRequest{}))
		if err != nil {
			return nil, err
		}
		return res.Msg, nil
	}
	proof := func(account string) *tollgatev1.GetProofResponse {
		t.Helper()
		res, err := op.ledger.GetProof(ctx, connect.NewRequest(&tollgatev1.GetProofRequest{Account: account}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg
	}

	// Epoch 1: two calls and a withdrawal, closed and posted.
	cli("invoke", "--server", api, "--token", callTok, "Why is the sky blue?")
	cli("invoke", "--server", api, "--token", callTok, "When does water boil?")
	cli("withdraw", "--server", api, "--token", callTok, "0.25")
	if e, err := closeEpoch(); err != nil || e.GetPostTx() == "" {
		t.Fatalf("close epoch 1: %v %v", e, err)
	}

	// Epoch 2 is closed while the host is killed at a random moment.
	cli("invoke", "--server", api, "--token", callTok, "What do bees do?")
	cli("withdraw", "--server", api, "--token", callTok, "0.1")
	go closeEpoch()
	time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
	stop()
	child, out = startServeWith(t, args...)
	info = readUntilServing(t, out)
	if api = info["api"]; !strings.Contains(api, "://") {
		api = "http://" + api
	}
	op = newClient(api, opTok)
	// The killed close either committed (and the restart posted it) or not.
	if _, err := closeEpoch(); err != nil && apiCode(err) != ledger.CodeEpochEmpty {
		t.Fatalf("close epoch 2 after the restart: %v", err)
	}
	p := proof(caller)
	if !p.GetPosted() || p.GetEpoch() != 2 {
		t.Fatalf("after the restart, epoch %d posted=%v", p.GetEpoch(), p.GetPosted())
	}
	ec, err := chain.Dial(ctx, ipc)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	c := attachRPC(t, ctx, dir, ipc)
	if root, _, found, err := c.RootOf(ctx, 2); err != nil || !found || root != p.GetRoot() {
		t.Fatalf("the chain holds root %s (%v, %v) for epoch 2, the node %s", root, found, err, p.GetRoot())
	}

	// Claims wait out the challenge delay (geth --dev's clock moves with
	// its blocks, so blocks are made), then pay what the proof says.
	waitClaimable(t, ctx, ec, c, devKey)
	for _, who := range []string{caller, operator} {
		before, _ := c.TokenBalance(ctx, who)
		cum, _ := new(big.Int).SetString(proof(who).GetCumulative(), 10)
		o := cli("claim", "--server", api, "--account", who, "--key", keyFile, "--passphrase-file", passFile, "--rpc", ipc)
		if !strings.Contains(o, "claimed up to") {
			t.Fatalf("claim for %s: %s", who, o)
		}
		after, _ := c.TokenBalance(ctx, who)
		if claimed, _ := c.Claimed(ctx, who); claimed.Cmp(cum) != 0 {
			t.Fatalf("%s claimed %s on-chain, the proof says %s", who, claimed, cum)
		}
		if who == caller {
			want := new(big.Int).Div(new(big.Int).Mul(oneToken, big.NewInt(35)), big.NewInt(100))
			if got := new(big.Int).Sub(after, before); got.Cmp(want) != 0 || cum.Cmp(want) != 0 {
				t.Fatalf("the caller's withdrawals paid %s on-chain (proof %s), want %s", got, cum, want)
			}
		}
	}

	// The books match the chain.
	child.Process.Signal(os.Interrupt)
	child.Wait()
	n, err := openNode(ctx, nodeConfig{dataDir: dir, rpc: ipc, keyFile: keyFile, passphraseFile: passFile})
	if err != nil {
		t.Fatal(err)
	}
	defer n.close(ctx)
	if err := n.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
	tot, _ := n.led.Totals(ctx)
	onChain, err := c.TotalDeposited(ctx)
	if err != nil || tot.Deposited.Cmp(onChain) != 0 {
		t.Fatalf("the ledger credits %s of deposits, the contract holds %s (%v)", tot.Deposited, onChain, err)
	}
	e, err := n.led.Epoch(ctx, 2)
	if err != nil || e.PostTx == "" {
		t.Fatalf("epoch 2: %+v %v", e, err)
	}
	if tx, found, err := c.PostTxOf(ctx, 2); err != nil || !found || !strings.EqualFold(tx, e.PostTx) {
		t.Fatalf("epoch 2 posted by %s (%v %v), the ledger says %s", tx, found, err, e.PostTx)
	}
}

// apiCode is the Tollgate error code a Connect call failed with.
func apiCode(err error) abi.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return abi.Code(ce.Meta().Get(api.CodeHeader))
	}
	return ""
}

// waitClaimable makes blocks (geth --dev's clock moves with them) until
// the pending root can be claimed.
func waitClaimable(t *testing.T, ctx context.Context, ec *ethclient.Client, c *chain.Client, key *ecdsa.PrivateKey) {
	t.Helper()
	_, pending, err := chain.Roots(ctx, ec, c.Deployment().Settlement)
	if err != nil {
		t.Fatal(err)
	}
	self := crypto.PubkeyToAddress(key.PublicKey).Hex()
	for {
		head, err := ec.HeaderByNumber(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if head.Time >= pending.ClaimableAt {
			return
		}
		if _, err := c.SendETH(ctx, key, self, big.NewInt(1)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
