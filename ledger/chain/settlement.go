package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	gethabi "github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

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

// Option configures [Deploy] and [Attach].
type Option func(*options)

type options struct {
	durable func(ctx context.Context, block uint64) error
	// replaceAfter is how long a sent transaction may stay unmined before
	// it is replaced with higher fees (0: DefaultReplaceAfter).
	replaceAfter time.Duration
	// maxLogBlocks bounds a log query's range (0: MaxLogBlocks).
	maxLogBlocks uint64
	// firstFees, if set, are the first attempt's tip and fee cap.
	firstFees *[2]*big.Int
	// Deployment settings (Deploy only).
	guardian       string
	challengeDelay uint64
	rotationDelay  uint64
}

// WithGuardian deploys with guardian as the Settlement's guardian (who may
// veto pending roots, pause, and rotate the operator); by default the
// deployer, which suits a development chain only.
func WithGuardian(guardian string) Option { return func(o *options) { o.guardian = guardian } }

// WithDelays deploys with a challenge delay before a posted root becomes
// claimable and a delay before a proposed operator may take over, in
// seconds; both are 0 by default (a development chain).
func WithDelays(challenge, rotation uint64) Option {
	return func(o *options) { o.challengeDelay, o.rotationDelay = challenge, rotation }
}

// WithDurability makes every wait for a transaction also wait until wait
// says its block is on disk (the embedded chain's [Node.WaitDurable]), so
// nothing is reported mined that a crash of the node could take back.
func WithDurability(wait func(ctx context.Context, block uint64) error) Option {
	return func(o *options) { o.durable = wait }
}

func optionsOf(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.replaceAfter == 0 {
		o.replaceAfter = DefaultReplaceAfter
	}
	if o.maxLogBlocks == 0 {
		o.maxLogBlocks = MaxLogBlocks
	}
	return o
}

// WithMaxLogBlocks bounds the blocks one log query spans, for an RPC
// endpoint whose limit is below MaxLogBlocks.
func WithMaxLogBlocks(n uint64) Option { return func(o *options) { o.maxLogBlocks = n } }

// LogRange is the most blocks one of the client's log queries spans.
func (c *Client) LogRange() uint64 { return c.opts.maxLogBlocks }

// DefaultReplaceAfter is how long a transaction may wait unmined before it
// is sent again, with the same nonce, at higher fees: a few blocks on
// Ethereum.
const DefaultReplaceAfter = 45 * time.Second

// WithReplaceAfter sets how long a sent transaction may stay unmined before
// it is replaced at higher fees.
func WithReplaceAfter(d time.Duration) Option { return func(o *options) { o.replaceAfter = d } }

// Client talks to the deployment's contracts.
type Client struct {
	opts       options
	eth        *ethclient.Client
	chainID    *big.Int
	dep        Deployment
	token      *bind.BoundContract
	settlement *bind.BoundContract
	tokenABI   *contracts.TestToken
	settleABI  *contracts.Settlement
}

// Dial connects to an EVM node's RPC endpoint (http, ws or ipc).
func Dial(ctx context.Context, url string) (*ethclient.Client, error) {
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, abi.Errorf(CodeChain, "dial %s: %v", url, err)
	}
	return c, nil
}

// Deploy deploys a TestToken and a Settlement whose operator is key's
// address, and waits for both.
func Deploy(ctx context.Context, ec *ethclient.Client, key *ecdsa.PrivateKey, with ...Option) (Deployment, error) {
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
func Attach(ctx context.Context, ec *ethclient.Client, dep Deployment, opts ...Option) (*Client, error) {
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

// SendETH transfers wei for gas.
func (c *Client) SendETH(ctx context.Context, key *ecdsa.PrivateKey, to string, wei *big.Int) (string, error) {
	return fund(ctx, c.eth, c.opts, key, to, wei)
}

// Fund transfers wei of the chain's coin from key's account to to, for gas,
// and waits until it is mined.
func Fund(ctx context.Context, ec *ethclient.Client, key *ecdsa.PrivateKey, to string, wei *big.Int) (string, error) {
	return fund(ctx, ec, options{}, key, to, wei)
}

func fund(ctx context.Context, ec *ethclient.Client, o options, key *ecdsa.PrivateKey, to string, wei *big.Int) (string, error) {
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		return "", chainErr("chain id", err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := ec.PendingNonceAt(ctx, from)
	if err != nil {
		return "", chainErr("nonce", err)
	}
	tip, err := ec.SuggestGasTipCap(ctx)
	if err != nil {
		return "", chainErr("gas tip", err)
	}
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		return "", chainErr("head", err)
	}
	toAddr := common.HexToAddress(to)
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: 21000, To: &toAddr, Value: wei,
	})
	if err != nil {
		return "", chainErr("sign", err)
	}
	if err := retryPoolLag(ctx, func() error { return ec.SendTransaction(ctx, tx) }); err != nil {
		return "", chainErr("send eth", err)
	}
	if _, err := waitMined(ctx, ec, o, tx.Hash()); err != nil {
		return "", err
	}
	return tx.Hash().Hex(), nil
}

