package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/abi"
	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/grant"
	"github.com/tollgate-dev/tollgate/registry"
)

// modelCommand publishes, lists, shows and yanks models: registry entries
// without a module, whose manifest pins the datanets they were built from.
func modelCommand(a *app) *cobra.Command {
	pc := pluginCmds{a}
	g := group("model", "Publish, list, show and yank models on a running node",
		`A model is published like a plugin, signed by its publisher's key, but has no
module: its manifest names the backend it runs on, its prices per 1,000
input and output tokens, and the datanets it was built from, each pinned at
a version and its root. Agents granted a model (plugin publish --models)
call it; every generated token pays the records it came from.`,
		"  tollgate model publish --key KEY --name you/tiny --version 1.0.0 --training you/facts --price-out 0.01\n  tollgate model list",
		modelPublish(a), modelList(a), pc.showModel(), pc.yankAs("model"))
	a.serverFlags(g, true)
	return g
}

func modelPublish(a *app) *cobra.Command {
	pc := pluginCmds{a}
	publish := &cobra.Command{
		Use:   "publish --key KEY --name OWNER/NAME --version X.Y.Z --training DATANET[@VERSION],...",
		Short: "Publish a model over datanets, with a manifest signed by your key",
		Long: `Publish OWNER/NAME@VERSION, a model built from the --training datanets, each
at the version given or, without one, at its current version; the node's
root for that version is pinned in the manifest, so anyone can see exactly
what data the model was built from. The datanets' owners must admit the
model (their read policy applies to models as to agents).

The embedded backend (infgram) is an ∞-gram model over the training records:
it installs nothing, re-runs bit for bit, and pays each record for exactly
the tokens it made. The openai backend runs the model on an OpenAI-compatible
server the node's operator configured (serve --model-server): its token counts
are the server's, and its output pays the training records it reproduces
verbatim.`,
		Example: `  tollgate model publish --key key.json --name you/tiny --version 1.0.0 --training you/facts --price-in 0.001 --price-out 0.01
  tollgate model publish --key key.json --name you/tiny --version 1.1.0 --training you/facts@120,you/faq --max-tokens 256
  tollgate model publish --key key.json --name you/llama --version 1.0.0 --training you/facts --backend openai --model-server local --remote llama3.2`,
		Args: nArgs(0, 0),
	}
	fs := publish.Flags()
	name := fs.String("name", "", "model name, owner/name (required)")
	version := fs.String("version", "", "semantic version (required)")
	training := fs.String("training", "", "datanets the model is built from, DATANET[@VERSION] comma-separated (required)")
	backend := fs.String("backend", registry.BackendInfgram, "backend: infgram (embedded) or openai (a server the node's operator configured)")
	server := fs.String("model-server", "", "openai backend: the node's model server to run on (serve --model-server NAME=URL)")
	remote := fs.String("remote", "", "openai backend: the model's name on that server")
	priceIn := fs.String("price-in", "0", "price per 1,000 prompt tokens in TGT (1.5) or base units (1500wei)")
	priceOut := fs.String("price-out", "0", "price per 1,000 generated tokens in TGT or base units")
	maxTokens := fs.Int("max-tokens", 0, fmt.Sprintf("most tokens one call generates (0: %d)", registry.MaxModelTokens))
	a.keyFlags(publish, false, "publisher's key")
	a.jsonFlag(publish)
	publish.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if *name == "" || *version == "" || *training == "" {
			return usageErr("model publish: give --name owner/name, --version X.Y.Z and --training DATANET (see tollgate model publish --help)")
		}
		tokenizer := registry.TokenizerInfgram
		switch {
		case *backend == registry.BackendOpenAI && (*server == "" || *remote == ""):
			return usageErr("model publish: --backend openai needs --model-server and --remote")
		case *backend == registry.BackendOpenAI:
			tokenizer = registry.TokenizerServer
		case *backend != registry.BackendInfgram:
			return usageErr(fmt.Sprintf("model publish: --backend %q: want infgram or openai", *backend))
		case *server != "" || *remote != "":
			return usageErr("model publish: --model-server and --remote are for --backend openai")
		}
		pin, err := parsePrice(*priceIn)
		if err != nil {
			return usageErr("model publish: --price-in: " + err.Error())
		}
		pout, err := parsePrice(*priceOut)
		if err != nil {
			return usageErr("model publish: --price-out: " + err.Error())
		}
		key, err := a.loadKey()
		if err != nil {
			return err
		}
		spec := &registry.ModelSpec{Backend: *backend, Server: *server, Remote: *remote, Tokenizer: tokenizer, PriceIn: pin.String(), PriceOut: pout.String(), MaxTokens: *maxTokens}
		dn := tollgatev1connect.NewDatanetServiceClient(http.DefaultClient, a.server)
		for _, t := range splitList(*training) {
			datanet, at, _ := strings.Cut(t, "@")
			var v uint64
			if at != "" {
				if v, err = strconv.ParseUint(at, 10, 64); err != nil || v == 0 {
					return usageErr(fmt.Sprintf("model publish: --training %s: want DATANET@VERSION with a version from 1", t))
				}
			}
			res, err := dn.GetVersion(ctx, connect.NewRequest(&tollgatev1.GetVersionRequest{Datanet: datanet, Version: v}))
			if err != nil {
				return fmt.Errorf("training datanet %s: %w", datanet, err)
			}
			spec.Training = append(spec.Training, registry.TrainingData{Datanet: datanet, Version: res.Msg.GetVersion(), Root: res.Msg.GetRoot()})
		}
		m := registry.Manifest{Name: *name, Version: *version, Kind: abi.KindModel, Publisher: registry.Address(key), Model: spec}
		if err := m.Validate(); err != nil {
			return usageErr("model publish: " + err.Error())
		}
		p, err := pc.send(ctx, key, m, nil)
		if err != nil {
			return err
		}
		return pc.showOne(p)
	}
	return publish
}

