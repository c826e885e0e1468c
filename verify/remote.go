package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/protoconv"
	"github.com/tollgate-dev/tollgate/ledger"
	"github.com/tollgate-dev/tollgate/registry"
	"github.com/tollgate-dev/tollgate/runtime"
)

// RemoteData serves [EpochData] from a node's public API, the way a third
// party verifies it: receipts and outputs by epoch export, plugins by hash,
// and each datanet's records, downloaded in the order they were added into
// a scratch registry that checks every contributor's signature and rebuilds
// the version roots the receipts sign. Nothing is written to the node.
type RemoteData struct {
	ledger   tollgatev1connect.LedgerServiceClient
	plugins  tollgatev1connect.RegistryServiceClient
	datanets tollgatev1connect.DatanetServiceClient
	scratch  *registry.Registry
	domain   registry.Domain
	cleanup  func() // removes a scratch directory of our own
	outputs  map[string][]byte
	mirrored map[string]uint64 // datanet -> version held in scratch
	epochs   map[uint64]*tollgatev1.GetEpochResponse
}

// NewRemoteData reads the node at server, keeping downloaded records in a
// scratch registry under dir (a temporary directory, removed by Close, if
// dir is "") bound to domain, the deployment the verifier expects.
func NewRemoteData(client connect.HTTPClient, server, dir string, domain registry.Domain) (*RemoteData, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var cleanup func()
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tollgate-verify-")
		if err != nil {
			return nil, err
		}
		dir, cleanup = tmp, func() { os.RemoveAll(tmp) }
	}
	reg, err := registry.Open(dir, registry.Options{Domain: domain, Scratch: true})
	if err != nil {
		if cleanup != nil {
			cleanup()
		}
		return nil, err
	}
	return &RemoteData{
		ledger:   tollgatev1connect.NewLedgerServiceClient(client, server),
		plugins:  tollgatev1connect.NewRegistryServiceClient(client, server),
		datanets: tollgatev1connect.NewDatanetServiceClient(client, server),
		scratch:  reg, domain: domain, cleanup: cleanup, outputs: map[string][]byte{}, mirrored: map[string]uint64{},
		epochs: map[uint64]*tollgatev1.GetEpochResponse{},
	}, nil
}

// Close closes the scratch registry.
func (d *RemoteData) Close() error {
	err := d.scratch.Close()
	if d.cleanup != nil {
		d.cleanup()
	}
	return err
}

func (d *RemoteData) epoch(ctx context.Context, n uint64) (*tollgatev1.GetEpochResponse, error) {
	if e, ok := d.epochs[n]; ok {
		return e, nil
	}
	res, err := d.ledger.GetEpoch(ctx, connect.NewRequest(&tollgatev1.GetEpochRequest{Epoch: n}))
	if err != nil {
		return nil, fmt.Errorf("epoch %d: %w", n, err)
	}
	if got := res.Msg.GetEpoch().GetEpoch(); got == 0 || (n != 0 && got != n) {
		return nil, abi.Errorf(abi.CodeBadRequest, "asked for epoch %d, the node answered with epoch %d", n, got)
	}
	d.epochs[res.Msg.GetEpoch().GetEpoch()] = res.Msg
	return res.Msg, nil
}

// LastEpoch returns the number of the node's last closed epoch.
func (d *RemoteData) LastEpoch(ctx context.Context) (uint64, error) {
	e, err := d.epoch(ctx, 0)
	if err != nil {
		return 0, err
	}
	return e.GetEpoch().GetEpoch(), nil
}

func (d *RemoteData) Epoch(ctx context.Context, n uint64) (*ledger.Epoch, error) {
	res, err := d.epoch(ctx, n)
	if err != nil {
		return nil, err
	}
	e := res.GetEpoch()
	total, ok := new(big.Int).SetString(e.GetTotal(), 10)
	if !ok {
		return nil, fmt.Errorf("epoch %d: total %q is not a number", n, e.GetTotal())
	}
	return &ledger.Epoch{N: e.GetEpoch(), Root: e.GetRoot(), Bundle: e.GetBundle(), Total: total, Receipts: int(e.GetReceipts()),
		Domain: ledger.Domain{ChainID: new(big.Int).SetUint64(e.GetChainId()), Settlement: e.GetSettlement()}, PostTx: e.GetPostTx()}, nil
}

