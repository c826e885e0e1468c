package main

import (
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-dev/tollgate/internal/pgtest"
)

// serve --store keeps the ledger and the registry in PostgreSQL: an
// invocation's receipt lands there, and a restarted node serves from what
// PostgreSQL kept. (Several hosts sharing one store: hosts_test.go.)
func TestServeKeepsItsBooksInPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("serve in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dsn, dir := pgtest.DSN(t), t.TempDir()
	args := []string{"serve", "--data", dir, "--store", dsn, "--addr", "127.0.0.1:0", "--chain-rpc", "127.0.0.1:0"}
	child, out := startServeWith(t, args...)
	info := readUntilServing(t, out)
	tok := info["caller token"]
	status, res := postJSON(ctx, info["api"], "AgentService/Invoke", tok,
		map[string]any{"agent": exampleAgent + "@latest", "inputText": "Why is the sky blue?", "requestId": "pg-1"})
	if status != 200 {
		t.Fatalf("invoke: %d %v", status, res)
	}
	id := res["receipt"].(map[string]any)["id"].(string)

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM kv_ledger WHERE k = $1", []byte("r/"+id)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("receipt %s rows in PostgreSQL: %d, %v; want 1", id, n, err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM kv_registry").Scan(&n); err != nil || n == 0 {
		t.Fatalf("registry rows in PostgreSQL: %d, %v", n, err)
	}

	child.Process.Signal(syscall.SIGTERM)
	child.Wait()
	child, out = startServeWith(t, args...)
	defer func() { child.Process.Signal(syscall.SIGTERM); child.Wait() }()
	info = readUntilServing(t, out)
	status, res = postJSON(ctx, info["api"], "AgentService/Invoke", tok,
		map[string]any{"agent": exampleAgent + "@latest", "inputText": "Why is the sky blue?", "requestId": "pg-1"})
	if status != 200 || res["receipt"].(map[string]any)["id"] != id {
		t.Fatalf("the same request after a restart: %d %v, want receipt %s again", status, res, id)
	}
}

// --store takes a PostgreSQL URL or nothing.
func TestServeRefusesAStoreItCannotUse(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--store", "mysql://x"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--store") {
		t.Fatalf("serve --store mysql://x: %v, want a usage error naming --store", err)
	}
}
