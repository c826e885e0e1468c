package chain_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/ledger/chain"
)

const killChildEnv = "TOLLGATE_CHAIN_KILL_CHILD"

// The fixed operator key of the kill test: the genesis depends on it.
const killKey = "8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63"

func TestMain(m *testing.M) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		if err := killChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "kill child:", err)
			os.Exit(3)
		}
		select {} // wait for SIGKILL
	}
	os.Exit(m.Run())
}

// killChild starts the embedded chain in dir, deploys (first run) and mints
// one token per run to a fixed account, printing the deployment and
// "minted N" once each mint is reported mined.
func killChild(dir string) error {
	ctx := context.Background()
	key, _ := crypto.HexToECDSA(killKey)
	n, err := chain.StartNode(dir+"/chain", crypto.PubkeyToAddress(key.PublicKey))
	if err != nil {
		return err
	}
	opts := chain.WithDurability(n.WaitDurable)
	var dep chain.Deployment
	if b, err := os.ReadFile(dir + "/deployment.json"); err == nil {
		json.Unmarshal(b, &dep)
	} else if dep, err = chain.Deploy(ctx, n.Client(), key, opts); err != nil {
		return err
	} else {
		b, _ := json.Marshal(dep)
		os.WriteFile(dir+"/deployment.json", b, 0o600)
	}
	c, err := chain.Attach(ctx, n.Client(), dep, opts)
	if err != nil {
		return err
	}
	for i := 1; ; i++ {
		if _, err := c.Mint(ctx, key, killAccount, big.NewInt(1)); err != nil {
			return err
		}
		fmt.Printf("minted %d\n", i)
	}
}

const killAccount = "0x00000000000000000000000000000000000000aa"

// TestChainSurvivesSIGKILL kills a process running the embedded chain in
// the middle of a stream of transactions, several times. After each kill
// the chain restarts from disk, with its contracts, and every transaction
// reported mined before the kill is still there.
func TestChainSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test in -short mode")
	}
	dir := t.TempDir()
	acked := 0
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		want := 3 + round*2
		got := 0
		for got < want && lines.Scan() {
			if strings.HasPrefix(lines.Text(), "minted ") {
				got++
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if got < want {
			t.Fatalf("round %d: the child minted %d of %d before it ended", round, got, want)
		}
		acked += got

		key, _ := crypto.HexToECDSA(killKey)
		n, err := chain.StartNode(dir+"/chain", crypto.PubkeyToAddress(key.PublicKey))
		if err != nil {
			t.Fatalf("round %d: restart after SIGKILL: %v", round, err)
		}
		var dep chain.Deployment
		b, _ := os.ReadFile(dir + "/deployment.json")
		json.Unmarshal(b, &dep)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := chain.Attach(ctx, n.Client(), dep)
		if err != nil {
			cancel()
			n.Close()
			t.Fatalf("round %d: after SIGKILL the contracts are gone: %v", round, err)
		}
		bal, err := c.TokenBalance(ctx, killAccount)
		cancel()
		n.Close()
		if err != nil || bal.Int64() < int64(acked) {
			t.Fatalf("round %d: %d mints reported mined, the chain holds %v (%v)", round, acked, bal, err)
		}
		acked = int(bal.Int64()) // a mint sent but not yet acknowledged may have landed
	}
}
