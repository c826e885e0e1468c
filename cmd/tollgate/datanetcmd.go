package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/internal/protoconv"
	"github.com/tollgate-dev/tollgate/registry"
)

// policyFlags are the flags of a datanet's policy, which create and
// policy take; policy changes only the rules given and keeps the others.
type policyFlags struct {
	fs                                                            *pflag.FlagSet
	access, agents, minPrice, write, writers, attribution, models *string
	quota, quotaBytes                                             *uint64
}

func addPolicyFlags(fs *pflag.FlagSet) *policyFlags {
	return &policyFlags{fs: fs,
		access:      fs.String("access", "open", "which agents may read: open, allowlist or tier"),
		agents:      fs.String("agents", "", "comma-separated agent names an allowlist admits"),
		minPrice:    fs.String("min-agent-price", "", "for tier, the least an agent may charge per call, in TGT"),
		write:       fs.String("write", registry.WriteOwner, "who may add records: owner, allowlist or open"),
		writers:     fs.String("writers", "", "comma-separated addresses an allowlist admits besides the owner"),
		quota:       fs.Uint64("quota", 0, "for open, the records each contributor but the owner may add (0: no bound)"),
		quotaBytes:  fs.Uint64("quota-bytes", 0, "for open, the bytes each contributor but the owner may add (0: no bound)"),
		attribution: fs.String("attribution", "", "comma-separated attribution plugin names that may read the datanet (default: the built-ins)"),
		models:      fs.String("models", "", "comma-separated model names that may be built from the datanet, or * for any (default: none)"),
	}
}

// apply sets in p the policy rules given as flags; create gives it an
// empty policy and all, so the flags' defaults apply.
func (f *policyFlags) apply(p *registry.Policy, all bool) error {
	given := f.fs.Changed
	if all || given("access") {
		p.Access = *f.access
	}
	if all || given("agents") {
		p.Agents = splitList(*f.agents)
	}
	if all || given("min-agent-price") {
		p.MinAgentPrice = ""
		if *f.minPrice != "" {
			v, err := parsePrice(*f.minPrice)
			if err != nil {
				return usageErr("--min-agent-price: " + err.Error())
			}
			p.MinAgentPrice = v.String()
		}
	}
	if all || given("write") {
		p.Write = *f.write
	}
	if all || given("writers") {
		p.Writers = nil
		for _, w := range splitList(*f.writers) {
			a, err := registry.CanonicalAddress(w)
			if err != nil {
				return usageErr(fmt.Sprintf("--writers: %v", err))
			}
			p.Writers = append(p.Writers, a)
		}
	}
	if all || given("quota") {
		p.WriterQuota = *f.quota
	}
	if all || given("quota-bytes") {
		p.WriterQuotaBytes = *f.quotaBytes
	}
	if all || given("attribution") {
		p.Attribution = splitList(*f.attribution)
	}
	if all || given("models") {
		p.Models = splitList(*f.models)
	}
	// Writers and quotas belong to their write rule: a new rule drops
	// those of the old one unless they are given again.
	if p.WriteRule() != registry.WriteAllowList && !given("writers") {
		p.Writers = nil
	}
	if p.WriteRule() != registry.WriteOpen && !given("quota") && !given("quota-bytes") {
		p.WriterQuota, p.WriterQuotaBytes = 0, 0
	}
	return nil
}

// addResult is what datanet add prints.
type addResult struct {
	Added      uint32 `json:"added"`
	Duplicates uint32 `json:"duplicates"`
	Version    uint64 `json:"version"`
}

// datanetCmds builds the datanet subcommands, each a small constructor
// sharing the node's client and the printer.
type datanetCmds struct{ a *app }

func (dc datanetCmds) svc() tollgatev1connect.DatanetServiceClient {
	return tollgatev1connect.NewDatanetServiceClient(http.DefaultClient, dc.a.server)
}

