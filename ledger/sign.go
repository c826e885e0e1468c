package ledger

import (
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"math/big"
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

// receiptTypes is the EIP-712 schema of a signed receipt. A caller or a
// contributor can show a receipt to anyone: the signature proves the
// operator issued it, and every wallet library can check it.
var receiptTypes = apitypes.Types{
	"EIP712Domain": {
		{Name: "name", Type: "string"}, {Name: "version", Type: "string"},
		{Name: "chainId", Type: "uint256"}, {Name: "verifyingContract", Type: "address"},
	},
	"Receipt": {
		{Name: "invocation", Type: "string"},
		{Name: "agentHash", Type: "bytes32"},
		{Name: "attributionHash", Type: "bytes32"},
		{Name: "inputHash", Type: "bytes32"},
		{Name: "outputHash", Type: "bytes32"},
		{Name: "datanets", Type: "DatanetVersion[]"},
		{Name: "fees", Type: "Fee[]"},
	},
	"DatanetVersion": {{Name: "name", Type: "string"}, {Name: "version", Type: "uint64"}, {Name: "root", Type: "bytes32"}},
	"Fee":            {{Name: "account", Type: "address"}, {Name: "kind", Type: "string"}, {Name: "amount", Type: "int256"}},
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
	fees := make([]any, len(r.Postings))
	for i, p := range r.Postings {
		fees[i] = map[string]any{"account": p.Account, "kind": p.Kind, "amount": p.Amount}
	}
	settlement := d.Settlement
	if settlement == "" {
		settlement = common.Address{}.Hex()
	}
	return apitypes.TypedData{
		Types:       receiptTypes,
		PrimaryType: "Receipt",
		Domain: apitypes.TypedDataDomain{
			Name: "Tollgate", Version: "1", ChainId: (*math.HexOrDecimal256)(chainID), VerifyingContract: settlement,
		},
		Message: apitypes.TypedDataMessage{
			"invocation":      r.ID,
			"agentHash":       hash32(r.AgentHash),
			"attributionHash": hash32(r.AttributionHash),
			"inputHash":       hash32(r.InputHash),
			"outputHash":      hash32(r.OutputHash),
			"datanets":        datanets,
			"fees":            fees,
		},
	}
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
	digest, _, err := apitypes.TypedDataAndHash(r.TypedData(d))
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
	digest, _, err := apitypes.TypedDataAndHash(r.TypedData(*r.Domain))
	if err != nil {
		return abi.Errorf(abi.CodeBadSignature, "receipt %s: %v", r.ID, err)
	}
	sig, err := hex.DecodeString(strings.TrimPrefix(r.Signature, "0x"))
	if err != nil || len(sig) != 65 {
		return abi.Errorf(abi.CodeBadSignature, "receipt %s: malformed signature", r.ID)
	}
	sig[64] -= 27
	pub, err := crypto.SigToPub(digest, sig)
	if err != nil {
		return abi.Errorf(abi.CodeBadSignature, "receipt %s: %v", r.ID, err)
	}
	if got := crypto.PubkeyToAddress(*pub).Hex(); got != r.Signer {
		return abi.Errorf(abi.CodeBadSignature, "receipt %s: signed by %s, claims %s", r.ID, got, r.Signer)
	}
	return nil
}
