package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger/contracts"
)

// CodeChain is the error code of a chain that refused or failed.
const CodeChain abi.Code = "chain_error"

// Deployment names the contracts of one Tollgate deployment.
type Deployment struct {
	ChainID    uint64 `json:"chain_id"`
	Token      string `json:"token"`
	Settlement string `json:"settlement"`
	Block      uint64 `json:"block"` // block of the settlement's deployment
}

// Client talks to the deployment's contracts.
type Client struct {
	opts       options
	eth        Backend
	chainID    *big.Int
	dep        Deployment
	token      *bind.BoundContract
	settlement *bind.BoundContract
	tokenABI   *contracts.TestToken
	settleABI  *contracts.Settlement
}

// Deploy deploys a TestToken and a Settlement whose operator is key's
// address, and waits for both.
func Deploy(ctx context.Context, ec Backend, key *ecdsa.PrivateKey, with ...Option) (Deployment, error) {
	o := optionsOf(with)
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		return Deployment{}, chainErr("chain id", err)
	}
	opts := transactor(ctx, key, chainID)
	tokenAddr, tx, err := bind.DeployContract(opts, common.FromHex(contracts.TestTokenMetaData.Bin), ec, nil)
	if err != nil {
		return Deployment{}, chainErr("deploy token", err)
	}
	if _, err := waitMined(ctx, ec, o, tx.Hash()); err != nil {
		return Deployment{}, err
	}
	guardian := crypto.PubkeyToAddress(key.PublicKey)
	if o.guardian != "" {
		if !common.IsHexAddress(o.guardian) {
			return Deployment{}, abi.Errorf(abi.CodeBadRequest, "guardian %q is not an address", o.guardian)
		}
		guardian = common.HexToAddress(o.guardian)
	}
	input := contracts.NewSettlement().PackConstructor(tokenAddr, crypto.PubkeyToAddress(key.PublicKey), guardian,
		new(big.Int).SetUint64(o.challengeDelay), new(big.Int).SetUint64(o.rotationDelay))
	settleAddr, tx, err := bind.DeployContract(opts, common.FromHex(contracts.SettlementMetaData.Bin), ec, input)
	if err != nil {
		return Deployment{}, revertErr(contracts.NewSettlement(), "deploy settlement", err)
	}
	rc, err := waitMined(ctx, ec, o, tx.Hash())
	if err != nil {
		return Deployment{}, err
	}
	return Deployment{ChainID: chainID.Uint64(), Token: tokenAddr.Hex(), Settlement: settleAddr.Hex(), Block: rc.BlockNumber.Uint64()}, nil
}

// Attach returns a client of an existing deployment, checking that its
// contracts have code on this chain.
func Attach(ctx context.Context, ec Backend, dep Deployment, opts ...Option) (*Client, error) {
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		return nil, chainErr("chain id", err)
	}
	if chainID.Uint64() != dep.ChainID {
		return nil, abi.Errorf(CodeChain, "deployment is on chain %d, node is on %d", dep.ChainID, chainID)
	}
	for _, a := range []string{dep.Token, dep.Settlement} {
		code, err := ec.CodeAt(ctx, common.HexToAddress(a), nil)
		if err != nil {
			return nil, chainErr("code of "+a, err)
		}
		if len(code) == 0 {
			return nil, abi.Errorf(CodeChain, "no contract at %s on chain %d", a, dep.ChainID)
		}
	}
	c := &Client{opts: optionsOf(opts), eth: ec, chainID: chainID, dep: dep, tokenABI: contracts.NewTestToken(), settleABI: contracts.NewSettlement()}
	c.token = c.tokenABI.Instance(ec, common.HexToAddress(dep.Token))
	c.settlement = c.settleABI.Instance(ec, common.HexToAddress(dep.Settlement))
	return c, nil
}

// Deployment returns the contracts the client talks to.
func (c *Client) Deployment() Deployment { return c.dep }

// ChainID returns the chain's id.
func (c *Client) ChainID() *big.Int { return new(big.Int).Set(c.chainID) }

// Mint mints test tokens (key must be the token's deployer).
func (c *Client) Mint(ctx context.Context, key *ecdsa.PrivateKey, to string, amount *big.Int) (string, error) {
	return c.send(ctx, key, c.token, c.tokenABI.PackMint(common.HexToAddress(to), amount))
}