// print prints m under --json, else text.
func (dc datanetCmds) print(m proto.Message, text string) error {
	if dc.a.asJSON {
		return printJSON(dc.a.out, m)
	}
	_, err := fmt.Fprintln(dc.a.out, text)
	return err
}

// datanetCommand creates datanets, adds records and reads them on a
// running node; every write is signed locally with its owner's or
// contributor's key.
func datanetCommand(a *app) *cobra.Command {
	dc := datanetCmds{a}
	g := group("datanet", "Create datanets, add records, show and search them on a running node",
		"Every write is signed locally with its owner's or contributor's key, for the node's\ndeployment; without a token for the server the key signs in first.",
		"  tollgate datanet create --key 0x5B38… you/facts\n  tollgate datanet import you/facts facts.jsonl --key 0x5B38…",
		dc.create(), dc.add(), dc.importRecords(), dc.sign(), dc.policy(), dc.show(), dc.search())
	a.serverFlags(g, true)
	return g
}

func (dc datanetCmds) create() *cobra.Command {
	a := dc.a
	create := &cobra.Command{
		Use:   "create --key KEY NAME",
		Short: "Create a datanet owned by your key, with its price per read and policy",
		Example: `  tollgate datanet create --key 0x5B38… --price 0.001 --description "Science facts" you/facts
  tollgate datanet create you/team --key key.json --write allowlist --writers 0xAb84…,0x4B20…`,
		Args: nArgs(1, 1),
	}
	price := create.Flags().String("price", "0", "price per record read, in TGT (0.001) or base units (1000wei)")
	description := create.Flags().String("description", "", "what the datanet holds")
	createPolicy := addPolicyFlags(create.Flags())
	a.keyFlags(create, false, "owner's key")
	a.jsonFlag(create)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, name := cmd.Context(), args[0]
		amount, err := parsePrice(*price)
		if err != nil {
			return usageErr("datanet create: --price: " + err.Error())
		}
		key, err := a.loadKey()
		if err != nil {
			return err
		}
		dn := registry.Datanet{Name: name, Owner: registry.Address(key), Description: *description, PricePerRead: amount.String()}
		if err := createPolicy.apply(&dn.Policy, true); err != nil {
			return err
		}
		d, err := nodeDomain(ctx, a.server)
		if err != nil {
			return err
		}
		sig, err := registry.Sign(key, d.DatanetDigest(dn))
		if err != nil {
			return err
		}
		var res *connect.Response[tollgatev1.CreateDatanetResponse]
		err = a.withSignedToken(ctx, key, func(tok string) error {
			req := connect.NewRequest(&tollgatev1.CreateDatanetRequest{Signature: hexutil.Encode(sig), Datanet: &tollgatev1.Datanet{
				Name: dn.Name, Owner: dn.Owner, Description: dn.Description, PricePerRead: dn.PricePerRead, Policy: policyMsg(dn.Policy)}})
			bearer(req, tok)
			res, err = dc.svc().CreateDatanet(ctx, req)
			return err
		})
		if err != nil {
			return err
		}
		return dc.print(res.Msg.GetDatanet(), fmt.Sprintf("created %s, owned by %s, %s a read, %s", name, dn.Owner, tgt(amount), writeRule(res.Msg.GetDatanet())))
	}
	return create
}

