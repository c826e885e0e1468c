package host

import (
	"context"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/registry"
)

// MaxRecordsPerCall bounds one AddRecords call.
const MaxRecordsPerCall = 1000

func datanetProto(d *registry.Datanet) *tollgatev1.Datanet {
	return &tollgatev1.Datanet{Name: d.Name, Owner: d.Owner, Description: d.Description, License: d.License,
		PricePerRead: d.PricePerRead, Version: d.Version, Root: d.Root}
}

func (a *api) CreateDatanet(ctx context.Context, req *connect.Request[tollgatev1.CreateDatanetRequest]) (*connect.Response[tollgatev1.CreateDatanetResponse], error) {
	if _, err := a.principal(ctx, req.Header()); err != nil {
		return nil, connectErr(err)
	}
	in := req.Msg.GetDatanet()
	sig, err := hexutil.Decode(req.Msg.GetSignature())
	if err != nil {
		return nil, connectErr(abi.Errorf(abi.CodeBadSignature, "signature is not 0x-hex"))
	}
	d, err := a.h.reg.CreateDatanet(ctx, registry.Datanet{Name: in.GetName(), Owner: in.GetOwner(), Description: in.GetDescription(),
		License: in.GetLicense(), PricePerRead: in.GetPricePerRead()}, sig)
	if err != nil {
		return nil, connectErr(err)
	}
	return connect.NewResponse(&tollgatev1.CreateDatanetResponse{Datanet: datanetProto(d)}), nil
}

func (a *api) AddRecords(ctx context.Context, req *connect.Request[tollgatev1.AddRecordsRequest]) (*connect.Response[tollgatev1.AddRecordsResponse], error) {
	if _, err := a.principal(ctx, req.Header()); err != nil {
		return nil, connectErr(err)
	}
	recs := req.Msg.GetRecords()
	if len(recs) > MaxRecordsPerCall {
		return nil, connectErr(abi.Errorf(CodeTooLarge, "%d records in one call, limit %d", len(recs), MaxRecordsPerCall))
	}
	out := &tollgatev1.AddRecordsResponse{}
	for i, r := range recs {
		sig, err := hexutil.Decode(r.GetSignature())
		if err != nil {
			return nil, connectErr(abi.Errorf(abi.CodeBadSignature, "record %d: signature is not 0x-hex", i))
		}
		rec, dup, err := a.h.reg.AddRecord(ctx, req.Msg.GetDatanet(), r.GetContributor(), r.GetContent(), sig)
		if err != nil {
			// Records before this one are added; say which failed.
			return nil, connectErr(abi.Wrap(abi.CodeOf(err), err, "record %d (%d added before it)", i, out.Added))
		}
		out.Ids = append(out.Ids, rec.ID)
		if dup {
			out.Duplicates++
		} else {
			out.Added++
		}
	}
	d, err := a.h.reg.Datanet(ctx, req.Msg.GetDatanet())
	if err != nil {
		return nil, connectErr(err)
	}
	out.Version = d.Version
	return connect.NewResponse(out), nil
}

func (a *api) GetDatanet(ctx context.Context, req *connect.Request[tollgatev1.GetDatanetRequest]) (*connect.Response[tollgatev1.GetDatanetResponse], error) {
	d, err := a.h.reg.Datanet(ctx, req.Msg.GetName())
	if err != nil {
		return nil, connectErr(err)
	}
	return connect.NewResponse(&tollgatev1.GetDatanetResponse{Datanet: datanetProto(d)}), nil
}

func recordProto(r abi.Record) *tollgatev1.Record {
	return &tollgatev1.Record{Datanet: r.Datanet, Id: r.ID, Contributor: r.Contributor, Content: r.Content}
}

// readsFree reports whether p may read a datanet's records without paying
// for them: its owner and the operator may; everyone else reads through an
// agent, which pays each record's fee.
func (a *api) readsFree(ctx context.Context, p Principal, datanet string) error {
	if p.Operator {
		return nil
	}
	d, err := a.h.reg.Datanet(ctx, datanet)
	if err != nil {
		return err
	}
	if d.Owner != p.Account {
		return abi.Errorf(abi.CodeGrantDenied, "records of %s are read through agents, which pay for them; only its owner and the operator read them directly", datanet)
	}
	return nil
}

func (a *api) Search(ctx context.Context, req *connect.Request[tollgatev1.SearchRequest]) (*connect.Response[tollgatev1.SearchResponse], error) {
	p, err := a.principal(ctx, req.Header())
	if err != nil {
		return nil, connectErr(err)
	}
	if err := a.readsFree(ctx, p, req.Msg.GetDatanet()); err != nil {
		return nil, connectErr(err)
	}
	limit := int(req.Msg.GetLimit())
	if limit == 0 {
		limit = 10
	}
	rs, err := a.h.reg.Search(ctx, req.Msg.GetDatanet(), req.Msg.GetQuery(), min(limit, 100))
	if err != nil {
		return nil, connectErr(err)
	}
	out := &tollgatev1.SearchResponse{}
	for _, r := range rs {
		out.Records = append(out.Records, recordProto(r))
	}
	return connect.NewResponse(out), nil
}

func (a *api) GetRecord(ctx context.Context, req *connect.Request[tollgatev1.GetRecordRequest]) (*connect.Response[tollgatev1.GetRecordResponse], error) {
	p, err := a.principal(ctx, req.Header())
	if err != nil {
		return nil, connectErr(err)
	}
	r, err := a.h.reg.At(nil).Get(ctx, req.Msg.GetDatanet(), req.Msg.GetId())
	if err != nil {
		return nil, connectErr(err)
	}
	// A contributor reads its own records.
	if r.Contributor != p.Account {
		if err := a.readsFree(ctx, p, req.Msg.GetDatanet()); err != nil {
			return nil, connectErr(err)
		}
	}
	return connect.NewResponse(&tollgatev1.GetRecordResponse{Record: recordProto(r)}), nil
}