// DepositEvent is a deposit seen on-chain.
type DepositEvent struct {
	Ref       string // "txhash:logindex", unique per deposit
	Block     uint64
	BlockHash string
	From      string
	Account   string
	Amount    *big.Int
}

// Deposit approves and deposits amount of key's tokens as credit for
// account, and returns the deposit as the chain recorded it.
func (c *Client) Deposit(ctx context.Context, key *ecdsa.PrivateKey, account string, amount *big.Int) (DepositEvent, error) {
	if _, err := c.send(ctx, key, c.token, c.tokenABI.PackApprove(common.HexToAddress(c.dep.Settlement), amount)); err != nil {
		return DepositEvent{}, err
	}
	var tx *types.Transaction
	err := retryPoolLag(ctx, func() (err error) {
		tx, err = bind.Transact(c.settlement, transactor(ctx, key, c.chainID), c.settleABI.PackDeposit(common.HexToAddress(account), amount))
		return err
	})
	if err != nil {
		return DepositEvent{}, c.revertErr(err)
	}
	rc, err := waitMined(ctx, c.eth, c.opts, tx.Hash())
	if err != nil {
		return DepositEvent{}, err
	}
	for _, lg := range rc.Logs {
		if ev, err := c.settleABI.UnpackDepositedEvent(lg); err == nil {
			return depositEvent(lg, ev), nil
		}
	}
	return DepositEvent{}, abi.Errorf(CodeChain, "deposit %s emitted no Deposited event", tx.Hash().Hex())
}

func depositEvent(lg *types.Log, ev *contracts.SettlementDeposited) DepositEvent {
	return DepositEvent{
		Ref:       fmt.Sprintf("%s:%d", lg.TxHash.Hex(), lg.Index),
		Block:     lg.BlockNumber,
		BlockHash: lg.BlockHash.Hex(),
		From:      ev.From.Hex(),
		Account:   ev.Account.Hex(),
		Amount:    ev.Amount,
	}
}

