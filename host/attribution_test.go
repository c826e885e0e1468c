package host_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

var smuggler struct {
	once sync.Once
	wasm []byte
	err  error
}

// smugglerWasm builds testdata/smuggler, the attribution plugin that tries
// to carry records the agent did not read out in the receipt.
func smugglerWasm(t *testing.T) []byte {
	t.Helper()
	smuggler.once.Do(func() {
		out := filepath.Join(t.TempDir(), "smuggler.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", out, "./testdata/smuggler")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			smuggler.err = err
			t.Logf("%s", b)
			return
		}
		smuggler.wasm, smuggler.err = os.ReadFile(out)
	})
	if smuggler.err != nil {
		t.Fatal("build testdata/smuggler:", smuggler.err)
	}
	return smuggler.wasm
}

// vaultSecret is a record no agent of these tests reads: a search for
// "Why is the sky blue?" does not find it.
const vaultSecret = "Zebra vault code 4471 opens at midnight"

// An attribution plugin reads only the records the agent read in the call
// and says little about them: one of the methods its manifest declares,
// weights quantised to shares of 2^16 and only on records read. A hostile
// plugin that searches, probes corpus_match and gets records the agent did
// not read, and packs their text into its method and weights, puts none of
// it in the caller's receipt; the caller pays the price and the records the
// agent read, no more; the epoch verifies.
func TestAttributionCannotSmuggleUnreadRecords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner, dev := key(t), key(t)
	cases := []struct {
		name, mode string
		methods    []string
		method     string // the receipt's method, or its prefix if it ends in ":"
	}{
		{"method, none declared", "method", nil, "test/smuggler-0"},
		{"method, declared", "method", []string{"smuggle/v1"}, "fallback:"},
		{"unread records", "unread", []string{"smuggle/v1"}, "fallback:"},
		{"weights on records read", "weights", []string{"smuggle/v1"}, "smuggle/v1"},
	}
	var names []string
	for i := range cases {
		names = append(names, "test/smuggler-"+string(rune('0'+i)))
	}
	if _, err := newDatanet(t, e.reg, owner, registry.Datanet{Name: "vault", PricePerRead: "5",
		Policy: registry.Policy{Access: registry.AccessOpen, Attribution: names}}); err != nil {
		t.Fatal(err)
	}
	var secretID string
	for _, content := range []string{"Sky blue comes from sunlight scattered by the air.", vaultSecret} {
		rec, _, err := e.reg.AddRecord(ctx, "vault", registry.Address(owner), content, mustSign(t, owner, registry.Domain{}.RecordDigest("vault", content)))
		if err != nil {
			t.Fatal(err)
		}
		secretID = rec.ID
	}
	// Words of the secret are looked for outside the receipt's hashes and
	// signatures, where "4471" turns up by chance; the secret's hex and id
	// are long enough to look for everywhere.
	words := []string{"Zebra", "4471", "midnight"}
	leaks := []string{hex.EncodeToString([]byte(vaultSecret)[:6]), secretID}
	hashes := regexp.MustCompile(`"(0x)?[0-9a-fA-F]{16,}"`)
	caller, _ := e.fund(t, 100_000)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := names[i]
			if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: name, Version: "1.0.0", Kind: abi.KindAttribution, Methods: c.methods,
				Config: map[string]string{"probe": strings.ToLower(vaultSecret), "mode": c.mode, "guess": secretID}}, smugglerWasm(t)); err != nil {
				t.Fatal(err)
			}
			agent := "test/asker-" + string(rune('0'+i))
			if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: agent, Version: "1.0.0", Kind: abi.KindAgent, Price: "1000",
				Datanets: []string{"vault"}, Attribution: name + "@1.0.0", Limits: &registry.Limits{MaxRecords: 16}}, examples.QA); err != nil {
				t.Fatal(err)
			}
			before, _ := e.led.Balance(ctx, caller)
			res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: agent + "@1.0.0", Input: []byte("Why is the sky blue?")})
			if err != nil {
				t.Fatal(err)
			}
			rc := res.Receipt
			read := map[string]bool{}
			for _, a := range rc.Accesses {
				read[a.Record] = true
			}
			if len(read) == 0 || read[secretID] {
				t.Fatalf("the agent read %v; the test needs it to read the public record only", rc.Accesses)
			}
			after, _ := e.led.Balance(ctx, caller)
			if paid, want := new(big.Int).Sub(before, after).Int64(), int64(1000+5*len(rc.Accesses)); paid != want {
				t.Fatalf("charged %d, want the price and %d reads: %d", paid, len(rc.Accesses), want)
			}
			if got := rc.Method; (strings.HasSuffix(c.method, ":") && !strings.HasPrefix(got, c.method)) || (!strings.HasSuffix(c.method, ":") && got != c.method) {
				t.Fatalf("method %q, want %q", got, c.method)
			}
			var sum float64
			for _, s := range rc.Scores {
				if !read[s.Record] {
					t.Fatalf("a score on record %s, which the agent did not read", s.Record)
				}
				if s.Weight != math.Trunc(s.Weight) || s.Weight <= 0 || s.Weight > attribution.WeightUnits {
					t.Fatalf("weight %v is not a quantised share", s.Weight)
				}
				sum += s.Weight
			}
			if len(rc.Scores) == 0 || sum != attribution.WeightUnits {
				t.Fatalf("scores %+v do not sum to %d", rc.Scores, attribution.WeightUnits)
			}
			var attributed int64
			for _, p := range rc.Postings {
				if p.Kind == ledger.KindAttribution {
					attributed += p.Amount.Int64()
				}
			}
			if attributed != 300 { // the contributors' 30% of the price, to the records read
				t.Fatalf("contributors got %d of the price, want 300", attributed)
			}
			b, _ := json.Marshal(rc)
			for _, l := range leaks {
				if strings.Contains(string(b), l) {
					t.Fatalf("the receipt carries %q: %s", l, b)
				}
			}
			for _, w := range words {
				if strings.Contains(hashes.ReplaceAllString(string(b), `"#"`), w) {
					t.Fatalf("the receipt carries %q: %s", w, b)
				}
			}
		})
	}
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.verifyEpoch(ctx, ep.N); err != nil || !v.OK() || v.Receipts != len(cases) {
		t.Fatalf("verify: %+v, %v", v, err)
	}
}

