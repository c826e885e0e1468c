package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/cobra"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/siwe"
)

// signIn signs in to server with key (Sign-In with Ethereum) and keeps the
// token in the config file, for that server.
func (a *app) signIn(ctx context.Context, server string, key *ecdsa.PrivateKey) (*tollgatev1.SignInResponse, error) {
	auth := tollgatev1connect.NewAuthServiceClient(http.DefaultClient, server)
	ch, err := auth.Challenge(ctx, connect.NewRequest(&tollgatev1.ChallengeRequest{Address: crypto.PubkeyToAddress(key.PublicKey).Hex()}))
	if err != nil {
		return nil, fmt.Errorf("sign in to %s: %w", server, err)
	}
	sig, err := siwe.Sign(key, ch.Msg.GetMessage())
	if err != nil {
		return nil, err
	}
	res, err := auth.SignIn(ctx, connect.NewRequest(&tollgatev1.SignInRequest{Message: ch.Msg.GetMessage(), Signature: hexutil.Encode(sig)}))
	if err != nil {
		return nil, fmt.Errorf("sign in to %s: %w", server, err)
	}
	t := savedToken{Token: res.Msg.GetToken(), Account: res.Msg.GetAccount(), Expires: res.Msg.GetExpiresAt()}
	if err := a.saveToken(server, t); err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// signedToken is the token a write signed with key sends: --token, the
// valid one saved for the server, or, with neither, a new one from a
// sign-in with key (kept for next time). Signed writes thus need no
// separate login.
func (a *app) signedToken(ctx context.Context, key *ecdsa.PrivateKey) (string, error) {
	if t := a.tokenFor(a.server); t != "" || key == nil {
		return t, nil
	}
	res, err := a.signIn(ctx, a.server, key)
	if err != nil {
		return "", err
	}
	return res.GetToken(), nil
}

// withSignedToken calls call with the token a write signed with key
// sends; a saved token the node no longer accepts (it expired there, or
// the node's tokens were reset) is replaced by a new sign-in, once.
func (a *app) withSignedToken(ctx context.Context, key *ecdsa.PrivateKey, call func(token string) error) error {
	tok, err := a.signedToken(ctx, key)
	if err != nil {
		return err
	}
	err = call(tok)
	if connect.CodeOf(err) == connect.CodeUnauthenticated && key != nil && a.token == "" && tok != "" {
		res, serr := a.signIn(ctx, a.server, key)
		if serr != nil {
			return err
		}
		return call(res.GetToken())
	}
	return err
}

func bearer(r connect.AnyRequest, token string) {
	if token != "" {
		r.Header().Set("Authorization", "Bearer "+token)
	}
}

func loginCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login --key KEY",
		Short: "Sign in to a node with an Ethereum key (Sign-In with Ethereum) and keep the token",
		Long: `Sign in to the node at --server with a key and keep the token the node gives,
for that server, in the config file; later commands to that server use it.
Signed writes (plugin publish, datanet create …) sign in by themselves when
no token is kept, so login is needed only for calls without --key: invoke,
balance, faucet, withdraw, receipt, earnings.`,
		Example: `  tollgate login --key ~/.config/tollgate/keys/UTC--…json
  tollgate login --key 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 --server https://tollgate.example`,
		Args: nArgs(0, 0),
	}
	a.serverFlags(cmd, false)
	a.keyFlags(cmd, false, "key to sign in with")
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		key, err := a.loadKey()
		if err != nil {
			return err
		}
		res, err := a.signIn(cmd.Context(), a.server, key)
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, res)
		}
		role := "caller"
		if res.GetOperator() {
			role = "operator"
		}
		fmt.Fprintf(a.out, "signed in to %s as %s (%s) until %s\n", a.server, res.GetAccount(), role, time.Unix(res.GetExpiresAt(), 0).UTC().Format(time.RFC3339))
		return nil
	}
	return cmd
}

func faucetCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "faucet",
		Short: "On a development chain, get test credit and gas for the signed-in account",
		Long: `On a node running its embedded development chain, mint test tokens for the
signed-in account and send it gas (ETH). By default the tokens are deposited
as credit at once; with --wallet they go to the account's wallet, for
` + "`tollgate deposit`" + ` or for trying the on-chain side.`,
		Example: `  tollgate faucet
  tollgate faucet --wallet --json`,
		Args: nArgs(0, 0),
	}
	a.serverFlags(cmd, false)
	wallet := cmd.Flags().Bool("wallet", false, "mint the test tokens to the account's wallet rather than deposit them (then: tollgate deposit)")
	a.jsonFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c := newClient(a.server, a.tokenFor(a.server))
		res, err := c.ledger.Faucet(cmd.Context(), authed(c, &tollgatev1.FaucetRequest{ToWallet: *wallet}))
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, res.Msg)
		}
		if res.Msg.GetToWallet() {
			fmt.Fprintf(a.out, "minted %s to the wallet of %s and sent it %s of gas; deposit with: tollgate deposit --key KEY AMOUNT\n", tgtString(res.Msg.GetAmount()), res.Msg.GetAccount(), ethString(res.Msg.GetGas()))
			return nil
		}
		fmt.Fprintf(a.out, "deposited %s of credit for %s and sent it %s of gas\n", tgtString(res.Msg.GetAmount()), res.Msg.GetAccount(), ethString(res.Msg.GetGas()))
		return nil
	}
	return cmd
}
