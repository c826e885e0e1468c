package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

// parseTGT reads an amount in tokens ("1.5") or, with a "wei" suffix, in
// base units, exactly: a fraction finer than one base unit is refused.
func parseTGT(s string) (*big.Int, error) {
	if v, ok := strings.CutSuffix(s, "wei"); ok {
		n, ok := new(big.Int).SetString(strings.TrimSpace(v), 10)
		if !ok || n.Sign() <= 0 {
			return nil, fmt.Errorf("amount %q: not a positive whole number of base units", s)
		}
		return n, nil
	}
	r, ok := new(big.Rat).SetString(strings.TrimSuffix(strings.TrimSpace(s), "TGT"))
	if !ok || r.Sign() <= 0 {
		return nil, fmt.Errorf("amount %q: not a positive number of tokens", s)
	}
	r.Mul(r, new(big.Rat).SetInt(oneToken))
	if !r.IsInt() {
		return nil, fmt.Errorf("amount %q: finer than one base unit", s)
	}
	return r.Num(), nil
}

// parsePrice is parseTGT that also takes "0": a free plugin or datanet.
func parsePrice(s string) (*big.Int, error) {
	if s == "0" {
		return new(big.Int), nil
	}
	return parseTGT(s)
}

// nodeDomain is the signing domain of the node at server: registry
// signatures are bound to its chain and settlement contract.
func nodeDomain(ctx context.Context, server string) (registry.Domain, error) {
	res, err := tollgatev1connect.NewLedgerServiceClient(http.DefaultClient, server).GetDeployment(ctx, connect.NewRequest(&tollgatev1.GetDeploymentRequest{}))
	if err != nil {
		return registry.Domain{}, err
	}
	return registry.Domain{ChainID: new(big.Int).SetUint64(res.Msg.GetChainId()), Contract: res.Msg.GetSettlement()}, nil
}

// withLogin sets the bearer token given, or the one login saved for
// server, on r.
func withLogin(r connect.AnyRequest, server, token string) {
	if t := tokenFor(server, token); t != "" {
		r.Header().Set("Authorization", "Bearer "+t)
	}
}

func withdrawCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("withdraw")
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "caller's API token")
	requestID := fs.String("request-id", "", "makes the request safe to retry")
	asJSON := fs.Bool("json", false, "print the response as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("withdraw: give the amount, in tokens (1.5) or base units (1500wei)")
	}
	amount, err := parseTGT(fs.Arg(0))
	if err != nil {
		return usageErr("withdraw: " + err.Error())
	}
	c := newClient(*server, tokenFor(*server, *token))
	res, err := c.ledger.Withdraw(ctx, authed(c, &tollgatev1.WithdrawRequest{Amount: amount.String(), RequestId: *requestID}))
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(res.Msg)
	}
	rc := res.Msg.GetReceipt()
	fmt.Fprintf(out, "withdrew %s into %s's claimable earnings (receipt %s, epoch %d)\n", tgt(amount), rc.GetCaller(), rc.GetId(), rc.GetEpoch())
	fmt.Fprintln(out, "claim it on-chain once the epoch is closed and its root posted: tollgate claim --account "+rc.GetCaller())
	return nil
}

// claimCmd fetches an account's proof from a node and either prints the
// claim's calldata, for a hardware or browser wallet to send, or sends it
// with a key through an RPC endpoint.
func claimCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("claim")
	server := fs.String("server", defaultServer, "node URL")
	account := fs.String("account", "", "the account to claim for (the tokens always go to it)")
	epoch := fs.Uint64("epoch", 0, "epoch whose root to prove against (0: the last closed)")
	keyFile := fs.String("key", "", "key to send the claim with (keystore v3, or hex); without it the calldata is printed")
	passFile := fs.String("passphrase-file", "", "file holding the key's passphrase")
	rpc := fs.String("rpc", "http://127.0.0.1:8545", "EVM node to send the claim through")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *account == "" {
		return usageErr("claim: give --account")
	}
	c := newClient(*server, "")
	res, err := c.ledger.GetProof(ctx, connect.NewRequest(&tollgatev1.GetProofRequest{Epoch: *epoch, Account: *account}))
	if err != nil {
		return err
	}
	p := res.Msg
	if !p.GetPosted() {
		return fmt.Errorf("claim: the root of epoch %d is not posted on-chain yet", p.GetEpoch())
	}
	cum, ok := new(big.Int).SetString(p.GetCumulative(), 10)
	if !ok {
		return fmt.Errorf("claim: the node sent cumulative %q", p.GetCumulative())
	}
	data := chain.ClaimCalldata(p.GetAccount(), cum, p.GetProof())
	call := map[string]any{"chain_id": p.GetChainId(), "to": p.GetSettlement(), "data": hexutil.Encode(data),
		"account": p.GetAccount(), "cumulative": p.GetCumulative(), "epoch": p.GetEpoch()}
	if *keyFile == "" {
		if *asJSON {
			return json.NewEncoder(out).Encode(call)
		}
		fmt.Fprintf(out, "claim for %s: cumulative %s, proven against epoch %d\n", p.GetAccount(), tgtString(p.GetCumulative()), p.GetEpoch())
		fmt.Fprintf(out, "send from any account on chain %d:\n  to:   %s\n  data: %s\n", p.GetChainId(), p.GetSettlement(), hexutil.Encode(data))
		return nil
	}
	key, err := loadKey(*keyFile, *passFile)
	if err != nil {
		return err
	}
	ec, err := chain.Dial(ctx, *rpc)
	if err != nil {
		return err
	}
	defer ec.Close()
	if id, err := ec.ChainID(ctx); err != nil || id.Uint64() != p.GetChainId() {
		return fmt.Errorf("claim: %s is chain %v, the settlement is on chain %d (%v)", *rpc, id, p.GetChainId(), err)
	}
	// A root still in its challenge delay cannot be claimed against; once
	// the delay has passed it is promoted first (a chain that seals blocks
	// only for transactions may not have moved its clock past it yet).
	_, pending, err := chain.Roots(ctx, ec, p.GetSettlement())
	if err != nil {
		return err
	}
	if pending.Epoch != 0 && pending.Epoch <= p.GetEpoch() {
		at := time.Unix(int64(pending.ClaimableAt), 0)
		head, err := ec.HeaderByNumber(ctx, nil)
		if err != nil {
			return err
		}
		// The next block's time is at least now and after the head's.
		if next := time.Unix(max(time.Now().Unix(), int64(head.Time)+1), 0); next.Before(at) {
			return abi.Errorf(chain.CodeChain, "claim: the root of epoch %d is in its challenge delay until %s; claim then", pending.Epoch, at.UTC().Format(time.RFC3339))
		}
		if _, err := chain.SendCall(ctx, ec, key, p.GetSettlement(), chain.PromoteCalldata()); err != nil {
			return err
		}
	}
	tx, err := chain.SendCall(ctx, ec, key, p.GetSettlement(), data)
	if err != nil {
		return err
	}
	call["tx"] = tx
	if *asJSON {
		return json.NewEncoder(out).Encode(call)
	}
	fmt.Fprintf(out, "claimed up to %s for %s in tx %s\n", tgtString(p.GetCumulative()), p.GetAccount(), tx)
	return nil
}
