package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

// Signatures are bound to their deployment, their target and, for policy
// changes, a nonce: none can be replayed into another deployment, another
// datanet, or over a newer policy.
func TestRegistrySignaturesCannotBeReplayed(t *testing.T) {
	ctx := context.Background()
	here := registry.Domain{ChainID: big.NewInt(1337), Contract: "0x00000000000000000000000000000000000000aa"}
	there := registry.Domain{ChainID: big.NewInt(1337), Contract: "0x00000000000000000000000000000000000000bb"}
	r, err := openStore(t, registry.Options{Domain: here})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	owner := key(t)
	refused := func(what string, err error) {
		t.Helper()
		if abi.CodeOf(err) != abi.CodeBadSignature {
			t.Fatalf("%s: %v, want %s", what, err, abi.CodeBadSignature)
		}
	}

	for _, name := range []string{"a", "b"} {
		d := registry.Datanet{Name: name, Owner: registry.Address(owner)}
		_, err := r.CreateDatanet(ctx, d, sign(t, owner, there.DatanetDigest(d)))
		refused("datanet creation signed for another deployment", err)
		if _, err := r.CreateDatanet(ctx, d, sign(t, owner, here.DatanetDigest(d))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.CreateDatanet(ctx, registry.Datanet{Name: "c", Owner: registry.Address(owner)}, nil); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("unsigned datanet creation: %v", err)
	}

	content := "a record for datanet a"
	_, _, err = r.AddRecord(ctx, "b", registry.Address(owner), content, sign(t, owner, here.RecordDigest("a", content)))
	refused("record signed for another datanet", err)
	_, _, err = r.AddRecord(ctx, "a", registry.Address(owner), content, sign(t, owner, there.RecordDigest("a", content)))
	refused("record signed for another deployment", err)
	if _, _, err := r.AddRecord(ctx, "a", registry.Address(owner), content, sign(t, owner, here.RecordDigest("a", content))); err != nil {
		t.Fatal(err)
	}

	// A looser policy signed first cannot undo a tighter one signed later.
	loose := registry.Policy{Access: registry.AccessOpen}
	tight := registry.Policy{Access: registry.AccessAllowList, Agents: []string{"acme/friend"}}
	looseSig := sign(t, owner, here.PolicyDigest("a", 0, loose))
	refused("policy signed for another deployment", r.SetPolicy(ctx, "a", loose, sign(t, owner, there.PolicyDigest("a", 0, loose))))
	refused("policy signed for another datanet", r.SetPolicy(ctx, "a", loose, sign(t, owner, here.PolicyDigest("b", 0, loose))))
	if err := r.SetPolicy(ctx, "a", loose, looseSig); err != nil {
		t.Fatal(err)
	}
	if err := r.SetPolicy(ctx, "a", tight, sign(t, owner, here.PolicyDigest("a", 1, tight))); err != nil {
		t.Fatal(err)
	}
	refused("an earlier policy signature replayed", r.SetPolicy(ctx, "a", loose, looseSig))
	if d, _ := r.Datanet(ctx, "a"); d.Policy.Access != registry.AccessAllowList || d.PolicyNonce != 2 {
		t.Fatalf("policy after the replay: %+v (nonce %d)", d.Policy, d.PolicyNonce)
	}
	// Nor can a signature that opened writes reopen them once the owner
	// closed them, nor a signed write rule carry writers it did not name.
	stranger := key(t)
	openWrites := registry.Policy{Write: registry.WriteOpen, Attribution: []string{"acme/spans"}}
	ownerWrites := registry.Policy{Write: registry.WriteOwner}
	openSig := sign(t, owner, here.PolicyDigest("b", 0, openWrites))
	if err := r.SetPolicy(ctx, "b", openWrites, openSig); err != nil {
		t.Fatal(err)
	}
	if err := r.SetPolicy(ctx, "b", ownerWrites, sign(t, owner, here.PolicyDigest("b", 1, ownerWrites))); err != nil {
		t.Fatal(err)
	}
	refused("an earlier open-writes signature replayed", r.SetPolicy(ctx, "b", openWrites, openSig))
	listed := registry.Policy{Write: registry.WriteAllowList, Writers: []string{registry.Address(stranger)}}
	refused("a writer added to a signed allowlist", r.SetPolicy(ctx, "b", listed, sign(t, owner, here.PolicyDigest("b", 2, registry.Policy{Write: registry.WriteAllowList}))))
	refused("an attribution plugin added to a signed policy", r.SetPolicy(ctx, "b", openWrites, sign(t, owner, here.PolicyDigest("b", 2, registry.Policy{Write: registry.WriteOpen}))))
	wrote := "a stranger's record"
	if _, _, err := r.AddRecord(ctx, "b", registry.Address(stranger), wrote, sign(t, stranger, here.RecordDigest("b", wrote))); abi.CodeOf(err) != registry.CodeWriteDenied {
		t.Fatalf("a stranger's record after the replays: %v", err)
	}

	// Publications and yanks.
	wasm := []byte("\x00asm")
	m := manifest(owner, wasm, "1.0.0")
	m.Datanets = []string{"b"}
	_, err = r.Publish(ctx, m, sign(t, owner, there.ManifestDigest(m)), wasm)
	refused("manifest signed for another deployment", err)
	if _, err := r.Publish(ctx, m, sign(t, owner, here.ManifestDigest(m)), wasm); err != nil {
		t.Fatal(err)
	}
	refused("yank signed for another deployment", r.Yank(ctx, "acme/qa@1.0.0", sign(t, owner, there.YankDigest("acme", "qa@1.0.0"))))
	refused("yank signed for another version", r.Yank(ctx, "acme/qa@1.0.0", sign(t, owner, here.YankDigest("acme/qa", "1.0.1"))))
	if err := r.Yank(ctx, "acme/qa@1.0.0", sign(t, owner, here.YankDigest("acme/qa", "1.0.0"))); err != nil {
		t.Fatal(err)
	}
}

// The digests are standard EIP-712: go-ethereum's own typed-data hashing
// (what wallets' eth_signTypedData_v4 computes) gives the same bytes.
func TestRegistryDigestsAreEIP712(t *testing.T) {
	d := registry.Domain{ChainID: big.NewInt(31337), Contract: "0x00000000000000000000000000000000000000aa"}
	domainTypes := []apitypes.Type{
		{Name: "name", Type: "string"}, {Name: "version", Type: "string"},
		{Name: "chainId", Type: "uint256"}, {Name: "verifyingContract", Type: "address"},
	}
	domain := apitypes.TypedDataDomain{Name: "Tollgate Registry", Version: "1", ChainId: (*math.HexOrDecimal256)(d.ChainID), VerifyingContract: d.Contract}
	content := "the sky is blue"
	contentHash := sha256.Sum256([]byte(content))
	// The policy is hashed as its JSON, new fields and all: a wallet signs
	// the same bytes32 whatever the policy holds.
	policy := registry.Policy{Access: registry.AccessOpen, Write: registry.WriteOpen, WriterQuota: 20, WriterQuotaBytes: 1 << 20,
		Attribution: []string{"builtin/ngram", "acme/spans"}}
	policyJSON, _ := json.Marshal(policy)
	if want := `{"access":"open","write":"open","writer_quota":20,"writer_quota_bytes":1048576,"attribution":["builtin/ngram","acme/spans"]}`; string(policyJSON) != want {
		t.Fatalf("policy JSON %s, want %s", policyJSON, want)
	}
	cases := []struct {
		name    string
		types   []apitypes.Type
		message apitypes.TypedDataMessage
		ours    []byte
	}{
		{"Record", []apitypes.Type{{Name: "datanet", Type: "string"}, {Name: "content", Type: "bytes32"}},
			apitypes.TypedDataMessage{"datanet": "facts", "content": hexutil.Encode(contentHash[:])}, d.RecordDigest("facts", content)},
		{"Yank", []apitypes.Type{{Name: "name", Type: "string"}, {Name: "version", Type: "string"}},
			apitypes.TypedDataMessage{"name": "acme/qa", "version": "1.2.3"}, d.YankDigest("acme/qa", "1.2.3")},
		{"SetPolicy", []apitypes.Type{{Name: "datanet", Type: "string"}, {Name: "nonce", Type: "uint64"}, {Name: "policy", Type: "bytes32"}},
			apitypes.TypedDataMessage{"datanet": "facts", "nonce": big.NewInt(7), "policy": hexutil.Encode(crypto.Keccak256(policyJSON))}, d.PolicyDigest("facts", 7, policy)},
	}
	for _, c := range cases {
		td := apitypes.TypedData{Types: apitypes.Types{"EIP712Domain": domainTypes, c.name: c.types}, PrimaryType: c.name, Domain: domain, Message: c.message}
		want, _, err := apitypes.TypedDataAndHash(td)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, c.ours) {
			t.Fatalf("%s digest %x, go-ethereum's EIP-712 gives %x", c.name, c.ours, want)
		}
	}
}
