package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
	"github.com/tollgate-dev/tollgate/internal/pgtest"
	"github.com/tollgate-dev/tollgate/ledger"
)

// someBooks writes a deposit and a paid call into led.
func someBooks(t *testing.T, led *ledger.Ledger) {
	t.Helper()
	ctx := context.Background()
	caller, dev := "0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222"
	if err := led.Credit(ctx, ledger.Deposit{Ref: "d1", Account: caller, Amount: big.NewInt(100)}); err != nil {
		t.Fatal(err)
	}
	res, err := led.Reserve(ctx, caller, big.NewInt(40))
	if err != nil {
		t.Fatal(err)
	}
	r := &ledger.Receipt{ID: "r1", Caller: caller, Domain: &ledger.Domain{ChainID: big.NewInt(1337), Settlement: dev}, Postings: []ledger.Posting{
		{Account: caller, Kind: ledger.KindCall, Amount: big.NewInt(-40)},
		{Account: dev, Kind: ledger.KindDeveloper, Amount: big.NewInt(40)},
	}}
	if err := led.Commit(ctx, r, nil, res); err != nil {
		t.Fatal(err)
	}
}

// check --data and check --store run the money invariants read-only, say
// what the books hold, and fail with books_broken on a minted credit.
func TestCheckRunsTheInvariantsOverEitherStore(t *testing.T) {
	ctx := context.Background()
	key, _ := crypto.GenerateKey()
	dir := t.TempDir()
	led, err := ledger.Open(filepath.Join(dir, "ledger"), ledger.Options{Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	someBooks(t, led)
	led.Close()
	var out bytes.Buffer
	if err := run(ctx, []string{"check", "--data", dir}, &out); err != nil {
		t.Fatalf("check --data on sound books: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "deposited 100, credit 60, earned 40") || !strings.Contains(out.String(), "every invariant holds") {
		t.Fatalf("check --data says:\n%s", out.String())
	}
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "ledger")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte("c/0x1111111111111111111111111111111111111111"), []byte("1000"))
	})
	db.Close()
	out.Reset()
	err = run(ctx, []string{"check", "--data", dir, "--json"}, &out)
	if abi.CodeOf(err) != CodeBooksBroken || exitCode(err) == 0 {
		t.Fatalf("check on minted credit: %v (exit %d)\n%s", err, exitCode(err), out.String())
	}
	var res struct {
		OK       bool
		Problems []string
	}
	if json.Unmarshal(out.Bytes(), &res); res.OK || len(res.Problems) == 0 || !strings.Contains(strings.Join(res.Problems, "\n"), "credit of 0x1111111111111111111111111111111111111111") {
		t.Fatalf("check --json on minted credit:\n%s", out.String())
	}

	for _, bad := range [][]string{
		{"check", "--store", "mysql://x"},
		{"check", "--store", "postgres://x", "--data", dir},
		{"check", "extra"},
	} {
		if err := run(ctx, bad, &out); exitCode(err) != exitUsage {
			t.Fatalf("tollgate %s: %v, want a usage error", strings.Join(bad, " "), err)
		}
	}

	dsn := pgtest.DSN(t)
	s, err := kv.OpenPostgres(ctx, dsn, kv.PostgresOptions{Store: kv.StoreLedger, Writer: true, Seats: 2})
	if err != nil {
		t.Fatal(err)
	}
	shared, err := ledger.OpenStore(s, ledger.Options{Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	someBooks(t, shared)
	out.Reset()
	// While the host runs, with its lease open.
	if err := run(ctx, []string{"check", "--store", dsn}, &out); err != nil {
		t.Fatalf("check --store: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "deposited 100, credit 60, earned 40") {
		t.Fatalf("check --store says:\n%s", out.String())
	}
}
