package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/internal/keys"
	"github.com/tollgate-dev/tollgate/registry"
)

// A caller takes back unspent credit with `tollgate withdraw` against a
// running node, and claims it on-chain with `tollgate claim`, which can
// also print the calldata for a wallet instead.
func TestWithdrawAndClaimFromTheCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	child, out := startServe(t, dir)
	defer func() { child.Process.Kill(); child.Wait() }()
	info := readUntilServing(t, out)
	url := func(s string) string {
		if strings.Contains(s, "://") {
			return s
		}
		return "http://" + s
	}
	api, rpc, caller, callTok := url(info["api"]), url(info["rpc"]), info["funded caller"], info["caller token"]

	// The generated operator key is a keystore file with a 0600
	// passphrase file beside it; nothing is kept in plaintext.
	for _, f := range []string{operatorKeyFile, operatorPassFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, err, st)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "operator.key")); !os.IsNotExist(err) {
		t.Fatalf("a plaintext operator.key exists: %v", err)
	}

	cli := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(ctx, args, &b)
		return b.String(), err
	}
	if o, err := cli("invoke", "--server", api, "--token", callTok, "Why is the sky blue?"); err != nil {
		t.Fatalf("invoke: %v\n%s", err, o)
	}
	if o, err := cli("withdraw", "--server", api, "--token", callTok, "1000000"); err == nil || !strings.Contains(err.Error(), "insufficient_credit") {
		t.Fatalf("withdrew more than the credit: %v\n%s", err, o)
	}
	if _, err := cli("withdraw", "--server", api, "1"); err == nil {
		t.Fatal("withdrew with no token")
	}
	if o, err := cli("withdraw", "--server", api, "--token", callTok, "--request-id", "back", "0.5"); err != nil || !strings.Contains(o, "withdrew 0.500000 TGT") {
		t.Fatalf("withdraw: %v\n%s", err, o)
	}
	// A retry is answered, not withdrawn twice.
	if o, err := cli("withdraw", "--server", api, "--token", callTok, "--request-id", "back", "0.5"); err != nil {
		t.Fatalf("retried withdraw: %v\n%s", err, o)
	}
	opClient := newClient(api, info["operator token"])
	if _, err := opClient.ledger.CloseEpoch(ctx, authed(opClient, &tollgatev1.CloseEpochRequest{})); err != nil {
		t.Fatal(err)
	}

	// Without a key: the calldata, for a wallet.
	o, err := cli("claim", "--server", api, "--account", caller)
	if err != nil || !strings.Contains(o, "data: 0x") || !strings.Contains(o, "cumulative 0.500000 TGT") {
		t.Fatalf("claim calldata: %v\n%s", err, o)
	}
	c := attachRPC(t, ctx, dir, rpc)
	before, _ := c.TokenBalance(ctx, caller)
	// With a key (anyone's: the tokens go to the account).
	claimWith := []string{"claim", "--server", api, "--account", caller, "--rpc", rpc,
		"--key", filepath.Join(dir, operatorKeyFile), "--passphrase-file", filepath.Join(dir, operatorPassFile)}
	if o, err := cli(claimWith...); err != nil || !strings.Contains(o, "claimed up to 0.500000 TGT") {
		t.Fatalf("claim: %v\n%s", err, o)
	}
	after, _ := c.TokenBalance(ctx, caller)
	if got := new(big.Int).Sub(after, before); got.Cmp(new(big.Int).Div(oneToken, big.NewInt(2))) != 0 {
		t.Fatalf("the claim paid %s", got)
	}
	if o, err := cli(claimWith...); err == nil || !strings.Contains(err.Error(), "nothing left to claim") {
		t.Fatalf("claimed twice: %v\n%s", err, o)
	}
}

