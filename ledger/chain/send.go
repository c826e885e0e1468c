package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
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

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/ledger/contracts"
)

// SendETH transfers wei for gas.
func (c *Client) SendETH(ctx context.Context, key *ecdsa.PrivateKey, to string, wei *big.Int) (string, error) {
	return fund(ctx, c.eth, c.opts, key, to, wei)
}

// Fund transfers wei of the chain's coin from key's account to to, for gas,
// and waits until it is mined.
func Fund(ctx context.Context, ec Backend, key *ecdsa.PrivateKey, to string, wei *big.Int) (string, error) {
	return fund(ctx, ec, options{}, key, to, wei)
}

func fund(ctx context.Context, ec Backend, o options, key *ecdsa.PrivateKey, to string, wei *big.Int) (string, error) {
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

// SendCall sends data to the contract at to from key's account, with
// EIP-1559 fees and a gas limit estimated with a margin, and waits until it
// is mined: for tools that hold only an RPC endpoint and an address.
func SendCall(ctx context.Context, ec Backend, key *ecdsa.PrivateKey, to string, data []byte) (string, error) {
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		return "", chainErr("chain id", err)
	}
	c := &Client{opts: optionsOf(nil), eth: ec, chainID: chainID, settleABI: contracts.NewSettlement()}
	return c.send(ctx, key, bind.NewBoundContract(common.HexToAddress(to), gethabi.ABI{}, ec, ec, ec), data)
}

// GasUsed returns the gas a mined transaction used.
func (c *Client) GasUsed(ctx context.Context, tx string) (uint64, error) {
	rc, err := c.eth.TransactionReceipt(ctx, common.HexToHash(tx))
	if err != nil {
		return 0, abi.Wrap(CodeChain, err, "receipt of %s: %v", tx, err)
	}
	return rc.GasUsed, nil
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
func waitAnyMined(ctx context.Context, ec Backend, o options, txs []*types.Transaction) (common.Hash, error) {
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
		return "", abi.Wrap(abi.CodeBadRequest, err, "raw transaction")
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(b); err != nil {
		return "", abi.Wrap(abi.CodeBadRequest, err, "raw transaction")
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
func waitMined(ctx context.Context, ec Backend, o options, h common.Hash) (*types.Receipt, error) {
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

func waitHead(ctx context.Context, ec Backend, block uint64) error {
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
