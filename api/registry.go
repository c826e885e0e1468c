package api

import (
	"context"
	"encoding/json"
	"strings"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/registry"
)

func pluginProto(p *registry.Plugin) *tollgatev1.Plugin {
	mj, _ := json.Marshal(p.Manifest)
	out := &tollgatev1.Plugin{
		Ref: p.Manifest.Ref(), ManifestJson: string(mj), Signature: hexutil.Encode(p.Signature), Yanked: p.Yanked,
		Published: p.Published.Unix(), WasmSha256: p.Manifest.WasmSHA256, Publisher: p.Manifest.Publisher,
		Kind: p.Manifest.Kind, Price: p.Manifest.Price, Datanets: p.Manifest.Datanets,
	}
	if out.Price == "" {
		out.Price = "0"
	}
	if !p.YankedAt.IsZero() {
		out.YankedAt = p.YankedAt.Unix()
	}
	return out
}

func (a *api) PublishPlugin(ctx context.Context, req *connect.Request[tollgatev1.PublishPluginRequest]) (*connect.Response[tollgatev1.PublishPluginResponse], error) {
	if _, err := a.principal(ctx, req.Header()); err != nil {
		return nil, err
	}
	var m registry.Manifest
	dec := json.NewDecoder(strings.NewReader(req.Msg.GetManifestJson()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, abi.Errorf(abi.CodeBadRequest, "manifest_json is not a manifest")
	}
	sig, err := hexutil.Decode(req.Msg.GetSignature())
	if err != nil {
		return nil, abi.Errorf(abi.CodeBadSignature, "signature is not 0x-hex")
	}
	p, err := a.h.PublishSigned(ctx, m, sig, req.Msg.GetWasm())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.PublishPluginResponse{Plugin: pluginProto(p)}), nil
}

func (a *api) GetPlugin(ctx context.Context, req *connect.Request[tollgatev1.GetPluginRequest]) (*connect.Response[tollgatev1.GetPluginResponse], error) {
	p, err := a.reg.Load(ctx, req.Msg.GetRef())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.GetPluginResponse{Plugin: pluginProto(p)}), nil
}

func (a *api) ListPlugins(ctx context.Context, req *connect.Request[tollgatev1.ListPluginsRequest]) (*connect.Response[tollgatev1.ListPluginsResponse], error) {
	size := int(req.Msg.GetPageSize())
	if size == 0 {
		size = 100
	}
	ps, err := a.reg.Plugins(ctx, req.Msg.GetPageToken(), min(size, 1000))
	if err != nil {
		return nil, err
	}
	out := &tollgatev1.ListPluginsResponse{}
	for _, p := range ps {
		out.Plugins = append(out.Plugins, pluginProto(p))
	}
	if len(ps) == min(size, 1000) {
		out.NextPageToken = ps[len(ps)-1].Manifest.Ref()
	}
	return connect.NewResponse(out), nil
}

func (a *api) GetPluginWasm(ctx context.Context, req *connect.Request[tollgatev1.GetPluginWasmRequest]) (*connect.Response[tollgatev1.GetPluginWasmResponse], error) {
	b, err := a.reg.Module(ctx, req.Msg.GetSha256())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.GetPluginWasmResponse{Wasm: b}), nil
}

func (a *api) YankPlugin(ctx context.Context, req *connect.Request[tollgatev1.YankPluginRequest]) (*connect.Response[tollgatev1.YankPluginResponse], error) {
	if _, err := a.principal(ctx, req.Header()); err != nil {
		return nil, err
	}
	sig, err := hexutil.Decode(req.Msg.GetSignature())
	if err != nil {
		return nil, abi.Errorf(abi.CodeBadSignature, "signature is not 0x-hex")
	}
	if err := a.reg.Yank(ctx, req.Msg.GetRef(), sig); err != nil {
		return nil, err
	}
	return connect.NewResponse(&tollgatev1.YankPluginResponse{}), nil
}