// Deposits returns the deposits made in blocks [from, to] (to 0 = latest).
func (c *Client) Deposits(ctx context.Context, from, to uint64) ([]DepositEvent, error) {
	q := ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(from),
		Addresses: []common.Address{common.HexToAddress(c.dep.Settlement)},
		Topics:    [][]common.Hash{{c.settleABI.GetABI().Events["Deposited"].ID}},
	}
	if to > 0 {
		q.ToBlock = new(big.Int).SetUint64(to)
	}
	logs, err := c.eth.FilterLogs(ctx, q)
	if err != nil {
		return nil, chainErr("filter deposits", err)
	}
	var out []DepositEvent
	for i := range logs {
		ev, err := c.settleABI.UnpackDepositedEvent(&logs[i])
		if err != nil {
			return nil, chainErr("decode deposit", err)
		}
		out = append(out, depositEvent(&logs[i], ev))
	}
	return out, nil
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
func Roots(ctx context.Context, ec *ethclient.Client, settlement string) (current, pending PostedRoot, err error) {
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

// Head returns the number of the node's latest block.
func (c *Client) Head(ctx context.Context) (uint64, error) {
	n, err := c.eth.BlockNumber(ctx)
	if err != nil {
		return 0, chainErr("head", err)
	}
	return n, nil
}

// BlockHash returns the hash of the canonical block number n, or "" if the
// chain has no such block (it is shorter than that).
func (c *Client) BlockHash(ctx context.Context, n uint64) (string, error) {
	h, err := c.eth.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
	if errors.Is(err, ethereum.NotFound) {
		return "", nil
	}
	if err != nil {
		return "", chainErr("header", err)
	}
	return h.Hash().Hex(), nil
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

// SendCall sends data to the contract at to from key's account, with
// EIP-1559 fees and a gas limit estimated with a margin, and waits until it
// is mined: for tools that hold only an RPC endpoint and an address.
func SendCall(ctx context.Context, ec *ethclient.Client, key *ecdsa.PrivateKey, to string, data []byte) (string, error) {
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		return "", chainErr("chain id", err)
	}
	c := &Client{opts: optionsOf(nil), eth: ec, chainID: chainID, settleABI: contracts.NewSettlement()}
	return c.send(ctx, key, bind.NewBoundContract(common.HexToAddress(to), gethabi.ABI{}, ec, ec, ec), data)
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

// RootOf returns the root and bundle hash posted for epoch, read from the
// contract's RootPosted and RootVetoed events; found is false if that epoch
// was never posted, or its root was vetoed.
func (c *Client) RootOf(ctx context.Context, epoch uint64) (root, bundle string, found bool, err error) {
	root, bundle, _, found, err = c.rootOf(ctx, epoch)
	return root, bundle, found, err
}

// PostTxOf returns the transaction that posted epoch's root, if it stands.
func (c *Client) PostTxOf(ctx context.Context, epoch uint64) (tx string, found bool, err error) {
	_, _, tx, found, err = c.rootOf(ctx, epoch)
	return tx, found, err
}

func (c *Client) rootOf(ctx context.Context, epoch uint64) (root, bundle, tx string, found bool, err error) {
	q := ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(c.dep.Block),
		Addresses: []common.Address{common.HexToAddress(c.dep.Settlement)},
		Topics: [][]common.Hash{
			{c.settleABI.GetABI().Events["RootPosted"].ID, c.settleABI.GetABI().Events["RootVetoed"].ID},
			{common.BigToHash(new(big.Int).SetUint64(epoch))},
		},
	}
	logs, err := c.filterLogs(ctx, q)
	if err != nil {
		return "", "", "", false, chainErr("filter roots", err)
	}
	// In order: a veto (or a rotation that dropped it) undoes the post.
	for i := range logs {
		if ev, err := c.settleABI.UnpackRootPostedEvent(&logs[i]); err == nil {
			root, bundle, tx, found = common.Hash(ev.Root).Hex(), common.Hash(ev.Bundle).Hex(), logs[i].TxHash.Hex(), true
		} else if _, err := c.settleABI.UnpackRootVetoedEvent(&logs[i]); err == nil {
			root, bundle, tx, found = "", "", "", false
		} else {
			return "", "", "", false, chainErr("decode root", err)
		}
	}
	return root, bundle, tx, found, nil
}

// MaxLogBlocks is the default bound on the blocks one log query spans:
// public RPC endpoints refuse wide ranges.
const MaxLogBlocks = 2000

// filterLogs runs q from its FromBlock to the head in ranges of at most
// LogRange blocks, so a long-lived deployment can be read through an
// RPC endpoint that limits the range of a query.
func (c *Client) filterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	head, err := c.eth.BlockNumber(ctx)
	if err != nil {
		return nil, err
	}
	var out []types.Log
	n := c.opts.maxLogBlocks
	for from := q.FromBlock.Uint64(); from <= head; from += n {
		q.FromBlock, q.ToBlock = new(big.Int).SetUint64(from), new(big.Int).SetUint64(min(from+n-1, head))
		logs, err := c.eth.FilterLogs(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, logs...)
	}
	return out, nil
}

// OperatorAt returns the operator whose key signs the receipts of epoch:
// the last OperatorChanged event whose fromEpoch is at most epoch.
func (c *Client) OperatorAt(ctx context.Context, epoch uint64) (string, error) {
	q := ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(c.dep.Block),
		Addresses: []common.Address{common.HexToAddress(c.dep.Settlement)},
		Topics:    [][]common.Hash{{c.settleABI.GetABI().Events["OperatorChanged"].ID}},
	}
	logs, err := c.filterLogs(ctx, q)
	if err != nil {
		return "", chainErr("filter operator changes", err)
	}
	op := ""
	for i := range logs {
		ev, err := c.settleABI.UnpackOperatorChangedEvent(&logs[i])
		if err != nil {
			return "", chainErr("decode operator change", err)
		}
		if ev.FromEpoch.Cmp(new(big.Int).SetUint64(epoch)) <= 0 {
			op = ev.Operator.Hex()
		}
	}
	if op == "" {
		return "", abi.Errorf(CodeChain, "no operator for epoch %d in the contract's events", epoch)
	}
	return op, nil
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

