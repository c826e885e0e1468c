package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// A signed write with --key needs no login first: it signs in with the
// key, and keeps the token for that server.
func TestSignedWriteSignsInWithKey(t *testing.T) {
	tn := sharedNode(t)
	u := newUser(t)
	if _, ok := u.savedTokens()[serverKey(tn.api)]; ok {
		t.Fatal("a token before any sign-in")
	}
	o := u.must("datanet", "create", "--server", tn.api, "--key", u.path, "autosign/facts")
	if !strings.Contains(o, "created autosign/facts") {
		t.Fatalf("datanet create: %s", o)
	}
	tok, ok := u.savedTokens()[serverKey(tn.api)]
	if !ok || tok.Account != u.addr || tok.Token == "" {
		t.Fatalf("no token kept after the automatic sign-in: %+v", u.savedTokens())
	}
	wasm := filepath.Join("..", "..", "examples", "agents", "qa", "qa.wasm")
	u.must("plugin", "publish", "--server", tn.api, "--key", u.path, "--name", "autosign/qa", "--version", "1.0.0", wasm)
	if again := u.savedTokens()[serverKey(tn.api)]; again.Token != tok.Token {
		t.Fatal("the second signed write signed in again instead of using the kept token")
	}
	st, err := os.Stat(u.config)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file mode: %v %v", st, err)
	}
}

func (u *user) savedTokens() map[string]savedToken {
	c, err := readConfig(u.config)
	if err != nil {
		u.t.Fatal(err)
	}
	return c.tokens
}

// --key takes the address of a key in the key dir; an address with no
// key there is a usage error that says where it looked.
func TestKeyByAddress(t *testing.T) {
	tn := sharedNode(t)
	u := newUser(t)
	if o := u.must("login", "--server", tn.api, "--key", u.addr); !strings.Contains(o, "as "+u.addr) {
		t.Fatalf("login --key ADDRESS: %s", o)
	}
	if o := u.must("login", "--server", tn.api, "--key", strings.ToLower(u.addr)); !strings.Contains(o, "as "+u.addr) {
		t.Fatalf("login --key address in lower case: %s", o)
	}
	k, _ := crypto.GenerateKey()
	unknown := crypto.PubkeyToAddress(k.PublicKey).Hex()
	_, err := u.cli("login", "--server", tn.api, "--key", unknown)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), os.Getenv(keyDirEnv)) || !strings.Contains(err.Error(), "key list") {
		t.Fatalf("login --key UNKNOWN: exit %d: %v", exitCode(err), err)
	}
}

// Tokens are kept per server: signing in to a second server keeps the
// first one's, and each command sends the token of the server it talks to.
func TestTokenPerServer(t *testing.T) {
	tn := sharedNode(t)
	u := newUser(t)
	other := newUser(t) // its own key; same config file from here on
	t.Setenv(configEnv, u.config)
	other.config = u.config
	// The same node under two URLs: two servers as the config file sees them.
	second := strings.Replace(tn.api, "127.0.0.1", "localhost", 1)
	u.must("login", "--server", tn.api, "--key", u.path)
	if _, err := u.cli("login", "--server", second, "--key", other.path); err != nil {
		t.Skipf("the node refuses sign-in under a second host name: %v", err)
	}
	toks := u.savedTokens()
	if toks[serverKey(tn.api)].Account != u.addr || toks[serverKey(second)].Account != other.addr {
		t.Fatalf("tokens per server: %+v", toks)
	}
	for server, want := range map[string]string{tn.api: u.addr, second: other.addr} {
		var b struct{ Account string }
		o := u.must("balance", "--server", server, "--json")
		if err := json.Unmarshal([]byte(o), &b); err != nil || b.Account != want {
			t.Fatalf("balance on %s is %s's, want %s's: %s", server, b.Account, want, o)
		}
	}
}

