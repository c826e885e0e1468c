package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/registry"
)

// pluginCmd publishes, lists, shows and yanks plugins on a running node.
// Manifests and yanks are signed locally with the publisher's key, for the
// node's deployment; the node never holds that key.
// configFlag collects repeated key=value flags.
type configFlag map[string]string

func (c configFlag) String() string { return "" }

func (c configFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	c[k] = val
	return nil
}

func pluginCmd(ctx context.Context, args []string, out io.Writer) error {
	const use = "usage: tollgate plugin publish|list|show|yank [flags]"
	sub, err := subcommand(args, use)
	if err != nil {
		return err
	}
	fs := newFlags("plugin " + sub)
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "API token (default: the one tollgate login saved)")
	keyFile := fs.String("key", "", "publisher's key (keystore v3, or hex)")
	passFile := fs.String("passphrase-file", "", "file holding the key's passphrase")
	name := fs.String("name", "", "plugin name, owner/name")
	version := fs.String("version", "", "semantic version")
	kind := fs.String("kind", "agent", "agent or attribution")
	price := fs.String("price", "0", "price per call in tokens (1.5) or base units (1500wei)")
	datanets := fs.String("datanets", "", "datanets the agent reads, comma-separated")
	attr := fs.String("attribution", "", "attribution plugin name@version (default: the node's)")
	export := fs.String("export", "", "the function to call (default: invoke for agents, attribute for attribution plugins)")
	methods := fs.String("methods", "", "attribution plugins: the methods it answers, a,b (default: its name)")
	config := configFlag{}
	fs.Var(config, "plugin-config", "Extism config the plugin reads with config_get, key=value (repeat for more)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	reg := tollgatev1connect.NewRegistryServiceClient(http.DefaultClient, *server)
	show := func(p *tollgatev1.Plugin) error {
		if *asJSON {
			return json.NewEncoder(out).Encode(p)
		}
		state := "published"
		if p.GetYanked() {
			state = "yanked"
		}
		fmt.Fprintf(out, "%s  %s by %s at %s, module sha256 %s\n", p.GetRef(), state, p.GetPublisher(), time.Unix(p.GetPublished(), 0).UTC().Format(time.RFC3339), p.GetWasmSha256())
		return nil
	}
	switch sub {
	case "publish":
		if fs.NArg() != 1 || *keyFile == "" || *name == "" || *version == "" {
			return usageErr("usage: tollgate plugin publish --key FILE --name owner/name --version 1.0.0 [--kind agent] [--price 0.01] [--datanets a,b] [--methods m/v1] module.wasm")
		}
		wasm, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		key, err := loadKey(*keyFile, *passFile)
		if err != nil {
			return err
		}
		amount, err := parsePrice(*price)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(wasm)
		m := registry.Manifest{Name: *name, Version: *version, Kind: *kind, Price: amount.String(), Attribution: *attr,
			WasmSHA256: hex.EncodeToString(sum[:]), Publisher: registry.Address(key), Export: *export}
		if len(config) > 0 {
			m.Config = config
		}
		if *datanets != "" {
			m.Datanets = strings.Split(*datanets, ",")
		}
		if *methods != "" {
			m.Methods = strings.Split(*methods, ",")
		}
		d, err := nodeDomain(ctx, *server)
		if err != nil {
			return err
		}
		sig, err := registry.Sign(key, d.ManifestDigest(m))
		if err != nil {
			return err
		}
		mj, _ := json.Marshal(m)
		req := connect.NewRequest(&tollgatev1.PublishPluginRequest{ManifestJson: string(mj), Signature: hexutil.Encode(sig), Wasm: wasm})
		withLogin(req, *server, *token)
		res, err := reg.PublishPlugin(ctx, req)
		if err != nil {
			return err
		}
		return show(res.Msg.GetPlugin())
	case "show":
		if fs.NArg() != 1 {
			return usageErr("usage: tollgate plugin show name@version")
		}
		res, err := reg.GetPlugin(ctx, connect.NewRequest(&tollgatev1.GetPluginRequest{Ref: fs.Arg(0)}))
		if err != nil {
			return err
		}
		return show(res.Msg.GetPlugin())
	case "list":
		var all []*tollgatev1.Plugin
		for page := ""; ; {
			res, err := reg.ListPlugins(ctx, connect.NewRequest(&tollgatev1.ListPluginsRequest{PageToken: page}))
			if err != nil {
				return err
			}
			all = append(all, res.Msg.GetPlugins()...)
			if page = res.Msg.GetNextPageToken(); page == "" {
				break
			}
		}
		if *asJSON {
			return json.NewEncoder(out).Encode(all)
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PLUGIN\tSTATE\tPUBLISHER")
		for _, p := range all {
			state := "published"
			if p.GetYanked() {
				state = "yanked"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.GetRef(), state, p.GetPublisher())
		}
		return tw.Flush()
	case "yank":
		if fs.NArg() != 1 || *keyFile == "" {
			return usageErr("usage: tollgate plugin yank --key FILE name@version")
		}
		n, v, err := registry.ParseRef(fs.Arg(0))
		if err != nil {
			return err
		}
		key, err := loadKey(*keyFile, *passFile)
		if err != nil {
			return err
		}
		d, err := nodeDomain(ctx, *server)
		if err != nil {
			return err
		}
		sig, err := registry.Sign(key, d.YankDigest(n, v))
		if err != nil {
			return err
		}
		req := connect.NewRequest(&tollgatev1.YankPluginRequest{Ref: fs.Arg(0), Signature: hexutil.Encode(sig)})
		withLogin(req, *server, *token)
		if _, err := reg.YankPlugin(ctx, req); err != nil {
			return err
		}
		fmt.Fprintf(out, "yanked %s\n", fs.Arg(0))
		return nil
	}
	return usageErr(use)
}
