package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/ledger"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/internal/keys"
)

// walk calls fn for every command of the command table, groups included.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// path is a command's words after "tollgate".
func path(c *cobra.Command) []string {
	return strings.Fields(strings.TrimPrefix(c.CommandPath(), "tollgate"))
}

// Every command of the table, found by walking it, has help with an
// example that exits 0, wherever --help stands; refuses an unknown flag
// and a wrong number of arguments with exit 2.
func TestEveryCommandHelpFlagsAndArgs(t *testing.T) {
	noConfig(t)
	ctx := context.Background()
	n := 0
	walk(newApp(ctx, nil).root, func(c *cobra.Command) {
		n++
		words := path(c)
		name := "tollgate " + strings.Join(words, " ")
		t.Run(name, func(t *testing.T) {
			if c.Short == "" || c.Example == "" {
				t.Fatalf("%s has no Short or no Example", name)
			}
			var out bytes.Buffer
			if err := run(ctx, append(append([]string{}, words...), "--help"), &out); err != nil || !strings.Contains(out.String(), "Examples:") || !strings.Contains(out.String(), c.Example) {
				t.Fatalf("%s --help: %v\n%s", name, err, out.String())
			}
			if c.Name() == "help" {
				return // help takes no flags but --help
			}
			if err := run(ctx, append(append([]string{}, words...), "--bogus"), &out); exitCode(err) != exitUsage {
				t.Fatalf("%s --bogus: exit %d (%v)", name, exitCode(err), err)
			}
			// A flag after the arguments is a flag: --help there is help.
			out.Reset()
			if err := run(ctx, append(append([]string{}, words...), "x", "y", "--help"), &out); err != nil || !strings.Contains(out.String(), "Examples:") {
				t.Fatalf("%s x y --help: %v\n%s", name, err, out.String())
			}
			// Wrong numbers of arguments, as the command's own check says,
			// are usage errors before anything runs.
			for _, k := range []int{0, 1, 2, 30} {
				args := make([]string, k)
				for i := range args {
					args[i] = fmt.Sprint("arg", i)
				}
				if c.Args == nil || c.Args(c, args) == nil {
					continue
				}
				if err := run(ctx, append(append([]string{}, words...), args...), &out); exitCode(err) != exitUsage {
					t.Fatalf("%s with %d arguments: exit %d (%v)", name, k, exitCode(err), err)
				}
			}
		})
	})
	if n < 35 {
		t.Fatalf("walked %d commands", n)
	}
}

// testNode is one in-process node with its API and chain RPC, shared by
// the tests that need one: opening a node compiles the plugins.
type testNode struct {
	n        *node
	api, rpc string
	opToken  string
}

var (
	sharedOnce sync.Once
	shared     *testNode
	sharedErr  error
)

