package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// serve --min-price takes effect: the node refuses to run the example
// agent, priced at 0.01 TGT a call, under a floor of 1 TGT, with its own
// code; a floor that is not an amount is a usage error.
func TestServeMinPrice(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--min-price", "lots"}, io.Discard)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--min-price") {
		t.Fatalf("--min-price lots: %v, want a usage error", err)
	}
	if testing.Short() {
		t.Skip("serve in -short mode")
	}
	child, out := startServeWith(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--chain-rpc", "127.0.0.1:0", "--min-price", "1")
	defer func() {
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
	}()
	info := readUntilServing(t, out)
	code, resp := postJSON(context.Background(), info["api"], "AgentService/Invoke", info["caller token"], map[string]any{
		"agent": exampleAgent + "@latest", "inputText": "Why is the sky blue?",
	})
	if code == http.StatusOK || resp["code"] != "failed_precondition" || !strings.HasPrefix(fmt.Sprint(resp["message"]), "below_min_price:") {
		t.Fatalf("the example agent under a floor of 1 TGT: %d %v", code, resp)
	}
}