func (dc datanetCmds) add() *cobra.Command {
	a := dc.a
	add := &cobra.Command{
		Use:   "add --key KEY NAME [RECORD…]",
		Short: "Add records, signed by your key as their contributor",
		Long: `Add records given as arguments or in --file (one per line: JSON {"content": …}
or plain text), each signed with --key as its contributor. For large files
use datanet import, which streams and resumes.`,
		Example: `  tollgate datanet add --key 0x5B38… you/facts "Bees dance to say where flowers are."
  tollgate datanet add you/facts --key key.json --file facts.txt --json`,
		Args: nArgs(1, -1),
	}
	file := add.Flags().String("file", "", "a file of records, one per line (JSON {\"content\": …} or plain text)")
	a.keyFlags(add, false, "contributor's key")
	a.jsonFlag(add)
	add.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, name := cmd.Context(), args[0]
		contents := args[1:]
		if *file != "" {
			f, err := os.Open(*file)
			if err != nil {
				return err
			}
			defer f.Close()
			lines := bufio.NewScanner(f)
			lines.Buffer(make([]byte, 1<<20), 1<<20)
			for lines.Scan() {
				line := lines.Text()
				var rec struct{ Content string }
				if json.Unmarshal([]byte(line), &rec) == nil && rec.Content != "" {
					line = rec.Content
				}
				if line != "" {
					contents = append(contents, line)
				}
			}
			if err := lines.Err(); err != nil {
				return err
			}
		}
		if len(contents) == 0 {
			return usageErr("datanet add: give records as arguments or --file")
		}
		key, err := a.loadKey()
		if err != nil {
			return err
		}
		d, err := nodeDomain(ctx, a.server)
		if err != nil {
			return err
		}
		var r addResult
		for start := 0; start < len(contents); start += 1000 {
			batch := contents[start:min(start+1000, len(contents))]
			msg := &tollgatev1.AddRecordsRequest{Datanet: name}
			for _, c := range batch {
				sig, err := registry.Sign(key, d.RecordDigest(name, c))
				if err != nil {
					return err
				}
				msg.Records = append(msg.Records, &tollgatev1.NewRecord{Contributor: registry.Address(key), Content: c, Signature: hexutil.Encode(sig)})
			}
			var res *connect.Response[tollgatev1.AddRecordsResponse]
			err := a.withSignedToken(ctx, key, func(tok string) error {
				req := connect.NewRequest(msg)
				bearer(req, tok)
				var err error
				res, err = dc.svc().AddRecords(ctx, req)
				return err
			})
			if err != nil {
				return fmt.Errorf("datanet add: after %d added: %w", r.Added, err)
			}
			r = addResult{r.Added + res.Msg.GetAdded(), r.Duplicates + res.Msg.GetDuplicates(), res.Msg.GetVersion()}
		}
		if a.asJSON {
			return printValue(a.out, r)
		}
		fmt.Fprintf(a.out, "%s: %d added, %d duplicates, now at version %d\n", name, r.Added, r.Duplicates, r.Version)
		return nil
	}
	return add
}

func (dc datanetCmds) importRecords() *cobra.Command {
	a := dc.a
	importCmd := &cobra.Command{
		Use:   "import NAME FILE.jsonl",
		Short: "Stream a large file of records into a datanet, resumably",
		Long: `Stream FILE.jsonl into the datanet: one record a line, {"content", "contributor",
"signature"} as datanet sign writes them, or plain text / {"content"} lines
signed here with --key. A bar on a terminal counts records, with an ETA.

Interrupted (Ctrl-C), the import closes the stream so that the node keeps
every record sent, and records how far it got in FILE.jsonl.tollgate-import
next to the input; the same command run again skips those records. Records
the datanet already holds are counted as duplicates, never added twice.`,
		Example: `  tollgate datanet import you/facts signed.jsonl
  tollgate datanet import you/facts facts.txt --key 0x5B38… --json`,
		Args: nArgs(2, 2),
	}
	a.keyFlags(importCmd, false, "key signing the lines that carry no signature")
	a.jsonFlag(importCmd)
	importCmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.streamImport(cmd.Context(), dc.svc(), args[0], args[1])
	}
	return importCmd
}

