package host_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/examples"
	"github.com/tollgate-dev/tollgate/host"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// The crash child: a host on a data dir that invokes the example agent with
// request ids first..first+count from four workers, printing "ack <request>
// <receipt>" after each invocation returns. The parent kills it with
// SIGKILL at random moments.
const crashChildEnv = "TOLLGATE_CRASH_CHILD"

// A fixed caller key, so every child run is the same caller.
const crashCallerKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func crashChild(dir string) error {
	ctx := context.Background()
	first, _ := strconv.Atoi(os.Getenv("CRASH_FIRST"))
	count, _ := strconv.Atoi(os.Getenv("CRASH_COUNT"))
	operator, _ := crypto.HexToECDSA(crashCallerKey[2:] + "01") // any fixed key
	reg, err := registry.Open(filepath.Join(dir, "registry"), registry.Options{})
	if err != nil {
		return err
	}
	led, err := ledger.Open(filepath.Join(dir, "ledger"), ledger.Options{Signer: operator})
	if err != nil {
		return err
	}
	rt, err := runtime.New(runtime.Config{CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		return err
	}
	h, err := host.New(host.Config{Registry: reg, Ledger: led, Runtime: rt, Operator: operator})
	if err != nil {
		return err
	}
	if err := h.PublishBuiltins(ctx); err != nil {
		return err
	}
	callerKey, _ := crypto.HexToECDSA(crashCallerKey)
	caller := registry.Address(callerKey)
	if _, err := reg.Datanet(ctx, "facts"); abi.CodeOf(err) == abi.CodeNotFound {
		d := registry.Datanet{Name: "facts", Owner: caller, PricePerRead: "3"}
		dsig, _ := registry.Sign(callerKey, reg.Domain().DatanetDigest(d))
		if _, err := reg.CreateDatanet(ctx, d, dsig); err != nil {
			return err
		}
		for _, c := range []string{"The sky is blue because air scatters blue light.", "Water boils at 100 degrees Celsius at sea level."} {
			sig, _ := registry.Sign(callerKey, registry.Domain{}.RecordDigest("facts", c))
			if _, _, err := reg.AddRecord(ctx, "facts", caller, c, sig); err != nil {
				return err
			}
		}
		if _, err := h.Publish(ctx, operator, registry.Manifest{Name: "acme/qa", Version: "1.0.0", Kind: abi.KindAgent, Price: "100",
			Datanets: []string{"facts"}, Limits: &registry.Limits{MaxRecords: 8}}, examples.QA); err != nil {
			return err
		}
	}
	if err := led.Credit(ctx, ledger.Deposit{Ref: "crash-deposit", Account: caller, Amount: bigInt(10_000_000)}); err != nil && abi.CodeOf(err) != abi.CodeAlreadyExists {
		return err
	}
	if err := h.Warm(ctx, "acme/qa@1.0.0"); err != nil {
		return err
	}
	fmt.Println("ready")
	var next atomic.Int64
	next.Store(int64(first))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= first+count {
					return
				}
				req := fmt.Sprintf("req-%d", i)
				res, err := h.Invoke(ctx, host.InvokeRequest{Caller: caller, Agent: "acme/qa@1.0.0", Input: []byte("Why is the sky blue?"), RequestID: req})
				if err != nil {
					fmt.Fprintln(os.Stderr, "invoke:", err)
					os.Exit(4)
				}
				mu.Lock()
				fmt.Printf("ack %s %s\n", req, res.Receipt.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return nil
}

// TestCrashLosesNothing kills a host serving invocations with SIGKILL at
// random points, 20 times. After each kill: every acknowledged receipt is
// on disk, ledger.Check holds, and no request id was charged twice, even
// though every restart re-sends the requests around the one it died on.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	dir := t.TempDir()
	acked := map[string]string{} // request -> receipt
	rng := rand.New(rand.NewPCG(1, 2))
	highest := 0
	for round := range 20 {
		first := max(0, highest-8) // re-send what may have been in flight
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, "CRASH_FIRST="+strconv.Itoa(first), "CRASH_COUNT=400")
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || lines.Text() != "ready" {
			cmd.Wait()
			t.Fatalf("round %d: child did not start: %s", round, stderr.String())
		}
		killAt := time.Now().Add(time.Duration(150+rng.IntN(900)) * time.Millisecond)
		killed := make(chan struct{})
		go func() {
			time.Sleep(time.Until(killAt))
			cmd.Process.Kill() // SIGKILL
			close(killed)
		}()
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			if len(f) != 3 || f[0] != "ack" {
				continue
			}
			if prev, ok := acked[f[1]]; ok && prev != f[2] {
				t.Fatalf("round %d: %s answered with receipt %s, earlier %s", round, f[1], f[2], prev)
			}
			acked[f[1]] = f[2]
			n, _ := strconv.Atoi(strings.TrimPrefix(f[1], "req-"))
			highest = max(highest, n+1)
		}
		<-killed
		cmd.Wait()
		if strings.Contains(stderr.String(), "invoke:") {
			t.Fatalf("round %d: %s", round, stderr.String())
		}
		checkAfterCrash(t, dir, acked)
	}
	t.Logf("20 kills, %d requests acknowledged", len(acked))
	if len(acked) < 20 {
		t.Fatalf("only %d requests acknowledged in 20 rounds: the load was too light to test anything", len(acked))
	}
}

func checkAfterCrash(t *testing.T, dir string, acked map[string]string) {
	t.Helper()
	ctx := context.Background()
	operator, _ := crypto.HexToECDSA(crashCallerKey[2:] + "01")
	led, err := ledger.Open(filepath.Join(dir, "ledger"), ledger.Options{Signer: operator})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	for req, id := range acked {
		rc, err := led.Receipt(ctx, id)
		if err != nil || rc.RequestID != req {
			t.Fatalf("acknowledged %s (receipt %s) lost: %v", req, id, err)
		}
	}
	if err := led.Check(ctx); err != nil {
		t.Fatal(err)
	}
	rs, err := led.Receipts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	charged := map[string]int{}
	for _, rc := range rs {
		charged[rc.RequestID]++
		if charged[rc.RequestID] > 1 {
			t.Fatalf("request %s charged twice", rc.RequestID)
		}
	}
}
