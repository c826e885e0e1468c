package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/cobra"

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

func withdrawCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "withdraw AMOUNT",
		Short: "Take back unspent credit: it becomes claimable on-chain at the next root",
		Long: `Take back AMOUNT of the signed-in account's unspent credit. It moves to the
account's earnings and is claimable on-chain (tollgate claim) once the
epoch is closed and its root posted. AMOUNT is in TGT (0.5) or base units
(500wei).`,
		Example: `  tollgate withdraw 0.5
  tollgate withdraw 0.5 --request-id back-1 --json`,
		Args: nArgs(1, 1),
	}
	a.serverFlags(cmd, false)
	requestID := cmd.Flags().String("request-id", "", "makes the request safe to retry")
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		amount, err := parseTGT(args[0])
		if err != nil {
			return usageErr("withdraw: " + err.Error())
		}
		c := newClient(a.server, a.tokenFor(a.server))
		res, err := c.ledger.Withdraw(cmd.Context(), authed(c, &tollgatev1.WithdrawRequest{Amount: amount.String(), RequestId: *requestID}))
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, res.Msg)
		}
		rc := res.Msg.GetReceipt()
		fmt.Fprintf(a.out, "withdrew %s into %s's claimable earnings (receipt %s, epoch %d)\n", tgt(amount), rc.GetCaller(), rc.GetId(), rc.GetEpoch())
		fmt.Fprintln(a.out, "claim it on-chain once the epoch is closed and its root posted: tollgate claim --account "+rc.GetCaller())
		return nil
	}
	return cmd
}

// claimResult is what claim prints.
type claimResult struct {
	ChainID    uint64 `json:"chainId"`
	To         string `json:"to"`
	Data       string `json:"data"`
	Account    string `json:"account"`
	Cumulative string `json:"cumulative"`
	Epoch      uint64 `json:"epoch"`
	Tx         string `json:"tx,omitempty"`
}

