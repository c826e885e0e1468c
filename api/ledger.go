package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"connectrpc.com/connect"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
)

func (a *api) ListReceipts(ctx context.Context, req *connect.Request[tollgatev1.ListReceiptsRequest]) (*connect.Response[tollgatev1.ListReceiptsResponse], error) {
	acct, err := a.ownAccount(ctx, req.Header(), req.Msg.GetAccount(), "list its receipts")
	if err != nil {
		return nil, err
	}
	rs, next, err := a.led.AccountReceipts(ctx, acct, req.Msg.GetEpoch(), req.Msg.GetPageToken(), pageSize(req.Msg.GetPageSize()))
	if err != nil {
		return nil, err
	}
	out := &tollgatev1.ListReceiptsResponse{Account: acct, NextPageToken: next}
	for _, r := range rs {
		out.Receipts = append(out.Receipts, &tollgatev1.AccountReceipt{Receipt: receiptProto(r.Receipt), Charged: r.Charged.String(), Earned: r.Earned.String()})
	}
	return connect.NewResponse(out), nil
}

// MaxEpochsPerPage bounds a ListEpochs page: each epoch read carries its
// leaves, one per account.
const MaxEpochsPerPage = 100

// ownAccount is the account a request asks about: requested, or the
// signed-in one if empty. An account's books are its own business and the
// operator's; what names the action refused to anyone else.
func (a *api) ownAccount(ctx context.Context, hdr http.Header, requested, what string) (string, error) {
	p, err := a.principal(ctx, hdr)
	if err != nil {
		return "", err
	}
	acct := p.Account
	if requested != "" {
		if acct, err = registry.CanonicalAddress(requested); err != nil {
			return "", abi.Errorf(abi.CodeBadRequest, "account is not an address")
		}
	}
	if acct != p.Account && !p.Operator {
		return "", abi.Errorf(abi.CodeGrantDenied, "only %s and the operator %s", acct, what)
	}
	return acct, nil
}

func epochProto(e *ledger.Epoch) *tollgatev1.Epoch {
	out := &tollgatev1.Epoch{Epoch: e.N, Root: e.Root, Bundle: e.Bundle, Total: e.Total.String(), Accounts: uint32(len(e.Leaves)),
		Receipts: uint32(e.Receipts), Closed: e.Closed.Unix(), PostTx: e.PostTx, Settlement: e.Domain.Settlement}
	if e.Domain.ChainID != nil {
		out.ChainId = e.Domain.ChainID.Uint64()
	}
	return out
}

func (a *api) ListEpochs(ctx context.Context, req *connect.Request[tollgatev1.ListEpochsRequest]) (*connect.Response[tollgatev1.ListEpochsResponse], error) {
	var before uint64
	if t := req.Msg.GetPageToken(); t != "" {
		v, err := strconv.ParseUint(t, 10, 64)
		if err != nil || v == 0 {
			return nil, abi.Errorf(abi.CodeBadRequest, "page token %.32q is not one this listing gave", t)
		}
		before = v
	}
	open, err := a.led.OpenEpoch(ctx)
	if err != nil {
		return nil, err
	}
	size := min(pageSize(req.Msg.GetPageSize()), MaxEpochsPerPage)
	es, err := a.led.Epochs(ctx, before, size)
	if err != nil {
		return nil, err
	}
	out := &tollgatev1.ListEpochsResponse{Open: open}
	for _, e := range es {
		out.Epochs = append(out.Epochs, epochProto(e))
	}
	if len(es) > 0 && es[len(es)-1].N > 1 && len(es) == size {
		out.NextPageToken = strconv.FormatUint(es[len(es)-1].N, 10)
	}
	return connect.NewResponse(out), nil
}

// closedEpoch returns closed epoch n, or the last closed one for 0.
func (a *api) closedEpoch(ctx context.Context, n uint64) (*ledger.Epoch, error) {
	if n == 0 {
		open, err := a.led.OpenEpoch(ctx)
		if err != nil {
			return nil, err
		}
		if open <= 1 {
			return nil, abi.Errorf(abi.CodeNotFound, "no epoch has closed yet")
		}
		n = open - 1
	}
	return a.led.Epoch(ctx, n)
}

func (a *api) GetEpoch(ctx context.Context, req *connect.Request[tollgatev1.GetEpochRequest]) (*connect.Response[tollgatev1.GetEpochResponse], error) {
	e, err := a.closedEpoch(ctx, req.Msg.GetEpoch())
	if err != nil {
		return nil, err
	}
	out := &tollgatev1.GetEpochResponse{Epoch: epochProto(e)}
	if a.settle.Chain() != nil {
		c, err := a.settle.EpochOnChain(ctx, e.N)
		if err != nil {
			return nil, err
		}
		out.OnChainRoot, out.OnChainBundle, out.Operator = c.Root, c.Bundle, c.Operator
	}
	return connect.NewResponse(out), nil
}

// ExportEpoch streams a closed epoch's receipts and outputs in id order,
// the order its receipt bundle hashes them in.
func (a *api) ExportEpoch(ctx context.Context, req *connect.Request[tollgatev1.ExportEpochRequest], stream *connect.ServerStream[tollgatev1.ExportEpochResponse]) error {
	e, err := a.closedEpoch(ctx, req.Msg.GetEpoch())
	if err != nil {
		return err
	}
	rs, err := a.led.Receipts(ctx, e.N)
	if err != nil {
		return err
	}
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			return abi.Wrap(abi.CodeInternal, err, "receipt %s", r.ID)
		}
		out, err := a.led.Output(ctx, r.ID)
		if err != nil {
			return err
		}
		if err := stream.Send(&tollgatev1.ExportEpochResponse{ReceiptJson: b, Output: out, Receipt: receiptProto(r)}); err != nil {
			return err
		}
	}
	return nil
}

func (a *api) RelayClaim(ctx context.Context, req *connect.Request[tollgatev1.RelayClaimRequest]) (*connect.Response[tollgatev1.RelayClaimResponse], error) {
	p, err := a.principal(ctx, req.Header())
	if err != nil {
		return nil, err
	}
	c, err := a.settle.RelayClaim(ctx, p.Account)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.RelayClaimResponse{Account: c.Account, Epoch: c.Epoch, Cumulative: c.Cumulative.String(), Amount: c.Amount.String(), Tx: c.Tx}), nil
}
