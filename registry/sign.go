package registry

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
)

// Domain binds every registry signature to one deployment: the chain and
// the settlement contract the node pays through. A signature made for one
// deployment is worthless on another. The zero Domain (chain 0, the zero
// address) is that of a node without a chain.
type Domain struct {
	ChainID  *big.Int
	Contract string // the settlement contract's address
}

// Registry actions are EIP-712 typed data in the domain
// EIP712Domain(name "Tollgate Registry", version "1", chainId,
// verifyingContract), so any wallet's eth_signTypedData_v4 signs them, with
// these primary types (hashes are of the canonical JSON the fields name):
//
//	Record(string datanet,bytes32 content)               content = sha256 of the record
//	Publish(string name,string version,bytes32 manifest) manifest = keccak256 of [Manifest.SigningBytes]
//	Yank(string name,string version)
//	CreateDatanet(string name,address owner,bytes32 spec) spec = keccak256 of [DatanetSpec]
//	SetPolicy(string datanet,uint64 nonce,bytes32 policy) policy = keccak256 of the policy's JSON
//
// A record's signature binds its datanet and carries no nonce, so an import
// can resume; a policy change carries the datanet's policy nonce, so an old
// signature cannot undo a newer policy; publications, yanks and creations
// are replay-safe because each names something that can happen only once.
var (
	domainType  = crypto.Keccak256([]byte("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"))
	recordType  = crypto.Keccak256([]byte("Record(string datanet,bytes32 content)"))
	publishType = crypto.Keccak256([]byte("Publish(string name,string version,bytes32 manifest)"))
	yankType    = crypto.Keccak256([]byte("Yank(string name,string version)"))
	datanetType = crypto.Keccak256([]byte("CreateDatanet(string name,address owner,bytes32 spec)"))
	policyType  = crypto.Keccak256([]byte("SetPolicy(string datanet,uint64 nonce,bytes32 policy)"))
)

// separator is the EIP-712 domain separator.
func (d Domain) separator() []byte {
	chainID := d.ChainID
	if chainID == nil {
		chainID = new(big.Int)
	}
	return crypto.Keccak256(domainType,
		crypto.Keccak256([]byte("Tollgate Registry")), crypto.Keccak256([]byte("1")),
		common.LeftPadBytes(chainID.Bytes(), 32), common.LeftPadBytes(common.HexToAddress(d.Contract).Bytes(), 32))
}

func (d Domain) digest(fields ...[]byte) []byte {
	return crypto.Keccak256([]byte{0x19, 0x01}, d.separator(), crypto.Keccak256(fields...))
}

func str(s string) []byte { return crypto.Keccak256([]byte(s)) }

// RecordDigest is what a contributor signs to add content to datanet.
func (d Domain) RecordDigest(datanet, content string) []byte {
	h := sha256.Sum256([]byte(content))
	return d.digest(recordType, str(datanet), h[:])
}

// ManifestDigest is what a publisher signs to publish m.
func (d Domain) ManifestDigest(m Manifest) []byte {
	return d.digest(publishType, str(m.Name), str(m.Version), crypto.Keccak256(m.SigningBytes()))
}

// YankDigest is what a publisher, the name's owner or the operator signs
// to yank name@version.
func (d Domain) YankDigest(name, version string) []byte {
	return d.digest(yankType, str(name), str(version))
}

// DatanetSpec is what creating a datanet fixes, as its owner signs it.
type DatanetSpec struct {
	Name         string `json:"name"`
	Owner        string `json:"owner"`
	Description  string `json:"description"`
	License      string `json:"license"`
	PricePerRead string `json:"price_per_read"`
	Policy       Policy `json:"policy"`
}

func specOf(dn Datanet) DatanetSpec {
	price := dn.PricePerRead
	if price == "" {
		price = "0"
	}
	return DatanetSpec{Name: dn.Name, Owner: common.HexToAddress(dn.Owner).Hex(), Description: dn.Description, License: dn.License, PricePerRead: price, Policy: dn.Policy}
}

// DatanetDigest is what an owner signs to create dn.
func (d Domain) DatanetDigest(dn Datanet) []byte {
	spec, _ := json.Marshal(specOf(dn)) // strings only: cannot fail
	return d.digest(datanetType, str(dn.Name), common.LeftPadBytes(common.HexToAddress(dn.Owner).Bytes(), 32), crypto.Keccak256(spec))
}

// PolicyDigest is what a datanet's owner signs to set its policy to p;
// nonce is the datanet's current PolicyNonce.
func (d Domain) PolicyDigest(datanet string, nonce uint64, p Policy) []byte {
	b, _ := json.Marshal(p)
	return d.digest(policyType, str(datanet), common.LeftPadBytes(binary.BigEndian.AppendUint64(nil, nonce), 32), crypto.Keccak256(b))
}

// Sign signs a digest with key; the signature is 65 bytes, V in {27, 28}.
func Sign(key *ecdsa.PrivateKey, digest []byte) ([]byte, error) {
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// Recover returns the checksummed address that signed digest. V may be
// 0/1 or 27/28.
func Recover(digest, sig []byte) (string, error) {
	if len(sig) != 65 {
		return "", abi.Errorf(abi.CodeBadSignature, "signature is %d bytes, want 65", len(sig))
	}
	s := append([]byte(nil), sig...)
	if s[64] >= 27 {
		s[64] -= 27
	}
	pub, err := crypto.SigToPub(digest, s)
	if err != nil {
		return "", abi.Wrap(abi.CodeBadSignature, err, "recover")
	}
	return crypto.PubkeyToAddress(*pub).Hex(), nil
}

// Address returns the checksummed address of key.
func Address(key *ecdsa.PrivateKey) string { return crypto.PubkeyToAddress(key.PublicKey).Hex() }

// CanonicalAddress checks that s is a 20-byte hex address and returns its
// EIP-55 checksummed form, the one form accounts are stored under.
func CanonicalAddress(s string) (string, error) {
	if !common.IsHexAddress(s) || !strings.HasPrefix(s, "0x") {
		return "", abi.Errorf(abi.CodeBadRequest, "%q is not a 0x-prefixed 20-byte hex address", s)
	}
	return common.HexToAddress(s).Hex(), nil
}

func verifySigner(digest, sig []byte, want string) error {
	got, err := Recover(digest, sig)
	if err != nil {
		return err
	}
	if got != want {
		return abi.Errorf(abi.CodeBadSignature, "signed by %s, not %s", got, want)
	}
	return nil
}

func errorf(code abi.Code, format string, args ...any) error {
	return abi.Errorf(code, "registry: %s", fmt.Sprintf(format, args...))
}
