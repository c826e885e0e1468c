package main

import (
	"context"
	"crypto/ecdsa"
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
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/abi"
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

func (c configFlag) Type() string { return "key=value" }

// showPlugin prints a plugin for people: the signed manifest's price,
// datanets and attribution, its publisher and publication, and whether it
// is yanked.
func showPlugin(out io.Writer, p *tollgatev1.Plugin) {
	var m registry.Manifest
	json.Unmarshal([]byte(p.GetManifestJson()), &m)
	fmt.Fprintf(out, "%s  published by %s at %s\n", p.GetRef(), p.GetPublisher(), time.Unix(p.GetPublished(), 0).UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	state := "published: takes invocations"
	if p.GetYanked() {
		state = "yanked: takes no new invocations"
		if at := p.GetYankedAt(); at > 0 {
			state = "yanked at " + time.Unix(at, 0).UTC().Format(time.RFC3339) + ": takes no new invocations"
		}
	}
	fmt.Fprintf(tw, "  state\t%s\n", state)
	if m.Kind != "" {
		fmt.Fprintf(tw, "  kind\t%s\n", m.Kind)
	}
	fmt.Fprintf(tw, "  price\t%s a call, plus its record reads\n", tgt(m.PriceAmount()))
	ds := "none"
	if len(m.Datanets) > 0 {
		ds = strings.Join(m.Datanets, ", ")
	}
	fmt.Fprintf(tw, "  datanets\t%s\n", ds)
	for i, g := range m.Models {
		label := ""
		if i == 0 {
			label = "models"
		}
		fmt.Fprintf(tw, "  %s\t%s, up to %d tokens a call\n", label, g.Model, g.MaxTokens)
	}
	if m.Kind != "attribution" {
		fmt.Fprintf(tw, "  attribution\t%s\n", m.AttributionRef())
	}
	fmt.Fprintf(tw, "  module\tsha256 %s\n", p.GetWasmSha256())
	tw.Flush()
}

// pluginCmds builds the plugin subcommands, each a small constructor
// sharing the registry client and the printer.
type pluginCmds struct{ a *app }

func (pc pluginCmds) reg() tollgatev1connect.RegistryServiceClient {
	return tollgatev1connect.NewRegistryServiceClient(http.DefaultClient, pc.a.server)
}

// showOne prints a plugin or a model as JSON under --json, else for
// people.
func (pc pluginCmds) showOne(p *tollgatev1.Plugin) error {
	switch {
	case pc.a.asJSON:
		return printJSON(pc.a.out, p)
	case p.GetKind() == abi.KindModel:
		showModel(pc.a.out, p)
	default:
		showPlugin(pc.a.out, p)
	}
	return nil
}

func pluginCommand(a *app) *cobra.Command {
	pc := pluginCmds{a}
	g := group("plugin", "Publish, list, show and yank plugins on a running node",
		"Manifests and yanks are signed locally with the publisher's key, for the node's\ndeployment; the node never holds that key.",
		"  tollgate plugin list\n  tollgate plugin show examples/qa",
		pc.publish(), pc.list(), pc.show(), pc.yankAs("plugin"))
	a.serverFlags(g, true)
	return g
}

func (pc pluginCmds) publish() *cobra.Command {
	a := pc.a
	publish := &cobra.Command{
		Use:   "publish --key KEY --name OWNER/NAME --version X.Y.Z MODULE.wasm",
		Short: "Publish a WebAssembly plugin with a manifest signed by your key",
		Long: `Publish MODULE.wasm as OWNER/NAME@VERSION. The manifest (price per call,
datanets read, attribution, export, config) is signed locally with --key for
the node's deployment; the node never holds the key. Without a token for
the server, the key signs in first and the token is kept.`,
		Example: `  tollgate plugin publish --key 0x5B38… --name you/qa --version 1.0.0 --price 0.001 --datanets you/facts qa.wasm
  tollgate plugin publish qa.wasm --key key.json --name you/qa --version 1.0.1 --plugin-config greeting=hi`,
		Args: nArgs(1, 1),
	}
	fs := publish.Flags()
	name := fs.String("name", "", "plugin name, owner/name (required)")
	version := fs.String("version", "", "semantic version (required)")
	kind := fs.String("kind", "agent", "agent or attribution")
	price := fs.String("price", "0", "price per call in TGT (1.5) or base units (1500wei)")
	datanets := fs.String("datanets", "", "datanets the agent reads, comma-separated")
	attr := fs.String("attribution", "", "attribution plugin name@version (default: the node's)")
	export := fs.String("export", "", "the function to call (default: invoke for agents, attribute for attribution plugins)")
	methods := fs.String("methods", "", "attribution plugins: the methods it answers, a,b (default: its name)")
	models := fs.String("models", "", "models the agent may call, name@version:max_tokens comma-separated")
	config := configFlag{}
	fs.Var(config, "plugin-config", "Extism config the plugin reads with config_get, key=value (repeat for more)")
	a.keyFlags(publish, false, "publisher's key")
	a.jsonFlag(publish)
	publish.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if *name == "" || *version == "" {
			return usageErr("plugin publish: give --name owner/name and --version X.Y.Z (see tollgate plugin publish --help)")
		}
		wasm, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		key, err := a.loadKey()
		if err != nil {
			return err
		}
		amount, err := parsePrice(*price)
		if err != nil {
			return usageErr("plugin publish: --price: " + err.Error())
		}
		sum := sha256.Sum256(wasm)
		m := registry.Manifest{Name: *name, Version: *version, Kind: *kind, Price: amount.String(), Attribution: *attr,
			WasmSHA256: hex.EncodeToString(sum[:]), Publisher: registry.Address(key), Export: *export}
		if len(config) > 0 {
			m.Config = config
		}
		if *datanets != "" {
			m.Datanets = splitList(*datanets)
		}
		if *methods != "" {
			m.Methods = splitList(*methods)
		}
		if *models != "" {
			if m.Models, err = parseModelGrants(*models); err != nil {
				return usageErr("plugin publish: --models: " + err.Error())
			}
		}
		p, err := pc.send(ctx, key, m, wasm)
		if err != nil {
			return err
		}
		return pc.showOne(p)
	}
	return publish
}

// send signs m with key for the node's deployment and publishes it with
// its module (none for a model), signing in with key if need be.
func (pc pluginCmds) send(ctx context.Context, key *ecdsa.PrivateKey, m registry.Manifest, wasm []byte) (*tollgatev1.Plugin, error) {
	a := pc.a
	d, err := nodeDomain(ctx, a.server)
	if err != nil {
		return nil, err
	}
	sig, err := registry.Sign(key, d.ManifestDigest(m))
	if err != nil {
		return nil, err
	}
	mj, _ := json.Marshal(m)
	var res *connect.Response[tollgatev1.PublishPluginResponse]
	err = a.withSignedToken(ctx, key, func(tok string) error {
		req := connect.NewRequest(&tollgatev1.PublishPluginRequest{ManifestJson: string(mj), Signature: hexutil.Encode(sig), Wasm: wasm})
		bearer(req, tok)
		res, err = pc.reg().PublishPlugin(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res.Msg.GetPlugin(), nil
}

func (pc pluginCmds) show() *cobra.Command {
	a := pc.a
	showCmd := &cobra.Command{
		Use:   "show NAME[@VERSION]",
		Short: "Show a plugin (or model): price per call, datanets, publisher, published and yanked",
		Example: `  tollgate plugin show examples/qa
  tollgate plugin show examples/qa@1.0.0 --json`,
		Args: nArgs(1, 1),
	}
	a.jsonFlag(showCmd)
	showCmd.RunE = func(cmd *cobra.Command, args []string) error {
		res, err := pc.reg().GetPlugin(cmd.Context(), connect.NewRequest(&tollgatev1.GetPluginRequest{Ref: withVersion(args[0])}))
		if err != nil {
			return err
		}
		return pc.showOne(res.Msg.GetPlugin())
	}
	return showCmd
}

func (pc pluginCmds) list() *cobra.Command {
	a := pc.a
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the plugins on a node",
		Example: "  tollgate plugin list\n  tollgate plugin list --json",
		Args:    nArgs(0, 0),
	}
	a.jsonFlag(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		all, err := pc.all(cmd, "")
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, &tollgatev1.ListPluginsResponse{Plugins: all})
		}
		tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PLUGIN\tSTATE\tPRICE\tPUBLISHED\tPUBLISHER")
		for _, p := range all {
			state := "published"
			if p.GetYanked() {
				state = "yanked"
			}
			var m registry.Manifest
			json.Unmarshal([]byte(p.GetManifestJson()), &m)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.GetRef(), state, tgt(m.PriceAmount()), time.Unix(p.GetPublished(), 0).UTC().Format(time.RFC3339), p.GetPublisher())
		}
		return tw.Flush()
	}
	return list
}