func (dc datanetCmds) sign() *cobra.Command {
	a := dc.a
	sign := &cobra.Command{
		Use:     "sign --key KEY NAME RECORDS.jsonl > SIGNED.jsonl",
		Short:   "Sign records offline for a datanet; anyone can then import the signed file",
		Example: "  tollgate datanet sign --key 0x5B38… you/facts facts.txt > signed.jsonl",
		Args:    nArgs(2, 2),
	}
	a.keyFlags(sign, false, "contributor's key")
	sign.RunE = func(cmd *cobra.Command, args []string) error {
		return signFile(cmd.Context(), a.server, a.keyRef, a.passFile, args[0], args[1], a.out)
	}
	return sign
}

func (dc datanetCmds) policy() *cobra.Command {
	a := dc.a
	policy := &cobra.Command{
		Use:   "policy --key KEY NAME",
		Short: "Change a datanet's read and write policy (owner)",
		Long:  "Change the rules given as flags and keep the others; signed with the owner's key.",
		Example: `  tollgate datanet policy --key 0x5B38… --access allowlist --agents you/qa you/facts
  tollgate datanet policy you/facts --key key.json --write open --quota 100`,
		Args: nArgs(1, 1),
	}
	policyFlagsOf := addPolicyFlags(policy.Flags())
	a.keyFlags(policy, false, "owner's key")
	a.jsonFlag(policy)
	policy.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, name := cmd.Context(), args[0]
		key, err := a.loadKey()
		if err != nil {
			return err
		}
		d, err := nodeDomain(ctx, a.server)
		if err != nil {
			return err
		}
		cur, err := dc.svc().GetDatanet(ctx, connect.NewRequest(&tollgatev1.GetDatanetRequest{Name: name}))
		if err != nil {
			return err
		}
		p := policyFrom(cur.Msg.GetDatanet().GetPolicy())
		if err := policyFlagsOf.apply(&p, false); err != nil {
			return err
		}
		sig, err := registry.Sign(key, d.PolicyDigest(name, cur.Msg.GetDatanet().GetPolicyNonce(), p))
		if err != nil {
			return err
		}
		var res *connect.Response[tollgatev1.SetPolicyResponse]
		err = a.withSignedToken(ctx, key, func(tok string) error {
			req := connect.NewRequest(&tollgatev1.SetPolicyRequest{Datanet: name, Signature: hexutil.Encode(sig), Policy: policyMsg(p)})
			bearer(req, tok)
			res, err = dc.svc().SetPolicy(ctx, req)
			return err
		})
		if err != nil {
			return err
		}
		return dc.print(res.Msg.GetDatanet(), fmt.Sprintf("%s: policy %s %v, %s", name, p.Access, strings.Join(append(p.Agents, p.MinAgentPrice), " "), writeRule(res.Msg.GetDatanet())))
	}
	return policy
}

func (dc datanetCmds) show() *cobra.Command {
	a := dc.a
	show := &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a datanet: owner, price per read, version, root and policy",
		Example: "  tollgate datanet show examples/facts\n  tollgate datanet show examples/facts --json",
		Args:    nArgs(1, 1),
	}
	a.jsonFlag(show)
	show.RunE = func(cmd *cobra.Command, args []string) error {
		res, err := dc.svc().GetDatanet(cmd.Context(), connect.NewRequest(&tollgatev1.GetDatanetRequest{Name: args[0]}))
		if err != nil {
			return err
		}
		d := res.Msg.GetDatanet()
		models := "none"
		if m := d.GetPolicy().GetModels(); len(m) > 0 {
			models = strings.Join(m, ", ")
		}
		return dc.print(d, fmt.Sprintf("%s  owner %s  %s a read  version %d  root %s\n  %s\n  attribution by %s\n  models built from it: %s", d.GetName(), d.GetOwner(), tgtString(d.GetPricePerRead()), d.GetVersion(), d.GetRoot(),
			writeRule(d), strings.Join(d.GetAttribution(), ", "), models))
	}
	return show
}