// claim defaults its account to the key's and its RPC to the node's, and
// a contract revert reads as a sentence, never a Go type.
func TestClaimDefaultsAndDecodedRevert(t *testing.T) {
	tn := sharedNode(t)
	u := newUser(t)
	u.must("login", "--server", tn.api, "--key", u.path)
	u.must("faucet", "--server", tn.api)
	u.must("withdraw", "--server", tn.api, "0.25")
	u.must("epoch", "close", "--server", tn.api, "--token", tn.opToken)
	before, _ := tn.n.client.TokenBalance(context.Background(), u.addr)
	o := u.must("claim", "--server", tn.api, "--key", u.path)
	if !strings.Contains(o, "claimed up to") || !strings.Contains(o, u.addr) {
		t.Fatalf("claim with defaults: %s", o)
	}
	after, _ := tn.n.client.TokenBalance(context.Background(), u.addr)
	if after.Cmp(before) <= 0 {
		t.Fatalf("the claim paid nothing: %s -> %s", before, after)
	}
	_, err := u.cli("claim", "--server", tn.api, "--key", u.path)
	if err == nil || !strings.Contains(err.Error(), "nothing left to claim") || strings.Contains(err.Error(), "contracts.") || strings.Contains(err.Error(), "&{") {
		t.Fatalf("a second claim: %v", err)
	}
	// A key with no ETH is told what the claim needs and where to get it.
	u.must("withdraw", "--server", tn.api, "0.1")
	u.must("epoch", "close", "--server", tn.api, "--token", tn.opToken)
	poor := newUser(t)
	t.Setenv(configEnv, u.config)
	_, err = u.cli("claim", "--server", tn.api, "--key", poor.path, "--account", u.addr)
	if err == nil || !strings.Contains(err.Error(), poor.addr+" holds 0.000000 ETH") || !strings.Contains(err.Error(), "tollgate faucet") {
		t.Fatalf("claim from an account without gas: %v", err)
	}
}

// receipt list puts the newest first, with a time column; receipt show
// takes a unique prefix of an id and refuses an ambiguous one, listing
// the candidates.
func TestReceiptListNewestFirstAndShowByPrefix(t *testing.T) {
	tn := sharedNode(t)
	u := newUser(t)
	u.must("login", "--server", tn.api, "--key", u.path)
	u.must("faucet", "--server", tn.api)
	var ids []string
	for i := range 3 {
		o := u.must("invoke", "--server", tn.api, "--json", exampleAgent, fmt.Sprintf("Why is the sky blue? (%d)", i))
		var r struct{ Receipt struct{ Id string } }
		json.Unmarshal([]byte(o), &r)
		ids = append(ids, r.Receipt.Id)
		time.Sleep(20 * time.Millisecond)
	}
	o := u.must("receipt", "list", "--server", tn.api)
	lines := strings.Split(strings.TrimSpace(o), "\n")
	if !strings.HasPrefix(lines[0], "time") || len(lines) != 4 {
		t.Fatalf("receipt list:\n%s", o)
	}
	for i, want := range []string{ids[2], ids[1], ids[0]} {
		if !strings.Contains(lines[i+1], want) {
			t.Fatalf("receipt list is not newest first: line %d lacks %s:\n%s", i+1, want, o)
		}
	}
	var js struct {
		Receipts []struct{ Receipt struct{ Id, Time string } }
	}
	json.Unmarshal([]byte(u.must("receipt", "list", "--server", tn.api, "--json")), &js)
	if len(js.Receipts) != 3 || js.Receipts[0].Receipt.Id != ids[2] || js.Receipts[0].Receipt.Time == "" {
		t.Fatalf("receipt list --json order: %+v", js)
	}
	// The shortest prefix that tells the first receipt from the others.
	prefix := ""
	for n := 1; n <= len(ids[0]); n++ {
		p := ids[0][:n]
		if !strings.HasPrefix(ids[1], p) && !strings.HasPrefix(ids[2], p) {
			prefix = p
			break
		}
	}
	if o := u.must("receipt", "show", "--server", tn.api, prefix); !strings.Contains(o, ids[0]) {
		t.Fatalf("receipt show %s: %s", prefix, o)
	}
	// A prefix all of them share (the empty prefix aside, ids share at
	// least their first character only by chance): make one that does.
	common := ""
	for n := 1; n <= len(ids[0]); n++ {
		if strings.HasPrefix(ids[1], ids[0][:n]) {
			common = ids[0][:n]
		}
	}
	if common == "" {
		return // no two ids share a first character: nothing ambiguous to ask
	}
	_, err := u.cli("receipt", "show", "--server", tn.api, common)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), ids[0]) || !strings.Contains(err.Error(), ids[1]) {
		t.Fatalf("ambiguous prefix %s: exit %d: %v", common, exitCode(err), err)
	}
}

// plugin show gives the price per call and datanets from the signed
// manifest, the publisher, when it was published, and its yank state.
func TestPluginShowFields(t *testing.T) {
	tn := sharedNode(t)
	u := newUser(t)
	wasm := filepath.Join("..", "..", "examples", "agents", "qa", "qa.wasm")
	u.must("plugin", "publish", "--server", tn.api, "--key", u.path, "--name", "show/qa", "--version", "1.0.0", "--price", "0.0025", "--datanets", exampleDatanet, wasm)
	o := u.must("plugin", "show", "--server", tn.api, "show/qa")
	year := fmt.Sprint(time.Now().UTC().Year())
	for _, want := range []string{"show/qa@1.0.0", "published by " + u.addr, year, "0.002500 TGT a call", exampleDatanet, "published: takes invocations"} {
		if !strings.Contains(o, want) {
			t.Fatalf("plugin show lacks %q:\n%s", want, o)
		}
	}
	u.must("plugin", "yank", "--server", tn.api, "--key", u.path, "show/qa@1.0.0")
	o = u.must("plugin", "show", "--server", tn.api, "show/qa@1.0.0")
	if !strings.Contains(o, "yanked at ") || !strings.Contains(o, ": takes no new invocations") || strings.Contains(o, "yanked by") {
		t.Fatalf("plugin show of a yanked version:\n%s", o)
	}
}

