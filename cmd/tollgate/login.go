package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
	"github.com/tollgate-dev/tollgate/internal/siwe"
)

// savedToken is a token `tollgate login` got from a server.
type savedToken struct {
	Token   string `json:"token"`
	Account string `json:"account"`
	Expires int64  `json:"expires_at"`
}

// tokensPath is where login keeps tokens, per server, for the user.
func tokensPath() string {
	if p := os.Getenv("TOLLGATE_TOKENS"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "tollgate", "tokens.json")
}

func loadTokens() (map[string]savedToken, error) {
	m := map[string]savedToken{}
	b, err := os.ReadFile(tokensPath())
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	return m, json.Unmarshal(b, &m)
}

// tokenFor returns the token given, or the one saved for server by login.
func tokenFor(server, given string) string {
	if given != "" {
		return given
	}
	m, err := loadTokens()
	if err != nil {
		return ""
	}
	t, ok := m[strings.TrimRight(server, "/")]
	if !ok || (t.Expires != 0 && time.Now().Unix() >= t.Expires) {
		return ""
	}
	return t.Token
}

// loginCmd signs in with Sign-In with Ethereum and saves the token.
func loginCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("login")
	server := fs.String("server", defaultServer, "node URL")
	keyFile := fs.String("key", "", "key to sign in with (keystore v3, or hex)")
	passFile := fs.String("passphrase-file", "", "file holding the key's passphrase")
	asJSON := fs.Bool("json", false, "print as JSON (the token included)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keyFile == "" {
		return usageErr("login: give --key (tollgate key new makes one)")
	}
	key, err := loadKey(*keyFile, *passFile)
	if err != nil {
		return err
	}
	auth := tollgatev1connect.NewAuthServiceClient(http.DefaultClient, *server)
	ch, err := auth.Challenge(ctx, connect.NewRequest(&tollgatev1.ChallengeRequest{Address: crypto.PubkeyToAddress(key.PublicKey).Hex()}))
	if err != nil {
		return err
	}
	sig, err := siwe.Sign(key, ch.Msg.GetMessage())
	if err != nil {
		return err
	}
	res, err := auth.SignIn(ctx, connect.NewRequest(&tollgatev1.SignInRequest{Message: ch.Msg.GetMessage(), Signature: hexutil.Encode(sig)}))
	if err != nil {
		return err
	}
	m, err := loadTokens()
	if err != nil {
		return err
	}
	m[strings.TrimRight(*server, "/")] = savedToken{Token: res.Msg.GetToken(), Account: res.Msg.GetAccount(), Expires: res.Msg.GetExpiresAt()}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.MkdirAll(filepath.Dir(tokensPath()), 0o700); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(tokensPath(), b, 0o600); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(out, res.Msg)
	}
	role := "caller"
	if res.Msg.GetOperator() {
		role = "operator"
	}
	fmt.Fprintf(out, "signed in to %s as %s (%s) until %s\n", *server, res.Msg.GetAccount(), role, time.Unix(res.Msg.GetExpiresAt(), 0).UTC().Format(time.RFC3339))
	return nil
}

func faucetCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("faucet")
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "API token (default: the one tollgate login saved)")
	wallet := fs.Bool("wallet", false, "mint the test tokens to the account's wallet rather than deposit them (then: tollgate deposit)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c := newClient(*server, tokenFor(*server, *token))
	res, err := c.ledger.Faucet(ctx, authed(c, &tollgatev1.FaucetRequest{ToWallet: *wallet}))
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(out, res.Msg)
	}
	if res.Msg.GetToWallet() {
		fmt.Fprintf(out, "minted %s to the wallet of %s and sent it %s wei of gas; deposit with: tollgate deposit --key KEYFILE AMOUNT\n", tgtString(res.Msg.GetAmount()), res.Msg.GetAccount(), res.Msg.GetGas())
		return nil
	}
	fmt.Fprintf(out, "deposited %s of credit for %s and sent it %s wei of gas\n", tgtString(res.Msg.GetAmount()), res.Msg.GetAccount(), res.Msg.GetGas())
	return nil
}