func (dc datanetCmds) search() *cobra.Command {
	a := dc.a
	search := &cobra.Command{
		Use:   "search NAME QUERY…",
		Short: "Search a datanet's records (BM25), as an agent would read them",
		Example: `  tollgate datanet search examples/facts why is the sky blue
  tollgate datanet search examples/facts bees --limit 3 --json`,
		Args: nArgs(2, -1),
	}
	limit := search.Flags().Uint("limit", 10, "most records to return")
	a.jsonFlag(search)
	search.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		req := connect.NewRequest(&tollgatev1.SearchRequest{Datanet: args[0], Query: strings.Join(args[1:], " "), Limit: uint32(*limit)})
		bearer(req, a.tokenFor(a.server))
		res, err := dc.svc().Search(ctx, req)
		if err != nil {
			return err
		}
		if a.asJSON {
			return printJSON(a.out, res.Msg)
		}
		for _, r := range res.Msg.GetRecords() {
			fmt.Fprintf(a.out, "%s  %s  %s\n", r.GetId(), short(r.GetContributor()), r.GetContent())
		}
		return nil
	}
	return search
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// policyMsg and policyFrom carry a policy to and from the API whole, so
// what is signed is what is sent.
func policyMsg(p registry.Policy) *tollgatev1.Policy { return protoconv.PolicyProto(p) }

func policyFrom(p *tollgatev1.Policy) registry.Policy { return protoconv.Policy(p) }

// writeRule says who may add records to d, for people.
func writeRule(d *tollgatev1.Datanet) string {
	p := d.GetPolicy()
	switch d.GetWrite() {
	case registry.WriteAllowList:
		return fmt.Sprintf("written by its owner and %d listed writers %s", len(p.GetWriters()), strings.Join(p.GetWriters(), ", "))
	case registry.WriteOpen:
		var bounds []string
		if q := p.GetWriterQuota(); q != 0 {
			bounds = append(bounds, fmt.Sprintf("%d records", q))
		}
		if q := p.GetWriterQuotaBytes(); q != 0 {
			bounds = append(bounds, fmt.Sprintf("%d bytes", q))
		}
		if len(bounds) == 0 {
			return "open to writes by anyone, no quota"
		}
		return "open to writes by anyone, at most " + strings.Join(bounds, " and ") + " per contributor"
	}
	return "written by its owner only"
}

// importCheckpoint records how far an interrupted import got: the
// records of the first Lines lines of the input were all acknowledged by
// the node. It applies only to the same input file, datanet and server.
type importCheckpoint struct {
	Datanet string `json:"datanet"`
	Server  string `json:"server"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"modTime"`
	Lines   int    `json:"lines"`
	Records int    `json:"records"`
}

func checkpointPath(input string) string { return input + ".tollgate-import" }

// readCheckpoint returns the checkpoint for this import, if there is one
// that matches the input as it is now.
func readCheckpoint(input string, info os.FileInfo, datanet, server string) (importCheckpoint, bool) {
	b, err := os.ReadFile(checkpointPath(input))
	if err != nil {
		return importCheckpoint{}, false
	}
	var c importCheckpoint
	if json.Unmarshal(b, &c) != nil || c.Datanet != datanet || c.Server != serverKey(server) || c.Size != info.Size() || c.ModTime != info.ModTime().UnixNano() {
		return importCheckpoint{}, false
	}
	return c, true
}

// importResult is what datanet import prints.
type importResult struct {
	Received   uint64 `json:"received"`
	Added      uint64 `json:"added"`
	Duplicates uint64 `json:"duplicates"`
	// Skipped counts the records an earlier, interrupted run of the same
	// import had sent and the node acknowledged: not sent again.
	Skipped          int     `json:"skipped"`
	Version          uint64  `json:"version"`
	Root             string  `json:"root"`
	Seconds          float64 `json:"seconds"`
	RecordsPerSecond float64 `json:"recordsPerSecond"`
}

