package host_test

import (
	"context"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/api"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

var reader struct {
	once sync.Once
	wasm []byte
	err  error
}

// readerWasm builds testdata/reader, the agent that reads and misbehaves.
func readerWasm(t *testing.T) []byte {
	t.Helper()
	reader.once.Do(func() {
		out := filepath.Join(os.TempDir(), "tollgate-host-reader.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", out, "./testdata/reader")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			reader.err = err
			t.Logf("%s", b)
			return
		}
		reader.wasm, reader.err = os.ReadFile(out)
	})
	if reader.err != nil {
		t.Fatal("build testdata/reader:", reader.err)
	}
	return reader.wasm
}

// publishReader publishes the reader agent calling export, at price 1000.
func (e *env) publishReader(t *testing.T, name, export string) string {
	t.Helper()
	if _, err := e.h.Publish(context.Background(), key(t), registry.Manifest{Name: name, Version: "1.0.0", Kind: abi.KindAgent, Price: "1000",
		Export: export, Datanets: []string{"facts"}, Limits: &registry.Limits{MaxRecords: 64}}, readerWasm(t)); err != nil {
		t.Fatal(err)
	}
	return name + "@1.0.0"
}

// Earnings pay for nothing off-chain: the operator, which earns every
// protocol fee, cannot spend them on calls, and the next root counts them
// once.
func TestEarningsDoNotPayForCalls(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 100_000)
	if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
		t.Fatal(err)
	}
	op := e.h.Operator()
	if earned, _ := e.led.Earned(ctx, op); earned.Sign() <= 0 {
		t.Fatalf("operator earned %s", earned)
	}
	_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: op, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")})
	if abi.CodeOf(err) != abi.CodeInsufficientCredit {
		t.Fatalf("the operator spent its earnings: %v", err)
	}
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left, _ := e.led.Balance(ctx, caller)
	if owed := new(big.Int).Add(left, ep.Total); owed.Int64() != 100_000 {
		t.Fatalf("credit %s + root total %s = %s, deposited 100000", left, ep.Total, owed)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A call that fails after reading records pays for those records, to their
// contributors, and not the price; its receipt says it failed, joins the
// epoch and verifies. The caller gets the failure's code and capped text
// that carries none of the output.
func TestFailedCallPaysForItsReads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 100_000)
	cases := []struct {
		export string
		code   abi.Code
	}{
		{"read_then_fail", abi.CodePluginError},
		{"read_then_output_fail", abi.CodePluginError},
	}
	charged := new(big.Int)
	for _, c := range cases {
		t.Run(c.export, func(t *testing.T) {
			agent := e.publishReader(t, "test/"+strings.ReplaceAll(c.export, "_", "-"), c.export)
			before, _ := e.led.Balance(ctx, caller)
			aliceBefore, _ := e.led.Earned(ctx, registry.Address(e.alice))
			_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: agent, Input: []byte("sky blue"), RequestID: c.export})
			if abi.CodeOf(err) != c.code {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			if msg := err.Error(); len(msg) > runtime.MaxErrorText+200 {
				t.Fatalf("the error carries the records (%d bytes): %.300s", len(msg), msg)
			}
			if strings.Contains(c.export, "output") && strings.Contains(err.Error(), "scatters") {
				t.Fatalf("the error carries the output: %s", err)
			}
			after, _ := e.led.Balance(ctx, caller)
			paid := new(big.Int).Sub(before, after)
			if paid.Sign() <= 0 || paid.Int64()%7 != 0 || paid.Int64() >= 1000 {
				t.Fatalf("a failed call that read records was charged %s, want a multiple of the read fee 7 without the price", paid)
			}
			charged.Add(charged, paid)
			if aliceAfter, _ := e.led.Earned(ctx, registry.Address(e.alice)); aliceAfter.Cmp(aliceBefore) <= 0 {
				t.Fatal("the contributor of the record read was not paid")
			}
			rs, _ := e.led.Receipts(ctx, 1)
			var rc *ledger.Receipt
			for _, r := range rs {
				if r.RequestID == c.export {
					rc = r
				}
			}
			if rc == nil || rc.Method != "failed:"+string(c.code) || rc.Debit().Cmp(paid) != 0 || len(rc.Scores) != 0 {
				t.Fatalf("receipt of the failed call: %+v", rc)
			}
			// A retry of the same request is the same failure, charged once.
			_, err = e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: agent, Input: []byte("sky blue"), RequestID: c.export})
			if abi.CodeOf(err) != c.code {
				t.Fatalf("retry: %v", err)
			}
			if again, _ := e.led.Balance(ctx, caller); again.Cmp(after) != 0 {
				t.Fatalf("a retried failure was charged again: %s -> %s", after, again)
			}
		})
	}
	ep, err := e.s.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.verifyEpoch(ctx, ep.N); err != nil || !v.OK() || v.Receipts != len(cases) {
		t.Fatalf("the epoch of failed calls does not verify: %+v, %v", v, err)
	}
	if err := e.led.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// Reads are charged as they happen: a caller with credit for the price and
