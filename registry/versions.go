package registry

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/tollgate-dev/tollgate/internal/kv"

	"github.com/tollgate-dev/tollgate/abi"
)

// A datanet's records, in the order they were added, form an append-only
// Merkle tree; each version's root is kept, so a receipt naming a version
// names exactly the records that version held. The tree is kept as its
// frontier (the roots of its perfect subtrees, largest first), which makes
// an append O(log n).
//
// leaf = sha256(0x00 ‖ record id bytes); node = sha256(0x01 ‖ left ‖ right);
// the root folds the frontier from the smallest subtree up:
// root = node(…node(node(f[k-1]... ) ) ) with larger subtrees on the left.

type frontierNode struct {
	Height int    `json:"h"`
	Hash   []byte `json:"x"`
}

func leafHash(id string) []byte {
	b, _ := hex.DecodeString(id)
	h := sha256.Sum256(append([]byte{0}, b...))
	return h[:]
}

func nodeHash(l, r []byte) []byte {
	h := sha256.Sum256(append(append([]byte{1}, l...), r...))
	return h[:]
}

// appendLeaf adds a leaf to the frontier.
func appendLeaf(f []frontierNode, leaf []byte) []frontierNode {
	n := frontierNode{Height: 0, Hash: leaf}
	for len(f) > 0 && f[len(f)-1].Height == n.Height {
		top := f[len(f)-1]
		f = f[:len(f)-1]
		n = frontierNode{Height: n.Height + 1, Hash: nodeHash(top.Hash, n.Hash)}
	}
	return append(f, n)
}

// frontierRoot folds the frontier into one root.
func frontierRoot(f []frontierNode) []byte {
	if len(f) == 0 {
		h := sha256.Sum256(nil)
		return h[:]
	}
	root := f[len(f)-1].Hash
	for i := len(f) - 2; i >= 0; i-- {
		root = nodeHash(f[i].Hash, root)
	}
	return root
}

func versionKey(datanet string, v uint64) []byte {
	return binary.BigEndian.AppendUint64(scoped("v/", datanet), v)
}

// VersionRoot returns the hex Merkle root of a datanet at a version.
func (r *Registry) VersionRoot(ctx context.Context, datanet string, version uint64) (string, error) {
	if err := checkDatanet(datanet); err != nil {
		return "", err
	}
	var root string
	err := r.db.View(func(txn kv.Txn) (err error) {
		root, err = getString(txn, versionKey(datanet, version))
		return err
	})
	if errors.Is(err, kv.ErrNotFound) {
		return "", errorf(abi.CodeNotFound, "datanet %s has no version %d", datanet, version)
	}
	return root, err
}