// allowAttribution lets the attribution plugins names read datanet,
// signed by its owner, keeping the rest of its policy.
func (e *env) allowAttribution(t *testing.T, datanet string, owner *ecdsa.PrivateKey, names ...string) {
	t.Helper()
	d, err := e.reg.Datanet(context.Background(), datanet)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Policy
	p.Attribution = names
	if err := e.reg.SetPolicy(context.Background(), datanet, p, mustSign(t, owner, e.reg.Domain().PolicyDigest(datanet, d.PolicyNonce, p))); err != nil {
		t.Fatal(err)
	}
}

// A datanet's owner says which attribution plugins may read its records:
// an agent naming another is refused at publish, and, once the owner
// withdraws consent, at invoke, with grant_denied, before anything is
// reserved or charged.
func TestDatanetPolicyRefusesAttributionPlugin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dev := key(t)
	position, err := os.ReadFile("../examples/attribution/position/position.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: "acme/position", Version: "1.0.0", Kind: abi.KindAttribution, Methods: []string{"position/v1"}}, position); err != nil {
		t.Fatal(err)
	}
	agent := registry.Manifest{Name: "acme/qa-position", Version: "1.0.0", Kind: abi.KindAgent, Price: "1000",
		Datanets: []string{"facts"}, Attribution: "acme/position@1.0.0", Limits: &registry.Limits{MaxRecords: 16}}
	// facts admits the built-ins only.
	if _, err := e.h.Publish(ctx, dev, agent, examples.QA); abi.CodeOf(err) != abi.CodeGrantDenied {
		t.Fatalf("publishing an agent whose attribution plugin facts does not admit: %v", err)
	}
	e.allowAttribution(t, "facts", e.owner, "builtin/ngram", "acme/position")
	if _, err := e.h.Publish(ctx, dev, agent, examples.QA); err != nil {
		t.Fatal(err)
	}
	caller, _ := e.fund(t, 100_000)
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa-position@1.0.0", Input: []byte("Why is the sky blue?")})
	if err != nil || res.Receipt.Method != "position/v1" {
		t.Fatalf("invoke while admitted: %+v, %v", res, err)
	}
	// The owner withdraws consent: the next call is refused and free.
	e.allowAttribution(t, "facts", e.owner, "builtin/ngram")
	before, _ := e.led.Balance(ctx, caller)
	receipts, _ := e.led.Receipts(ctx, 1)
	_, err = e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa-position@1.0.0", Input: []byte("Why is the sky blue?")})
	if abi.CodeOf(err) != abi.CodeGrantDenied {
		t.Fatalf("invoke after the owner withdrew consent: %v, want %s", err, abi.CodeGrantDenied)
	}
	after, _ := e.led.Balance(ctx, caller)
	if after.Cmp(before) != 0 {
		t.Fatalf("a refused call was charged: %s -> %s", before, after)
	}
	if again, _ := e.led.Receipts(ctx, 1); len(again) != len(receipts) {
		t.Fatalf("a refused call left a receipt: %d -> %d", len(receipts), len(again))
	}
	// The built-in default still serves the datanet.
	if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
		t.Fatal(err)
	}
}
