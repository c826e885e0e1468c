package ledger_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

// A request id names one request per caller and kind: a retry gets the
// same key, another caller or kind another, no id a fresh key each time,
// and an id past the bound is refused.
func TestRequestKey(t *testing.T) {
	const alice, bob = "0x00000000000000000000000000000000000000aa", "0x00000000000000000000000000000000000000bb"
	key := func(kind ledger.RequestKind, caller, id string) string {
		t.Helper()
		k, err := ledger.RequestKey(kind, caller, id)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a := key(ledger.RequestInvoke, alice, "r1")
	if a != key(ledger.RequestInvoke, alice, "r1") {
		t.Fatal("a retry got another key")
	}
	for name, other := range map[string]string{
		"another caller": key(ledger.RequestInvoke, bob, "r1"),
		"another kind":   key(ledger.RequestWithdraw, alice, "r1"),
		"another id":     key(ledger.RequestInvoke, alice, "r2"),
		"no id":          key(ledger.RequestInvoke, alice, ""),
	} {
		if other == a {
			t.Errorf("%s got the same key", name)
		}
	}
	if key(ledger.RequestInvoke, alice, "") == key(ledger.RequestInvoke, alice, "") {
		t.Error("two requests without an id got one key")
	}
	// Both keep the form receipts were written under before they shared
	// this path, so old receipts still answer their retries.
	legacy := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:16]) }
	if a != legacy(alice+"\x00r1") {
		t.Errorf("invoke key %s changed form", a)
	}
	if w := key(ledger.RequestWithdraw, alice, "r1"); w != legacy("withdraw\x00"+alice+"\x00r1") {
		t.Errorf("withdraw key %s changed form", w)
	}
	if _, err := ledger.RequestKey(ledger.RequestInvoke, alice, strings.Repeat("x", ledger.MaxRequestIDBytes+1)); abi.CodeOf(err) != abi.CodeBadRequest {
		t.Fatalf("an overlong id: %v", err)
	}
}
