package ledger

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/tollgate-dev/tollgate/abi"
)

// DatanetVersion is the version of a datanet an invocation could read.
type DatanetVersion struct {
	Name    string `json:"name"`
	Version uint64 `json:"version"`
	Root    string `json:"root,omitempty"` // hex Merkle root of its records at Version
}

// Versions returns the versions in vs by datanet name: what a receipt's
// invocation read, in the form a registry view at those versions takes.
func Versions(vs []DatanetVersion) map[string]uint64 {
	m := make(map[string]uint64, len(vs))
	for _, v := range vs {
		m[v.Name] = v.Version
	}
	return m
}

// ReceiptSchema is the version of the signed receipt format new receipts
// are made in. It changes only when the typed data below does; receipts
// made in an older one keep verifying under it.
const ReceiptSchema = 3

// schema2 is the format before models: no manifest hashes, no generations.
const schema2 = 2

// SchemaVersion returns the signed format of the receipt.
func (r *Receipt) SchemaVersion() int {
	if r.Schema == 0 {
		return schema2
	}
	return r.Schema
}

// receiptTypes is the EIP-712 schema of a signed receipt. A caller or a
// contributor can show a receipt to anyone: the signature proves the
// operator issued it, and every wallet library can check it. It covers
// everything that moves money or can be disputed: who called what, on what
// input, what it answered, which records it read at which versions and
// fees, how attribution scored them, every posting, the epoch it is paid
// in, and room for the fuel a call used and the bundle hash of the epoch
// before it (zero until those are recorded).
var receiptTypes = apitypes.Types{
	"EIP712Domain": {
		{Name: "name", Type: "string"}, {Name: "version", Type: "string"},
		{Name: "chainId", Type: "uint256"}, {Name: "verifyingContract", Type: "address"},
	},
	"Receipt": {
		{Name: "schema", Type: "uint16"},
		{Name: "invocation", Type: "string"},
		{Name: "requestId", Type: "string"},
		{Name: "caller", Type: "address"},
		{Name: "agent", Type: "string"},
		{Name: "agentHash", Type: "bytes32"},
		{Name: "attribution", Type: "string"},
		{Name: "attributionHash", Type: "bytes32"},
		{Name: "method", Type: "string"},
		{Name: "inputHash", Type: "bytes32"},
		{Name: "outputHash", Type: "bytes32"},
		{Name: "epoch", Type: "uint64"},
		{Name: "time", Type: "uint64"},
		{Name: "fuel", Type: "uint64"},
		{Name: "prevBundle", Type: "bytes32"},
		{Name: "datanets", Type: "DatanetVersion[]"},
		{Name: "reads", Type: "Read[]"},
		{Name: "scores", Type: "Score[]"},
		{Name: "fees", Type: "Fee[]"},
	},
	"DatanetVersion": {{Name: "name", Type: "string"}, {Name: "version", Type: "uint64"}, {Name: "root", Type: "bytes32"}},
	"Read": {
		{Name: "datanet", Type: "string"}, {Name: "record", Type: "string"}, {Name: "contributor", Type: "address"},
		{Name: "bytes", Type: "uint64"}, {Name: "fee", Type: "uint256"},
	},
	"Score": {{Name: "record", Type: "string"}, {Name: "contributor", Type: "address"}, {Name: "weight", Type: "string"}},
	"Fee":   {{Name: "account", Type: "address"}, {Name: "kind", Type: "string"}, {Name: "amount", Type: "int256"}, {Name: "memo", Type: "string"}},
}