// Transfer sends amount of key's tokens to to: a plain ERC-20 transfer.
func (c *Client) Transfer(ctx context.Context, key *ecdsa.PrivateKey, to string, amount *big.Int) (string, error) {
	return c.send(ctx, key, c.token, c.tokenABI.PackTransfer(common.HexToAddress(to), amount))
}

// PostRoot posts an epoch's root, total and receipt bundle hash (key must
// be the operator's).
// If intent is not nil it is called with the signed transaction's hash and
// its raw bytes (hex) before the transaction is sent, so the caller can
// record what it is about to do and send the same transaction again after
// a crash ([Client.Rebroadcast]); if intent fails, nothing is sent.
func (c *Client) PostRoot(ctx context.Context, key *ecdsa.PrivateKey, epoch uint64, root string, total *big.Int, bundle string, intent func(tx, raw string) error) (string, error) {
	return c.sendWith(ctx, key, c.settlement, c.settleABI.PackPostRoot(new(big.Int).SetUint64(epoch), common.HexToHash(root), total, common.HexToHash(bundle)), intent)
}

// Veto vetoes the pending root of epoch (key must be the guardian's).
func (c *Client) Veto(ctx context.Context, key *ecdsa.PrivateKey, epoch uint64) (string, error) {
	return c.send(ctx, key, c.settlement, c.settleABI.PackVeto(new(big.Int).SetUint64(epoch)))
}

// SetPaused pauses or resumes deposits and claims (key must be the guardian's).
func (c *Client) SetPaused(ctx context.Context, key *ecdsa.PrivateKey, paused bool) (string, error) {
	return c.send(ctx, key, c.settlement, c.settleABI.PackSetPaused(paused))
}

// ProposeOperator proposes a new operator (key must be the guardian's).
func (c *Client) ProposeOperator(ctx context.Context, key *ecdsa.PrivateKey, next string) (string, error) {
	return c.send(ctx, key, c.settlement, c.settleABI.PackProposeOperator(common.HexToAddress(next)))
}

// RotateOperator installs the proposed operator once its delay has passed
// (any key may send it).
func (c *Client) RotateOperator(ctx context.Context, key *ecdsa.PrivateKey) (string, error) {
	return c.send(ctx, key, c.settlement, c.settleABI.PackRotateOperator())
}

// SetGuardian hands the guardian role to next (key must be the guardian's).
func (c *Client) SetGuardian(ctx context.Context, key *ecdsa.PrivateKey, next string) (string, error) {
	return c.send(ctx, key, c.settlement, c.settleABI.PackSetGuardian(common.HexToAddress(next)))
}

// Promote makes a pending root whose delay has passed current. Claims do
// it themselves; on a chain that seals blocks only for transactions (a dev
// chain), it also brings a block with the current time, which a claim's gas
// estimate needs to see the delay as passed.
func (c *Client) Promote(ctx context.Context, key *ecdsa.PrivateKey) (string, error) {
	return c.send(ctx, key, c.settlement, c.settleABI.PackPromote())
}

// PostedRoot is a root the contract holds.
type PostedRoot struct {
	Epoch       uint64
	Root        string
	Total       *big.Int
	Bundle      string
	ClaimableAt uint64 // unix seconds
}

// Roots reads the current and the pending root of the settlement contract
// at settlement, for tools that hold only its address.
func Roots(ctx context.Context, ec Backend, settlement string) (current, pending PostedRoot, err error) {
	c := &Client{opts: optionsOf(nil), eth: ec, settleABI: contracts.NewSettlement()}
	c.settlement = c.settleABI.Instance(ec, common.HexToAddress(settlement))
	return c.CurrentRoot(ctx)
}

// PromoteCalldata is the calldata of Settlement.promote, which makes a
// pending root whose challenge delay has passed the one claims are proven
// against.
func PromoteCalldata() []byte { return contracts.NewSettlement().PackPromote() }

