package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// TestNodeServesWhilePluginsSpin publishes agents that spin (a memory.fill
// of 12 MiB in a loop, which once cost a few units of fuel a pass, and a
// plain loop) to a real `tollgate serve`, runs twice as many of them as
// there are cores, again and again, and checks that /healthz answers
// within a second every second meanwhile, that every spin ends with
// plugin_timeout close to its limit, and that SIGTERM then stops the node
// cleanly while spins are running.
func TestNodeServesWhilePluginsSpin(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-node spin test in -short mode")
	}
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wat2wasm not found: .ci/run installs wabt")
		}
		t.Skip("wat2wasm not installed")
	}
	wasmPath := filepath.Join(t.TempDir(), "spin.wasm")
	if out, err := exec.Command("wat2wasm", "../../runtime/testdata/spin.wat", "-o", wasmPath).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, out)
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	child, out := startServe(t, t.TempDir())
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	defer func() {
		child.Process.Signal(syscall.SIGKILL)
		<-exited
	}()
	info := readUntilServing(t, out)
	api, tok := info["api"], info["caller token"]
	ctx := context.Background()

	// Publish one agent per spin, signed by a fresh key.
	code, dep := postJSON(ctx, api, "LedgerService/GetDeployment", "", map[string]any{})
	if code != http.StatusOK {
		t.Fatalf("GetDeployment: %d %v", code, dep)
	}
	chainID, _ := new(big.Int).SetString(fmt.Sprint(dep["chainId"]), 10)
	domain := registry.Domain{ChainID: chainID, Contract: fmt.Sprint(dep["settlement"])}
	key, _ := crypto.GenerateKey()
	const limit = 3 * time.Second
	exports := []string{"fill", "plain"}
	for _, export := range exports {
		m := registry.Manifest{
			Name: "spinner/" + export, Version: "1.0.0", Kind: abi.KindAgent, Export: export,
			WasmSHA256: fmt.Sprintf("%x", sha256.Sum256(wasm)), Publisher: registry.Address(key),
			Limits: &registry.Limits{TimeoutMillis: uint32(limit / time.Millisecond), MemoryPages: 256},
		}
		sig, err := registry.Sign(key, domain.ManifestDigest(m))
		if err != nil {
			t.Fatal(err)
		}
		mj, _ := json.Marshal(m)
		code, resp := postJSON(ctx, api, "RegistryService/PublishPlugin", tok, map[string]any{
			"manifestJson": string(mj), "signature": hexutil.Encode(sig), "wasm": base64.StdEncoding.EncodeToString(wasm),
		})
		if code != http.StatusOK {
			t.Fatalf("publish %s: %d %v", m.Ref(), code, resp)
		}
	}

	spinners := 2 * goruntime.NumCPU()
	type result struct {
		agent string
		took  time.Duration
		code  int
		msg   string
	}
	spin := func(ctx context.Context, rounds int, results chan<- result) *sync.WaitGroup {
		var wg sync.WaitGroup
		for i := range spinners {
			wg.Go(func() {
				agent := "spinner/" + exports[i%len(exports)] + "@1.0.0"
				for r := range rounds {
					start := time.Now()
					code, resp := postJSON(ctx, api, "AgentService/Invoke", tok, map[string]any{
						"agent": agent, "inputText": "x", "requestId": fmt.Sprintf("spin-%d-%d-%d", i, r, start.UnixNano()),
					})
					if results != nil {
						results <- result{agent, time.Since(start), code, fmt.Sprint(resp["message"])}
					}
				}
			})
		}
		return &wg
	}

	// Health, every second, while two rounds of spins hold every core.
	results := make(chan result, 2*spinners)
	spinning := spin(ctx, 2, results)
	done := make(chan struct{})
	var worst time.Duration
	var slow []time.Duration
	var health sync.WaitGroup
	health.Go(func() {
		client := &http.Client{Timeout: 5 * time.Second}
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
			start := time.Now()
			resp, err := client.Get(api + "/healthz")
			took := time.Since(start)
			if err != nil {
				slow = append(slow, -1)
				continue
			}
			resp.Body.Close()
			worst = max(worst, took)
			if took > time.Second || resp.StatusCode != http.StatusOK {
				slow = append(slow, took)
			}
		}
	})
	spinning.Wait()
	close(done)
	health.Wait()
	close(results)
	if len(slow) > 0 {
		t.Errorf("/healthz answered late or not at all while plugins spun: %v", slow)
	}
	var over time.Duration
	for r := range results {
		if r.code == http.StatusOK || !strings.Contains(r.msg, string(abi.CodeTimeout)) {
			t.Errorf("%s: %d %s, want %s", r.agent, r.code, r.msg, abi.CodeTimeout)
		}
		over = max(over, r.took-limit)
	}
	if over > time.Second {
		t.Errorf("a spin answered %v after its %v limit", over, limit)
	}
	t.Logf("%d spinners on %d cores: slowest /healthz %v; slowest spin answered %v after its limit", spinners, goruntime.NumCPU(), worst, over)

	// SIGTERM while spins run: the node stops cleanly, once they end.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	spin(sctx, 1, nil)
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	child.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("after SIGTERM the node exited with %v", err)
		}
		t.Logf("stopped %v after SIGTERM", time.Since(start))
		exited <- nil
	case <-time.After(limit + 20*time.Second):
		t.Fatal("the node did not stop after SIGTERM")
	}
}
