package host_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/attribution"
	"github.com/tollgate-dev/tollgate/examples/knn"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

// The knn example agent labels its input by its nearest labelled records,
// and the knnshapley plugin pays those records their exact Shapley values:
// the receipt's weights are the values the closed form gives natively for
// the same records (quantised), records that argued for another label get
// nothing, the contributors' share of the price goes to the rest, and a
// third party re-running the epoch gets the same.
func TestKNNShapleyPaysTheRecordsThatVoted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner, dev := key(t), key(t)
	agentWasm, err := os.ReadFile("../examples/agents/knn/knn.wasm")
	if err != nil {
		t.Fatal(err)
	}
	attrWasm, err := os.ReadFile("../examples/attribution/knnshapley/knnshapley.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newDatanet(t, e.reg, owner, registry.Datanet{Name: "pets", PricePerRead: "3",
		Policy: registry.Policy{Access: registry.AccessOpen, Attribution: []string{"acme/knnshapley"}}}); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{
		"dog\ta small dog that barks at the door",
		"dog\tthe dog barks and wags its tail",
		"cat\ta small cat that purrs on the sofa",
		"dog\tbig dog barks at night",
		"cat\tthe cat sleeps and purrs",
		"bird\ta small bird that sings at the door",
		"not labelled: a dog story without a tab",
	} {
		if _, _, err := e.reg.AddRecord(ctx, "pets", registry.Address(owner), content, mustSign(t, owner, registry.Domain{}.RecordDigest("pets", content))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: "acme/knnshapley", Version: "1.0.0", Kind: abi.KindAttribution, Methods: []string{"knn-shapley/v1"}}, attrWasm); err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Publish(ctx, dev, registry.Manifest{Name: "acme/knn", Version: "1.0.0", Kind: abi.KindAgent, Price: "10000",
		Datanets: []string{"pets"}, Attribution: "acme/knnshapley@1.0.0", Config: map[string]string{"k": "3"},
		Limits: &registry.Limits{MaxRecords: 64}}, agentWasm); err != nil {
		t.Fatal(err)
	}
	caller, _ := e.fund(t, 1_000_000)
	const input = "a small dog that barks"
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/knn@1.0.0", Input: []byte(input)})
	if err != nil {
		t.Fatal(err)
	}
	var p knn.Prediction
	if err := json.Unmarshal(res.Output, &p); err != nil || p.Label != "dog" || p.K != 3 {
		t.Fatalf("answer %s (%v)", res.Output, err)
	}
	rc := res.Receipt
	if rc.Method != "knn-shapley/v1" {
		t.Fatalf("method %q", rc.Method)
	}
	// The same values, natively, from the records the receipt says were read.
	var examples []knn.Example
	seen := map[string]bool{}
	for _, a := range rc.Accesses {
		if seen[a.Record] {
			continue
		}
		seen[a.Record] = true
		r, err := e.reg.Get(ctx, "pets", a.Record)
		if err != nil {
			t.Fatal(err)
		}
		if ex, ok := knn.Parse(r.ID, r.Content); ok {
			examples = append(examples, ex)
		}
	}
	ranked := knn.Rank(knn.Features(input), examples)
	values := knn.Shapley(ranked, "dog", 3)
	want := map[string]float64{}
	sum := 0.0
	for i, v := range values {
		if v > 0 {
			want[ranked[i].ID] = v
			sum += v
		}
	}
	if len(want) == 0 || len(want) == len(examples) {
		t.Fatalf("values %v: the test needs some records paid and some not", values)
	}
	got := map[string]float64{}
	for _, s := range rc.Scores {
		got[s.Record] = s.Weight / attribution.WeightUnits
	}
	if len(got) != len(want) {
		t.Fatalf("scored %v, want %v", got, want)
	}
	for id, v := range want {
		if math.Abs(got[id]-v/sum) > 2.0/attribution.WeightUnits {
			t.Fatalf("record %s: weight %v, its Shapley share %v", id, got[id], v/sum)
		}
	}
	var attributed int64
	for _, post := range rc.Postings {
		if post.Kind == ledger.KindAttribution {
			attributed += post.Amount.Int64()
		}
	}
	if attributed != 3000 { // the contributors' 30% of the price
		t.Fatalf("contributors got %d of the price, want 3000", attributed)
	}
	// A third party re-runs the plugin on the receipt and gets the same.
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.verifyEpoch(ctx, ep.N); err != nil || !v.OK() || v.Receipts != 1 {
		t.Fatalf("verify: %+v, %v", v, err)
	}
}