// CurrentRoot returns the root claims are proven against, and the pending
// one waiting out its challenge delay (Epoch 0 if none).
func (c *Client) CurrentRoot(ctx context.Context) (current, pending PostedRoot, err error) {
	cur, err := call(ctx, c.settlement, c.settleABI.PackCurrent(), c.settleABI.UnpackCurrent)
	if err != nil {
		return current, pending, err
	}
	pen, err := call(ctx, c.settlement, c.settleABI.PackPending(), c.settleABI.UnpackPending)
	if err != nil {
		return current, pending, err
	}
	conv := func(e *big.Int, r [32]byte, t *big.Int, b [32]byte, at *big.Int) PostedRoot {
		return PostedRoot{Epoch: e.Uint64(), Root: common.Hash(r).Hex(), Total: t, Bundle: common.Hash(b).Hex(), ClaimableAt: at.Uint64()}
	}
	return conv(cur.Epoch, cur.Root, cur.Total, cur.Bundle, cur.ClaimableAt), conv(pen.Epoch, pen.Root, pen.Total, pen.Bundle, pen.ClaimableAt), nil
}

// Claim pays account cumulative minus what it has claimed, proven against
// the last posted root. key pays the gas; the tokens go to account.
func (c *Client) Claim(ctx context.Context, key *ecdsa.PrivateKey, account string, cumulative *big.Int, proof []string) (string, error) {
	return c.send(ctx, key, c.settlement, ClaimCalldata(account, cumulative, proof))
}

// ClaimCalldata is the calldata of Settlement.claim, for a wallet (a
// hardware or browser wallet, or any Ethereum tool) to send.
func ClaimCalldata(account string, cumulative *big.Int, proof []string) []byte {
	p := make([][32]byte, len(proof))
	for i, h := range proof {
		p[i] = common.HexToHash(h)
	}
	return contracts.NewSettlement().PackClaim(common.HexToAddress(account), cumulative, p)
}

// TotalDeposited returns every token the contract received as a deposit.
func (c *Client) TotalDeposited(ctx context.Context) (*big.Int, error) {
	return call(ctx, c.settlement, c.settleABI.PackTotalDeposited(), c.settleABI.UnpackTotalDeposited)
}

// TokenBalance returns account's token balance.
func (c *Client) TokenBalance(ctx context.Context, account string) (*big.Int, error) {
	return call(ctx, c.token, c.tokenABI.PackBalanceOf(common.HexToAddress(account)), c.tokenABI.UnpackBalanceOf)
}

// Claimed returns what account has claimed so far.
func (c *Client) Claimed(ctx context.Context, account string) (*big.Int, error) {
	return call(ctx, c.settlement, c.settleABI.PackClaimed(common.HexToAddress(account)), c.settleABI.UnpackClaimed)
}

// Paused reports whether the settlement contract's deposits and claims are
// paused now.
func (c *Client) Paused(ctx context.Context) (bool, error) {
	return call(ctx, c.settlement, c.settleABI.PackPaused(), c.settleABI.UnpackPaused)
}

// Operator returns the settlement contract's operator now: the address
// that signs the receipts of epochs from now on.
func (c *Client) Operator(ctx context.Context) (string, error) {
	a, err := call(ctx, c.settlement, c.settleABI.PackOperator(), c.settleABI.UnpackOperator)
	if err != nil {
		return "", err
	}
	return a.Hex(), nil
}

// PostedEpoch returns the last epoch posted, pending or current, and its
// root: what the next post must follow.
func (c *Client) PostedEpoch(ctx context.Context) (uint64, string, error) {
	l, err := call(ctx, c.settlement, c.settleABI.PackLatest(), c.settleABI.UnpackLatest)
	if err != nil {
		return 0, "", err
	}
	return l.Epoch.Uint64(), common.Hash(l.Root).Hex(), nil
}

func call[T any](ctx context.Context, bc *bind.BoundContract, data []byte, unpack func([]byte) (T, error)) (T, error) {
	v, err := bind.Call(bc, &bind.CallOpts{Context: ctx}, data, unpack)
	if err != nil {
		return v, chainErr("call", err)
	}
	return v, nil
}

// revertErr names the contract's custom error when a call reverts.
func (c *Client) revertErr(err error) error { return revertErr(c.settleABI, "transact", err) }

func revertErr(settle *contracts.Settlement, what string, err error) error {
	var de interface{ ErrorData() any }
	if errors.As(err, &de) {
		if s, ok := de.ErrorData().(string); ok {
			if e, uerr := settle.UnpackError(common.FromHex(s)); uerr == nil {
				return abi.Errorf(CodeChain, "%s reverted: %T%+v", what, e, e)
			}
		}
	}
	return chainErr(what, err)
}

func chainErr(what string, err error) error {
	return abi.Wrap(CodeChain, err, "%s", what)
}