func modelList(a *app) *cobra.Command {
	pc := pluginCmds{a}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the models on a node",
		Example: "  tollgate model list\n  tollgate model list --json",
		Args:    nArgs(0, 0),
	}
	a.jsonFlag(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		all, err := pc.all(cmd, abi.KindModel)
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, &tollgatev1.ListPluginsResponse{Plugins: all})
		}
		tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "MODEL\tSTATE\tBACKEND\tPER 1K IN\tPER 1K OUT\tTRAINED ON\tPUBLISHER")
		for _, p := range all {
			state := "published"
			if p.GetYanked() {
				state = "yanked"
			}
			var m registry.Manifest
			json.Unmarshal([]byte(p.GetManifestJson()), &m)
			if m.Model == nil {
				continue
			}
			pin, pout := m.Model.Prices()
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.GetRef(), state, m.Model.Backend, tgt(pin), tgt(pout), trainingText(m.Model), p.GetPublisher())
		}
		return tw.Flush()
	}
	return list
}

// all lists every entry of a kind ("" for all).
func (pc pluginCmds) all(cmd *cobra.Command, kind string) ([]*tollgatev1.Plugin, error) {
	var all []*tollgatev1.Plugin
	for page := ""; ; {
		res, err := pc.reg().ListPlugins(cmd.Context(), connect.NewRequest(&tollgatev1.ListPluginsRequest{PageToken: page}))
		if err != nil {
			return nil, err
		}
		for _, p := range res.Msg.GetPlugins() {
			if kind == "" || p.GetKind() == kind {
				all = append(all, p)
			}
		}
		if page = res.Msg.GetNextPageToken(); page == "" {
			return all, nil
		}
	}
}

func trainingText(s *registry.ModelSpec) string {
	parts := make([]string, len(s.Training))
	for i, t := range s.Training {
		parts[i] = fmt.Sprintf("%s@%d", t.Datanet, t.Version)
	}
	return strings.Join(parts, ", ")
}

// showModel prints a model for people.
func showModel(out io.Writer, p *tollgatev1.Plugin) {
	var m registry.Manifest
	json.Unmarshal([]byte(p.GetManifestJson()), &m)
	fmt.Fprintf(out, "%s  published by %s at %s\n", p.GetRef(), p.GetPublisher(), time.Unix(p.GetPublished(), 0).UTC().Format(time.RFC3339))
	if m.Model == nil {
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	state := "published: takes calls"
	if p.GetYanked() {
		state = "yanked: takes no new calls"
	}
	pin, pout := m.Model.Prices()
	fmt.Fprintf(tw, "  state\t%s\n", state)
	fmt.Fprintf(tw, "  backend\t%s (tokenizer %s)\n", m.Model.Backend, m.Model.Tokenizer)
	fmt.Fprintf(tw, "  price\t%s per 1,000 prompt tokens, %s per 1,000 generated\n", tgt(pin), tgt(pout))
	fmt.Fprintf(tw, "  max tokens\t%d a call\n", m.Model.TokenCap())
	for i, t := range m.Model.Training {
		label := ""
		if i == 0 {
			label = "trained on"
		}
		fmt.Fprintf(tw, "  %s\t%s at version %d, root %s\n", label, t.Datanet, t.Version, t.Root)
	}
	fmt.Fprintf(tw, "  manifest\tsha256 %s\n", m.Hash())
	tw.Flush()
}

func (pc pluginCmds) showModel() *cobra.Command {
	a := pc.a
	showCmd := &cobra.Command{
		Use:     "show NAME[@VERSION]",
		Short:   "Show a model: backend, prices, training data at its pinned versions",
		Example: "  tollgate model show you/tiny\n  tollgate model show you/tiny@1.0.0 --json",
		Args:    nArgs(1, 1),
	}
	a.jsonFlag(showCmd)
	showCmd.RunE = func(cmd *cobra.Command, args []string) error {
		res, err := pc.reg().GetPlugin(cmd.Context(), connect.NewRequest(&tollgatev1.GetPluginRequest{Ref: withVersion(args[0])}))
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, res.Msg.GetPlugin())
		}
		showModel(a.out, res.Msg.GetPlugin())
		return nil
	}
	return showCmd
}

// parseModelGrants parses --models: name@version:max_tokens, comma-separated.
func parseModelGrants(s string) (grant.Models, error) {
	var out grant.Models
	for _, part := range splitList(s) {
		ref, n, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%q: want name@version:max_tokens", part)
		}
		max, err := strconv.Atoi(n)
		if err != nil || max <= 0 {
			return nil, fmt.Errorf("%q: max_tokens %q is not a positive number", part, n)
		}
		out = append(out, grant.Model{Model: ref, MaxTokens: max})
	}
	return out, nil
}
