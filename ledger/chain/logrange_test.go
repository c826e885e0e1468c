package chain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/ledger/chain"
)

// rangeLimited proxies a node's JSON-RPC and refuses eth_getLogs queries
// that span more than limit blocks, or leave the range open, as public
// endpoints do.
func rangeLimited(t *testing.T, target string, limit uint64) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			ID     json.RawMessage   `json:"id"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		if json.Unmarshal(body, &req) == nil && req.Method == "eth_getLogs" && len(req.Params) == 1 {
			var q struct{ FromBlock, ToBlock string }
			json.Unmarshal(req.Params[0], &q)
			from, ferr := strconv.ParseUint(strings.TrimPrefix(q.FromBlock, "0x"), 16, 64)
			to, terr := strconv.ParseUint(strings.TrimPrefix(q.ToBlock, "0x"), 16, 64)
			if ferr != nil || terr != nil || to-from+1 > limit {
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID,
					"error": map[string]any{"code": -32005, "message": "query exceeds max block range " + strconv.FormatUint(limit, 10)}})
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Roots and operators are read from the contract's events in bounded
// ranges, so a deployment older than an endpoint's range limit still
// verifies.
func TestEventsAreReadInBoundedRanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	operator := newKey(t)
	node, err := chain.StartNode(t.TempDir(), crypto.PubkeyToAddress(operator.PublicKey), chain.WithRPC("127.0.0.1", 0))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	dep, err := chain.Deploy(ctx, node.Client(), operator)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := chain.Attach(ctx, node.Client(), dep)
	if err != nil {
		t.Fatal(err)
	}
	root := common.HexToHash("0xabc").Hex()
	if _, err := direct.PostRoot(ctx, operator, 1, root, big.NewInt(0), ledger.ZeroBundle, nil); err != nil {
		t.Fatal(err)
	}
	// Push the head well past the limit.
	for range 6 {
		if _, err := direct.SendETH(ctx, operator, addr(newKey(t)), big.NewInt(1)); err != nil {
			t.Fatal(err)
		}
	}
	ec, err := chain.Dial(ctx, rangeLimited(t, node.RPC(), 2))
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	if _, err := ec.FilterLogs(ctx, ethereumQuery(dep)); err == nil || !strings.Contains(err.Error(), "max block range") {
		t.Fatalf("the proxy let a wide query through: %v", err)
	}
	limited, err := chain.Attach(ctx, ec, dep, chain.WithMaxLogBlocks(2))
	if err != nil {
		t.Fatal(err)
	}
	if got, _, found, err := limited.RootOf(ctx, 1); err != nil || !found || got != root {
		t.Fatalf("RootOf through a range-limited endpoint: %s %v %v", got, found, err)
	}
	if op, err := limited.OperatorAt(ctx, 1); err != nil || op != addr(operator) {
		t.Fatalf("OperatorAt through a range-limited endpoint: %s %v", op, err)
	}
	head, _ := limited.Head(ctx)
	if deps, err := limited.Deposits(ctx, head-1, head); err != nil || len(deps) != 0 {
		t.Fatalf("deposits in a range within the limit: %v %v", deps, err)
	}
}

func ethereumQuery(dep chain.Deployment) ethereum.FilterQuery {
	return ethereum.FilterQuery{FromBlock: new(big.Int).SetUint64(dep.Block), Addresses: []common.Address{common.HexToAddress(dep.Settlement)}}
}

// The embedded chain's JSON-RPC answers eth_, net_ and web3_ methods and
// nothing else: admin and debug methods stay in-process.
func TestEmbeddedRPCServesOnlyPublicMethods(t *testing.T) {
	operator := newKey(t)
	node, err := chain.StartNode(t.TempDir(), crypto.PubkeyToAddress(operator.PublicKey), chain.WithRPC("127.0.0.1", 0))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	for method, ok := range map[string]bool{"eth_chainId": true, "net_version": true, "admin_nodeInfo": false, "debug_setHead": false, "miner_start": false} {
		res, err := http.Post(node.RPC(), "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Result json.RawMessage     `json:"result"`
			Error  *struct{ Code int } `json:"error"`
		}
		json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if got := out.Error == nil && len(out.Result) > 0; got != ok {
			t.Fatalf("%s: answered %v (%s, %+v), want %v", method, got, out.Result, out.Error, ok)
		}
	}
}
