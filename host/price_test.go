package host_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/rules"
)

// A caller is shown an agent's price and calls with it as max_price; the
// publisher republishes name@latest at a higher price in between. The call
// is refused with price_exceeded and charges nothing; the same call that
// agrees to the new price, names the old version, or sets no bound (as
// before max_price existed) runs.
func TestRepriceBetweenQuoteAndCallIsRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, tok := e.fund(t, 300_000)
	dev := key(t)
	publish := func(version, price string) {
		t.Helper()
		if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: "dev/priced", Version: version, Kind: abi.KindAgent, Price: price,
			Datanets: []string{"facts"}, Limits: &registry.Limits{MaxRecords: 16}}, examples.QA); err != nil {
			t.Fatal(err)
		}
	}
	publish("1.0.0", "1000")

	// What the caller is shown.
	got := e.postTo(t, e.url, "RegistryService/GetPlugin", "", map[string]any{"ref": "dev/priced@latest"})
	var shown registry.Manifest
	if got.status != 200 || json.Unmarshal([]byte(got.out["plugin"].(map[string]any)["manifestJson"].(string)), &shown) != nil || shown.Price != "1000" {
		t.Fatalf("get plugin: %+v", got)
	}
	publish("1.1.0", "90000")

	call := func(agent, maxPrice string) reply {
		body := map[string]any{"agent": agent, "inputText": "Why is the sky blue?"}
		if maxPrice != "" {
			body["maxPrice"] = maxPrice
		}
		return e.postTo(t, e.url, "AgentService/Invoke", tok, body)
	}
	r := call("dev/priced@latest", shown.Price)
	if r.status != 400 || abi.Code(r.code) != rules.CodePriceExceeded || !strings.Contains(r.out["message"].(string), "90000") {
		t.Fatalf("a call after the reprice, with the price shown before: %+v", r)
	}
	if bal, _ := e.led.Balance(ctx, caller); bal.Int64() != 300_000 {
		t.Fatalf("a refused call changed the caller's balance to %s", bal)
	}
	if earned, _ := e.led.Earned(ctx, registry.Address(dev)); earned.Sign() != 0 {
		t.Fatalf("a refused call paid the publisher %s", earned)
	}
	if r := call("dev/priced@latest", "0"); abi.Code(r.code) != rules.CodePriceExceeded {
		t.Fatalf("max_price 0 for a priced agent: %+v", r)
	}

	// The version the caller was shown, with its price: runs, at that price.
	r = call("dev/priced@1.0.0", shown.Price)
	if r.status != 200 {
		t.Fatalf("the shown version at the shown price: %+v", r)
	}
	charged, _ := new(big.Int).SetString(r.out["receipt"].(map[string]any)["charged"].(string), 10)
	if charged.Int64() < 1000 || charged.Int64() >= 90000 {
		t.Fatalf("charged %s for the 1000 version", charged)
	}
	// Agreeing to the new price, or to no bound at all, runs the new one.
	if r := call("dev/priced@latest", "90000"); r.status != 200 || !strings.Contains(r.out["receipt"].(map[string]any)["agent"].(string), "1.1.0") {
		t.Fatalf("a call agreeing to the new price: %+v", r)
	}
	if r := call("dev/priced@latest", ""); r.status != 200 {
		t.Fatalf("a call without max_price: %+v", r)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A max_price that is not a decimal integer of base units in [0, 2^256)
// is refused as a bad request, before the agent is looked at, and charges
// nothing.
func TestMalformedMaxPriceIsRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, tok := e.fund(t, 10_000)
	tooBig := new(big.Int).Lsh(big.NewInt(1), 256).String()
	for _, bad := range []string{"abc", "-1", "+5", "1.5", "1e3", "0x10", " 5", "5 ", "1_000", tooBig} {
		t.Run(bad, func(t *testing.T) {
			for _, agent := range []string{"acme/qa@latest", "acme/nope@1.0.0"} {
				r := e.postTo(t, e.url, "AgentService/Invoke", tok, map[string]any{"agent": agent, "inputText": "sky", "maxPrice": bad})
				if r.status != 400 || abi.Code(r.code) != abi.CodeBadRequest || !strings.Contains(r.out["message"].(string), "max_price") {
					t.Fatalf("max_price %q for %s: %+v", bad, agent, r)
				}
			}
		})
	}
	if bal, _ := e.led.Balance(ctx, caller); bal.Int64() != 10_000 {
		t.Fatalf("refused calls changed the balance to %s", bal)
	}
	// The largest bound there is, is a bound.
	largest := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)).String()
	if r := e.postTo(t, e.url, "AgentService/Invoke", tok, map[string]any{"agent": "acme/qa@latest", "inputText": "sky", "maxPrice": largest}); r.status != 200 {
		t.Fatalf("max_price 2^256-1: %+v", r)
	}
}

// An operator's floor on the price per call: an agent priced below it is
// refused at publish and, if it was published before the floor was set,
// at invoke, charging nothing; agents at or above it run.
func TestOperatorsMinimumPrice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 10_000)
	free, err := e.h.Publish(ctx, key(t), registry.Manifest{Name: "acme/free", Version: "1.0.0", Kind: abi.KindAgent, Price: "0"}, examples.QA)
	if err != nil {
		t.Fatal(err)
	}
	floored, err := host.New(host.Config{Registry: e.reg, Ledger: e.led, Runtime: e.rt, Operator: e.operator, MinPrice: big.NewInt(1000)})
	if err != nil {
		t.Fatal(err)
	}
	defer floored.Close(ctx)
	before, err := e.led.Balance(ctx, caller)
	if err != nil {
		t.Fatal(err)
	}
	_, err = floored.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: free.Manifest.Ref(), Input: []byte("hi")})
	if abi.CodeOf(err) != rules.CodeBelowMinPrice {
		t.Fatalf("a price-0 agent under a floor of 1000: %v, want %s", err, rules.CodeBelowMinPrice)
	}
	if after, _ := e.led.Balance(ctx, caller); after.Cmp(before) != 0 {
		t.Fatalf("a refused call moved the caller's credit from %s to %s", before, after)
	}
	if _, err := floored.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
		t.Fatalf("an agent priced at the floor: %v", err)
	}
	pub := key(t)
	m := registry.Manifest{Name: "acme/cheap", Version: "1.0.0", Kind: abi.KindAgent, Price: "999", WasmSHA256: fmt.Sprintf("%x", sha256.Sum256(examples.QA)), Publisher: registry.Address(pub)}
	sig, _ := registry.Sign(pub, e.reg.Domain().ManifestDigest(m))
	if _, err := floored.PublishSigned(ctx, m, sig, examples.QA); abi.CodeOf(err) != rules.CodeBelowMinPrice {
		t.Fatalf("publishing an agent below the floor: %v, want %s", err, rules.CodeBelowMinPrice)
	}
	if _, err := host.New(host.Config{Registry: e.reg, Ledger: e.led, Runtime: e.rt, Operator: e.operator, MinPrice: big.NewInt(-1)}); err == nil {
		t.Fatal("a negative floor was accepted")
	}
}
