package ledger

import (
	"crypto/ecdsa"
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

// ReceiptSchema is the version of the signed receipt format. It changes
// only when the typed data below does.
const ReceiptSchema = 2

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
	return apitypes.TypedData{
		Types:       receiptTypes,
		PrimaryType: "Receipt",
		Domain: apitypes.TypedDataDomain{
			Name: "Tollgate", Version: "1", ChainId: (*math.HexOrDecimal256)(chainID), VerifyingContract: address(d.Settlement),
		},
		Message: apitypes.TypedDataMessage{
			"schema":          big.NewInt(ReceiptSchema),
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
		},
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