// `tollgate key` keeps keys as keystore v3 files, with the passphrase from
// a file or the environment, and never overwrites one.
func TestKeyCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pass := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(pass, []byte("s3cret\n"), 0o600)
	cli := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(ctx, args, &b)
		return b.String(), err
	}
	o, err := cli("key", "new", "--dir", dir, "--passphrase-file", pass)
	if err != nil {
		t.Fatal(err)
	}
	addr, path, _ := strings.Cut(strings.TrimSpace(o), "  ")
	k, err := keys.Load(path, "s3cret")
	if err != nil || crypto.PubkeyToAddress(k.PublicKey).Hex() != addr {
		t.Fatalf("new key %s at %s: %v", addr, path, err)
	}
	if _, err := keys.Load(path, "wrong"); err == nil {
		t.Fatal("a wrong passphrase decrypted the key")
	}
	hexFile := filepath.Join(t.TempDir(), "hex")
	imported, _ := crypto.GenerateKey()
	os.WriteFile(hexFile, []byte(crypto.PubkeyToAddress(imported.PublicKey).Hex()+"\n"), 0o600)
	if _, err := cli("key", "import", "--dir", dir, "--passphrase-file", pass, hexFile); err == nil {
		t.Fatal("an address was imported as a key")
	}
	os.WriteFile(hexFile, []byte("0x"+hex.EncodeToString(crypto.FromECDSA(imported))+"\n"), 0o600)
	t.Setenv(keys.PassphraseEnv, "from-env")
	if _, err := cli("key", "import", "--dir", dir, hexFile); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("key", "import", "--dir", dir, hexFile); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a key was overwritten: %v", err)
	}
	o, err = cli("key", "list", "--dir", dir)
	if err != nil || strings.Count(o, "\n") != 2 || !strings.Contains(o, crypto.PubkeyToAddress(imported.PublicKey).Hex()) || !strings.Contains(o, addr) {
		t.Fatalf("list: %v\n%s", err, o)
	}
	if k, err := loadKey(filepath.Join(dir, keys.FileName(crypto.PubkeyToAddress(imported.PublicKey))), ""); err != nil || !k.Equal(imported) {
		t.Fatalf("the imported key does not load with the environment's passphrase: %v", err)
	}
}