// three reads can start a call allowed 64 reads, gets three records, and
// sees the fourth refused for credit; the call itself succeeds and is
// charged exactly what it read.
func TestReadsAreChargedAsTheyHappen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 1000+3*7)
	agent := e.publishReader(t, "test/read-many", "read_many")
	recs, err := e.reg.Search(ctx, "facts", "sky", 1)
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: agent, Input: []byte(recs[0].ID)})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Output); !strings.HasPrefix(got, "xxx|"+string(abi.CodeInsufficientCredit)) {
		t.Fatalf("output %q: want three reads, then insufficient credit", got)
	}
	if res.Receipt.Debit().Int64() != 1000+3*7 || len(res.Receipt.Accesses) != 3 {
		t.Fatalf("charged %s for %d reads", res.Receipt.Debit(), len(res.Receipt.Accesses))
	}
	if left, _ := e.led.Balance(ctx, caller); left.Sign() != 0 {
		t.Fatalf("credit left %s", left)
	}
}

// A request id names one request: the same id with another input or agent
// is refused, a retry says it is a replay, and ids are bounded.
func TestRequestIDIsBoundToItsRequest(t *testing.T) {
	e := newEnv(t)
	_, tok := e.fund(t, 100_000)
	ask := func(agent, q, id string) (int, map[string]any) {
		status, hdr, out := e.post(t, "AgentService/Invoke", tok, map[string]any{"agent": agent, "inputText": q, "requestId": id})
		if status != 200 {
			out["tollgate-code"] = hdr.Get(api.CodeHeader)
		}
		return status, out
	}
	if status, out := ask("acme/qa@1.0.0", "Why is the sky blue?", "once"); status != 200 || out["replayed"] == true {
		t.Fatalf("first call: %d %v", status, out)
	}
	if status, out := ask("acme/qa@latest", "Why is the sky blue?", "once"); status != 200 || out["replayed"] != true {
		t.Fatalf("retry: %d %v", status, out)
	}
	if status, out := ask("acme/qa@1.0.0", "When does water boil?", "once"); status == 200 || out["tollgate-code"] != string(ledger.CodeRequestConflict) {
		t.Fatalf("same id, other input: %d %v", status, out)
	}
	if status, out := ask("acme/qa@1.0.0", "Why is the sky blue?", strings.Repeat("x", ledger.MaxRequestIDBytes+1)); status == 200 || out["tollgate-code"] != string(abi.CodeBadRequest) {
		t.Fatalf("oversized id: %d %v", status, out)
	}
}

// A proof says whether its root was ever posted on-chain.
func TestProofSaysWhetherItsRootIsPosted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 100_000)
	if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	status, _, out := e.post(t, "LedgerService/GetProof", "", map[string]any{"account": registry.Address(e.alice)})
	if status != 200 || out["posted"] != true || out["postTx"] == "" {
		t.Fatalf("proof of a posted root: %d %v", status, out)
	}
	if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.led.CloseEpoch(ctx, ledger.Domain{ChainID: e.chain.ChainID(), Settlement: e.chain.Deployment().Settlement}); err != nil {
		t.Fatal(err)
	}
	status, _, out = e.post(t, "LedgerService/GetProof", "", map[string]any{"account": registry.Address(e.alice)})
	if status != 200 || out["posted"] == true {
		t.Fatalf("proof of a root never posted: %d %v", status, out)
	}
	if _, err := e.s.Settle(ctx); abi.CodeOf(err) != ledger.CodeEpochEmpty {
		t.Fatalf("settling with nothing new: %v", err)
	}
}