// gasLimit estimates a call's gas with a quarter and 20,000 more on top
// (only the gas used is paid for). An estimate is exact for the block it was
// made against, and a later block can cost a little more: a slot the
// estimate found already holding the value written (a timestamp) costs
// 2,900 more when it changes, and a call in the block where a pending root
// matures promotes it (one slot write; the contract flips between two root
// slots so that promotion never copies into empty storage).
func (c *Client) gasLimit(ctx context.Context, from, to common.Address, data []byte) (uint64, error) {
	gas, err := c.eth.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &to, Data: data})
	if err != nil {
		return 0, err
	}
	return gas + gas/4 + 20_000, nil
}

func (c *Client) send(ctx context.Context, key *ecdsa.PrivateKey, bc *bind.BoundContract, data []byte) (string, error) {
	return c.sendWith(ctx, key, bc, data, nil)
}

func (c *Client) sendWith(ctx context.Context, key *ecdsa.PrivateKey, bc *bind.BoundContract, data []byte, intent func(tx, raw string) error) (string, error) {
	var tx *types.Transaction
	var intentErr error
	err := retryPoolLag(ctx, func() (err error) {
		opts := transactor(ctx, key, c.chainID)
		opts.NoSend = true
		if c.opts.firstFees != nil {
			opts.GasTipCap, opts.GasFeeCap = c.opts.firstFees[0], c.opts.firstFees[1]
		}
		if opts.GasLimit, err = c.gasLimit(ctx, opts.From, bc.Address(), data); err != nil {
			return err
		}
		if tx, err = bind.Transact(bc, opts, data); err != nil {
			return err
		}
		if intentErr = c.recordIntent(tx, intent); intentErr != nil {
			return intentErr
		}
		return c.eth.SendTransaction(ctx, tx)
	})
	if intentErr != nil {
		return "", intentErr
	}
	if err != nil {
		return "", c.revertErr(err)
	}
	return c.mine(ctx, key, tx, intent)
}

func (c *Client) recordIntent(tx *types.Transaction, intent func(tx, raw string) error) error {
	if intent == nil {
		return nil
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return err
	}
	return intent(tx.Hash().Hex(), hexutil.Encode(raw))
}

// mine waits for tx, or for a replacement of it, to be mined. A transaction
// still unmined after replaceAfter (its fees too low for the market, say)
// is signed again with the same nonce and at least 12.5% more tip and fee
// cap (nodes require 10%), or the market's fees if those are higher, and
// sent; its intent is recorded first. Whichever of the versions is mined
// wins; the others can then never be.
func (c *Client) mine(ctx context.Context, key *ecdsa.PrivateKey, tx *types.Transaction, intent func(tx, raw string) error) (string, error) {
	sent := []*types.Transaction{tx}
	for {
		waitCtx, cancel := context.WithTimeout(ctx, c.opts.replaceAfter)
		h, err := waitAnyMined(waitCtx, c.eth, c.opts, sent)
		cancel()
		if err == nil {
			return h.Hex(), nil
		}
		if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return "", err
		}
		next, err := c.bumped(ctx, key, sent[len(sent)-1])
		if err != nil {
			return "", err
		}
		if err := c.recordIntent(next, intent); err != nil {
			return "", err
		}
		switch err := c.eth.SendTransaction(ctx, next); {
		case err == nil:
			sent = append(sent, next)
		case strings.Contains(err.Error(), "nonce too low"):
			// The nonce is used: by an earlier version (mined meanwhile,
			// its receipt due any moment) or by another transaction of the
			// same key, in which case no version can ever be mined.
			waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			h, err := waitAnyMined(waitCtx, c.eth, c.opts, sent)
			cancel()
			if err == nil {
				return h.Hex(), nil
			}
			if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
				return "", err
			}
			return "", abi.Errorf(CodeSuperseded, "transaction %s: its nonce %d was used by another transaction", tx.Hash().Hex(), tx.Nonce())
		default:
			return "", chainErr("replace "+tx.Hash().Hex(), err)
		}
	}
}