func sharedNode(t *testing.T) *testNode {
	t.Helper()
	sharedOnce.Do(func() {
		ctx := context.Background()
		n, err := openNode(ctx, nodeConfig{dataDir: filepath.Join(os.TempDir(), fmt.Sprintf("tollgate-cli-test-%d", time.Now().UnixNano())),
			chainRPC: "127.0.0.1:0", logger: slog.New(slog.DiscardHandler), faucetBudget: -1, faucetEvery: -1, faucetWindow: time.Hour})
		if err != nil {
			sharedErr = err
			return
		}
		if _, err := seedExample(ctx, n); err != nil {
			sharedErr = err
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			sharedErr = err
			return
		}
		bound := ln.Addr().String()
		dep := n.client.Deployment()
		limits := api.DefaultLimits()
		limits.Rate, limits.MaxInFlight = 0, 0
		limits.Hosts = append(limits.Hosts, "127.0.0.1")
		signIn := &auth.SignIn{Domain: bound, URI: "http://" + bound, ChainID: dep.ChainID, Operator: n.host.Operator(), Tokens: n.tokens}
		h, err := n.handler(limits, signIn)
		if err != nil {
			sharedErr = err
			return
		}
		go api.Serve(ctx, api.NewServer(h, limits), ln)
		go syncDeposits(ctx, n, slog.New(slog.DiscardHandler))
		op, err := n.tokens.Issue(auth.Principal{Account: n.host.Operator(), Operator: true})
		if err != nil {
			sharedErr = err
			return
		}
		shared = &testNode{n: n, api: "http://" + bound, rpc: n.chain.RPC(), opToken: op}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// user is a test's own CLI user: its config file, key dir and one key.
type user struct {
	t          *testing.T
	ctx        context.Context
	config     string
	addr, path string
	key        *ecdsa.PrivateKey
}

func newUser(t *testing.T) *user {
	t.Helper()
	u := &user{t: t, ctx: context.Background(), config: filepath.Join(t.TempDir(), "config.json")}
	t.Setenv(configEnv, u.config)
	t.Setenv(keyDirEnv, t.TempDir())
	t.Setenv(keys.PassphraseEnv, "walk")
	o, err := u.cli("key", "new", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var k keyEntry
	json.Unmarshal([]byte(o), &k)
	u.addr, u.path = k.Address, k.Path
	if u.key, err = keys.Load(u.path, "walk"); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u *user) cli(args ...string) (string, error) {
	var b bytes.Buffer
	err := run(u.ctx, args, &b)
	return b.String(), err
}

func (u *user) must(args ...string) string {
	u.t.Helper()
	o, err := u.cli(args...)
	if err != nil {
		u.t.Fatalf("tollgate %s: %v\n%s", strings.Join(args, " "), err, o)
	}
	return o
}

// jsonSchemas is, per command that prints a result, the lowerCamelCase
// keys its --json output must have.
var jsonSchemas = map[string][]string{
	"key new":         {"address", "path"},
	"key import":      {"address", "path"},
	"key list":        {"keys"},
	"key address":     {"address", "path"},
	"login":           {"token", "account", "expiresAt"},
	"faucet":          {"account", "amount", "gas"},
	"balance":         {"account", "balance", "earned", "wallet", "claimed"},
	"invoke":          {"outputText", "receipt", "maxPrice"},
	"withdraw":        {"receipt"},
	"receipt list":    {"receipts"},
	"receipt show":    {"receipt"},
	"earnings":        {"account", "earned", "receipts"},
	"datanet create":  {"name", "owner", "policy"},
	"datanet add":     {"added", "duplicates", "version"},
	"datanet import":  {"received", "added", "duplicates", "skipped", "version", "root", "recordsPerSecond"},
	"datanet policy":  {"name", "policy"},
	"datanet show":    {"name", "owner", "version", "policy"},
	"datanet search":  {"records"},
	"plugin publish":  {"ref", "manifestJson", "publisher", "published"},
	"plugin list":     {"plugins"},
	"plugin show":     {"ref", "manifestJson", "publisher", "published"},
	"plugin yank":     {"ref", "yanked"},
	"model publish":   {"ref", "manifestJson", "publisher", "published", "kind"},
	"model list":      {"plugins"},
	"model show":      {"ref", "manifestJson", "publisher", "published", "kind"},
	"model yank":      {"ref", "yanked"},
	"epoch close":     {"epoch", "root", "postTx"},
	"epoch list":      {"open", "epochs"},
	"deposit":         {"account", "amount", "deposit", "block"},
	"claim":           {"chainId", "to", "data", "account", "cumulative", "epoch", "tx"},
	"bench":           {"invokesPerSecond", "p50Ms", "p99Ms", "calls", "errors"},
	"verify":          {"epoch", "receipts", "root", "onChain", "ok"},
	"check":           {"books", "openEpoch", "deposited", "credit", "earned", "problems", "ok"},
	"datanet sign":    nil, // prints signed JSONL, its own format
	"serve":           nil,
	"demo":            nil,
	"completion":      nil,
	"help":            nil,
	"key":             nil,
	"datanet":         nil,
	"plugin":          nil,
	"model":           nil,
	"receipt":         nil,
	"epoch":           nil,
	"tollgate (root)": nil,
}

// Every command that has --json prints JSON with the keys of its schema,
// run against a real node; the walk finds the commands, so a new one
// without a schema fails here.
func TestEveryCommandJSONSchema(t *testing.T) {
	tn := sharedNode(t)
	u := newUser(t)
	api := tn.api
	seen := map[string]bool{}
	check := func(name string, args ...string) map[string]any {
		t.Helper()
		o := u.must(append(args, "--json")...)
		var m map[string]any
		if err := json.Unmarshal([]byte(o), &m); err != nil {
			t.Fatalf("%s --json printed %q: %v", name, o, err)
		}
		for _, k := range jsonSchemas[name] {
			if _, ok := m[k]; !ok {
				t.Fatalf("%s --json lacks %q: %s", name, k, o)
			}
		}
		for k := range m {
			if strings.Contains(k, "_") {
				t.Fatalf("%s --json has the snake_case key %q: %s", name, k, o)
			}
		}
		seen[name] = true
		return m
	}
	hexKey := filepath.Join(t.TempDir(), "key.hex")
	k2, _ := crypto.GenerateKey()
	os.WriteFile(hexKey, []byte(hex.EncodeToString(crypto.FromECDSA(k2))), 0o600)

	check("key list", "key", "list")
	check("key address", "key", "address", u.path)
	check("key import", "key", "import", hexKey)
	seen["key new"] = true // newUser ran it; the schema is checked here
	if o := u.must("key", "new", "--json"); !strings.Contains(o, `"address"`) || !strings.Contains(o, `"path"`) {
		t.Fatalf("key new --json: %s", o)
	}
	check("login", "login", "--server", api, "--key", u.addr)
	check("faucet", "faucet", "--server", api)
	check("balance", "balance", "--server", api)
	inv := check("invoke", "invoke", "--server", api, exampleAgent, "Why is the sky blue?")
	check("withdraw", "withdraw", "--server", api, "0.1")
	check("receipt list", "receipt", "list", "--server", api)
	id := inv["receipt"].(map[string]any)["id"].(string)
	check("receipt show", "receipt", "show", "--server", api, id)
	check("earnings", "earnings", "--server", api)
	dn := "walk/facts"
	check("datanet create", "datanet", "create", "--server", api, "--key", u.addr, dn)
	check("datanet add", "datanet", "add", "--server", api, "--key", u.addr, dn, "Bees dance to say where flowers are.")
	recs := filepath.Join(t.TempDir(), "recs.txt")
	os.WriteFile(recs, []byte("Water boils at 100 C at sea level.\nIce floats on water.\n"), 0o600)
	check("datanet import", "datanet", "import", "--server", api, "--key", u.addr, dn, recs)
	check("datanet policy", "datanet", "policy", "--server", api, "--key", u.addr, "--write", "open", "--models", "walk/tiny", dn)
	check("datanet show", "datanet", "show", "--server", api, dn)
	check("datanet search", "datanet", "search", "--server", api, dn, "bees")
	wasm := filepath.Join("..", "..", "examples", "agents", "qa", "qa.wasm")
	check("plugin publish", "plugin", "publish", "--server", api, "--key", u.addr, "--name", "walk/qa", "--version", "1.0.0", "--price", "0.001", "--datanets", dn, wasm)
	check("plugin list", "plugin", "list", "--server", api)
	check("plugin show", "plugin", "show", "--server", api, "walk/qa@1.0.0")
	check("plugin yank", "plugin", "yank", "--server", api, "--key", u.addr, "walk/qa@1.0.0")
	check("model publish", "model", "publish", "--server", api, "--key", u.addr, "--name", "walk/tiny", "--version", "1.0.0", "--training", dn, "--price-out", "0.001")
	check("model list", "model", "list", "--server", api)
	check("model show", "model", "show", "--server", api, "walk/tiny")
	check("model yank", "model", "yank", "--server", api, "--key", u.addr, "walk/tiny@1.0.0")
	u.must("faucet", "--server", api, "--wallet")
	check("deposit", "deposit", "--server", api, "--key", u.addr, "1")
	check("epoch close", "epoch", "close", "--server", api, "--token", tn.opToken)
	check("epoch list", "epoch", "list", "--server", api)
	check("claim", "claim", "--server", api, "--key", u.addr)
	check("bench", "bench", "--server", api, "-c", "1", "-d", "300ms")
	check("verify", "verify", "--server", api, "--rpc", tn.rpc)
	books := t.TempDir()
	opKey, _ := crypto.GenerateKey()
	if led, err := ledger.Open(filepath.Join(books, "ledger"), ledger.Options{Signer: opKey}); err != nil {
		t.Fatal(err)
	} else {
		led.Close()
	}
	check("check", "check", "--data", books)

	walk(newApp(context.Background(), nil).root, func(c *cobra.Command) {
		name := strings.Join(path(c), " ")
		if name == "" {
			name = "tollgate (root)"
		}
		want, listed := jsonSchemas[name]
		if !listed {
			t.Errorf("%s has no entry in jsonSchemas", name)
		}
		if hasJSON := c.Flags().Lookup("json") != nil; hasJSON != (want != nil) || hasJSON && !seen[name] {
			t.Errorf("%s: --json %v, schema %v, checked %v", name, hasJSON, want, seen[name])
		}
	})
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("checked --json of: %s", strings.Join(names, ", "))
}
