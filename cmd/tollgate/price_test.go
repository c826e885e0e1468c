package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"

	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/examples"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/rules"
)

// `tollgate invoke` shows the price it will pay and sends exactly that as
// max_price, or the bound --max-price gives. A republish at a higher price
// between showing and calling is refused, and charges nothing. Names in
// examples/ are the operator's to publish.
func TestInvokeSendsThePriceItShows(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := openNode(ctx, nodeConfig{dataDir: t.TempDir(), logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.close(context.Background())
	if _, err := seedExample(ctx, n); err != nil {
		t.Fatal(err)
	}
	caller := newParty("caller")
	if _, err := fund(ctx, n, caller, callerCredit); err != nil {
		t.Fatal(err)
	}
	tok, err := n.tokens.Issue(auth.Principal{Account: caller.addr()})
	if err != nil {
		t.Fatal(err)
	}
	// The node, behind a recorder of the max_price each call carries and a
	// hook that runs as a call arrives.
	var mu sync.Mutex
	var sent []string
	var onInvoke func()
	apiH, err := n.handler(api.DefaultLimits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tollgate.v1.AgentService/Invoke" {
			body, _ := io.ReadAll(r.Body)
			var msg tollgatev1.InvokeRequest
			if err := proto.Unmarshal(body, &msg); err != nil {
				t.Errorf("the CLI sent an Invoke that is not protobuf: %v", err)
			}
			mu.Lock()
			sent = append(sent, msg.GetMaxPrice())
			hook := onInvoke
			onInvoke = nil
			mu.Unlock()
			if hook != nil {
				hook()
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		apiH.ServeHTTP(w, r)
	}))
	defer srv.Close()
	lastSent := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(sent) == 0 {
			return "(none)"
		}
		return sent[len(sent)-1]
	}
	cli := func(args ...string) (string, error) {
		var b bytes.Buffer
		err := run(ctx, append([]string{args[0], "--server", srv.URL, "--token", tok}, args[1:]...), &b)
		return b.String(), err
	}
	balance := func() *big.Int {
		b, err := n.led.Balance(ctx, caller.addr())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Shown and sent: the agent's price now.
	o, err := cli("invoke", "--json", "Why is the sky blue?")
	var shown struct {
		MaxPrice string `json:"maxPrice"`
		Receipt  struct{ Agent string }
	}
	if err != nil || json.Unmarshal([]byte(o), &shown) != nil || shown.MaxPrice != agentPrice.String() || lastSent() != agentPrice.String() {
		t.Fatalf("invoke --json showed %q and sent %q (%v)\n%s", shown.MaxPrice, lastSent(), err, o)
	}

	// --max-price below the price: refused, nothing charged.
	before := balance()
	if o, err := cli("invoke", "--max-price", "0.001", "Why is the sky blue?"); exitCode(err) != exitRefused || !strings.Contains(err.Error(), string(rules.CodePriceExceeded)) {
		t.Fatalf("--max-price 0.001 for a 0.01 agent: exit %d, %v\n%s", exitCode(err), err, o)
	}
	if got := lastSent(); got != "1000000000000000" {
		t.Fatalf("--max-price 0.001 sent %q", got)
	}
	if after := balance(); after.Cmp(before) != 0 {
		t.Fatalf("a refused call moved the balance from %s to %s", before, after)
	}
	// In base units, exactly the price: runs.
	if o, err := cli("invoke", "--max-price", agentPrice.String()+"wei", "Why is the sky blue?"); err != nil || lastSent() != agentPrice.String() {
		t.Fatalf("--max-price %swei: sent %q, %v\n%s", agentPrice, lastSent(), err, o)
	}
	// A bound that is not an amount is the caller's mistake, sent nowhere.
	calls := len(sent)
	if _, err := cli("invoke", "--max-price", "lots", "Why is the sky blue?"); exitCode(err) != exitUsage || len(sent) != calls {
		t.Fatalf("--max-price lots: exit %d, %v", exitCode(err), err)
	}

	// The operator republishes the example at ten times the price just as
	// the call it was quoted for arrives: refused, not charged.
	dearer := new(big.Int).Mul(agentPrice, big.NewInt(10))
	mu.Lock()
	onInvoke = func() {
		if _, err := n.host.Publish(ctx, n.operator, registry.Manifest{Name: exampleAgent, Version: "9.0.0", Kind: abi.KindAgent, Price: dearer.String(),
			Datanets: []string{exampleDatanet}, Attribution: registry.DefaultAttribution, Limits: &registry.Limits{MaxRecords: 16}}, examples.QA); err != nil {
			t.Errorf("republish: %v", err)
		}
	}
	mu.Unlock()
	// The call names the version it was quoted, so the republish is not
	// what runs: the caller pays the price it was shown.
	if o, err := cli("invoke", "--json", "Why is the sky blue?"); err != nil || json.Unmarshal([]byte(o), &shown) != nil ||
		shown.MaxPrice != agentPrice.String() || shown.Receipt.Agent != exampleAgent+"@"+exampleAgentVersion {
		t.Fatalf("a call quoted before a reprice: sent %q, %v\n%s", lastSent(), err, o)
	}
	// Quoted again, the caller sees the new price and agrees to it.
	if o, err := cli("invoke", "--json", "Why is the sky blue?"); err != nil || json.Unmarshal([]byte(o), &shown) != nil || shown.MaxPrice != dearer.String() || !strings.HasSuffix(shown.Receipt.Agent, "@9.0.0") {
		t.Fatalf("a call quoted after the reprice: %v\n%s", err, o)
	}

	// A stranger may not publish in the operator's namespace.
	stranger, _ := crypto.GenerateKey()
	keyFile := filepath.Join(t.TempDir(), "stranger.key")
	os.WriteFile(keyFile, []byte(hex.EncodeToString(crypto.FromECDSA(stranger))), 0o600)
	wasm := filepath.Join("..", "..", "examples", "agents", "qa", "qa.wasm")
	var b bytes.Buffer
	if err := run(ctx, []string{"plugin", "publish", "--server", srv.URL, "--token", tok, "--key", keyFile, "--name", "examples/mine", "--version", "1.0.0", "--datanets", exampleDatanet, wasm}, &b); exitCode(err) != exitDenied || !strings.Contains(err.Error(), string(registry.CodeReservedName)) {
		t.Fatalf("a stranger published in examples/: exit %d, %v\n%s", exitCode(err), err, b.String())
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