// receiptTypes3 is schema 3: schema 2, and the hashes of the manifests
// that ran and the model calls the agent made, each with the exact share
// of its tokens every training record made.
var receiptTypes3 = func() apitypes.Types {
	t := apitypes.Types{}
	for k, v := range receiptTypes {
		t[k] = v
	}
	t["Receipt"] = append(append([]apitypes.Type(nil), receiptTypes["Receipt"]...),
		apitypes.Type{Name: "agentManifest", Type: "bytes32"},
		apitypes.Type{Name: "attributionManifest", Type: "bytes32"},
		apitypes.Type{Name: "generations", Type: "Generation[]"},
	)
	t["Generation"] = []apitypes.Type{
		{Name: "model", Type: "string"}, {Name: "modelHash", Type: "bytes32"}, {Name: "backend", Type: "string"},
		{Name: "seed", Type: "uint64"}, {Name: "temperature", Type: "string"}, {Name: "maxTokens", Type: "uint64"},
		{Name: "stop", Type: "string[]"}, {Name: "promptHash", Type: "bytes32"},
		{Name: "tokensIn", Type: "uint64"}, {Name: "tokensOut", Type: "uint64"}, {Name: "finish", Type: "string"},
		{Name: "textHash", Type: "bytes32"}, {Name: "cost", Type: "uint256"}, {Name: "shares", Type: "TokenShare[]"},
	}
	t["TokenShare"] = []apitypes.Type{
		{Name: "datanet", Type: "string"}, {Name: "record", Type: "string"}, {Name: "contributor", Type: "address"}, {Name: "tokens", Type: "string"},
	}
	return t
}()

// typesOf returns the typed-data schema a receipt is signed in.
func (r *Receipt) typesOf() apitypes.Types {
	if r.SchemaVersion() == schema2 {
		return receiptTypes
	}
	return receiptTypes3
}

// sha256Of is the hex sha256 of s, as a generation's prompt and text are
// signed.
func sha256Of(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// ratText is a token share as signed: the exact fraction, "n" or "n/d".
func ratText(r *big.Rat) string {
	if r == nil {
		return "0"
	}
	return r.RatString()
}

// TypedData returns the receipt as EIP-712 typed data under domain d (the
// chain and settlement contract it will be paid through).
func (r *Receipt) TypedData(d Domain) apitypes.TypedData {
	chainID := d.ChainID
	if chainID == nil {
		chainID = new(big.Int)
	}
	datanets := make([]any, len(r.Datanets))
	for i, dv := range r.Datanets {
		datanets[i] = map[string]any{"name": dv.Name, "version": new(big.Int).SetUint64(dv.Version), "root": hash32(dv.Root)}
	}
	reads := make([]any, len(r.Accesses))
	for i, a := range r.Accesses {
		fee := a.Fee
		if fee == nil {
			fee = new(big.Int)
		}
		reads[i] = map[string]any{"datanet": a.Datanet, "record": a.Record, "contributor": address(a.Contributor),
			"bytes": new(big.Int).SetUint64(uint64(max(a.Bytes, 0))), "fee": fee}
	}
	scores := make([]any, len(r.Scores))
	for i, sc := range r.Scores {
		scores[i] = map[string]any{"record": sc.Record, "contributor": address(sc.Contributor), "weight": strconv.FormatFloat(sc.Weight, 'g', -1, 64)}
	}
	fees := make([]any, len(r.Postings))
	for i, p := range r.Postings {
		amt := p.Amount
		if amt == nil {
			amt = new(big.Int)
		}
		fees[i] = map[string]any{"account": address(p.Account), "kind": p.Kind, "amount": amt, "memo": p.Memo}
	}
	var t uint64
	if !r.Time.IsZero() && r.Time.UnixNano() > 0 {
		t = uint64(r.Time.UnixNano())
	}
	msg := apitypes.TypedDataMessage{
		"schema":          big.NewInt(int64(r.SchemaVersion())),
		"invocation":      r.ID,
		"requestId":       r.RequestID,
		"caller":          address(r.Caller),
		"agent":           r.Agent,
		"agentHash":       hash32(r.AgentHash),
		"attribution":     r.Attribution,
		"attributionHash": hash32(r.AttributionHash),
		"method":          r.Method,
		"inputHash":       hash32(r.InputHash),
		"outputHash":      hash32(r.OutputHash),
		"epoch":           new(big.Int).SetUint64(r.Epoch),
		"time":            new(big.Int).SetUint64(t),
		"fuel":            new(big.Int).SetUint64(r.Fuel),
		"prevBundle":      hash32(r.PrevBundle),
		"datanets":        datanets,
		"reads":           reads,
		"scores":          scores,
		"fees":            fees,
	}
	if r.SchemaVersion() != schema2 {
		gens := make([]any, len(r.Generations))
		for i, g := range r.Generations {
			stop := make([]any, len(g.Stop))
			for j, s := range g.Stop {
				stop[j] = s
			}
			shares := make([]any, len(g.Shares))
			for j, sh := range g.Shares {
				shares[j] = map[string]any{"datanet": sh.Datanet, "record": sh.Record, "contributor": address(sh.Contributor), "tokens": ratText(sh.Tokens)}
			}
			cost := g.Cost
			if cost == nil {
				cost = new(big.Int)
			}
			gens[i] = map[string]any{
				"model": g.Model, "modelHash": hash32(g.ModelHash), "backend": g.Backend,
				"seed": new(big.Int).SetUint64(g.Seed), "temperature": strconv.FormatFloat(g.Temperature, 'g', -1, 64),
				"maxTokens": new(big.Int).SetUint64(uint64(max(g.MaxTokens, 0))), "stop": stop, "promptHash": hash32(sha256Of(g.Prompt)),
				"tokensIn": new(big.Int).SetUint64(uint64(max(g.TokensIn, 0))), "tokensOut": new(big.Int).SetUint64(uint64(max(g.TokensOut, 0))),
				"finish": g.Finish, "textHash": hash32(sha256Of(g.Text)), "cost": cost, "shares": shares,
			}
		}
		msg["agentManifest"] = hash32(r.AgentManifest)
		msg["attributionManifest"] = hash32(r.AttributionManifest)
		msg["generations"] = gens
	}
	return apitypes.TypedData{
		Types:       r.typesOf(),
		PrimaryType: "Receipt",
		Domain: apitypes.TypedDataDomain{
			Name: "Tollgate", Version: "1", ChainId: (*math.HexOrDecimal256)(chainID), VerifyingContract: address(d.Settlement),
		},
		Message: msg,
	}
}

// address is a for an EIP-712 address field: anything that is not an
// address signs as the zero address (validate refuses such postings).
func address(a string) string {
	if !common.IsHexAddress(a) {
		return common.Address{}.Hex()
	}
	return common.HexToAddress(a).Hex()
}

func hash32(h string) string {
	b, err := hex.DecodeString(strings.TrimPrefix(h, "0x"))
	if err != nil || len(b) != 32 {
		return common.Hash{}.Hex()
	}
	return "0x" + hex.EncodeToString(b)
}

// Sign signs the receipt's EIP-712 digest with the operator's key and
// records the signer, the domain and the signature on it.
func (r *Receipt) Sign(key *ecdsa.PrivateKey, d Domain) error {
	digest, err := r.Digest(d)
	if err != nil {
		return fmt.Errorf("ledger: receipt %s: typed data: %w", r.ID, err)
	}
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		return err
	}
	sig[64] += 27
	r.Domain = &d
	r.Signer = crypto.PubkeyToAddress(key.PublicKey).Hex()
	r.Signature = "0x" + hex.EncodeToString(sig)
	return nil
}