// claimCommand fetches an account's proof from a node and either prints
// the claim's calldata, for a hardware or browser wallet to send, or sends
// it with a key through the chain's RPC.
func claimCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "claim",
		Short: "Claim an account's earnings on-chain, or print the calldata for a wallet",
		Long: `Fetch the account's Merkle proof from the node and claim its earnings from the
settlement contract. With --key the claim is sent from the key's account,
which pays the gas (the tokens always go to --account, by default the
key's); before sending, the gas is estimated and the wallet's ETH checked.
Without --key the calldata is printed, for any wallet to send.

The chain RPC defaults to the one the node names (its embedded chain).`,
		Example: `  tollgate claim --key 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4
  tollgate claim --account 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 --json
  tollgate claim --key key.json --rpc https://rpc.example --epoch 4`,
		Args: nArgs(0, 0),
	}
	a.serverFlags(cmd, false)
	a.keyFlags(cmd, false, "key to send the claim with, paying its gas; without it the calldata is printed")
	account := cmd.Flags().String("account", "", "the account to claim for (default: the key's, else the signed-in one)")
	epoch := cmd.Flags().Uint64("epoch", 0, "epoch whose root to prove against (0: the last closed)")
	rpc := cmd.Flags().String("rpc", "", "EVM node to send the claim through (default: the chain RPC the node names)")
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, out := cmd.Context(), a.out
		var key *ecdsa.PrivateKey
		if a.keyRef != "" {
			k, err := a.loadKey()
			if err != nil {
				return err
			}
			key = k
		}
		who := *account
		if who == "" && key != nil {
			who = registry.Address(key)
		}
		if who == "" {
			if t, ok := a.savedTokenFor(a.server); ok && t.valid() {
				who = t.Account
			}
		}
		if who == "" {
			return usageErr("claim: give --account ADDRESS, or --key KEY to claim for the key's account")
		}
		c := newClient(a.server, "")
		res, err := c.ledger.GetProof(ctx, connect.NewRequest(&tollgatev1.GetProofRequest{Epoch: *epoch, Account: who}))
		if err != nil {
			return err
		}
		p := res.Msg
		if !p.GetPosted() {
			return fmt.Errorf("claim: the root of epoch %d is not posted on-chain yet; wait for the operator to post it (tollgate epoch list shows the posted ones)", p.GetEpoch())
		}
		cum, ok := new(big.Int).SetString(p.GetCumulative(), 10)
		if !ok {
			return fmt.Errorf("claim: the node sent cumulative %q", p.GetCumulative())
		}
		data := chain.ClaimCalldata(p.GetAccount(), cum, p.GetProof())
		call := claimResult{ChainID: p.GetChainId(), To: p.GetSettlement(), Data: hexutil.Encode(data), Account: p.GetAccount(), Cumulative: p.GetCumulative(), Epoch: p.GetEpoch()}
		if key == nil {
			if a.asJSON {
				return printValue(out, call)
			}
			fmt.Fprintf(out, "claim for %s: cumulative %s, proven against epoch %d\n", p.GetAccount(), tgtString(p.GetCumulative()), p.GetEpoch())
			fmt.Fprintf(out, "send from any account on chain %d:\n  to:   %s\n  data: %s\n", p.GetChainId(), p.GetSettlement(), hexutil.Encode(data))
			return nil
		}
		url := *rpc
		if url == "" {
			dep, err := c.ledger.GetDeployment(ctx, connect.NewRequest(&tollgatev1.GetDeploymentRequest{}))
			if err != nil {
				return err
			}
			if url = dep.Msg.GetRpc(); url == "" {
				return usageErr("claim: the node names no chain RPC; give --rpc URL of a node of chain " + fmt.Sprint(p.GetChainId()))
			}
		}
		ec, err := chain.Dial(ctx, url)
		if err != nil {
			return err
		}
		defer ec.Close()
		if id, err := ec.ChainID(ctx); err != nil || id.Uint64() != p.GetChainId() {
			return fmt.Errorf("claim: %s is chain %v, the settlement is on chain %d (%v)", url, id, p.GetChainId(), err)
		}
		// A root still in its challenge delay cannot be claimed against; once
		// the delay has passed it is promoted first (a chain that seals
		// blocks only for transactions may not have moved its clock past it).
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
			if next := time.Unix(max(time.Now().Unix(), int64(head.Time)+1), 0); next.Before(at) {
				return abi.Errorf(chain.CodeChain, "claim: the root of epoch %d is in its challenge delay until %s; claim then", pending.Epoch, at.UTC().Format(time.RFC3339))
			}
			if err := checkGas(ctx, ec, key, p.GetSettlement(), chain.PromoteCalldata(), a.server); err != nil {
				return err
			}
			if _, err := chain.SendCall(ctx, ec, key, p.GetSettlement(), chain.PromoteCalldata()); err != nil {
				return err
			}
		}
		if err := checkGas(ctx, ec, key, p.GetSettlement(), data, a.server); err != nil {
			return err
		}
		tx, err := chain.SendCall(ctx, ec, key, p.GetSettlement(), data)
		if err != nil {
			if reason, ok := chain.RevertReason(err); ok {
				return abi.Errorf(chain.CodeChain, "claim: %s", reason)
			}
			return err
		}
		call.Tx = tx
		if a.asJSON {
			return printValue(out, call)
		}
		fmt.Fprintf(out, "claimed up to %s for %s in tx %s\n", tgtString(p.GetCumulative()), p.GetAccount(), tx)
		return nil
	}
	return cmd
}

// checkGas estimates what sending data to `to` from key's account costs
// and checks the account holds it: a revert is told as the contract's
// reason, and a shortfall as how much ETH is needed and where to get it.
func checkGas(ctx context.Context, ec *ethclient.Client, key *ecdsa.PrivateKey, to string, data []byte, server string) error {
	from := crypto.PubkeyToAddress(key.PublicKey)
	target := common.HexToAddress(to)
	gas, err := ec.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &target, Data: data})
	if err != nil {
		if reason, ok := chain.RevertReason(err); ok {
			return abi.Errorf(chain.CodeChain, "claim: %s", reason)
		}
		return abi.Wrap(chain.CodeChain, err, "claim: estimate gas")
	}
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		return abi.Wrap(chain.CodeChain, err, "claim: head")
	}
	tip, err := ec.SuggestGasTipCap(ctx)
	if err != nil {
		return abi.Wrap(chain.CodeChain, err, "claim: gas tip")
	}
	price := new(big.Int).Add(tip, new(big.Int).Mul(big.NewInt(2), head.BaseFee))
	need := new(big.Int).Mul(price, new(big.Int).SetUint64(gas*5/4))
	have, err := ec.BalanceAt(ctx, from, nil)
	if err != nil {
		return abi.Wrap(chain.CodeChain, err, "claim: balance of %s", from.Hex())
	}
	if have.Cmp(need) < 0 {
		return abi.Errorf(chain.CodeUnfunded, "claim: %s holds %s and the claim needs about %s for gas (%d gas); send it ETH (on a development chain: tollgate faucet --server %s, signed in as it)",
			from.Hex(), eth(have), eth(need), gas, server)
	}
	return nil
}
