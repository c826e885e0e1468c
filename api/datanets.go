package api

import (
	"context"
	"io"
	"strconv"
	"sync"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/api/auth"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/internal/protoconv"
	"github.com/tollgate-dev/tollgate/registry"
)

// MaxRecordsPerCall bounds one AddRecords call.
const MaxRecordsPerCall = 1000

func datanetProto(d *registry.Datanet) *tollgatev1.Datanet {
	out := &tollgatev1.Datanet{Name: d.Name, Owner: d.Owner, Description: d.Description, License: d.License,
		PricePerRead: d.PricePerRead, Version: d.Version, Root: d.Root, PolicyNonce: d.PolicyNonce, Policy: protoconv.PolicyProto(d.Policy),
		Write: d.Policy.WriteRule(), Attribution: d.Policy.Attribution}
	if len(out.Attribution) == 0 {
		out.Attribution = registry.BuiltinAttribution()
	}
	if c := d.Creation; c != nil {
		out.CreationPolicy, out.CreationSignature = protoconv.PolicyProto(c.Policy), hexutil.Encode(c.Signature)
	}
	return out
}

// policyProto and policyOf carry a policy as signed: every field, empty
// ones empty, so a verifier rebuilding it gets the digest its owner signed.
func (a *api) CreateDatanet(ctx context.Context, req *connect.Request[tollgatev1.CreateDatanetRequest]) (*connect.Response[tollgatev1.CreateDatanetResponse], error) {
	if _, err := a.principal(ctx, req.Header()); err != nil {
		return nil, err
	}
	in := req.Msg.GetDatanet()
	sig, err := hexutil.Decode(req.Msg.GetSignature())
	if err != nil {
		return nil, abi.Errorf(abi.CodeBadSignature, "signature is not 0x-hex")
	}
	d, err := a.reg.CreateDatanet(ctx, registry.Datanet{Name: in.GetName(), Owner: in.GetOwner(), Description: in.GetDescription(),
		License: in.GetLicense(), PricePerRead: in.GetPricePerRead(), Policy: protoconv.Policy(in.GetPolicy())}, sig)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.CreateDatanetResponse{Datanet: datanetProto(d)}), nil
}

func (a *api) AddRecords(ctx context.Context, req *connect.Request[tollgatev1.AddRecordsRequest]) (*connect.Response[tollgatev1.AddRecordsResponse], error) {
	if _, err := a.principal(ctx, req.Header()); err != nil {
		return nil, err
	}
	recs := req.Msg.GetRecords()
	if len(recs) > MaxRecordsPerCall {
		return nil, abi.Errorf(CodeTooLarge, "%d records in one call, limit %d", len(recs), MaxRecordsPerCall)
	}
	out := &tollgatev1.AddRecordsResponse{}
	for i, r := range recs {
		sig, err := hexutil.Decode(r.GetSignature())
		if err != nil {
			return nil, abi.Errorf(abi.CodeBadSignature, "record %d: signature is not 0x-hex", i)
		}
		rec, dup, err := a.reg.AddRecord(ctx, req.Msg.GetDatanet(), r.GetContributor(), r.GetContent(), sig)
		if err != nil {
			// Records before this one are added; say which failed.
			return nil, abi.Wrap(abi.CodeOf(err), err, "record %d (%d added before it)", i, out.Added)
		}
		out.Ids = append(out.Ids, rec.ID)
		if dup {
			out.Duplicates++
		} else {
			out.Added++
		}
	}
	d, err := a.reg.Datanet(ctx, req.Msg.GetDatanet())
	if err != nil {
		return nil, err
	}
	out.Version = d.Version
	return connect.NewResponse(out), nil
}

func (a *api) GetDatanet(ctx context.Context, req *connect.Request[tollgatev1.GetDatanetRequest]) (*connect.Response[tollgatev1.GetDatanetResponse], error) {
	d, err := a.reg.Datanet(ctx, req.Msg.GetName())
	if err != nil {
		return nil, err
	}
	out := datanetProto(d)
	if out.PublicVersion, err = a.settledVersion(ctx, d.Name); err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.GetDatanetResponse{Datanet: out}), nil
}

func recordProto(r abi.Record) *tollgatev1.Record {
	return &tollgatev1.Record{Datanet: r.Datanet, Id: r.ID, Contributor: r.Contributor, Content: r.Content}
}

