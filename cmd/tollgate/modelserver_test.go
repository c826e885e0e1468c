package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// serve --model-server takes effect: a model may be published on the
// server it names and on no other; a value that is not NAME=URL, or names
// a server as a manifest could not, is a usage error; the server's key is
// read from its environment variable.
func TestServeModelServer(t *testing.T) {
	for _, bad := range []string{"local", "local=ftp://x", "Local=http://x", "local=not a url"} {
		err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--model-server", bad}, io.Discard)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--model-server") {
			t.Errorf("--model-server %s: %v, want a usage error", bad, err)
		}
	}
	t.Setenv("TOLLGATE_MODEL_SERVER_KEY_MY_LLM", "sk-test")
	servers, err := parseModelServers(map[string]string{"my-llm": "https://llm.example/"})
	if err != nil || servers["my-llm"].APIKey != "sk-test" || servers["my-llm"].URL != "https://llm.example/" {
		t.Fatalf("parse: %+v, %v", servers, err)
	}
	if testing.Short() {
		t.Skip("serve in -short mode")
	}
	dir := t.TempDir()
	child, out := startServeWith(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--chain-rpc", "127.0.0.1:0",
		"--model-server", "local=http://127.0.0.1:9")
	defer func() {
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
	}()
	info := readUntilServing(t, out)
	u := newUser(t)
	// The example datanet admits examples/facts-lm (1.0.0 is the seeded
	// embedded one); only the operator
	// publishes on the node's servers.
	publish := func(key, server, version string) (string, error) {
		args := []string{"model", "publish", "--server", info["api"], "--key", key, "--name", exampleModel, "--version", version,
			"--training", exampleDatanet, "--backend", "openai", "--model-server", server, "--remote", "tiny"}
		if key != u.addr {
			args = append(args, "--passphrase-file", filepath.Join(dir, "operator.pass"))
		}
		return u.cli(args...)
	}
	operator := filepath.Join(dir, "operator.json")
	if o, err := publish(operator, "local", "2.0.0"); err != nil {
		t.Fatalf("a model on the configured server: %v\n%s", err, o)
	}
	if o, err := publish(operator, "other", "2.0.1"); err == nil || !strings.Contains(err.Error()+o, `no model server "other"`) {
		t.Fatalf("a model on a server the node does not have: %v\n%s", err, o)
	}
	if o, err := publish(u.addr, "local", "2.0.2"); err == nil || !strings.Contains(err.Error()+o, "reserved_name") {
		t.Fatalf("a model by someone else on the operator's server: %v\n%s", err, o)
	}
}
