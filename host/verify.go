package host

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger"
)

// Verification is what re-running an epoch found.
type Verification struct {
	Epoch    uint64
	Receipts int      // receipts re-run, epochs 1..Epoch
	Problems []string // every receipt that did not re-run to itself
	Root     string   // the root rebuilt from the re-run postings
	Posted   string   // the root recorded for the epoch
	OnChain  string   // the root on-chain, if the epoch is the last posted
}

// OK reports whether everything matched.
func (v *Verification) OK() bool {
	return len(v.Problems) == 0 && v.Root == v.Posted && (v.OnChain == "" || v.OnChain == v.Root)
}

// VerifyEpoch re-runs epoch n from the ledger's receipts: see [Host.Verify].
func (h *Host) VerifyEpoch(ctx context.Context, n uint64) (*Verification, error) {
	e, err := h.led.Epoch(ctx, n)
	if err != nil {
		return nil, err
	}
	var all []*ledger.Receipt
	for i := uint64(1); i <= n; i++ {
		rs, err := h.led.Receipts(ctx, i)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	return h.Verify(ctx, e, all)
}

// Verify checks an epoch the way a third party would: every receipt's
// operator signature; its agent and attribution plugin, loaded by name and
// checked against the hashes the receipt names; the attribution re-run on
// the recorded output and the records read; the price and fees split again;
// and the postings compared with the receipt's. The cumulative earnings of
// the re-run postings then rebuild the tree, whose root must equal the
// epoch's and, for the last posted epoch, the one on-chain.
//
// Re-runs use the datanets as they are now; a corpus that grew since an
// invocation can change what corpus_match finds for it.
func (h *Host) Verify(ctx context.Context, e *ledger.Epoch, receipts []*ledger.Receipt) (*Verification, error) {
	v := &Verification{Epoch: e.N, Posted: e.Root}
	bad := func(rc *ledger.Receipt, format string, args ...any) {
		v.Problems = append(v.Problems, fmt.Sprintf("receipt %s: %s", rc.ID, fmt.Sprintf(format, args...)))
	}
	earned := map[string]*big.Int{}
	for _, rc := range receipts {
		if rc.Epoch > e.N {
			continue
		}
		v.Receipts++
		if err := rc.VerifySignedBy(h.opAddr); err != nil {
			bad(rc, "%v", err)
		}
		if rc.Domain == nil || rc.Domain.ChainID == nil || rc.Domain.ChainID.Cmp(e.Domain.ChainID) != 0 || !strings.EqualFold(rc.Domain.Settlement, e.Domain.Settlement) {
			bad(rc, "signed for another deployment")
		}
		postings, err := h.rerun(ctx, rc)
		if err != nil {
			bad(rc, "re-run: %v", err)
			postings = nil
		} else if got, want := postingSet(postings), postingSet(rc.Postings); got != want {
			bad(rc, "postings re-run to\n  %s\nbut the receipt says\n  %s", got, want)
		}
		for _, p := range postings {
			if p.Amount.Sign() > 0 {
				if earned[p.Account] == nil {
					earned[p.Account] = new(big.Int)
				}
				earned[p.Account].Add(earned[p.Account], p.Amount)
			}
		}
	}
	var hashes []ledger.Hash
	for acct, amt := range earned {
		hashes = append(hashes, ledger.LeafHash(e.Domain, ledger.Leaf{Account: acct, Cumulative: amt}))
	}
	if tree, err := ledger.BuildTree(hashes); err == nil {
		v.Root = tree.Root().Hex()
	}
	if h.chain != nil {
		if n, root, err := h.chain.PostedEpoch(ctx); err == nil && n == e.N {
			v.OnChain = root
		}
	}
	return v, nil
}

// rerun recomputes a receipt's postings from what it records.
func (h *Host) rerun(ctx context.Context, rc *ledger.Receipt) ([]ledger.Posting, error) {
	agent, err := h.reg.Load(ctx, rc.Agent)
	if err != nil {
		return nil, err
	}
	if agent.Hash() != rc.AgentHash {
		return nil, abi.Errorf(abi.CodeHashMismatch, "agent %s is %s, the receipt ran %s", rc.Agent, agent.Hash(), rc.AgentHash)
	}
	out, err := h.led.Output(ctx, rc.ID)
	if err != nil {
		return nil, err
	}
	if sha256Hex(out) != rc.OutputHash {
		return nil, abi.Errorf(abi.CodeHashMismatch, "stored output does not hash to %s", rc.OutputHash)
	}
	// The datanets as the receipt says the invocation read them.
	view := h.reg.At(versionMap(rc.Datanets))
	var accesses []abi.Access
	var reads []ledger.Access
	prices := map[string]*big.Int{}
	for _, a := range rc.Accesses {
		r, err := view.Get(ctx, a.Datanet, a.Record)
		if err != nil {
			return nil, err
		}
		fee, ok := prices[a.Datanet]
		if !ok {
			d, err := h.reg.Datanet(ctx, a.Datanet)
			if err != nil {
				return nil, err
			}
			fee = d.Price()
			prices[a.Datanet] = fee
		}
		accesses = append(accesses, abi.Access{Datanet: a.Datanet, Record: a.Record, Contributor: r.Contributor, Bytes: len(r.Content), Content: r.Content})
		reads = append(reads, ledger.Access{Datanet: a.Datanet, Record: a.Record, Contributor: r.Contributor, Bytes: len(r.Content), Fee: fee})
	}
	b := bill{caller: rc.Caller, developer: agent.Manifest.Publisher, operator: h.opAddr, fees: h.fees, reads: reads}
	if strings.HasPrefix(rc.Method, "failed:") {
		// A failed call pays its reads only; its output is empty.
		if len(out) != 0 {
			return nil, fmt.Errorf("a failed call recorded %d bytes of output", len(out))
		}
		return b.postings(), nil
	}
	req := abi.AttributeRequest{Invocation: rc.ID, Output: string(out), Accesses: accesses, Datanets: agent.Manifest.Datanets}
	// A plugin yanked since still re-runs: the receipt was made before.
	attrPlugin, loadErr := h.reg.Load(ctx, rc.Attribution)
	res, err := h.attribute(ctx, attrPlugin, loadErr, req, agent.Manifest.Datanets, view)
	if err != nil {
		return nil, err
	}
	if attrPlugin != nil && attrPlugin.Hash() != rc.AttributionHash {
		return nil, abi.Errorf(abi.CodeHashMismatch, "attribution %s is %s, the receipt ran %s", rc.Attribution, attrPlugin.Hash(), rc.AttributionHash)
	}
	if strings.HasPrefix(rc.Method, "fallback:") != strings.HasPrefix(res.Method, "fallback:") {
		return nil, fmt.Errorf("attribution re-ran as %q, the receipt says %q", res.Method, rc.Method)
	}
	b.price, b.shares = agent.Manifest.PriceAmount(), res.Shares()
	return b.postings(), nil
}

// postingSet is a canonical text of postings, order-free.
func postingSet(ps []ledger.Posting) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = fmt.Sprintf("%s %s %s %s", p.Account, p.Kind, p.Amount, p.Memo)
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}