// A data dir from before keystores has its plaintext operator key moved
// into a keystore file, and the plaintext removed.
func TestPlaintextOperatorKeyIsConverted(t *testing.T) {
	dir := t.TempDir()
	k, _ := crypto.GenerateKey()
	os.WriteFile(filepath.Join(dir, "operator.key"), []byte(hex.EncodeToString(crypto.FromECDSA(k))+"\n"), 0o600)
	got, err := operatorKey(nodeConfig{dataDir: dir})
	if err != nil || !got.Equal(k) {
		t.Fatalf("converted key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "operator.key")); !os.IsNotExist(err) {
		t.Fatalf("the plaintext key is still there: %v", err)
	}
	again, err := operatorKey(nodeConfig{dataDir: dir})
	if err != nil || !again.Equal(k) {
		t.Fatalf("reloaded key: %v", err)
	}
}

// A node started with a key that is not the settlement's operator refuses
// to start, before its ledger records that key or signs anything with it.
func TestWrongOperatorKeyIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n, err := openNode(ctx, nodeConfig{dataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n.close(ctx)
	other, _ := crypto.GenerateKey()
	keyFile, passFile := filepath.Join(t.TempDir(), "k.json"), filepath.Join(t.TempDir(), "p")
	os.WriteFile(passFile, []byte("pw\n"), 0o600)
	if err := keys.Write(keyFile, other, "pw", keys.Light); err != nil {
		t.Fatal(err)
	}
	// The embedded chain's genesis is fixed by the data dir's own key, so
	// the chain starts; the contract names another operator.
	_, err = openNode(ctx, nodeConfig{dataDir: dir, keyFile: keyFile, passphraseFile: passFile})
	if abi.CodeOf(err) != CodeNotOperator {
		t.Fatalf("a node with a stranger's key: %v", err)
	}
	n, err = openNode(ctx, nodeConfig{dataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n.close(ctx)
	if spans, _ := n.led.Operators(ctx); len(spans) != 1 {
		t.Fatalf("the ledger recorded operators %+v", spans)
	}
}

// A new user, with nothing but the CLI, against a running node: makes a
// key, signs in, gets credit from the faucet, invokes, reads its balance
// and withdraws.
func TestNewUserJourneyFromTheCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	child, out := startServe(t, t.TempDir())
	defer func() { child.Process.Kill(); child.Wait() }()
	info := readUntilServing(t, out)
	api := info["api"]
	if !strings.Contains(api, "://") {
		api = "http://" + api
	}
	tokens1 := filepath.Join(t.TempDir(), "tokens.json")
	t.Setenv(configEnv, tokens1)
	t.Setenv(keys.PassphraseEnv, "journey")
	cli := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(ctx, args, &b)
		return b.String(), err
	}
	keyDir := t.TempDir()
	o, err := cli("key", "new", "--dir", keyDir)
	if err != nil {
		t.Fatal(err)
	}
	addr, keyPath, _ := strings.Cut(strings.TrimSpace(o), "  ")
	if _, err := cli("invoke", "--server", api, "Why is the sky blue?"); err == nil {
		t.Fatal("invoked before signing in")
	}
	if o, err := cli("login", "--server", api, "--key", keyPath); err != nil || !strings.Contains(o, "signed in to "+api+" as "+addr+" (caller)") {
		t.Fatalf("login: %v\n%s", err, o)
	}
	if o, err := cli("faucet", "--server", api); err != nil || !strings.Contains(o, "deposited 10.000000 TGT") {
		t.Fatalf("faucet: %v\n%s", err, o)
	}
	if o, err := cli("invoke", "--server", api, "Why is the sky blue?"); err != nil || !strings.Contains(o, "receipt") {
		t.Fatalf("invoke: %v\n%s", err, o)
	}
	if o, err := cli("balance", "--server", api); err != nil || !strings.Contains(o, addr) {
		t.Fatalf("balance: %v\n%s", err, o)
	}
	if o, err := cli("withdraw", "--server", api, "0.5"); err != nil || !strings.Contains(o, "withdrew 0.500000 TGT") {
		t.Fatalf("withdraw: %v\n%s", err, o)
	}
	// As a datanet owner and contributor: create a datanet, add records.
	if o, err := cli("datanet", "create", "--server", api, "--key", keyPath, "--price", "0.002", "journey/facts"); err != nil || !strings.Contains(o, "created journey/facts") {
		t.Fatalf("datanet create: %v\n%s", err, o)
	}
	facts := filepath.Join(t.TempDir(), "facts.jsonl")
	os.WriteFile(facts, []byte(`{"content":"The sky is blue because air scatters blue light more than red."}`+"\n"+"Bees dance to tell the hive where flowers are.\n"), 0o600)
	if o, err := cli("datanet", "add", "--server", api, "--key", keyPath, "--file", facts, "journey/facts"); err != nil || !strings.Contains(o, "2 added, 0 duplicates, now at version 2") {
		t.Fatalf("datanet add: %v\n%s", err, o)
	}
	if o, err := cli("datanet", "search", "--server", api, "journey/facts", "bees"); err != nil || !strings.Contains(o, "Bees dance") {
		t.Fatalf("datanet search by its owner: %v\n%s", err, o)
	}
	// As an agent developer: publish, list, show, call and yank an agent.
	wasm := filepath.Join("..", "..", "examples", "agents", "qa", "qa.wasm")
	if o, err := cli("plugin", "publish", "--server", api, "--key", keyPath, "--name", "journey/qa", "--version", "1.0.0", "--price", "0.001", "--datanets", "journey/facts", wasm); err != nil || !strings.Contains(o, "journey/qa@1.0.0  published by "+addr) {
		t.Fatalf("plugin publish: %v\n%s", err, o)
	}
	if o, err := cli("plugin", "list", "--server", api); err != nil || !strings.Contains(o, "journey/qa@1.0.0") || !strings.Contains(o, exampleAgent+"@"+exampleAgentVersion) {
		t.Fatalf("plugin list: %v\n%s", err, o)
	}
	if o, err := cli("invoke", "--server", api, "--agent", "journey/qa@latest", "Why is the sky blue?"); err != nil || !strings.Contains(o, "receipt") || !strings.Contains(o, "access") {
		t.Fatalf("invoke the new agent: %v\n%s", err, o)
	}
	if o, err := cli("plugin", "yank", "--server", api, "--key", keyPath, "journey/qa@1.0.0"); err != nil {
		t.Fatalf("plugin yank: %v\n%s", err, o)
	}
	if o, err := cli("plugin", "show", "--server", api, "journey/qa@1.0.0"); err != nil || !strings.Contains(o, "yanked") {
		t.Fatalf("plugin show after the yank: %v\n%s", err, o)
	}
	if _, err := cli("faucet", "--server", api); err == nil || !strings.Contains(err.Error(), "faucet_closed") && !strings.Contains(err.Error(), "again after") {
		t.Fatalf("a second faucet drip: %v", err)
	}
	if o, err := cli("plugin", "publish", "--server", api, "--key", keyPath, "--name", "journey/qa", "--version", "1.0.1", "--price", "0.001", "--datanets", "journey/facts", wasm); err != nil {
		t.Fatalf("plugin publish 1.0.1: %v\n%s", err, o)
	}
	// A third-party Extism plugin, unmodified, given its config and export
	// from the command line.
	sdk, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/extism/go-sdk").Output()
	if err != nil {
		t.Fatal(err)
	}
	hello := filepath.Join(strings.TrimSpace(string(sdk)), "wasm", "hello_haskell.wasm")
	if o, err := cli("plugin", "publish", "--server", api, "--key", keyPath, "--name", "journey/hello", "--version", "1.0.0", "--export", "testing", "--plugin-config", "greeting=Good evening", hello); err != nil {
		t.Fatalf("plugin publish with config: %v\n%s", err, o)
	}
	if o, err := cli("invoke", "--server", api, "--agent", "journey/hello@1.0.0", "Tollgate"); err != nil || !strings.Contains(o, "Good evening, Tollgate") {
		t.Fatalf("invoke the configured plugin: %v\n%s", err, o)
	}

	// A second contributor streams 10,000 signed records into the datanet
	// while calls run against it.
	contributor, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	domain, err := nodeDomain(ctx, api)
	if err != nil {
		t.Fatal(err)
	}
	bulk := filepath.Join(t.TempDir(), "bulk.jsonl")
	var lines bytes.Buffer
	for i := range 10000 {
		content := fmt.Sprintf("Bulk fact %d: the number %d is %s.", i, i, map[bool]string{true: "even", false: "odd"}[i%2 == 0])
		sig, _ := registry.Sign(contributor, domain.RecordDigest("journey/facts", content))
		json.NewEncoder(&lines).Encode(registry.ImportLine{Content: content, Contributor: registry.Address(contributor), Signature: hexutil.Encode(sig)})
	}
	os.WriteFile(bulk, lines.Bytes(), 0o600)
	// The owner lets the contributor write.
	if o, err := cli("datanet", "policy", "--server", api, "--key", keyPath, "--write", "allowlist", "--writers", registry.Address(contributor), "journey/facts"); err != nil || !strings.Contains(o, "1 listed writers") {
		t.Fatalf("datanet policy --write allowlist: %v\n%s", err, o)
	}
	calls := make(chan error, 1)
	go func() {
		var err error
		for range 5 {
			if _, err = cli("invoke", "--server", api, "--agent", "journey/qa@1.0.1", "Why is the sky blue?"); err != nil {
				break
			}
		}
		calls <- err
	}()
	if o, err := cli("datanet", "import", "--server", api, "--json", "journey/facts", bulk); err != nil || !strings.Contains(o, `"added":10000`) || !strings.Contains(o, `"version":10002`) {
		t.Fatalf("datanet import: %v\n%s", err, o)
	}
	if err := <-calls; err != nil {
		t.Fatalf("an invocation during the import: %v", err)
	}
	// Sent again, nothing is added twice: an interrupted import resumes so.
	if o, err := cli("datanet", "import", "--server", api, "--json", "journey/facts", bulk); err != nil || !strings.Contains(o, `"added":0,"duplicates":10000`) {
		t.Fatalf("datanet import again: %v\n%s", err, o)
	}
	// The owner admits only its own agent.
	if o, err := cli("datanet", "policy", "--server", api, "--key", keyPath, "--access", "allowlist", "--agents", "journey/qa", "journey/facts"); err != nil || !strings.Contains(o, "policy allowlist") {
		t.Fatalf("datanet policy: %v\n%s", err, o)
	}
	if _, err := cli("datanet", "policy", "--server", api, "--key", keyPath, "--access", "open", "no/such"); exitCode(err) != exitNotFound {
		t.Fatalf("policy of a datanet that does not exist: exit %d, %v", exitCode(err), err)
	}

	// A second caller gets tokens in its wallet and deposits them on-chain.
	o, err = cli("key", "new", "--dir", t.TempDir(), "--json")
	if err != nil {
		t.Fatal(err)
	}
	var k2 map[string]string
	json.Unmarshal([]byte(o), &k2)
	caller2 := k2["path"]
	tokens2 := filepath.Join(t.TempDir(), "tokens.json")
	t.Setenv(configEnv, tokens2)
	if o, err := cli("login", "--server", api, "--key", caller2); err != nil {
		t.Fatalf("login: %v\n%s", err, o)
	}
	if o, err := cli("faucet", "--server", api, "--wallet"); err != nil || !strings.Contains(o, "minted 10.000000 TGT to the wallet") {
		t.Fatalf("faucet --wallet: %v\n%s", err, o)
	}
	if o, err := cli("deposit", "--server", api, "--key", caller2, "4"); err != nil || !strings.Contains(o, "deposited 4.000000 TGT for "+k2["address"]) {
		t.Fatalf("deposit: %v\n%s", err, o)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		o, err := cli("balance", "--server", api, "--json")
		if err == nil && strings.Contains(o, `"balance":"4000000000000000000"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deposit was never credited: %v\n%s", err, o)
		}
		time.Sleep(500 * time.Millisecond)
	}
	o, err = cli("invoke", "--server", api, "--agent", "journey/qa@1.0.1", "--json", "Which numbers are even?")
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, o)
	}
	var inv struct{ Receipt struct{ Id string } }
	json.Unmarshal([]byte(o), &inv)
	if o, err := cli("receipt", "show", "--server", api, inv.Receipt.Id); err != nil || !strings.Contains(o, "journey/qa@1.0.1") {
		t.Fatalf("receipt show: %v\n%s", err, o)
	}
	if o, err := cli("receipt", "list", "--server", api); err != nil || !strings.Contains(o, inv.Receipt.Id) {
		t.Fatalf("receipt list: %v\n%s", err, o)
	}
	// Another account's receipts are not the caller's to list.
	if _, err := cli("receipt", "list", "--server", api, "--account", addr); exitCode(err) != exitDenied {
		t.Fatalf("listing another account's receipts: exit %d, %v", exitCode(err), err)
	}
	if _, err := cli("receipt", "show", "--server", api, "no-such-receipt"); exitCode(err) != exitNotFound {
		t.Fatalf("a receipt that does not exist: exit %d, %v", exitCode(err), err)
	}

	// The operator closes the epoch; the first user (publisher, owner and
	// contributor) sees what it earned and from which calls, and claims.
	opTok := info["operator token"]
	if o, err := cli("epoch", "close", "--server", api); exitCode(err) != exitDenied {
		t.Fatalf("a caller closed the epoch: %v\n%s", err, o)
	}
	if o, err := cli("epoch", "close", "--server", api, "--token", opTok); err != nil || !strings.Contains(o, "closed epoch 1") {
		t.Fatalf("epoch close: %v\n%s", err, o)
	}
	if o, err := cli("epoch", "list", "--server", api); err != nil || !strings.Contains(o, "open epoch: 2") {
		t.Fatalf("epoch list: %v\n%s", err, o)
	}
	t.Setenv(configEnv, tokens1)
	o, err = cli("earnings", "--server", api, "--json")
	var earned struct {
		Earned   string
		Receipts []json.RawMessage
	}
	if err != nil || json.Unmarshal([]byte(o), &earned) != nil || earned.Earned == "0" || len(earned.Receipts) == 0 {
		t.Fatalf("earnings: %v\n%s", err, o)
	}
	if o, err := cli("earnings", "--server", api); err != nil || !strings.Contains(o, inv.Receipt.Id) {
		t.Fatalf("earnings does not show the receipt that paid: %v\n%s", err, o)
	}
	rpc := info["rpc"]
	if o, err := cli("claim", "--server", api, "--account", addr, "--key", keyPath, "--rpc", rpc); err != nil || !strings.Contains(o, "claimed up to") {
		t.Fatalf("claim: %v\n%s", err, o)
	}

	// A third party verifies the epoch through the API only, reading the
	// roots as the node reports them, then from the chain itself.
	t.Setenv(configEnv, filepath.Join(t.TempDir(), "none.json"))
	if o, err := cli("verify", "--server", api); err != nil || !strings.Contains(o, "verified") {
		t.Fatalf("verify --server: %v\n%s", err, o)
	}
	if o, err := cli("verify", "--server", api, "--rpc", rpc, "--json"); err != nil || !strings.Contains(o, `"ok":true`) {
		t.Fatalf("verify --server --rpc: %v\n%s", err, o)
	}
	if _, err := cli("verify", "--server", api, "--rpc", "http://127.0.0.1:1"); err == nil {
		t.Fatal("verified with a chain that cannot be read")
	}
}

// `tollgate bench` provisions its own callers through sign-in and the
// faucet, loads the node, and measures a no-op handler in the same run.
func TestBenchMeasuresAgainstANoopHandler(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A bench measures the node, not each account's request limits: a
	// caller alone makes more calls a second than an account may, and
	// callers run dry faster than the faucet's budget refills them.
	child, out := startServeWith(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--chain-rpc", "127.0.0.1:0",
		"--rate", "0", "--max-in-flight", "0", "--faucet-budget", "0")
	defer func() { child.Process.Kill(); child.Wait() }()
	info := readUntilServing(t, out)
	api := info["api"]
	if !strings.Contains(api, "://") {
		api = "http://" + api
	}
	var b bytes.Buffer
	// A caller's token is not the operator's: the node's metrics are
	// refused, and the bench says which token it needs.
	if err := run(ctx, []string{"bench", "--server", api, "-c", "1", "-d", "200ms", "--metrics-token", info["caller token"]}, &b); err == nil || !strings.Contains(err.Error(), "operator's token") {
		t.Fatalf("bench with a caller's token as --metrics-token: %v", err)
	}
	// --also spreads callers over more hosts: each is called, so one
	// that does not answer fails the run, naming it; one that is no URL
	// is a usage error.
	if err := run(ctx, []string{"bench", "--server", api, "--also", "http://127.0.0.1:1", "-c", "2", "-d", "200ms"}, &b); err == nil || !strings.Contains(err.Error(), "first call on http://127.0.0.1:1") {
		t.Fatalf("bench --also an unreachable host: %v", err)
	}
	if err := run(ctx, []string{"bench", "--server", api, "--also", "127.0.0.1:1", "-c", "1", "-d", "200ms"}, &b); exitCode(err) != exitUsage {
		t.Fatalf("bench --also without a scheme: %v", err)
	}
	b.Reset()
	if err := run(ctx, []string{"bench", "--server", api, "--also", api, "-c", "2", "-d", "500ms", "--json"}, &b); err != nil || !strings.Contains(b.String(), `"errors":0`) {
		t.Fatalf("bench --also the same host: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := run(ctx, []string{"bench", "--server", api, "-c", "3", "-d", "1500ms", "--noop", "--json", "--metrics-token", info["operator token"]}, &b); err != nil {
		t.Fatalf("bench: %v\n%s", err, b.String())
	}
	var res struct {
		PerSecond  float64 `json:"invokesPerSecond"`
		NoopPerSec float64 `json:"noopPerSecond"`
		NoopP99    float64 `json:"noopP99Ms"`
		Calls      float64 `json:"calls"`
		Errors     float64 `json:"errors"`
		Refills    float64 `json:"refills"`
	}
	var raw map[string]any
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatalf("bench --json printed %q: %v", b.String(), err)
	}
	for _, k := range []string{"invokesPerSecond", "p50Ms", "p99Ms", "noopPerSecond", "noopP99Ms", "nodeCpuMicrosPerInvoke"} {
		if v, _ := raw[k].(float64); v <= 0 {
			t.Fatalf("bench %s = %v: %s", k, raw[k], b.String())
		}
	}
	json.Unmarshal(b.Bytes(), &res)
	if res.Errors != 0 || res.NoopPerSec < res.PerSecond {
		t.Fatalf("bench figures: %s", b.String())
	}

	// An agent priced so that a faucet's credit pays for three calls: the
	// callers run dry within the run and go on as new accounts, and only
	// calls that succeeded are counted.
	t.Setenv(configEnv, filepath.Join(t.TempDir(), "tokens.json"))
	t.Setenv(keys.PassphraseEnv, "bench")
	cli := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(ctx, args, &b)
		return b.String(), err
	}
	o, err := cli("key", "new", "--dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, keyPath, _ := strings.Cut(strings.TrimSpace(o), "  ")
	if o, err := cli("login", "--server", api, "--key", keyPath); err != nil {
		t.Fatalf("login: %v\n%s", err, o)
	}
	wasm := filepath.Join("..", "..", "examples", "agents", "qa", "qa.wasm")
	if o, err := cli("plugin", "publish", "--server", api, "--key", keyPath, "--name", "bench/pricey", "--version", "1.0.0", "--price", "3", "--datanets", "examples/facts", wasm); err != nil {
		t.Fatalf("plugin publish: %v\n%s", err, o)
	}
	b.Reset()
	if err := run(ctx, []string{"bench", "--server", api, "--agent", "bench/pricey@1.0.0", "-c", "2", "-d", "1500ms", "--json"}, &b); err != nil {
		t.Fatalf("bench: %v\n%s", err, b.String())
	}
	res.Errors, res.Refills, res.Calls = 0, 0, 0
	if err := json.Unmarshal(b.Bytes(), &res); err != nil {
		t.Fatalf("bench --json printed %q: %v", b.String(), err)
	}
	if res.Errors != 0 || res.Refills < 1 || res.Calls <= 3*2 {
		t.Fatalf("callers that run out of credit: %s", b.String())
	}
}

// A node killed in the middle of a streamed import keeps whole batches
// only; the same file sent again after the restart adds the rest, once
// each, and the datanet ends with every record exactly once.
func TestStreamedImportResumesAfterAKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	child, out := startServe(t, dir)
	info := readUntilServing(t, out)
	api := info["api"]
	if !strings.Contains(api, "://") {
		api = "http://" + api
	}
	t.Setenv(configEnv, filepath.Join(t.TempDir(), "tokens.json"))
	t.Setenv(keys.PassphraseEnv, "resume")
	cli := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(ctx, args, &b)
		return b.String(), err
	}
	o, err := cli("key", "new", "--dir", t.TempDir(), "--json")
	if err != nil {
		t.Fatal(err)
	}
	var k map[string]string
	json.Unmarshal([]byte(o), &k)
	if _, err := cli("login", "--server", api, "--key", k["path"]); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("datanet", "create", "--server", api, "--key", k["path"], "resume/facts"); err != nil {
		t.Fatal(err)
	}
	const n = 60_000
	raw := filepath.Join(t.TempDir(), "raw.txt")
	var lines bytes.Buffer
	for i := range n {
		fmt.Fprintf(&lines, "Fact %d: %d is %d squared.\n", i, i*i, i)
	}
	os.WriteFile(raw, lines.Bytes(), 0o600)
	signed := filepath.Join(t.TempDir(), "signed.jsonl")
	o, err = cli("datanet", "sign", "--server", api, "--key", k["path"], "resume/facts", raw)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(signed, []byte(o), 0o600)

	version := func() uint64 {
		var d map[string]any
		o, err := cli("datanet", "show", "--server", api, "--json", "resume/facts")
		if err != nil || json.Unmarshal([]byte(o), &d) != nil {
			return 0
		}
		v, _ := strconv.ParseUint(fmt.Sprint(d["version"]), 10, 64)
		return v
	}
	done := make(chan error, 1)
	go func() { _, err := cli("datanet", "import", "--server", api, "resume/facts", signed); done <- err }()
	for v := version(); v == 0; v = version() {
		time.Sleep(20 * time.Millisecond)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	if err := <-done; err == nil {
		t.Fatal("the import finished before the kill")
	}

	child, out = startServe(t, dir)
	defer func() { child.Process.Kill(); child.Wait() }()
	if got := readUntilServing(t, out)["api"]; !strings.HasSuffix(api, strings.TrimPrefix(got, "http://")) {
		api = "http://" + strings.TrimPrefix(got, "http://")
		t.Setenv(configEnv, filepath.Join(t.TempDir(), "tokens2.json"))
		if _, err := cli("login", "--server", api, "--key", k["path"]); err != nil {
			t.Fatal(err)
		}
	}
	kept := version()
	if kept == 0 || kept >= n {
		t.Fatalf("the kill kept %d of %d records", kept, n)
	}
	o, err = cli("datanet", "import", "--server", api, "--json", "resume/facts", signed)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Added, Duplicates, Version uint64 }
	json.Unmarshal([]byte(o), &res)
	if res.Added != n-kept || res.Duplicates != kept || res.Version != n {
		t.Fatalf("after the restart: %+v, with %d kept before", res, kept)
	}
}
