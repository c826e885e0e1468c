package web_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/examples"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/siwe"
	"github.com/tollgate-dev/tollgate/registry"
)

// The datanet and agent the browser test invokes, set up over the API.
const (
	e2eDatanet = "e2e/notes"
	e2eAgent   = "e2e/qa"
)

var e2eRecords = []string{
	"Lighthouses flash in distinct patterns so sailors can tell one coast from another at night.",
	"Octopuses have three hearts and blue blood that carries oxygen well in cold water.",
	"Glaciers move because ice deforms slowly under its own weight, like a very thick liquid.",
}

// chromium is the browser the page is tested in (.ci/run installs Debian's
// and sets TOLLGATE_CHROMIUM); the test needs Node and web/node_modules.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("TOLLGATE_CHROMIUM")
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TOLLGATE_CHROMIUM is not set: .ci/run installs chromium and sets it")
		}
		t.Skip("set TOLLGATE_CHROMIUM to a Chromium binary (and npm ci in web/) to test the page in a browser")
	}
	if _, err := os.Stat("node_modules/playwright-core"); err != nil {
		t.Fatal("web/node_modules is missing: run npm ci in web/")
	}
	return path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// node is a `tollgate serve` process on a fresh data directory.
type node struct {
	base, chainRPC string
	dataDir        string
	log            *strings.Builder
}

func startServe(t *testing.T, ctx context.Context) *node {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "tollgate")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/tollgate")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build tollgate: %v\n%s", err, out)
	}
	n := &node{dataDir: filepath.Join(dir, "data"), log: &strings.Builder{}}
	addr, rpc := freeAddr(t), freeAddr(t)
	n.base, n.chainRPC = "http://"+addr, "http://"+rpc
	cmd := exec.CommandContext(ctx, bin, "serve", "--data", n.dataDir, "--addr", addr, "--chain-rpc", rpc, "--rate", "0", "--max-in-flight", "0")
	cmd.Env = append(os.Environ(), "TOLLGATE_CONFIG="+filepath.Join(dir, "config.json"))
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			n.log.WriteString(sc.Text() + "\n")
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	})
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if r, err := http.Get(n.base + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", n.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return n
}

func (n *node) operatorKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(n.dataDir, "operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	pass, err := os.ReadFile(filepath.Join(n.dataDir, "operator.pass"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := keystore.DecryptKey(js, strings.TrimSpace(string(pass)))
	if err != nil {
		t.Fatal(err)
	}
	return k.PrivateKey
}

// clients are the Connect clients of one signed-in key.
type clients struct {
	auth     tollgatev1connect.AuthServiceClient
	ledger   tollgatev1connect.LedgerServiceClient
	datanets tollgatev1connect.DatanetServiceClient
	registry tollgatev1connect.RegistryServiceClient
}

func (n *node) signedIn(t *testing.T, ctx context.Context, key *ecdsa.PrivateKey) clients {
	t.Helper()
	a := tollgatev1connect.NewAuthServiceClient(http.DefaultClient, n.base)
	ch, err := a.Challenge(ctx, connect.NewRequest(&tollgatev1.ChallengeRequest{Address: registry.Address(key)}))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := siwe.Sign(key, ch.Msg.GetMessage())
	if err != nil {
		t.Fatal(err)
	}
	in, err := a.SignIn(ctx, connect.NewRequest(&tollgatev1.SignInRequest{Message: ch.Msg.GetMessage(), Signature: "0x" + hex.EncodeToString(sig)}))
	if err != nil {
		t.Fatal(err)
	}
	opt := connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, r connect.AnyRequest) (connect.AnyResponse, error) {
			r.Header().Set("Authorization", "Bearer "+in.Msg.GetToken())
			return next(ctx, r)
		}
	}))
	return clients{
		auth:     a,
		ledger:   tollgatev1connect.NewLedgerServiceClient(http.DefaultClient, n.base, opt),
		datanets: tollgatev1connect.NewDatanetServiceClient(http.DefaultClient, n.base, opt),
		registry: tollgatev1connect.NewRegistryServiceClient(http.DefaultClient, n.base, opt),
	}
}

