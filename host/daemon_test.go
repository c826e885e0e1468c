package host_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/api"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	"github.com/tollgate-dev/tollgate/registry"
)

func extismWasm(t *testing.T, name string) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/extism/go-sdk").Output()
	if err != nil {
		t.Fatalf("locate extism go-sdk: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "wasm", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A manifest's Extism config reaches the plugin: Extism's own Haskell
// plugin greets with the greeting its config names, unmodified. Config
// keys of the host's own, and oversized configs, are refused.
func TestManifestConfigReachesThePlugin(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 100_000)
	dev := key(t)
	wasm := extismWasm(t, "hello_haskell.wasm")
	publish := func(m registry.Manifest) reply {
		sum := sha256.Sum256(wasm)
		m.WasmSHA256, m.Publisher = hex.EncodeToString(sum[:]), registry.Address(dev)
		sig, _ := registry.Sign(dev, e.reg.Domain().ManifestDigest(m))
		mj, _ := json.Marshal(m)
		return e.postTo(t, e.url, "RegistryService/PublishPlugin", tok, map[string]any{"manifestJson": string(mj), "signature": hexutil.Encode(sig), "wasm": wasm})
	}
	m := registry.Manifest{Name: "dev/hello", Version: "1.0.0", Kind: abi.KindAgent, Export: "testing", Price: "10", Config: map[string]string{"greeting": "Good morning"}}
	if r := publish(m); r.status != 200 {
		t.Fatalf("publish: %+v", r)
	}
	r := e.postTo(t, e.url, "AgentService/Invoke", tok, map[string]any{"agent": "dev/hello@1.0.0", "inputText": "Tollgate"})
	if r.status != 200 || r.out["outputText"] != "Good morning, Tollgate" {
		t.Fatalf("invoke: %+v", r)
	}
	for name, cfg := range map[string]map[string]string{
		"a host key": {"tollgate.datanets": "secrets"},
		"too large":  {"greeting": strings.Repeat("x", registry.MaxConfigBytes+1)},
	} {
		bad := m
		bad.Version, bad.Config = "1.0.1", cfg
		if r := publish(bad); abi.Code(r.code) != abi.CodeBadRequest {
			t.Fatalf("%s: %+v", name, r)
		}
	}
}

// /metrics reports invocations by agent and outcome, metered reads by
// datanet, and how agent modules were found, in Prometheus's format.
func TestMetricsCountInvocations(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 100_000)
	if r := e.postTo(t, e.url, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "Why is the sky blue?"}); r.status != 200 {
		t.Fatalf("invoke: %+v", r)
	}
	if r := e.postTo(t, e.url, "AgentService/Invoke", tok, map[string]any{"agent": "nobody/" + strings.Repeat("z", 40) + "@1.0.0", "inputText": "x"}); r.status == 200 {
		t.Fatalf("invoked an agent that does not exist: %+v", r)
	}
	if _, err := e.s.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	scrape := func(token string) *http.Response {
		req, _ := http.NewRequest("GET", e.url+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, who := range []string{"", tok} {
		if res := scrape(who); res.StatusCode == 200 {
			t.Fatalf("metrics served to a non-operator (token %q)", who)
		}
	}
	opTok, err := e.tokens.Issue(auth.Principal{Account: registry.Address(e.operator), Operator: true})
	if err != nil {
		t.Fatal(err)
	}
	res := scrape(opTok)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	text := string(b)
	for _, want := range []string{
		`tollgate_invocations_total{agent="acme/qa@1.0.0",code="ok"} 1`,
		`tollgate_invocations_total{agent="",code="not_found"} 1`,
		`tollgate_invocation_seconds_count{agent="acme/qa@1.0.0"} 1`,
		`tollgate_metered_reads_total{datanet="facts"}`,
		`tollgate_agent_modules_total{result="compile"} 1`,
		`tollgate_deposits_credited_total 1`,
		`tollgate_epochs_closed_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !regexp.MustCompile(`tollgate_gas_used_total\{op="post_root"\} [1-9][0-9]{4,}\n`).MatchString(text) {
		t.Error("/metrics lacks the gas the root post used")
	}
	// A caller's made-up agent name is never a label.
	if strings.Contains(text, "zzzz") {
		t.Error("/metrics carries a name from a request")
	}
}

// Shutting down stops new requests but lets each one in flight finish and
// answer before Serve returns (and the node closes its stores after it).
func TestServeDrainsRequestsInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Write([]byte("done"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- api.Serve(ctx, api.NewServer(mux, api.DefaultLimits()), ln) }()
	answer := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			answer <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answer <- string(b)
	}()
	<-started
	stop()
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("a shutting-down server still takes connections")
	}
	close(release)
	if got := <-answer; got != "done" {
		t.Fatalf("the request in flight got %q", got)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

// A receipt reports the fuel its agent spent. (Agents may read the clock,
// so the same call need not spend the same fuel; attribution plugins do:
// see the runtime's tests.)
func TestReceiptsReportFuel(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 100_000)
	for range 2 {
		r := e.postTo(t, e.url, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@1.0.0", "inputText": "Why is the sky blue?"})
		if r.status != 200 {
			t.Fatalf("invoke: %+v", r)
		}
		rc, err := e.led.Receipt(context.Background(), r.out["receipt"].(map[string]any)["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if rc.Fuel == 0 {
			t.Fatal("a receipt with no fuel")
		}
	}
}