// bumped is prev signed again with higher fees.
func (c *Client) bumped(ctx context.Context, key *ecdsa.PrivateKey, prev *types.Transaction) (*types.Transaction, error) {
	bump := func(v *big.Int) *big.Int {
		b := new(big.Int).Mul(v, big.NewInt(9))
		return b.Div(b, big.NewInt(8)).Add(b, big.NewInt(1))
	}
	tip, err := c.eth.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, chainErr("gas tip", err)
	}
	head, err := c.eth.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, chainErr("head", err)
	}
	if t := bump(prev.GasTipCap()); t.Cmp(tip) > 0 {
		tip = t
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	if f := bump(prev.GasFeeCap()); f.Cmp(feeCap) > 0 {
		feeCap = f
	}
	next, err := types.SignNewTx(key, types.LatestSignerForChainID(c.chainID), &types.DynamicFeeTx{
		ChainID: c.chainID, Nonce: prev.Nonce(), GasTipCap: tip, GasFeeCap: feeCap,
		Gas: prev.Gas(), To: prev.To(), Value: prev.Value(), Data: prev.Data(),
	})
	if err != nil {
		return nil, chainErr("sign", err)
	}
	return next, nil
}

// waitAnyMined waits until one of txs (versions of one nonce) is mined.
func waitAnyMined(ctx context.Context, ec *ethclient.Client, o options, txs []*types.Transaction) (common.Hash, error) {
	if len(txs) == 1 {
		_, err := waitMined(ctx, ec, o, txs[0].Hash())
		return txs[0].Hash(), err
	}
	delay := 5 * time.Millisecond
	for {
		for _, tx := range txs {
			if _, err := ec.TransactionReceipt(ctx, tx.Hash()); err == nil {
				_, err := waitMined(ctx, ec, o, tx.Hash())
				return tx.Hash(), err
			}
		}
		select {
		case <-ctx.Done():
			return common.Hash{}, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// CodeSuperseded says a recorded transaction can no longer be mined: another
// transaction took its nonce.
const CodeSuperseded abi.Code = "chain_tx_superseded"

// Rebroadcast sends a transaction signed earlier (raw, as PostRoot's intent
// gave it) again, with its original nonce, and waits for it: the way to
// finish a post a crash interrupted without risking a second one. A
// transaction already mined is not sent again; one whose nonce another
// transaction took fails with CodeSuperseded. With key (the signer's), a
// transaction still unmined after the replacement delay is replaced at
// higher fees like any other, each version recorded through intent first.
func (c *Client) Rebroadcast(ctx context.Context, key *ecdsa.PrivateKey, raw string, intent func(tx, raw string) error) (string, error) {
	b, err := hexutil.Decode(raw)
	if err != nil {
		return "", abi.Errorf(abi.CodeBadRequest, "raw transaction: %v", err)
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(b); err != nil {
		return "", abi.Errorf(abi.CodeBadRequest, "raw transaction: %v", err)
	}
	if _, err := c.eth.TransactionReceipt(ctx, tx.Hash()); err == nil {
		_, err := waitMined(ctx, c.eth, c.opts, tx.Hash())
		return tx.Hash().Hex(), err
	}
	if err := c.eth.SendTransaction(ctx, tx); err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "already known"):
		case strings.Contains(msg, "nonce too low"):
			if _, rerr := c.eth.TransactionReceipt(ctx, tx.Hash()); rerr != nil {
				return "", abi.Errorf(CodeSuperseded, "transaction %s: its nonce was used by another", tx.Hash().Hex())
			}
		default:
			return "", c.revertErr(err)
		}
	}
	if key != nil {
		return c.mine(ctx, key, tx, intent)
	}
	if _, err := waitMined(ctx, c.eth, c.opts, tx.Hash()); err != nil {
		return "", err
	}
	return tx.Hash().Hex(), nil
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

func transactor(ctx context.Context, key *ecdsa.PrivateKey, chainID *big.Int) *bind.TransactOpts {
	opts := bind.NewKeyedTransactor(key, chainID)
	opts.Context = ctx
	return opts
}

// retryPoolLag retries send while the node's transaction pool has not yet
// caught up with the block that mined the sender's previous transaction:
// right after a block, the pool can still see the old balance or nonce.
func retryPoolLag(ctx context.Context, send func() error) error {
	for attempt := 0; ; attempt++ {
		err := send()
		if err == nil || attempt == 40 || !poolLag(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func poolLag(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "insufficient funds") || strings.Contains(msg, "nonce too low")
}

// waitMined polls for a receipt; the embedded chain mines within
// milliseconds, so bind.WaitMined's one-second ticker would dominate.
func waitMined(ctx context.Context, ec *ethclient.Client, o options, h common.Hash) (*types.Receipt, error) {
	delay := 5 * time.Millisecond
	for {
		rc, err := ec.TransactionReceipt(ctx, h)
		if err == nil {
			if rc.Status != types.ReceiptStatusSuccessful {
				return rc, abi.Errorf(CodeChain, "transaction %s reverted", h.Hex())
			}
			// A dev node can serve the receipt a moment before it makes the
			// block its head; reads of "latest" state must see the block.
			if err := waitHead(ctx, ec, rc.BlockNumber.Uint64()); err != nil {
				return rc, err
			}
			if o.durable != nil {
				return rc, o.durable(ctx, rc.BlockNumber.Uint64())
			}
			return rc, nil
		}
		// A node that has just started may still be indexing transactions.
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing is in progress") {
			return nil, chainErr("receipt", err)
		}
		select {
		case <-ctx.Done():
			return nil, chainErr("wait for "+h.Hex(), ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

func waitHead(ctx context.Context, ec *ethclient.Client, block uint64) error {
	for {
		head, err := ec.BlockNumber(ctx)
		if err != nil {
			return chainErr("head", err)
		}
		if head >= block {
			return nil
		}
		select {
		case <-ctx.Done():
			return chainErr("wait for head", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func chainErr(what string, err error) error {
	return abi.Wrap(CodeChain, err, "%s", what)
}

// CodeUnfunded says an account holds too little of the chain's coin to pay
// for the transactions it must send.
const CodeUnfunded abi.Code = "chain_unfunded"

// Gas an operator spends: deploying the token and the settlement contract,
// and posting one root (measured by BenchmarkSettlementGas, rounded up).
const (
	DeployGas   = 4_000_000
	PostRootGas = 600_000
)

// NeededBalance is what the operator should hold at today's fees to deploy
// (if deploy) and post ten roots: twice the base fee plus the suggested tip,
// per gas, as the transactions will offer.
func NeededBalance(ctx context.Context, ec *ethclient.Client, deploy bool) (*big.Int, error) {
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, chainErr("head", err)
	}
	tip, err := ec.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, chainErr("gas tip", err)
	}
	price := new(big.Int).Set(tip)
	if head.BaseFee != nil {
		price.Add(price, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	}
	gas := int64(10 * PostRootGas)
	if deploy {
		gas += DeployGas
	}
	return price.Mul(price, big.NewInt(gas)), nil
}

// AwaitFunds returns once account holds at least need, polling every
// interval until wait has passed; then it fails with CodeUnfunded. say is
// called once, before the first wait, so a person can send the funds.
func AwaitFunds(ctx context.Context, ec *ethclient.Client, account common.Address, need *big.Int, wait, interval time.Duration, say func(have *big.Int)) error {
	deadline := time.Now().Add(wait)
	for said := false; ; said = true {
		have, err := ec.BalanceAt(ctx, account, nil)
		if err != nil {
			return chainErr("balance", err)
		}
		if have.Cmp(need) >= 0 {
			return nil
		}
		if !said {
			say(have)
		}
		if !time.Now().Before(deadline) {
			return abi.Errorf(CodeUnfunded, "%s holds %s wei; it needs at least %s wei to pay for its transactions: send it some and start again", account.Hex(), have, need)
		}
		select {
		case <-ctx.Done():
			return chainErr("wait for funds", ctx.Err())
		case <-time.After(min(interval, time.Until(deadline))):
		}
	}
}

// GasUsed returns the gas a mined transaction used.
func (c *Client) GasUsed(ctx context.Context, tx string) (uint64, error) {
	rc, err := c.eth.TransactionReceipt(ctx, common.HexToHash(tx))
	if err != nil {
		return 0, abi.Wrap(CodeChain, err, "receipt of %s: %v", tx, err)
	}
	return rc.GasUsed, nil
}