// streamImport sends a JSONL file of records ({"content", "contributor",
// "signature"} per line, or plain text) to a running node through
// ImportRecords; lines without a signature are signed with key on all
// cores. An interrupt (ctx done) ends the stream cleanly, so the node
// keeps and acknowledges what was sent, and leaves a checkpoint that a run
// of the same command resumes from.
func (a *app) streamImport(ctx context.Context, svc tollgatev1connect.DatanetServiceClient, name, path string) error {
	out := a.out
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	total, err := countRecords(f)
	if err != nil {
		return err
	}
	var key *ecdsa.PrivateKey
	if a.keyRef != "" {
		if key, err = a.loadKey(); err != nil {
			return err
		}
	}
	d, err := nodeDomain(ctx, a.server)
	if err != nil {
		return err
	}
	tok, err := a.signedToken(ctx, key)
	if err != nil {
		return err
	}
	cp, resume := readCheckpoint(path, info, name, a.server)
	bar := newProgressBar(os.Stderr, int64(total))
	if resume {
		bar.skipped = int64(cp.Records)
		fmt.Fprintf(os.Stderr, "resuming: skipping the first %d records, which the node acknowledged before (%s)\n", cp.Records, checkpointPath(path))
	}
	// The stream outlives an interrupt, so that it can be closed and what
	// was sent acknowledged.
	stream := svc.ImportRecords(context.WithoutCancel(ctx))
	if tok != "" {
		stream.RequestHeader().Set("Authorization", "Bearer "+tok)
	}
	start := time.Now()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 4*registry.MaxRecordBytes+1024)
	const maxBatchBytes, maxBatch = 512 << 10, 500
	var batch []*tollgatev1.NewRecord
	var size, sent, line, sentLines int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := signAll(key, d, name, batch); err != nil {
			return err
		}
		if err := stream.Send(&tollgatev1.ImportRecordsRequest{Datanet: name, Records: batch}); err != nil {
			return err
		}
		sent += len(batch)
		sentLines = line
		batch, size = nil, 0
		bar.draw(int64(cp.Records + sent))
		return nil
	}
	var sendErr error
	interrupted := false
	for sc.Scan() && sendErr == nil {
		line++
		if resume && line <= cp.Lines {
			continue
		}
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		var l registry.ImportLine
		if json.Unmarshal([]byte(text), &l) != nil || l.Content == "" {
			l = registry.ImportLine{Content: text}
		}
		if l.Signature == "" && key == nil {
			sendErr = usageErr(fmt.Sprintf("datanet import: line %d has no signature; give --key to sign such lines", line))
			break
		}
		batch = append(batch, &tollgatev1.NewRecord{Contributor: l.Contributor, Content: l.Content, Signature: l.Signature})
		size += len(l.Content) + 200
		if len(batch) == maxBatch || size >= maxBatchBytes {
			if ctx.Err() != nil {
				interrupted = true
				break
			}
			sendErr = flush()
		}
	}
	if sendErr == nil && !interrupted {
		sendErr = sc.Err()
	}
	if sendErr == nil && !interrupted {
		if ctx.Err() != nil {
			interrupted = true
		} else {
			sendErr = flush()
		}
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	res, err := closeStream(closeCtx, stream)
	bar.done()
	if err != nil {
		return fmt.Errorf("datanet import: %w", err)
	}
	if sendErr != nil && !errors.Is(sendErr, io.EOF) {
		return sendErr
	}
	done := cp.Records + sent
	if interrupted {
		// Everything sent was acknowledged by the close: a rerun starts
		// after it.
		c := importCheckpoint{Datanet: name, Server: serverKey(a.server), Size: info.Size(), ModTime: info.ModTime().UnixNano(), Lines: sentLines, Records: done}
		if resume && sentLines == 0 {
			c.Lines = cp.Lines
		}
		b, _ := json.Marshal(c)
		if err := os.WriteFile(checkpointPath(path), b, 0o600); err != nil {
			return fmt.Errorf("datanet import: interrupted after %d records, and the checkpoint could not be written (%v); run the same command again: the node counts what it holds as duplicates", done, err)
		}
		return fmt.Errorf("datanet import: interrupted after %d of %d records (the node holds them); run the same command again to resume", done, total)
	}
	os.Remove(checkpointPath(path))
	m := res.Msg
	elapsed := time.Since(start)
	r := importResult{Received: m.GetReceived(), Added: m.GetAdded(), Duplicates: m.GetDuplicates(), Skipped: cp.Records, Version: m.GetVersion(), Root: m.GetRoot(),
		Seconds: elapsed.Seconds(), RecordsPerSecond: float64(m.GetReceived()) / elapsed.Seconds()}
	if a.asJSON {
		return printValue(out, r)
	}
	skipped := ""
	if resume {
		skipped = fmt.Sprintf(" (after %d sent before)", cp.Records)
	}
	fmt.Fprintf(out, "imported %s into %s: %d records%s, %d added, %d duplicates, now at version %d, in %s (%.0f records/s)\n",
		path, name, m.GetReceived(), skipped, m.GetAdded(), m.GetDuplicates(), m.GetVersion(), elapsed.Round(time.Millisecond), r.RecordsPerSecond)
	return nil
}