// An interrupted import leaves a checkpoint; the same command run again
// sends only what the node had not acknowledged, and says so.
func TestImportResumesAfterInterrupt(t *testing.T) {
	tn := sharedNode(t)
	u := newUser(t)
	u.must("datanet", "create", "--server", tn.api, "--key", u.path, "resume/cli")
	const n = 30_000
	raw := filepath.Join(t.TempDir(), "raw.txt")
	var lines bytes.Buffer
	for i := range n {
		fmt.Fprintf(&lines, "Fact %d: %d is %d squared.\n", i, i*i, i)
	}
	os.WriteFile(raw, lines.Bytes(), 0o600)
	// Signed as it is sent, so the import takes long enough to interrupt.
	signed := raw

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var b bytes.Buffer
		done <- run(ctx, []string{"datanet", "import", "--server", tn.api, "--key", u.path, "resume/cli", signed}, &b)
	}()
	// Interrupt once the node holds some of it.
	for {
		var d struct{ Version string }
		json.Unmarshal([]byte(u.must("datanet", "show", "--server", tn.api, "--json", "resume/cli")), &d)
		if d.Version != "" && d.Version != "0" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	err := <-done
	if err == nil {
		t.Skip("the import finished before the interrupt")
	}
	if !strings.Contains(err.Error(), "interrupted after") || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("interrupted import: %v", err)
	}
	cp, err := os.ReadFile(checkpointPath(signed))
	if err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	var c importCheckpoint
	json.Unmarshal(cp, &c)
	if c.Records == 0 || c.Records >= n {
		t.Fatalf("checkpoint: %s", cp)
	}
	var r importResult
	o := u.must("datanet", "import", "--server", tn.api, "--key", u.path, "--json", "resume/cli", signed)
	json.Unmarshal([]byte(o), &r)
	if r.Skipped != c.Records || r.Received != uint64(n-c.Records) || r.Added != r.Received || r.Duplicates != 0 || r.Version != n {
		t.Fatalf("resumed import: %s, after a checkpoint of %d records", o, c.Records)
	}
	if _, err := os.Stat(checkpointPath(signed)); !os.IsNotExist(err) {
		t.Fatalf("the checkpoint outlived the finished import: %v", err)
	}
}

// Under --json a failure is one JSON object on stderr, with the class of
// error and the exit code; stdout stays empty.
func TestErrorsAsJSON(t *testing.T) {
	tn := sharedNode(t)
	newUser(t)
	for _, c := range []struct {
		args []string
		code string
		exit int
	}{
		{[]string{"receipt", "show", "--server", tn.api, "--token", tn.opToken, "no-such-receipt", "--json"}, "not_found", exitNotFound},
		{[]string{"invoke", "--json", "--bogus"}, "usage", exitUsage},
		{[]string{"balance", "--server", tn.api, "--json"}, "unauthenticated", exitDenied},
		{[]string{"plugin", "show", "--server", "http://127.0.0.1:1", "examples/qa", "--json"}, "unavailable", exitUnavailable},
	} {
		var stdout, stderr bytes.Buffer
		got := mainExit(context.Background(), c.args, &stdout, &stderr)
		var je jsonError
		if err := json.Unmarshal(stderr.Bytes(), &je); err != nil {
			t.Fatalf("%v: stderr is not JSON: %q", c.args, stderr.String())
		}
		if got != c.exit || je.Error.Exit != c.exit || je.Error.Code != c.code || je.Error.Message == "" || stdout.Len() != 0 {
			t.Fatalf("%v: exit %d, stdout %q, stderr %s; want exit %d code %s", c.args, got, stdout.String(), stderr.String(), c.exit, c.code)
		}
	}
	// Without --json the error is a line of text that says what to do.
	var stdout, stderr bytes.Buffer
	mainExit(context.Background(), []string{"balance", "--server", tn.api}, &stdout, &stderr)
	if !strings.Contains(stderr.String(), "not signed in to "+tn.api) || !strings.Contains(stderr.String(), "tollgate login") {
		t.Fatalf("balance without a token: %s", stderr.String())
	}
}