// yankAs is the yank command of plugins and of models (what says which
// in its help).
func (pc pluginCmds) yankAs(what string) *cobra.Command {
	a := pc.a
	yank := &cobra.Command{
		Use:   "yank --key KEY NAME@VERSION",
		Short: "Yank a published version: it takes no new calls",
		Long: `Yank NAME@VERSION, signed with the publisher's, the name owner's or the
operator's key. Receipts of past calls stay verifiable; NAME@latest moves to
the newest version not yanked.`,
		Example: "  tollgate " + what + " yank --key 0x5B38… you/" + map[string]string{"plugin": "qa", "model": "tiny"}[what] + "@1.0.0",
		Args:    nArgs(1, 1),
	}
	a.keyFlags(yank, false, "publisher's, owner's or operator's key")
	a.jsonFlag(yank)
	yank.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		n, v, err := registry.ParseRef(args[0])
		if err != nil {
			return usageErr(what + " yank: " + err.Error())
		}
		key, err := a.loadKey()
		if err != nil {
			return err
		}
		d, err := nodeDomain(ctx, a.server)
		if err != nil {
			return err
		}
		sig, err := registry.Sign(key, d.YankDigest(n, v))
		if err != nil {
			return err
		}
		err = a.withSignedToken(ctx, key, func(tok string) error {
			req := connect.NewRequest(&tollgatev1.YankPluginRequest{Ref: args[0], Signature: hexutil.Encode(sig)})
			bearer(req, tok)
			_, err := pc.reg().YankPlugin(ctx, req)
			return err
		})
		if err != nil {
			return err
		}
		if a.asJSON {
			return printValue(a.out, map[string]any{"ref": args[0], "yanked": true})
		}
		fmt.Fprintf(a.out, "yanked %s\n", args[0])
		return nil
	}
	return yank
}