// closeStream ends an import stream and waits for the node's answer.
func closeStream(ctx context.Context, stream *connect.ClientStreamForClient[tollgatev1.ImportRecordsRequest, tollgatev1.ImportRecordsResponse]) (*connect.Response[tollgatev1.ImportRecordsResponse], error) {
	type result struct {
		res *connect.Response[tollgatev1.ImportRecordsResponse]
		err error
	}
	ch := make(chan result, 1)
	go func() {
		res, err := stream.CloseAndReceive()
		ch <- result{res, err}
	}()
	select {
	case r := <-ch:
		return r.res, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// countRecords counts the non-empty lines of f and rewinds it.
func countRecords(f *os.File) (int, error) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 4*registry.MaxRecordBytes+1024)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	_, err := f.Seek(0, io.SeekStart)
	return n, err
}

// signFile writes a JSONL file's records (JSON {"content"} or plain text
// per line) signed with key for datanet on the node's deployment.
func signFile(ctx context.Context, server, keyFile, passFile, datanet, path string, out io.Writer) error {
	key, err := loadKey(keyFile, passFile)
	if err != nil {
		return err
	}
	d, err := nodeDomain(ctx, server)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 4*registry.MaxRecordBytes+1024)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	var batch []*tollgatev1.NewRecord
	flush := func() error {
		if err := signAll(key, d, datanet, batch); err != nil {
			return err
		}
		for _, r := range batch {
			if err := enc.Encode(registry.ImportLine{Content: r.Content, Contributor: r.Contributor, Signature: r.Signature}); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	for sc.Scan() {
		var l registry.ImportLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Content == "" {
			l = registry.ImportLine{Content: sc.Text()}
		}
		if strings.TrimSpace(l.Content) == "" {
			continue
		}
		batch = append(batch, &tollgatev1.NewRecord{Content: l.Content})
		if len(batch) == 2000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	return w.Flush()
}

// signAll signs, with key, the records of a batch that carry no signature,
// on all cores.
func signAll(key *ecdsa.PrivateKey, d registry.Domain, datanet string, batch []*tollgatev1.NewRecord) error {
	var todo []*tollgatev1.NewRecord
	for _, r := range batch {
		if r.Signature == "" {
			todo = append(todo, r)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	addr := registry.Address(key)
	var wg sync.WaitGroup
	errs := make([]error, len(todo))
	workers := goruntime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(todo); i += workers {
				sig, err := registry.Sign(key, d.RecordDigest(datanet, todo[i].Content))
				todo[i].Contributor, todo[i].Signature, errs[i] = addr, hexutil.Encode(sig), err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
