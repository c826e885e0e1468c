package ledger

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// Epoch is a closed epoch: every account's cumulative earnings at its close
// and the root of their tree.
type Epoch struct {
	N        uint64   `json:"n"`
	Domain   Domain   `json:"domain"`
	Root     string   `json:"root"`  // 0x-hex
	Total    *big.Int `json:"total"` // sum of Leaves' cumulative earnings
	Leaves   []Leaf   `json:"leaves"`
	Receipts int      `json:"receipts"` // receipts committed in this epoch
	// Bundle chains the epoch's receipts and outputs to every epoch before
	// it (see [BundleHash]); the root is posted with it.
	Bundle string    `json:"bundle"`
	Closed time.Time `json:"closed"`
	// PostIntent is the signed transaction that posts Root, recorded
	// before it is sent, so a restart can tell whether it landed.
	PostIntent string `json:"post_intent,omitempty"`
	// PostRaw is that transaction, signed (hex), to send again after a crash.
	PostRaw string `json:"post_raw,omitempty"`
	// PostTx is the transaction that posted Root on-chain, once it has.
	PostTx string `json:"post_tx,omitempty"`
	// Settled is, for each datanet, the highest version a receipt of this
	// epoch or an earlier one read: verifying the epoch needs its records
	// up to there.
	Settled map[string]uint64 `json:"settled,omitempty"`
}

// OpenEpoch returns the number of the epoch receipts are now committed to.
func (l *Ledger) OpenEpoch(ctx context.Context) (uint64, error) {
	var n uint64
	err := l.db.View(func(txn kv.Txn) (err error) { n, err = openEpoch(txn); return err })
	return n, err
}

func openEpoch(txn kv.Txn) (uint64, error) { return epochAt(txn, openEpochKey, 1) }

// epochAt reads the epoch number stored at key (8 bytes, big-endian), or
// absent if there is none.
func epochAt(txn kv.Txn, key []byte, absent uint64) (uint64, error) {
	item, err := txn.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return absent, nil
	}
	if err != nil {
		return 0, err
	}
	if len(item) != 8 {
		return 0, fmt.Errorf("ledger: corrupt %s", key)
	}
	return binary.BigEndian.Uint64(item), nil
}

// CloseEpoch closes the open epoch: it takes every account's cumulative
// earnings, builds their tree under d and opens the next epoch. An epoch in
// which nobody has ever earned cannot close.
func (l *Ledger) CloseEpoch(ctx context.Context, d Domain) (*Epoch, error) {
	if d.ChainID == nil || d.Settlement == "" {
		return nil, abi.Errorf(abi.CodeBadRequest, "ledger: close epoch needs a chain id and a settlement address")
	}
	// First seal the epoch, so that no host commits to it any more; then
	// read it whole and close it. A close that fails unseals it, and a
	// crash in between leaves it sealed for the next close to finish.
	var n uint64
	if err := l.write(ctx, func(txn kv.Txn) (err error) { n, err = seal(txn); return err }); err != nil {
		var refused *abi.Error
		if !errors.As(err, &refused) && n > 0 {
			// The seal's outcome is unknown (its commit failed): clear it.
			l.write(context.WithoutCancel(ctx), func(txn kv.Txn) error { return unseal(txn, n) })
		}
		return nil, err
	}
	var e *Epoch
	var tree *Tree
	err := l.write(ctx, func(txn kv.Txn) (err error) {
		e, tree, err = closeEpoch(txn, d, n)
		return err
	})
	if err != nil {
		if uerr := l.write(context.WithoutCancel(ctx), func(txn kv.Txn) error { return unseal(txn, n) }); uerr != nil {
			l.logger.Warn("unseal an epoch that failed to close", "epoch", n, "err", uerr)
		}
		return nil, err
	}
	l.open.Store(&openState{epoch: e.N + 1, bundle: e.Bundle})
	l.cacheTree(e.N, tree)
	l.logger.Info("closed epoch", "epoch", e.N, "root", e.Root, "accounts", len(e.Leaves), "total", e.Total)
	return e, nil
}

