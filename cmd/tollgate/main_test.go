package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/keys"
	"github.com/tollgate-dev/tollgate/ledger/chain"
)

func TestDemoRunsTheWholeLoop(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo"}, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"posted in tx 0x", "claim tx 0x", "a second claim of the same proof is refused", "the epoch's tree holds its total: ok"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRestartKeepsChainAndBooks opens a node, funds a caller and runs an
// invocation, closes it, and opens it again from the same data dir.
func TestRestartKeepsChainAndBooks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	n, err := openNode(ctx, nodeConfig{dataDir: dir, logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if !n.fresh {
		t.Fatal("a new data dir did not deploy contracts")
	}
	if _, err := seedExample(ctx, n); err != nil {
		t.Fatal(err)
	}
	caller := newParty("caller")
	if _, err := fund(ctx, n, caller, callerCredit); err != nil {
		t.Fatal(err)
	}
	if _, err := n.host.Invoke(ctx, invokeReq(caller.addr())); err != nil {
		t.Fatal(err)
	}
	dep := n.client.Deployment()
	credit, _ := n.led.Balance(ctx, caller.addr())
	onchain, _ := n.client.TokenBalance(ctx, dep.Settlement)
	n.close(ctx)

	n, err = openNode(ctx, nodeConfig{dataDir: dir, logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.close(ctx)
	if n.fresh || n.client.Deployment() != dep {
		t.Fatalf("restart redeployed: %+v, was %+v", n.client.Deployment(), dep)
	}
	if got, _ := n.led.Balance(ctx, caller.addr()); got.Cmp(credit) != 0 {
		t.Fatalf("credit after restart %s, before %s", got, credit)
	}
	if got, _ := n.client.TokenBalance(ctx, dep.Settlement); got.Cmp(onchain) != 0 || got.Cmp(callerCredit) != 0 {
		t.Fatalf("settlement holds %s after restart, %s before", got, onchain)
	}
	// Deposits seen again after the restart are not credited twice.
	if k, err := n.settle.SyncDeposits(ctx); err != nil || k != 0 {
		t.Fatalf("re-sync credited %d deposits (%v)", k, err)
	}
	if _, err := n.host.Invoke(ctx, invokeReq(caller.addr())); err != nil {
		t.Fatalf("invoke after restart: %v", err)
	}
	if err := n.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// gethDevKey is the developer account geth --dev funds at genesis.
const gethDevKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"

// startGethDev starts the pinned geth (TOLLGATE_GETH, built by .ci/run)
// with --dev, sealing a block per transaction, and returns its IPC path.
func startGethDev(t *testing.T, ctx context.Context) (string, *bytes.Buffer) {
	t.Helper()
	geth := os.Getenv("TOLLGATE_GETH")
	if geth == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TOLLGATE_GETH is not set: .ci/run builds geth and sets it")
		}
		t.Skip("set TOLLGATE_GETH to a geth binary to run against geth --dev")
	}
	gethDir := t.TempDir()
	ipc := filepath.Join(gethDir, "geth.ipc")
	cmd := exec.CommandContext(ctx, geth, "--dev", "--dev.period", "0", "--datadir", gethDir, "--ipcpath", ipc,
		"--nodiscover", "--maxpeers", "0", "--port", "0", "--authrpc.port", "0", "--verbosity", "2")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	for i := 0; ; i++ {
		if _, err := os.Stat(ipc); err == nil {
			break
		}
		if i > 300 {
			t.Fatalf("geth did not open %s:\n%s", ipc, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ipc, &logs
}

// TestAgainstGethDev settles on a real `geth --dev` node instead of the
// embedded chain. .ci/run builds the pinned geth and sets TOLLGATE_GETH.
func TestAgainstGethDev(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	ipc, logs := startGethDev(t, ctx)
	// The node operates with geth --dev's funded developer key, kept the
	// way an operator keeps its key: a keystore v3 file with its
	// passphrase in a separate file.
	devKey, _ := crypto.HexToECDSA(gethDevKey)
	keyFile, passFile := filepath.Join(t.TempDir(), "operator.json"), filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(passFile, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := keys.Write(keyFile, devKey, "correct horse", keys.Light); err != nil {
		t.Fatal(err)
	}
	n, err := openNode(ctx, nodeConfig{dataDir: dataDir, rpc: ipc, keyFile: keyFile, passphraseFile: passFile, logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	defer n.close(ctx)
	ex, err := seedExample(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	caller := newParty("caller")
	if _, err := fund(ctx, n, caller, callerCredit); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := n.host.Invoke(ctx, invokeReq(caller.addr())); err != nil {
			t.Fatal(err)
		}
	}
	e, err := n.settle.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alice := ex.contributors["alice"]
	p, err := n.settle.Proof(ctx, e.N, alice.addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.client.Claim(ctx, n.operator, alice.addr(), p.Leaf.Cumulative, p.Proof); err != nil {
		t.Fatalf("geth refused the claim: %v", err)
	}
	got, _ := n.client.TokenBalance(ctx, alice.addr())
	earned, _ := n.led.Earned(ctx, alice.addr())
	if got.Cmp(earned) != 0 || earned.Cmp(big.NewInt(0)) <= 0 {
		t.Fatalf("alice holds %s on geth, earned %s", got, earned)
	}
}

// Start-up failures are clear errors, never panics: a garbage operator key,
// an unreachable RPC endpoint.
func TestStartupErrorsAreClear(t *testing.T) {
	ctx := context.Background()
	garbage := t.TempDir()
	if err := os.WriteFile(filepath.Join(garbage, "operator.key"), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openNode(ctx, nodeConfig{dataDir: garbage}); err == nil || !strings.Contains(err.Error(), "operator key") {
		t.Fatalf("garbage operator key: %v", err)
	}
	// A key file that is not a keystore, and a wrong passphrase.
	notKeystore := t.TempDir()
	os.WriteFile(filepath.Join(notKeystore, operatorKeyFile), []byte(`{"address":"x"}`), 0o600)
	os.WriteFile(filepath.Join(notKeystore, operatorPassFile), []byte("p\n"), 0o600)
	if _, err := openNode(ctx, nodeConfig{dataDir: notKeystore}); abi.CodeOf(err) != keys.CodeBadKeyFile {
		t.Fatalf("a key file that is not a keystore: %v", err)
	}
	wrongPass := t.TempDir()
	k, _ := crypto.GenerateKey()
	keys.Write(filepath.Join(wrongPass, "op.json"), k, "right", keys.Light)
	os.WriteFile(filepath.Join(wrongPass, "pass"), []byte("wrong\n"), 0o600)
	if _, err := openNode(ctx, nodeConfig{dataDir: wrongPass, keyFile: filepath.Join(wrongPass, "op.json"), passphraseFile: filepath.Join(wrongPass, "pass")}); abi.CodeOf(err) != keys.CodeBadPassphrase {
		t.Fatalf("a wrong passphrase: %v", err)
	}
	t.Setenv(keys.PassphraseEnv, "")
	os.Unsetenv(keys.PassphraseEnv)
	if _, err := openNode(ctx, nodeConfig{dataDir: wrongPass, keyFile: filepath.Join(wrongPass, "op.json")}); abi.CodeOf(err) != keys.CodeNoPassphrase {
		t.Fatalf("no passphrase: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + ln.Addr().String()
	ln.Close()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := openNode(tctx, nodeConfig{dataDir: t.TempDir(), rpc: unreachable}); abi.CodeOf(err) != chain.CodeChain || !strings.Contains(err.Error(), unreachable) {
		t.Fatalf("unreachable RPC: %v", err)
	}
}

// `tollgate verify` reads a stopped node's data dir and writes nothing to
// it; it fails when the chain cannot be read.
func TestVerifyIsReadOnlyAndNeedsTheChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	n, err := openNode(ctx, nodeConfig{dataDir: dir, logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seedExample(ctx, n); err != nil {
		t.Fatal(err)
	}
	caller := newParty("caller")
	if _, err := fund(ctx, n, caller, callerCredit); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := n.host.Invoke(ctx, invokeReq(caller.addr())); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.settle.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	n.close(ctx)

	snapshot := func() map[string]string {
		files := map[string]string{}
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				b, _ := os.ReadFile(path)
				files[path] = fmt.Sprintf("%x", sha256.Sum256(b))
			}
			return nil
		})
		return files
	}
	before := snapshot()
	var out bytes.Buffer
	if err := run(ctx, []string{"verify", "--data", dir}, &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "verified") {
		t.Fatalf("verify printed:\n%s", out.String())
	}
	if after := snapshot(); !maps.Equal(before, after) {
		for p, h := range after {
			if before[p] != h {
				t.Errorf("verify changed %s", p)
			}
		}
		t.Fatalf("verify wrote to the node's data dir (%d files before, %d after)", len(before), len(after))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + ln.Addr().String()
	ln.Close()
	tctx, tcancel := context.WithTimeout(ctx, 20*time.Second)
	defer tcancel()
	if err := run(tctx, []string{"verify", "--data", dir, "--rpc", unreachable}, &out); err == nil {
		t.Fatal("verify passed with the chain unreachable")
	}
	// Pinned to the deployment it records, verify passes; pinned to
	// another settlement or chain, it refuses the data dir.
	dep, err := readDeployment(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"verify", "--data", dir, "--settlement", strings.ToLower(dep.Settlement), "--chain-id", fmt.Sprint(dep.ChainID)}, &out); err != nil {
		t.Fatalf("verify pinned to its own deployment: %v", err)
	}
	for _, pin := range [][]string{{"--settlement", "0x00000000000000000000000000000000000000aa"}, {"--chain-id", "1"}} {
		if err := run(ctx, append([]string{"verify", "--data", dir}, pin...), &out); err == nil || !strings.Contains(err.Error(), "not") {
			t.Fatalf("verify pinned %v passed: %v", pin, err)
		}
	}
}

// Started against a real chain with an operator key nobody funded, serve
// says which address needs how much and fails with its code, or waits for
// the funds with --fund-wait and then serves.
func TestUnfundedOperatorIsToldWhatToDo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ipc, _ := startGethDev(t, ctx)
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(ctx, []string{"serve", "--data", dir, "--rpc", ipc, "--addr", "127.0.0.1:0"}, &out)
	if abi.CodeOf(err) != chain.CodeUnfunded {
		t.Fatalf("serve with an unfunded operator: %v\n%s", err, out.String())
	}
	op, aerr := operatorAddress(dir)
	if aerr != nil {
		t.Fatal(aerr)
	}
	if !strings.Contains(out.String(), op.Hex()) || !strings.Contains(out.String(), "needs at least") || !strings.Contains(err.Error(), op.Hex()) {
		t.Fatalf("serve did not say who to fund with what: %v\n%s", err, out.String())
	}

	// Waiting: fund it once serve says so; serve then deploys and serves.
	pr, pw := io.Pipe()
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(serveCtx, []string{"serve", "--data", dir, "--rpc", ipc, "--addr", "127.0.0.1:0", "--fund-wait", "2m"}, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	serving := false
	for !serving && lines.Scan() {
		line := lines.Text()
		if strings.Contains(line, "needs at least") {
			ec, err := chain.Dial(ctx, ipc)
			if err != nil {
				t.Fatal(err)
			}
			dev, _ := crypto.HexToECDSA(gethDevKey)
			if _, err := chain.Fund(ctx, ec, dev, op.Hex(), new(big.Int).Mul(oneToken, big.NewInt(10))); err != nil {
				t.Fatal(err)
			}
			ec.Close()
		}
		serving = strings.Contains(line, "serving the Connect API")
	}
	go io.Copy(io.Discard, pr)
	if !serving {
		t.Fatalf("serve did not start once funded: %v", <-done)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