// Limits and instance reuse belong to the manifest: two manifests that
// publish the same bytes run under their own limits, whichever compiled
// first, and never share an instance.
func TestManifestsSharingBytesKeepTheirOwnLimitsAndState(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 1_000_000)
	dev := key(t)
	publish := func(name string, m registry.Manifest, wasm []byte) string {
		m.Name, m.Version, m.Kind, m.Price, m.Datanets = name, "1.0.0", abi.KindAgent, "10", []string{"facts"}
		if _, err := e.h.Publish(ctx, dev, m, wasm); err != nil {
			t.Fatal(err)
		}
		return name + "@1.0.0"
	}
	// Same bytes as acme/qa (16 records), but one record at most.
	tight := publish("acme/qa-tight", registry.Manifest{Limits: &registry.Limits{MaxRecords: 1}}, examples.QA)
	if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: tight, Input: []byte("sky water bees")})
	if abi.CodeOf(err) != abi.CodeRecordLimit {
		t.Fatalf("a manifest allowed 1 record ran under another's 16: %v", err)
	}

	reuse := publish("test/leak-reuse", registry.Manifest{Export: "leak", ReuseWithinCaller: true}, readerWasm(t))
	fresh := publish("test/leak-fresh", registry.Manifest{Export: "leak"}, readerWasm(t))
	if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: reuse, Input: []byte("kept for my next call")}); err != nil {
		t.Fatal(err)
	}
	res, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: fresh, Input: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 0 {
		t.Fatalf("a manifest without reuse continued another manifest's instance: %q", res.Output)
	}
	res, err = e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: reuse, Input: []byte("y")})
	if err != nil || string(res.Output) != "kept for my next call" {
		t.Fatalf("reuse within the caller and manifest: %q %v", res.Output, err)
	}
}

// A crash between closing an epoch and posting its root, or between posting
// and recording the post, is finished by ResumeSettlement: the root the
// contract holds is always the ledger's last closed one.
func TestResumeSettlementFinishesAnInterruptedPost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller, _ := e.fund(t, 100_000)
	invoke := func() {
		t.Helper()
		if _, err := e.h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?")}); err != nil {
			t.Fatal(err)
		}
	}
	domain := ledger.Domain{ChainID: e.chain.ChainID(), Settlement: e.chain.Deployment().Settlement}
	operator := e.operator

	// Closed, never sent.
	invoke()
	e1, err := e.led.CloseEpoch(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.ResumeSettlement(ctx); err != nil {
		t.Fatal(err)
	}
	if n, root, _ := e.chain.PostedEpoch(ctx); n != e1.N || root != e1.Root {
		t.Fatalf("after resume the chain holds epoch %d %s, want %d %s", n, root, e1.N, e1.Root)
	}
	if got, _ := e.led.Epoch(ctx, e1.N); got.PostTx == "" || got.PostTx != got.PostIntent {
		t.Fatalf("epoch 1 after resume: %+v", got)
	}

	// Sent and mined, but the crash came before the ledger recorded it.
	invoke()
	e2, err := e.led.CloseEpoch(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := e.chain.PostRoot(ctx, operator, e2.N, e2.Root, e2.Total, e2.Bundle, func(tx, raw string) error { return e.led.SetPostIntent(ctx, e2.N, tx, raw) })
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.ResumeSettlement(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.led.Epoch(ctx, e2.N); got.PostTx != tx {
		t.Fatalf("epoch 2 post tx %q, want %q", got.PostTx, tx)
	}
	// Signed and recorded, then the crash came before it was sent: the
	// same transaction (same hash, same nonce) is sent on resume.
	invoke()
	e3, err := e.led.CloseEpoch(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	var intended string
	crash := errors.New("crash before send")
	if _, err := e.chain.PostRoot(ctx, operator, e3.N, e3.Root, e3.Total, e3.Bundle, func(tx, raw string) error {
		intended = tx
		if err := e.led.SetPostIntent(ctx, e3.N, tx, raw); err != nil {
			return err
		}
		return crash
	}); !errors.Is(err, crash) {
		t.Fatalf("post: %v", err)
	}
	if n, _, _ := e.chain.PostedEpoch(ctx); n != e2.N {
		t.Fatalf("a post that was never sent landed: chain at epoch %d", n)
	}
	if err := e.s.ResumeSettlement(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.led.Epoch(ctx, e3.N); got.PostTx != intended {
		t.Fatalf("epoch 3 posted by %q, the recorded intent was %q", got.PostTx, intended)
	}
	if n, root, _ := e.chain.PostedEpoch(ctx); n != e3.N || root != e3.Root {
		t.Fatalf("chain holds epoch %d %s, want %d %s", n, root, e3.N, e3.Root)
	}
	// Resuming again, or settling, posts nothing twice.
	if err := e.s.ResumeSettlement(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Settle(ctx); abi.CodeOf(err) != ledger.CodeEpochEmpty {
		t.Fatalf("settle with nothing new: %v", err)
	}
}
