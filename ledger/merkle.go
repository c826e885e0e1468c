package ledger

import (
	"bytes"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
)

// Domain binds a tree's leaves to one settlement contract on one chain, so a
// proof for one deployment is worthless on another.
type Domain struct {
	ChainID    *big.Int `json:"chain_id"`
	Settlement string   `json:"settlement"` // contract address
}

// NoChain is the domain of a node that settles on no chain: chain 0 and
// the zero address.
func NoChain() Domain {
	return Domain{ChainID: new(big.Int), Settlement: "0x0000000000000000000000000000000000000000"}
}

// Leaf is one account's cumulative earnings at an epoch.
type Leaf struct {
	Account    string   `json:"account"`
	Cumulative *big.Int `json:"cumulative"`
}

// LeafHash is keccak256(keccak256(abi.encode(chainId, settlement, account,
// cumulative))) with types (uint256, address, address, uint256): the leaf of
// OpenZeppelin's StandardMerkleTree for those values.
func LeafHash(d Domain, l Leaf) common.Hash {
	enc := make([]byte, 0, 128)
	enc = append(enc, common.LeftPadBytes(d.ChainID.Bytes(), 32)...)
	enc = append(enc, common.LeftPadBytes(common.HexToAddress(d.Settlement).Bytes(), 32)...)
	enc = append(enc, common.LeftPadBytes(common.HexToAddress(l.Account).Bytes(), 32)...)
	enc = append(enc, common.LeftPadBytes(l.Cumulative.Bytes(), 32)...)
	return crypto.Keccak256Hash(crypto.Keccak256(enc))
}

// Hash is a 32-byte hash.
type Hash = common.Hash

// Tree is a Merkle tree built exactly as @openzeppelin/merkle-tree's
// StandardMerkleTree builds it: leaf hashes sorted ascending, laid out as a
// complete binary tree in an array (root at 0, leaves at the end in reverse
// order), each node the keccak256 of its children sorted.
type Tree struct {
	nodes []common.Hash
	index map[common.Hash]int // leaf hash -> node index
}

// CodeEmptyTree refuses a Merkle tree of no leaves.
const CodeEmptyTree abi.Code = "ledger_empty_tree"

// BuildTree builds the tree of the given leaf hashes.
func BuildTree(leaves []common.Hash) (*Tree, error) {
	n := len(leaves)
	if n == 0 {
		return nil, abi.Errorf(CodeEmptyTree, "ledger: a Merkle tree needs at least one leaf")
	}
	sorted := append([]common.Hash(nil), leaves...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i][:], sorted[j][:]) < 0 })
	t := &Tree{nodes: make([]common.Hash, 2*n-1), index: make(map[common.Hash]int, n)}
	for i, h := range sorted {
		at := len(t.nodes) - 1 - i
		t.nodes[at] = h
		t.index[h] = at
	}
	buf := make([]byte, 64)
	for i := len(t.nodes) - 1 - n; i >= 0; i-- {
		t.nodes[i] = hashPair(buf, t.nodes[2*i+1], t.nodes[2*i+2])
	}
	return t, nil
}

func hashPair(buf []byte, a, b common.Hash) common.Hash {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return crypto.Keccak256Hash(buf)
}

// Root returns the tree's root.
func (t *Tree) Root() common.Hash { return t.nodes[0] }

// Proof returns the sibling hashes from leaf to root, the form
// OpenZeppelin's MerkleProof.verify takes.
func (t *Tree) Proof(leaf common.Hash) ([]common.Hash, bool) {
	i, ok := t.index[leaf]
	if !ok {
		return nil, false
	}
	var proof []common.Hash
	for i > 0 {
		sib := i + 1
		if i%2 == 0 {
			sib = i - 1
		}
		proof = append(proof, t.nodes[sib])
		i = (i - 1) / 2
	}
	return proof, true
}

// VerifyProof checks a proof the way MerkleProof.verify does on-chain.
func VerifyProof(root, leaf common.Hash, proof []common.Hash) bool {
	h := leaf
	buf := make([]byte, 64)
	for _, p := range proof {
		h = hashPair(buf, h, p)
	}
	return h == root
}