// closeEpoch writes epoch n, sealed and still open, closed under d, and
// opens the next one in txn. It returns the closed epoch and its tree.
func closeEpoch(txn kv.Txn, d Domain, n uint64) (*Epoch, *Tree, error) {
	open, err := openEpoch(txn)
	if err != nil {
		return nil, nil, err
	}
	if open > n {
		return nil, nil, abi.Errorf(CodeEpochClosed, "ledger: epoch %d was closed meanwhile, by another host", n)
	}
	if s, err := sealed(txn); err != nil {
		return nil, nil, err
	} else if s != n || open != n {
		return nil, nil, abi.Errorf(abi.CodeUnavailable, "ledger: epoch %d is no longer sealed for closing", n)
	}
	e := &Epoch{N: n, Domain: d, Total: new(big.Int), Closed: time.Now().UTC()}
	if e.Leaves, err = earningLeaves(txn, e.Total); err != nil {
		return nil, nil, err
	}
	receipts, outputs, err := epochContents(txn, n)
	if err != nil {
		return nil, nil, err
	}
	count := len(receipts)
	if count == 0 {
		return nil, nil, abi.Errorf(CodeEpochEmpty, "ledger: epoch %d has no receipts to close", n)
	}
	if len(e.Leaves) == 0 {
		return nil, nil, abi.Errorf(CodeEpochEmpty, "ledger: epoch %d: nobody has earned anything yet", n)
	}
	// The contract refuses a root owing more than was deposited. Only
	// a reorganisation that undid deposits already spent gets here; say
	// so rather than post a root that can only revert.
	if dep, err := getAmount(txn, depositedKey); err != nil {
		return nil, nil, err
	} else if e.Total.Cmp(dep) > 0 {
		return nil, nil, abi.Errorf(CodeInsolvent, "ledger: epoch %d would owe %s in earnings against %s deposited: a reorganisation undid deposits that were already spent; %s more must be deposited before it can be posted", n, e.Total, dep, new(big.Int).Sub(e.Total, dep))
	}
	e.Receipts = count
	tree, err := e.tree()
	if err != nil {
		return nil, nil, err
	}
	e.Root = tree.Root().Hex()
	prev := ZeroBundle
	e.Settled = map[string]uint64{}
	if n > 1 {
		var before Epoch
		if err := kv.GetJSON(txn, epochKey(n-1), &before); err != nil {
			return nil, nil, fmt.Errorf("ledger: epoch %d: %w", n-1, err)
		}
		prev = before.Bundle
		maps.Copy(e.Settled, before.Settled)
	}
	for _, r := range receipts {
		for _, dv := range r.Datanets {
			e.Settled[dv.Name] = max(e.Settled[dv.Name], dv.Version)
		}
	}
	if e.Bundle, err = BundleHash(prev, receipts, outputs); err != nil {
		return nil, nil, err
	}
	if err := kv.SetJSON(txn, epochKey(n), e); err != nil {
		return nil, nil, err
	}
	if err := txn.Delete(sealKey); err != nil {
		return nil, nil, err
	}
	return e, tree, txn.Set(openEpochKey, binary.BigEndian.AppendUint64(nil, n+1))
}

// unseal lets commits into epoch n again, if it is still sealed.
func unseal(txn kv.Txn, n uint64) error {
	if s, err := sealed(txn); err != nil || s != n {
		return err
	}
	return txn.Delete(sealKey)
}

// earningLeaves returns a leaf for every account with cumulative earnings,
// in key order, and adds their sum to total.
func earningLeaves(txn kv.Txn, total *big.Int) ([]Leaf, error) {
	var leaves []Leaf
	err := earnings(txn, func(account string, amt *big.Int) {
		if amt.Sign() > 0 {
			leaves = append(leaves, Leaf{Account: account, Cumulative: amt})
			total.Add(total, amt)
		}
	})
	return leaves, err
}

// earnings calls fn with every account's cumulative earnings, in account
// order: the sum of its e/<account> and of each seat's e/<account>/<seat>,
// which sort together.
func earnings(txn kv.Txn, fn func(account string, amt *big.Int)) error {
	var cur string
	var sum *big.Int
	it := txn.NewIterator(kv.IterOptions{Prefix: []byte("e/")})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		account, _, _ := strings.Cut(string(it.Key()[2:]), "/")
		var amt *big.Int
		if err := kv.ValueOf(it, func(v []byte) (err error) { amt, err = parseAmount(v); return err }); err != nil {
			return err
		}
		if sum != nil && account != cur {
			fn(cur, sum)
			sum = nil
		}
		if sum == nil {
			cur, sum = account, new(big.Int)
		}
		sum.Add(sum, amt)
	}
	if sum != nil {
		fn(cur, sum)
	}
	return nil
}