// setUp creates a datanet whose owner is its only contributor, and an
// agent over it published by the operator.
func (n *node) setUp(t *testing.T, ctx context.Context, operator, contributor *ecdsa.PrivateKey) {
	t.Helper()
	op := n.signedIn(t, ctx, operator)
	dep, err := op.ledger.GetDeployment(ctx, connect.NewRequest(&tollgatev1.GetDeploymentRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	chainID := new(big.Int).SetUint64(dep.Msg.GetChainId())
	dom := registry.Domain{ChainID: chainID, Contract: dep.Msg.GetSettlement()}
	c := n.signedIn(t, ctx, contributor)
	dn := registry.Datanet{Name: e2eDatanet, Owner: registry.Address(contributor), Description: "Facts for the browser test",
		License: "CC0-1.0", PricePerRead: "1000000000000000"}
	sig, _ := registry.Sign(contributor, dom.DatanetDigest(dn))
	if _, err := c.datanets.CreateDatanet(ctx, connect.NewRequest(&tollgatev1.CreateDatanetRequest{
		Datanet:   &tollgatev1.Datanet{Name: dn.Name, Owner: dn.Owner, Description: dn.Description, License: dn.License, PricePerRead: dn.PricePerRead},
		Signature: "0x" + hex.EncodeToString(sig)})); err != nil {
		t.Fatal(err)
	}
	var recs []*tollgatev1.NewRecord
	for _, content := range e2eRecords {
		sig, _ := registry.Sign(contributor, dom.RecordDigest(e2eDatanet, content))
		recs = append(recs, &tollgatev1.NewRecord{Contributor: registry.Address(contributor), Content: content, Signature: "0x" + hex.EncodeToString(sig)})
	}
	if _, err := c.datanets.AddRecords(ctx, connect.NewRequest(&tollgatev1.AddRecordsRequest{Datanet: e2eDatanet, Records: recs})); err != nil {
		t.Fatal(err)
	}
	m := registry.Manifest{Name: e2eAgent, Version: "1.0.0", Kind: abi.KindAgent, WasmSHA256: fmt.Sprintf("%x", sha256.Sum256(examples.QA)),
		Publisher: registry.Address(operator), Price: "10000000000000000", Datanets: []string{e2eDatanet}, Attribution: registry.DefaultAttribution}
	msig, _ := registry.Sign(operator, dom.ManifestDigest(m))
	if _, err := op.registry.PublishPlugin(ctx, connect.NewRequest(&tollgatev1.PublishPluginRequest{
		ManifestJson: string(m.SigningBytes()), Signature: "0x" + hex.EncodeToString(msig), Wasm: examples.QA})); err != nil {
		t.Fatal(err)
	}
}

// TestPageInBrowser drives the page in a real Chromium against a real
// serve on the embedded chain (web/e2e/e2e.mjs): sign in with an injected
// wallet, invoke and trace, verify the receipt, publish, close an epoch,
// and claim on-chain from the page; axe finds no serious violation and the
// page asks no other origin for anything.
func TestPageInBrowser(t *testing.T) {
	browser := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	n := startServe(t, ctx)
	operator := n.operatorKey(t)
	contributor, _ := crypto.GenerateKey()
	caller, _ := crypto.GenerateKey()
	n.setUp(t, ctx, operator, contributor)

	out := os.Getenv("TOLLGATE_WEB_ARTIFACTS")
	if out == "" {
		out = t.TempDir()
	}
	wasm := filepath.Join(t.TempDir(), "qa.wasm")
	if err := os.WriteFile(wasm, examples.QA, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{
		"base": n.base, "chainRPC": n.chainRPC, "chromium": browser, "out": out, "wasm": wasm,
		"agent": e2eAgent + "@1.0.0", "datanet": e2eDatanet, "records": e2eRecords, "question": "Why do lighthouses flash in distinct patterns at night?",
		"keys": map[string]string{
			"operator":    hex.EncodeToString(crypto.FromECDSA(operator)),
			"contributor": hex.EncodeToString(crypto.FromECDSA(contributor)),
			"caller":      hex.EncodeToString(crypto.FromECDSA(caller)),
		},
	})
	cmd := exec.CommandContext(ctx, "node", "e2e/e2e.mjs")
	cmd.Env = append(os.Environ(), "TOLLGATE_E2E="+string(cfg))
	b, err := cmd.CombinedOutput()
	t.Logf("e2e:\n%s", b)
	if err != nil {
		t.Fatalf("the browser test failed: %v\nnode log:\n%s", err, n.log)
	}
	if !strings.Contains(string(b), "e2e: all views passed") {
		t.Fatal("the browser test did not finish")
	}
	fmt.Fprintf(os.Stderr, "screenshots in %s\n", out)
}