// VerifySignature checks that the receipt, as it stands, was signed by its
// Signer under its Domain.
func (r *Receipt) VerifySignature() error {
	if r.Domain == nil || r.Signature == "" {
		return abi.Errorf(abi.CodeBadSignature, "receipt %s is not signed", r.ID)
	}
	digest, err := r.Digest(*r.Domain)
	if err != nil {
		return abi.Wrap(abi.CodeBadSignature, err, "receipt %s", r.ID)
	}
	sig, err := hex.DecodeString(strings.TrimPrefix(r.Signature, "0x"))
	if err != nil || len(sig) != 65 {
		return abi.Errorf(abi.CodeBadSignature, "receipt %s: malformed signature", r.ID)
	}
	sig[64] -= 27
	pub, err := crypto.SigToPub(digest, sig)
	if err != nil {
		return abi.Wrap(abi.CodeBadSignature, err, "receipt %s", r.ID)
	}
	if got := crypto.PubkeyToAddress(*pub).Hex(); got != r.Signer {
		return abi.Errorf(abi.CodeBadSignature, "receipt %s: signed by %s, claims %s", r.ID, got, r.Signer)
	}
	return nil
}

// VerifySignedBy checks the signature and that its signer is operator.
func (r *Receipt) VerifySignedBy(operator string) error {
	if err := r.VerifySignature(); err != nil {
		return err
	}
	if !common.IsHexAddress(operator) || common.HexToAddress(r.Signer) != common.HexToAddress(operator) {
		return abi.Errorf(abi.CodeBadSignature, "receipt %s is signed by %s, not the operator %s", r.ID, r.Signer, operator)
	}
	return nil
}
