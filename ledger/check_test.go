package ledger_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/dgraph-io/badger/v4"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

// Every field of a receipt that moves money or can be disputed is under the
// operator's signature: changing any one of them breaks it.
func TestReceiptSignatureCoversEveryField(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1000)})
	r := receipt("signed", 90)
	r.RequestID, r.Agent, r.Method = "req-1", "acme/qa@1.0.0", "ngram"
	r.Accesses = []ledger.Access{{Datanet: "facts", Record: "rec1", Contributor: alice, Bytes: 10, Fee: big.NewInt(0)}}
	r.Scores = []ledger.Score{{Record: "rec1", Contributor: alice, Weight: 0.5}}
	r.Datanets = []ledger.DatanetVersion{{Name: "facts", Version: 3}}
	if err := commit(l, r); err != nil {
		t.Fatal(err)
	}
	stored, err := l.Receipt(ctx, "signed")
	if err != nil {
		t.Fatal(err)
	}
	if err := stored.VerifySignedBy(crypto.PubkeyToAddress(operatorKey.PublicKey).Hex()); err != nil {
		t.Fatalf("a committed receipt does not verify: %v", err)
	}
	if stored.Epoch != 1 {
		t.Fatalf("epoch %d", stored.Epoch)
	}
	other, _ := crypto.GenerateKey()
	mutations := map[string]func(r *ledger.Receipt){
		"caller":       func(r *ledger.Receipt) { r.Caller = dev },
		"request id":   func(r *ledger.Receipt) { r.RequestID = "req-2" },
		"agent":        func(r *ledger.Receipt) { r.Agent = "acme/qa@2.0.0" },
		"method":       func(r *ledger.Receipt) { r.Method = "access" },
		"epoch":        func(r *ledger.Receipt) { r.Epoch = 2 },
		"record read":  func(r *ledger.Receipt) { r.Accesses[0].Record = "rec2" },
		"read fee":     func(r *ledger.Receipt) { r.Accesses[0].Fee = big.NewInt(1) },
		"score":        func(r *ledger.Receipt) { r.Scores[0].Weight = 0.75 },
		"version":      func(r *ledger.Receipt) { r.Datanets[0].Version = 4 },
		"posting":      func(r *ledger.Receipt) { r.Postings[1].Amount = big.NewInt(1) },
		"posting memo": func(r *ledger.Receipt) { r.Postings[1].Memo = "x" },
		"time":         func(r *ledger.Receipt) { r.Time = r.Time.Add(1) },
		"fuel":         func(r *ledger.Receipt) { r.Fuel = 7 },
		"re-signed by another key": func(r *ledger.Receipt) {
			r.Caller = dev
			r.Sign(other, *r.Domain)
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			c, _ := l.Receipt(ctx, "signed")
			mutate(c)
			if err := c.VerifySignedBy(crypto.PubkeyToAddress(operatorKey.PublicKey).Hex()); abi.CodeOf(err) != abi.CodeBadSignature {
				t.Fatalf("changed %s and the receipt still verifies: %v", name, err)
			}
		})
	}
}