// Receipts downloads epoch n's receipts and outputs, then the records of
// every datanet version they read.
func (d *RemoteData) Receipts(ctx context.Context, n uint64) ([]*ledger.Receipt, error) {
	stream, err := d.ledger.ExportEpoch(ctx, connect.NewRequest(&tollgatev1.ExportEpochRequest{Epoch: n}))
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var out []*ledger.Receipt
	for stream.Receive() {
		var r ledger.Receipt
		if err := json.Unmarshal(stream.Msg().GetReceiptJson(), &r); err != nil {
			return nil, fmt.Errorf("epoch %d: a receipt that is not JSON: %w", n, err)
		}
		d.outputs[r.ID] = stream.Msg().GetOutput()
		out = append(out, &r)
	}
	if err := stream.Err(); err != nil {
		return nil, fmt.Errorf("export epoch %d: %w", n, err)
	}
	need := map[string]uint64{}
	for _, r := range out {
		for _, dv := range r.Datanets {
			need[dv.Name] = max(need[dv.Name], dv.Version)
		}
		// And what the models it called were built from.
		for _, g := range r.Generations {
			p, err := d.Plugin(ctx, g.Model)
			if err != nil {
				return nil, err
			}
			if p.Manifest.Model == nil {
				return nil, abi.Errorf(abi.CodeBadRequest, "receipt %s calls %s, which is not a model", r.ID, g.Model)
			}
			for _, t := range p.Manifest.Model.Training {
				need[t.Datanet] = max(need[t.Datanet], t.Version)
			}
		}
	}
	for name, v := range need {
		if err := d.mirror(ctx, name, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mirror downloads a datanet's records up to version into the scratch
// registry, in the order the node added them, checking each signature.
func (d *RemoteData) mirror(ctx context.Context, name string, version uint64) error {
	have, known := d.mirrored[name]
	if known && have >= version {
		return nil
	}
	if !known {
		res, err := d.datanets.GetDatanet(ctx, connect.NewRequest(&tollgatev1.GetDatanetRequest{Name: name}))
		if err != nil {
			return fmt.Errorf("datanet %s: %w", name, err)
		}
		dn := res.Msg.GetDatanet()
		m := registry.Datanet{Name: dn.GetName(), Owner: dn.GetOwner(), Description: dn.GetDescription(), License: dn.GetLicense(),
			PricePerRead: dn.GetPricePerRead(), Policy: protoconv.Policy(dn.GetPolicy())}
		if dn.GetName() != name {
			return abi.Errorf(abi.CodeHashMismatch, "asked for datanet %s, the node sent %.64q", name, dn.GetName())
		}
		// The read price the receipts charged is the one its owner signed.
		sig, err := hexutil.Decode(dn.GetCreationSignature())
		if err != nil {
			return abi.Errorf(abi.CodeBadSignature, "datanet %s: no creation signature", name)
		}
		m.Creation = &registry.DatanetCreation{Policy: protoconv.Policy(dn.GetCreationPolicy()), Signature: sig}
		if err := m.CheckCreation(d.domain); err != nil {
			return err
		}
		if err := d.scratch.MirrorDatanet(ctx, m); err != nil {
			return err
		}
	}
	token := ""
	if have > 0 {
		token = fmt.Sprint(have)
	}
	var page []*tollgatev1.Record
	last := false
	next := func() (registry.ImportLine, error) {
		for len(page) == 0 {
			if last {
				return registry.ImportLine{}, io.EOF
			}
			res, err := d.datanets.ListRecords(ctx, connect.NewRequest(&tollgatev1.ListRecordsRequest{Datanet: name, Version: version, PageToken: token, PageSize: 1000}))
			if err != nil {
				return registry.ImportLine{}, fmt.Errorf("records of %s: %w", name, err)
			}
			page, token = res.Msg.GetRecords(), res.Msg.GetNextPageToken()
			last = token == ""
		}
		r := page[0]
		page = page[1:]
		return registry.ImportLine{Content: r.GetContent(), Contributor: r.GetContributor(), Signature: r.GetSignature()}, nil
	}
	if _, err := d.scratch.ImportStream(ctx, next, registry.ImportOptions{Datanet: name}); err != nil {
		return fmt.Errorf("records of %s: %w", name, err)
	}
	got, err := d.scratch.Datanet(ctx, name)
	if err != nil {
		return err
	}
	if got.Version != version {
		return abi.Errorf(abi.CodeHashMismatch, "datanet %s: the node listed %d distinct records up to version %d", name, got.Version, version)
	}
	d.mirrored[name] = version
	return nil
}

func (d *RemoteData) Output(ctx context.Context, id string) ([]byte, error) {
	out, ok := d.outputs[id]
	if !ok {
		return nil, abi.Errorf(abi.CodeNotFound, "no output for receipt %s in the export", id)
	}
	return out, nil
}

func (d *RemoteData) Plugin(ctx context.Context, ref string) (*registry.Plugin, error) {
	res, err := d.plugins.GetPlugin(ctx, connect.NewRequest(&tollgatev1.GetPluginRequest{Ref: ref}))
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", ref, err)
	}
	p := res.Msg.GetPlugin()
	var m registry.Manifest
	if err := json.Unmarshal([]byte(p.GetManifestJson()), &m); err != nil {
		return nil, fmt.Errorf("plugin %s: manifest: %w", ref, err)
	}
	sig, err := hexutil.Decode(p.GetSignature())
	if err != nil {
		return nil, fmt.Errorf("plugin %s: signature: %w", ref, err)
	}
	// The manifest is the one its publisher signed for this deployment, and
	// the version the receipt names.
	if m.Ref() != ref {
		return nil, abi.Errorf(abi.CodeHashMismatch, "asked for plugin %s, the node sent %s", ref, m.Ref())
	}
	if signer, err := registry.Recover(d.domain.ManifestDigest(m), sig); err != nil || signer != m.Publisher {
		return nil, &abi.Error{Code: abi.CodeBadSignature, Message: fmt.Sprintf("plugin %s: the manifest is not signed by its publisher %s (%v)", ref, m.Publisher, err), Cause: err}
	}
	if m.Kind == abi.KindModel {
		return &registry.Plugin{Manifest: m, Signature: sig, Yanked: p.GetYanked()}, nil // a model has no module
	}
	wasm, err := d.plugins.GetPluginWasm(ctx, connect.NewRequest(&tollgatev1.GetPluginWasmRequest{Sha256: m.WasmSHA256}))
	if err != nil {
		return nil, fmt.Errorf("plugin %s: module: %w", ref, err)
	}
	if got := sha256Hex(wasm.Msg.GetWasm()); got != m.WasmSHA256 {
		return nil, abi.Errorf(abi.CodeHashMismatch, "plugin %s: the node sent a module hashing to %s, not %s", ref, got, m.WasmSHA256)
	}
	return &registry.Plugin{Manifest: m, Signature: sig, Yanked: p.GetYanked(), Wasm: wasm.Msg.GetWasm()}, nil
}

func (d *RemoteData) Datanet(ctx context.Context, name string) (*registry.Datanet, error) {
	return d.scratch.Datanet(ctx, name)
}

func (d *RemoteData) At(versions map[string]uint64) runtime.DataSource { return d.scratch.At(versions) }

func (d *RemoteData) VersionRoot(ctx context.Context, datanet string, version uint64) (string, error) {
	return d.scratch.VersionRoot(ctx, datanet, version)
}

func (d *RemoteData) RecordsAt(ctx context.Context, datanet string, at, after uint64, limit int) ([]registry.Record, uint64, error) {
	return d.scratch.RecordsAt(ctx, datanet, at, after, limit)
}

// RemoteChain reads what the settlement contract holds as the node reports
// it. A verifier that can reach an EVM node reads the contract itself
// (chain.Attach) and needs no trust in the node for this part.
type RemoteChain struct{ Data *RemoteData }

func (c RemoteChain) OperatorAt(ctx context.Context, epoch uint64) (string, error) {
	e, err := c.Data.epoch(ctx, epoch)
	if err != nil {
		return "", err
	}
	if e.GetOperator() == "" {
		return "", abi.Errorf(abi.CodeUnavailable, "the node reports no operator for epoch %d: it cannot read its chain", epoch)
	}
	return e.GetOperator(), nil
}

func (c RemoteChain) RootOf(ctx context.Context, epoch uint64) (root, bundle string, found bool, err error) {
	e, err := c.Data.epoch(ctx, epoch)
	if err != nil {
		return "", "", false, err
	}
	return e.GetOnChainRoot(), e.GetOnChainBundle(), e.GetOnChainRoot() != "", nil
}
