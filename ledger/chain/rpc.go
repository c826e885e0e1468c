package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

// durableRPC serves the embedded chain's JSON-RPC to wallets and tools. It
// answers eth_, net_ and web3_ methods only, and it reports a transaction
// mined (eth_getTransactionReceipt) only once its block is synced to disk:
// geth serves a receipt a moment before the block is durable, and a wallet
// told its deposit was mined must not see it vanish in a crash.
type durableRPC struct {
	node    *Node
	handler *rpc.Server
}

type rpcCall struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
}

func (d *durableRPC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 5<<20))
	if err != nil {
		http.Error(w, "reading the request", http.StatusBadRequest)
		return
	}
	var calls []rpcCall
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '[' {
		json.Unmarshal(t, &calls)
	} else {
		var c rpcCall
		json.Unmarshal(t, &c)
		calls = []rpcCall{c}
	}
	receipts := false
	for _, c := range calls {
		if c.Method != "" && !strings.HasPrefix(c.Method, "eth_") && !strings.HasPrefix(c.Method, "net_") && !strings.HasPrefix(c.Method, "web3_") {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": c.ID,
				"error": map[string]any{"code": -32601, "message": "the method " + c.Method + " is not available"}})
			return
		}
		receipts = receipts || c.Method == "eth_getTransactionReceipt"
	}
	rec := httptest.NewRecorder()
	inner := r.Clone(r.Context())
	inner.Body = io.NopCloser(bytes.NewReader(body))
	inner.ContentLength = int64(len(body))
	d.handler.ServeHTTP(rec, inner)
	if receipts {
		d.waitDurable(r.Context(), rec.Body.Bytes())
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// waitDurable waits until every block a receipt in resp names is durable.
func (d *durableRPC) waitDurable(ctx context.Context, resp []byte) {
	type receipt struct {
		Result *struct {
			BlockNumber string `json:"blockNumber"`
		} `json:"result"`
	}
	var rs []receipt
	if t := bytes.TrimSpace(resp); len(t) > 0 && t[0] == '[' {
		json.Unmarshal(t, &rs)
	} else {
		var one receipt
		json.Unmarshal(t, &one)
		rs = []receipt{one}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, r := range rs {
		if r.Result == nil || r.Result.BlockNumber == "" {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimPrefix(r.Result.BlockNumber, "0x"), 16, 64); err == nil {
			d.node.WaitDurable(ctx, n)
		}
	}
}

// serveRPC starts the durable JSON-RPC server on host:port.
func (n *Node) serveRPC(host string, port int) error {
	h, err := n.stack.RPCHandler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	n.rpcSrv = &http.Server{Handler: &durableRPC{node: n, handler: h}, ReadHeaderTimeout: 10 * time.Second}
	n.rpcURL = "http://" + ln.Addr().String()
	go n.rpcSrv.Serve(ln)
	return nil
}