func storedRecordProto(r registry.Record) *tollgatev1.Record {
	return &tollgatev1.Record{Datanet: r.Datanet, Id: r.ID, Contributor: r.Contributor, Content: r.Content,
		Version: r.Version, Signature: hexutil.Encode(r.Signature)}
}

func (a *api) SetPolicy(ctx context.Context, req *connect.Request[tollgatev1.SetPolicyRequest]) (*connect.Response[tollgatev1.SetPolicyResponse], error) {
	if _, err := a.principal(ctx, req.Header()); err != nil {
		return nil, err
	}
	sig, err := hexutil.Decode(req.Msg.GetSignature())
	if err != nil {
		return nil, abi.Errorf(abi.CodeBadSignature, "signature is not 0x-hex")
	}
	// The owner's signature, not the session, authorises the change.
	if err := a.reg.SetPolicy(ctx, req.Msg.GetDatanet(), protoconv.Policy(req.Msg.GetPolicy()), sig); err != nil {
		return nil, err
	}
	d, err := a.reg.Datanet(ctx, req.Msg.GetDatanet())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.SetPolicyResponse{Datanet: datanetProto(d)}), nil
}

// ImportRecords commits a stream of signed records in batches: signatures
// are checked on all cores while the previous batch commits, and every
// message must name the same datanet.
func (a *api) ImportRecords(ctx context.Context, stream *connect.ClientStream[tollgatev1.ImportRecordsRequest]) (*connect.Response[tollgatev1.ImportRecordsResponse], error) {
	if _, err := a.principal(ctx, stream.RequestHeader()); err != nil {
		return nil, err
	}
	var datanet string
	var pending []*tollgatev1.NewRecord
	var received uint64
	// The first message names the datanet the import goes to.
	if !stream.Receive() {
		if err := stream.Err(); err != nil {
			return nil, abi.Wrap(abi.CodeBadRequest, err, "import")
		}
		return nil, abi.Errorf(abi.CodeBadRequest, "import: no records")
	}
	datanet, pending = stream.Msg().GetDatanet(), stream.Msg().GetRecords()
	next := func() (registry.ImportLine, error) {
		for len(pending) == 0 {
			if !stream.Receive() {
				if err := stream.Err(); err != nil {
					return registry.ImportLine{}, abi.Wrap(abi.CodeBadRequest, err, "import after %d records", received)
				}
				return registry.ImportLine{}, io.EOF
			}
			if stream.Msg().GetDatanet() != datanet && stream.Msg().GetDatanet() != "" {
				return registry.ImportLine{}, abi.Errorf(abi.CodeBadRequest, "import: a message names datanet %.64q, the import is into %s", stream.Msg().GetDatanet(), datanet)
			}
			pending = stream.Msg().GetRecords()
		}
		r := pending[0]
		pending = pending[1:]
		received++
		if r.GetSignature() == "" {
			return registry.ImportLine{}, abi.Errorf(abi.CodeBadSignature, "import record %d has no signature", received)
		}
		return registry.ImportLine{Content: r.GetContent(), Contributor: r.GetContributor(), Signature: r.GetSignature()}, nil
	}
	st, err := a.reg.ImportStream(ctx, next, registry.ImportOptions{Datanet: datanet})
	if err != nil {
		return nil, abi.Wrap(abi.CodeOf(err), err, "import stopped after %d records added", st.Added)
	}
	d, err := a.reg.Datanet(ctx, datanet)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.ImportRecordsResponse{Received: received, Added: uint64(st.Added),
		Duplicates: uint64(st.Duplicates), Version: d.Version, Root: d.Root}), nil
}

// settledVersions caches the last closed epoch's settled datanet
// versions.
type settledVersions struct {
	mu       sync.Mutex
	epoch    uint64            // the closed epoch versions was read from
	versions map[string]uint64 // its Settled versions
}

// settledVersion is the highest version of a datanet that a closed epoch's
// receipts read: its records up to there are public, because verifying
// those payouts needs them.
func (a *api) settledVersion(ctx context.Context, datanet string) (uint64, error) {
	open, err := a.led.OpenEpoch(ctx)
	if err != nil || open <= 1 {
		return 0, err
	}
	s := &a.settled
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch != open-1 {
		e, err := a.led.Epoch(ctx, open-1)
		if err != nil {
			return 0, err
		}
		s.epoch, s.versions = open-1, e.Settled
	}
	return s.versions[datanet], nil
}

