package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/crypto"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/internal/keys"
	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/settle"
)

// servingHost is one `serve` process of several sharing a store.
type servingHost struct {
	args   []string
	child  *exec.Cmd
	api    string
	banner string // what it said of its writer seat
}

func (h *servingHost) start(t *testing.T) map[string]string {
	t.Helper()
	child, r := startServeWith(t, h.args...)
	info := readUntilServing(t, r)
	h.child, h.api, h.banner = child, info["api"], info["seat"]
	if !strings.Contains(h.api, "://") {
		h.api = "http://" + h.api
	}
	return info
}

func (h *servingHost) kill() {
	h.child.Process.Kill()
	h.child.Wait()
}

// Three `serve` processes share one PostgreSQL and one geth --dev, with
// callers spread across them. PostgreSQL is killed (-9) and restarted
// under load, then one host is; each caller retries its own request ids,
// on another host when its own is down. At the end the money invariants
// hold over the whole store, the caller's credit and every earning add up
// to what was deposited, no request id is charged twice, every
// acknowledged call has its receipt, the settling host posts the epoch's
// root once (another host refuses to), a third party rebuilds that root
// through a host that did not post it, and the caller claims on-chain what
// it withdrew on all three hosts.
func TestThreeHostsShareOneStoreAndOneChain(t *testing.T) {
	if testing.Short() {
		t.Skip("three hosts in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	ipc, logs := startGethDev(t, ctx)
	pg, err := pgtest.Start(pgtest.Bin(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	if err := pg.CreateDB("books"); err != nil {
		t.Fatal(err)
	}
	dsn := pg.URL("books")
	devKey, _ := crypto.HexToECDSA(gethDevKey)
	keyFile, passFile := filepath.Join(t.TempDir(), "operator.json"), filepath.Join(t.TempDir(), "pass")
	os.WriteFile(passFile, []byte("correct horse\n"), 0o600)
	if err := keys.Write(keyFile, devKey, "correct horse", keys.Light); err != nil {
		t.Fatal(err)
	}
	hosts := make([]*servingHost, 3)
	for i := range hosts {
		hosts[i] = &servingHost{args: []string{"serve", "--data", t.TempDir(), "--store", dsn, "--rpc", ipc, "--key", keyFile,
			"--passphrase-file", passFile, "--addr", "127.0.0.1:0", "--confirmations", "0", "--challenge-delay", "2"}}
	}
	defer func() {
		for _, h := range hosts {
			if h.child != nil {
				h.kill()
			}
		}
	}()
	first := hosts[0].start(t) // deploys, seeds the example agent, funds a caller
	caller, callTok, opTok := first["funded caller"], first["caller token"], first["operator token"]
	if callTok == "" || opTok == "" {
		t.Fatalf("the first host printed no tokens: %v", first)
	}
	hosts[1].start(t)
	hosts[2].start(t)
	for i, h := range hosts {
		if want := fmt.Sprintf("writer seat %d of", i); !strings.Contains(h.banner, want) {
			t.Fatalf("host %d's start says %q, want %q", i, h.banner, want)
		}
	}

	// Callers: two per host, each with its own request ids, retrying a
	// request until it is answered (on the next host while its own is
	// down), as a client behind a balancer does.
	var mu sync.Mutex
	acked := map[string]string{} // request id -> receipt id
	var down [3]bool
	invokeUntilAnswered := func(ctx context.Context, h int, req string) {
		for try := 0; ctx.Err() == nil; try++ {
			mu.Lock()
			at := (h + try) % 3
			for down[at] {
				at = (at + 1) % 3
			}
			api := hosts[at].api
			mu.Unlock()
			status, out := postJSON(ctx, api, "AgentService/Invoke", callTok,
				map[string]any{"agent": exampleAgent + "@latest", "inputText": "Why is the sky blue?", "requestId": req})
			if status == 200 {
				rc, _ := out["receipt"].(map[string]any)
				mu.Lock()
				if prev, ok := acked[req]; ok && prev != rc["id"] {
					t.Errorf("request %s answered with receipts %s and %s", req, prev, rc["id"])
				}
				acked[req] = rc["id"].(string)
				mu.Unlock()
				return
			}
			if status == 400 || try == 400 {
				t.Errorf("request %s on %s, try %d: %d %v", req, api, try, status, out)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	load := func(d time.Duration, round int) {
		lctx, stop := context.WithTimeout(ctx, d)
		defer stop()
		// The caller has 1 TGT and a call costs up to 0.01: a few calls
		// per host and round, spread over it, leave enough to withdraw.
		var wg sync.WaitGroup
		for h := range 3 {
			wg.Go(func() {
				for i := 0; i < 4 && lctx.Err() == nil; i++ {
					invokeUntilAnswered(ctx, h, fmt.Sprintf("r%d-h%d-%d", round, h, i))
					select {
					case <-lctx.Done():
					case <-time.After(d / 5):
					}
				}
			})
		}
		wg.Wait()
	}

	load(3*time.Second, 0)
	// PostgreSQL dies under load and comes back.
	var wg sync.WaitGroup
	wg.Go(func() { load(6*time.Second, 1) })
	time.Sleep(2 * time.Second)
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // the hosts' keepers retake their seats
	// A host dies under load and comes back.
	wg.Go(func() { load(6*time.Second, 2) })
	time.Sleep(2 * time.Second)
	mu.Lock()
	down[1] = true
	mu.Unlock()
	hosts[1].kill()
	hosts[1].start(t)
	mu.Lock()
	down[1] = false
	mu.Unlock()
	wg.Wait()

	// The caller withdraws on each host.
	for _, h := range hosts {
		var out bytes.Buffer
		if err := run(ctx, []string{"withdraw", "--server", h.api, "--token", callTok, "0.05"}, &out); err != nil {
			t.Fatalf("withdraw on %s: %v\n%s", h.api, err, out.String())
		}
	}
	// Only the settling host closes and posts.
	closeOn := func(h *servingHost) (*tollgatev1.CloseEpochResponse, error) {
		op := newClient(h.api, opTok)
		res, err := op.ledger.CloseEpoch(ctx, authed(op, &tollgatev1.CloseEpochRequest{}))
		if err != nil {
			return nil, err
		}
		return res.Msg, nil
	}
	if _, err := closeOn(hosts[2]); apiCode(err) != settle.CodeNotSettler {
		t.Fatalf("closing on a host that does not settle: %v, want %s", err, settle.CodeNotSettler)
	}
	e, err := closeOn(hosts[0])
	if err != nil || e.GetPostTx() == "" {
		t.Fatalf("close epoch 1 on the settling host: %v %v\n%s", e, err, logs.String())
	}

	// The books, read while the hosts run.
	var out bytes.Buffer
	if err := run(ctx, []string{"check", "--store", dsn}, &out); err != nil {
		t.Fatalf("check --store: %v\n%s", err, out.String())
	}
	s, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.OpenStore(s, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	receipts, err := led.Receipts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	byRequest := map[string]string{}
	for _, r := range receipts {
		if r.RequestID == "" {
			continue
		}
		if prev, ok := byRequest[r.RequestID]; ok {
			t.Fatalf("request %s charged twice: receipts %s and %s", r.RequestID, prev, r.ID)
		}
		byRequest[r.RequestID] = r.ID
	}
	rounds := map[string]int{}
	for req, id := range acked {
		if byRequest[req] != id {
			t.Fatalf("acknowledged request %s (receipt %s) has receipt %q in the books", req, id, byRequest[req])
		}
		rounds[req[:2]]++
	}
	if rounds["r0"] == 0 || rounds["r1"] == 0 || rounds["r2"] == 0 {
		t.Fatalf("acknowledged calls per round: %v", rounds)
	}
	tot, err := led.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := attachRPC(t, ctx, hosts[0].args[2], ipc)
	if onChain, err := c.TotalDeposited(ctx); err != nil || onChain.Cmp(tot.Deposited) != 0 {
		t.Fatalf("the books credit %s of deposits, the contract holds %s (%v)", tot.Deposited, onChain, err)
	}
	if owed := new(big.Int).Add(tot.Credit, tot.Earned); owed.Cmp(tot.Deposited) != 0 {
		t.Fatalf("credit %s + earnings %s != deposited %s", tot.Credit, tot.Earned, tot.Deposited)
	}

	// A third party rebuilds the posted root through a host that did not
	// post it.
	out.Reset()
	if err := run(ctx, []string{"verify", "--server", hosts[2].api, "--rpc", ipc, "--epoch", "1"}, &out); err != nil {
		t.Fatalf("verify through host 2: %v\n%s", err, out.String())
	}

	// The caller claims what it withdrew on all three hosts.
	proof, err := newClient(hosts[1].api, "").ledger.GetProof(ctx, connect.NewRequest(&tollgatev1.GetProofRequest{Account: caller}))
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).Div(new(big.Int).Mul(oneToken, big.NewInt(15)), big.NewInt(100))
	if proof.Msg.GetCumulative() != want.String() {
		t.Fatalf("the caller's proof pays %s, want the 0.15 withdrawn on three hosts", proof.Msg.GetCumulative())
	}
	ec, err := chain.Dial(ctx, ipc)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	operator := crypto.PubkeyToAddress(devKey.PublicKey).Hex()
	waitClaimable(t, ctx, ec, c, devKey)
	out.Reset()
	if err := run(ctx, []string{"claim", "--server", hosts[2].api, "--account", caller, "--key", keyFile, "--passphrase-file", passFile, "--rpc", ipc}, &out); err != nil {
		t.Fatalf("claim: %v\n%s", err, out.String())
	}
	if claimed, err := c.Claimed(ctx, caller); err != nil || claimed.Cmp(want) != 0 {
		t.Fatalf("the caller claimed %s on-chain (%v), want %s", claimed, err, want)
	}
	// The operator's fees, from calls every host wrote, are claimed whole.
	fees := new(big.Int)
	for _, r := range receipts {
		for _, p := range r.Postings {
			if p.Account == operator && p.Amount.Sign() > 0 {
				fees.Add(fees, p.Amount)
			}
		}
	}
	out.Reset()
	if err := run(ctx, []string{"claim", "--server", hosts[1].api, "--account", operator, "--key", keyFile, "--passphrase-file", passFile, "--rpc", ipc}, &out); err != nil {
		t.Fatalf("claim the operator's fees: %v\n%s", err, out.String())
	}
	if claimed, err := c.Claimed(ctx, operator); err != nil || fees.Sign() == 0 || claimed.Cmp(fees) != 0 {
		t.Fatalf("the operator claimed %s on-chain (%v), its receipts pay it %s", claimed, err, fees)
	}
}