// Check finds books that were changed behind the ledger's back: credit
// minted, a receipt re-signed by a stranger, an epoch index that lies.
func TestCheckFindsTampering(t *testing.T) {
	badgerOnly(t)
	ctx := context.Background()
	cases := map[string]struct {
		tamper func(txn kv.Txn) error
		want   string
	}{
		"minted credit": {func(txn kv.Txn) error {
			return txn.Set([]byte("c/"+dev), []byte("5"))
		}, "credit of " + dev},
		"minted lease": {func(txn kv.Txn) error {
			return txn.Set([]byte("l/"+dev+"/3"), []byte("5"))
		}, "credit of " + dev},
		"negative seat earnings": {func(txn kv.Txn) error {
			txn.Set([]byte("e/"+dev+"/1"), []byte("-5"))
			return txn.Set([]byte("e/"+dev+"/2"), []byte("5"))
		}, "e/" + dev + "/1 is negative"},
		"a seat's earnings minted": {func(txn kv.Txn) error {
			return txn.Set([]byte("e/"+dev+"/0"), []byte("7"))
		}, "earnings of " + dev},
		"a lease not in a seat": {func(txn kv.Txn) error {
			return txn.Set([]byte("l/"+dev), []byte("0"))
		}, "not an account's part in a seat"},
		"minted earnings and totals": {func(txn kv.Txn) error {
			txn.Set([]byte("e/"+dev), []byte("1000000"))
			return txn.Set([]byte("t/earned"), []byte("1000090"))
		}, "insolvent"},
		"receipt re-signed by a stranger": {func(txn kv.Txn) error {
			item, _ := txn.Get([]byte("r/a"))
			var r ledger.Receipt
			func(v []byte) error { return json.Unmarshal(v, &r) }(item)
			k, _ := crypto.GenerateKey()
			r.Sign(k, domain)
			b, _ := json.Marshal(r)
			return txn.Set([]byte("r/a"), b)
		}, "not the operator"},
		"deposit index naming no deposit": {func(txn kv.Txn) error {
			return txn.Set(append(binary.BigEndian.AppendUint64([]byte("DB/"), 5), "ghost"...), nil)
		}, "deposit index names ghost"},
		"deposit above the cursor": {func(txn kv.Txn) error {
			d, _ := json.Marshal(ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1000), Block: 9, BlockHash: "0x09"})
			txn.Set(append(binary.BigEndian.AppendUint64([]byte("DB/"), 9), "d"...), nil)
			return txn.Set([]byte("D/d"), d)
		}, "above the deposit cursor"},
		"output changed after its epoch closed": {func(txn kv.Txn) error {
			return txn.Set([]byte("o/a"), []byte("a different answer"))
		}, "chain to bundle"},
		"receipt dropped from its epoch's index": {func(txn kv.Txn) error {
			return txn.Delete(append(append([]byte("x/"), 0, 0, 0, 0, 0, 0, 0, 1), "/a"...))
		}, "missing from its epoch's index"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := ledger.Open(dir, ledger.Options{Signer: operatorKey})
			if err != nil {
				t.Fatal(err)
			}
			l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(100)})
			if err := commit(l, receipt("a", 90)); err != nil {
				t.Fatal(err)
			}
			if _, err := l.CloseEpoch(ctx, domain); err != nil {
				t.Fatal(err)
			}
			if err := l.Check(ctx); err != nil {
				t.Fatalf("honest books fail the check: %v", err)
			}
			l.Close()
			bdb, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
			db := kv.NewBadger(bdb)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(c.tamper); err != nil {
				t.Fatal(err)
			}
			db.Close()
			l, err = ledger.Open(dir, ledger.Options{ReadOnly: true, Operator: crypto.PubkeyToAddress(operatorKey.PublicKey).Hex()})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			err = l.Check(ctx)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("check after %s: %v, want a finding about %q", name, err, c.want)
			}
		})
	}
}

// After the operator's key is replaced, receipts of earlier epochs stay
// valid under the key that signed them, later ones need the new key, and
// a stranger's signature is still refused.
func TestCheckFollowsOperatorRotation(t *testing.T) {
	badgerOnly(t)
	ctx := context.Background()
	dir := t.TempDir()
	oldKey, newKey := operatorKey, mustKey(t)
	l, err := ledger.Open(dir, ledger.Options{Signer: oldKey})
	if err != nil {
		t.Fatal(err)
	}
	l.Credit(ctx, ledger.Deposit{Ref: "d", Account: caller, Amount: big.NewInt(1000)})
	if err := commit(l, receipt("old", 30)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CloseEpoch(ctx, domain); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if l, err = ledger.Open(dir, ledger.Options{Signer: newKey}); err != nil {
		t.Fatal(err)
	}
	if err := commit(l, receipt("new", 30)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CloseEpoch(ctx, domain); err != nil {
		t.Fatal(err)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatalf("a ledger whose operator rotated: %v", err)
	}
	spans, _ := l.Operators(ctx)
	if len(spans) != 2 || spans[0].From != 1 || spans[1].From != 2 {
		t.Fatalf("operator spans %+v", spans)
	}
	// A receipt of epoch 3 re-signed with the rotated-out key is refused.
	if err := commit(l, receipt("third", 30)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	bdb, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	db := kv.NewBadger(bdb)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn kv.Txn) error {
		item, err := txn.Get([]byte("r/third"))
		if err != nil {
			return err
		}
		var r ledger.Receipt
		func(v []byte) error { return json.Unmarshal(v, &r) }(item)
		if r.Epoch != 3 {
			t.Fatalf("receipt in epoch %d", r.Epoch)
		}
		r.Sign(oldKey, domain)
		b, _ := json.Marshal(r)
		return txn.Set([]byte("r/third"), b)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if l, err = ledger.Open(dir, ledger.Options{Signer: newKey}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(ctx); err == nil || !strings.Contains(err.Error(), "not the operator of its epoch") {
		t.Fatalf("a receipt signed by the rotated-out key after its epochs: %v", err)
	}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