func (a *api) ListRecords(ctx context.Context, req *connect.Request[tollgatev1.ListRecordsRequest]) (*connect.Response[tollgatev1.ListRecordsResponse], error) {
	dn := req.Msg.GetDatanet()
	at := req.Msg.GetVersion()
	// The owner and the operator list any version; anyone lists a version
	// a closed epoch settled payouts on.
	p, authErr := a.principal(ctx, req.Header())
	if authErr != nil || a.readsFree(ctx, p, dn) != nil {
		settled, err := a.settledVersion(ctx, dn)
		if err != nil {
			return nil, err
		}
		if at == 0 || at > settled {
			if authErr != nil {
				return nil, authErr
			}
			return nil, abi.Errorf(abi.CodeGrantDenied, "records of %s are public up to version %d, which closed epochs settled on; only its owner and the operator list others", dn, settled)
		}
	}
	var after uint64
	if t := req.Msg.GetPageToken(); t != "" {
		v, err := strconv.ParseUint(t, 10, 64)
		if err != nil {
			return nil, abi.Errorf(abi.CodeBadRequest, "page token %.32q is not one this listing gave", t)
		}
		after = v
	}
	size := pageSize(req.Msg.GetPageSize())
	recs, version, err := a.reg.RecordsAt(ctx, dn, at, after, size)
	if err != nil {
		return nil, err
	}
	out := &tollgatev1.ListRecordsResponse{Version: version}
	for _, r := range recs {
		out.Records = append(out.Records, storedRecordProto(r))
	}
	if len(recs) > 0 && recs[len(recs)-1].Version < version {
		out.NextPageToken = strconv.FormatUint(recs[len(recs)-1].Version, 10)
	}
	return connect.NewResponse(out), nil
}

func (a *api) GetVersion(ctx context.Context, req *connect.Request[tollgatev1.GetVersionRequest]) (*connect.Response[tollgatev1.GetVersionResponse], error) {
	d, err := a.reg.Datanet(ctx, req.Msg.GetDatanet())
	if err != nil {
		return nil, err
	}
	v := req.Msg.GetVersion()
	if v == 0 {
		v = d.Version
	}
	if v > d.Version {
		return nil, abi.Errorf(abi.CodeNotFound, "datanet %s has no version %d (it is at %d)", d.Name, v, d.Version)
	}
	root := d.Root
	if v != d.Version {
		if root, err = a.reg.VersionRoot(ctx, d.Name, v); err != nil {
			return nil, err
		}
	}
	return connect.NewResponse(&tollgatev1.GetVersionResponse{Datanet: d.Name, Version: v, Root: root, Count: v}), nil
}

// pageSize is a request's page size: 0 means 100, at most 1000.
func pageSize(n uint32) int {
	switch {
	case n == 0:
		return 100
	case n > 1000:
		return 1000
	}
	return int(n)
}

// readsFree reports whether p may read a datanet's records without paying
// for them: its owner and the operator may; everyone else reads through an
// agent, which pays each record's fee.
func (a *api) readsFree(ctx context.Context, p auth.Principal, datanet string) error {
	if p.Operator {
		return nil
	}
	d, err := a.reg.Datanet(ctx, datanet)
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
		return nil, err
	}
	if err := a.readsFree(ctx, p, req.Msg.GetDatanet()); err != nil {
		return nil, err
	}
	limit := int(req.Msg.GetLimit())
	if limit == 0 {
		limit = 10
	}
	rs, err := a.reg.Search(ctx, req.Msg.GetDatanet(), req.Msg.GetQuery(), min(limit, 100))
	if err != nil {
		return nil, err
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
		return nil, err
	}
	r, err := a.reg.At(nil).Get(ctx, req.Msg.GetDatanet(), req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	// A contributor reads its own records.
	if r.Contributor != p.Account {
		if err := a.readsFree(ctx, p, req.Msg.GetDatanet()); err != nil {
			return nil, err
		}
	}
	return connect.NewResponse(&tollgatev1.GetRecordResponse{Record: recordProto(r)}), nil
}