// epochContents returns the receipts committed in epoch n and the outputs
// they answered with, in id order.
func epochContents(txn kv.Txn, n uint64) ([]*Receipt, [][]byte, error) {
	var receipts []*Receipt
	var outputs [][]byte
	prefix := epochReceiptsPrefix(n)
	it := txn.NewIterator(kv.IterOptions{Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		id := string(it.Key()[len(prefix)+1:])
		var r Receipt
		if err := kv.GetJSON(txn, receiptKey(id), &r); err != nil {
			return nil, nil, fmt.Errorf("ledger: receipt %s: %w", id, err)
		}
		out, err := kv.GetBytes(txn, outputKey(id))
		if err != nil {
			return nil, nil, fmt.Errorf("ledger: output of %s: %w", id, err)
		}
		receipts, outputs = append(receipts, &r), append(outputs, out)
	}
	return receipts, outputs, nil
}

func (e *Epoch) tree() (*Tree, error) {
	hashes := make([]common.Hash, len(e.Leaves))
	for i, lf := range e.Leaves {
		hashes[i] = LeafHash(e.Domain, lf)
	}
	return BuildTree(hashes)
}

func (l *Ledger) cacheTree(n uint64, t *Tree) {
	l.treeMu.Lock()
	l.treeEpoch, l.tree = n, t
	l.treeMu.Unlock()
}

// Epoch returns closed epoch n.
func (l *Ledger) Epoch(ctx context.Context, n uint64) (*Epoch, error) {
	var e Epoch
	err := l.db.View(func(txn kv.Txn) error { return kv.GetJSON(txn, epochKey(n), &e) })
	if errors.Is(err, kv.ErrNotFound) {
		return nil, abi.Errorf(abi.CodeNotFound, "ledger: epoch %d is not closed", n)
	}
	return &e, err
}

// SetPostIntent records the transaction about to post epoch n's root: its
// hash and its signed bytes.
func (l *Ledger) SetPostIntent(ctx context.Context, n uint64, tx, raw string) error {
	return l.updateEpoch(ctx, n, func(e *Epoch) { e.PostIntent, e.PostRaw = tx, raw })
}

// SetPostTx records the transaction that posted epoch n's root.
func (l *Ledger) SetPostTx(ctx context.Context, n uint64, tx string) error {
	return l.updateEpoch(ctx, n, func(e *Epoch) { e.PostTx = tx })
}

func (l *Ledger) updateEpoch(ctx context.Context, n uint64, fn func(*Epoch)) error {
	return l.write(ctx, func(txn kv.Txn) error {
		var e Epoch
		if err := kv.GetJSON(txn, epochKey(n), &e); errors.Is(err, kv.ErrNotFound) {
			return abi.Errorf(abi.CodeNotFound, "ledger: epoch %d is not closed", n)
		} else if err != nil {
			return err
		}
		fn(&e)
		return kv.SetJSON(txn, epochKey(n), &e)
	})
}

// Proof returns account's leaf in epoch n and its Merkle proof (0x-hex).
func (l *Ledger) Proof(ctx context.Context, n uint64, account string) (Leaf, []string, error) {
	e, err := l.Epoch(ctx, n)
	if err != nil {
		return Leaf{}, nil, err
	}
	var leaf *Leaf
	for i := range e.Leaves {
		if e.Leaves[i].Account == account {
			leaf = &e.Leaves[i]
			break
		}
	}
	if leaf == nil {
		return Leaf{}, nil, abi.Errorf(abi.CodeNotFound, "ledger: %s earned nothing by epoch %d", account, n)
	}
	l.treeMu.Lock()
	tree := l.tree
	if l.treeEpoch != n || tree == nil {
		if tree, err = e.tree(); err != nil {
			l.treeMu.Unlock()
			return Leaf{}, nil, err
		}
		l.treeEpoch, l.tree = n, tree
	}
	l.treeMu.Unlock()
	proof, ok := tree.Proof(LeafHash(e.Domain, *leaf))
	if !ok {
		return Leaf{}, nil, abi.Errorf(abi.CodeInternal, "ledger: leaf of %s missing from epoch %d's tree", account, n)
	}
	out := make([]string, len(proof))
	for i, p := range proof {
		out[i] = p.Hex()
	}
	return *leaf, out, nil
}

// ZeroBundle is the bundle before the first epoch.
const ZeroBundle = "0x0000000000000000000000000000000000000000000000000000000000000000"

// BundleHash chains an epoch's receipts and outputs to the bundle of the
// epoch before it: keccak256(prev ‖ keccak256(receiptᵢ) ‖ keccak256(outputᵢ) …)
// over the epoch's receipts in id order, each receipt as its JSON encoding,
// each output as its bytes: the order and form an epoch export streams them
// in. A verifier that rebuilds the chain up to epoch n and finds the bundle
// posted with the root proves it checked exactly the data the root was built
// from.
func BundleHash(prev string, receipts []*Receipt, outputs [][]byte) (string, error) {
	if len(receipts) != len(outputs) {
		return "", fmt.Errorf("ledger: %d receipts and %d outputs", len(receipts), len(outputs))
	}
	order := make([]int, len(receipts))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return receipts[order[a]].ID < receipts[order[b]].ID })
	h := crypto.NewKeccakState()
	h.Write(common.HexToHash(prev).Bytes())
	for _, i := range order {
		b, err := json.Marshal(receipts[i])
		if err != nil {
			return "", err
		}
		h.Write(crypto.Keccak256(b))
		h.Write(crypto.Keccak256(outputs[i]))
	}
	return common.BytesToHash(h.Sum(nil)).Hex(), nil
}
