package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"flag"
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

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/registry"
)

// datanetCmd creates datanets, adds records and reads them on a running
// node; every write is signed locally with its owner's or contributor's key.
func datanetCmd(ctx context.Context, args []string, out io.Writer) error {
	const use = "usage: tollgate datanet create|add|import|sign|policy|show|search [flags]"
	sub, err := subcommand(args, use)
	if err != nil {
		return err
	}
	fs := newFlags("datanet " + sub)
	server := fs.String("server", defaultServer, "node URL")
	token := fs.String("token", "", "API token (default: the one tollgate login saved)")
	keyFile := fs.String("key", "", "owner's (create) or contributor's (add) key")
	passFile := fs.String("passphrase-file", "", "file holding the key's passphrase")
	price := fs.String("price", "0", "price per record read, in tokens (0.001) or base units (1000wei)")
	description := fs.String("description", "", "what the datanet holds")
	file := fs.String("file", "", "add: a file of records, one per line (JSON {\"content\": …} or plain text)")
	limit := fs.Uint("limit", 10, "search: most records to return")
	// The policy flags serve create and policy; policy changes only the
	// rules given and keeps the others.
	access := fs.String("access", "open", "create, policy: which agents may read: open, allowlist or tier")
	agents := fs.String("agents", "", "create, policy: comma-separated agent names an allowlist admits")
	minPrice := fs.String("min-agent-price", "", "create, policy: for tier, the least an agent may charge per call, in tokens")
	write := fs.String("write", registry.WriteOwner, "create, policy: who may add records: owner, allowlist or open")
	writers := fs.String("writers", "", "create, policy: comma-separated addresses an allowlist admits besides the owner")
	quota := fs.Uint64("quota", 0, "create, policy: for open, the records each contributor but the owner may add (0: no bound)")
	quotaBytes := fs.Uint64("quota-bytes", 0, "create, policy: for open, the bytes each contributor but the owner may add (0: no bound)")
	attribution := fs.String("attribution", "", "create, policy: comma-separated attribution plugin names that may read the datanet (default: the built-ins)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usageErr(use + " NAME …")
	}
	name := fs.Arg(0)
	// given reports whether a flag was set, on the command line or by
	// the config file.
	given := func(fl string) bool {
		f := fs.Lookup(fl)
		set := false
		fs.Visit(func(v *flag.Flag) { set = set || v == f })
		return set || f.Value.String() != f.DefValue
	}
	// applyPolicy sets in p the policy rules given as flags; create gives
	// it an empty policy and all, so the flags' defaults apply.
	applyPolicy := func(p *registry.Policy, all bool) error {
		if all || given("access") {
			p.Access = *access
		}
		if all || given("agents") {
			p.Agents = splitList(*agents)
		}
		if all || given("min-agent-price") {
			p.MinAgentPrice = ""
			if *minPrice != "" {
				v, err := parsePrice(*minPrice)
				if err != nil {
					return err
				}
				p.MinAgentPrice = v.String()
			}
		}
		if all || given("write") {
			p.Write = *write
		}
		if all || given("writers") {
			p.Writers = nil
			for _, w := range splitList(*writers) {
				a, err := registry.CanonicalAddress(w)
				if err != nil {
					return fmt.Errorf("--writers: %w", err)
				}
				p.Writers = append(p.Writers, a)
			}
		}
		if all || given("quota") {
			p.WriterQuota = *quota
		}
		if all || given("quota-bytes") {
			p.WriterQuotaBytes = *quotaBytes
		}
		if all || given("attribution") {
			p.Attribution = splitList(*attribution)
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
	svc := tollgatev1connect.NewDatanetServiceClient(http.DefaultClient, *server)
	print := func(v any, text string) error {
		if *asJSON {
			return json.NewEncoder(out).Encode(v)
		}
		_, err := fmt.Fprintln(out, text)
		return err
	}
	switch sub {
	case "create":
		key, err := loadKey(*keyFile, *passFile)
		if err != nil {
			return err
		}
		amount, err := parsePrice(*price)
		if err != nil {
			return err
		}
		d, err := nodeDomain(ctx, *server)
		if err != nil {
			return err
		}
		dn := registry.Datanet{Name: name, Owner: registry.Address(key), Description: *description, PricePerRead: amount.String()}
		if err := applyPolicy(&dn.Policy, true); err != nil {
			return err
		}
		sig, err := registry.Sign(key, d.DatanetDigest(dn))
		if err != nil {
			return err
		}
		req := connect.NewRequest(&tollgatev1.CreateDatanetRequest{Signature: hexutil.Encode(sig), Datanet: &tollgatev1.Datanet{
			Name: dn.Name, Owner: dn.Owner, Description: dn.Description, PricePerRead: dn.PricePerRead, Policy: policyMsg(dn.Policy)}})
		withLogin(req, *server, *token)
		res, err := svc.CreateDatanet(ctx, req)
		if err != nil {
			return err
		}
		return print(res.Msg.GetDatanet(), fmt.Sprintf("created %s, owned by %s, %s a read, %s", name, dn.Owner, tgt(amount), writeRule(res.Msg.GetDatanet())))
	case "add":
		key, err := loadKey(*keyFile, *passFile)
		if err != nil {
			return err
		}
		contents := fs.Args()[1:]
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
		d, err := nodeDomain(ctx, *server)
		if err != nil {
			return err
		}
		var added, dups uint32
		var version uint64
		for start := 0; start < len(contents); start += 1000 {
			batch := contents[start:min(start+1000, len(contents))]
			req := connect.NewRequest(&tollgatev1.AddRecordsRequest{Datanet: name})
			for _, c := range batch {
				sig, err := registry.Sign(key, d.RecordDigest(name, c))
				if err != nil {
					return err
				}
				req.Msg.Records = append(req.Msg.Records, &tollgatev1.NewRecord{Contributor: registry.Address(key), Content: c, Signature: hexutil.Encode(sig)})
			}
			withLogin(req, *server, *token)
			res, err := svc.AddRecords(ctx, req)
			if err != nil {
				return fmt.Errorf("datanet add: after %d added: %w", added, err)
			}
			added, dups, version = added+res.Msg.GetAdded(), dups+res.Msg.GetDuplicates(), res.Msg.GetVersion()
		}
		return print(map[string]any{"added": added, "duplicates": dups, "version": version}, fmt.Sprintf("%s: %d added, %d duplicates, now at version %d", name, added, dups, version))
	case "import":
		if fs.NArg() != 2 {
			return usageErr("usage: tollgate datanet import [--key FILE] NAME FILE.jsonl")
		}
		return streamImport(ctx, svc, *server, *token, *keyFile, *passFile, name, fs.Arg(1), *asJSON, out)
	case "sign":
		// Contributors sign their records offline; anyone can then upload
		// the signed file.
		if fs.NArg() != 2 {
			return usageErr("usage: tollgate datanet sign --key FILE NAME RECORDS.jsonl > SIGNED.jsonl")
		}
		return signFile(ctx, *server, *keyFile, *passFile, name, fs.Arg(1), out)
	case "policy":
		key, err := loadKey(*keyFile, *passFile)
		if err != nil {
			return err
		}
		d, err := nodeDomain(ctx, *server)
		if err != nil {
			return err
		}
		cur, err := svc.GetDatanet(ctx, connect.NewRequest(&tollgatev1.GetDatanetRequest{Name: name}))
		if err != nil {
			return err
		}
		p := policyFrom(cur.Msg.GetDatanet().GetPolicy())
		if err := applyPolicy(&p, false); err != nil {
			return err
		}
		sig, err := registry.Sign(key, d.PolicyDigest(name, cur.Msg.GetDatanet().GetPolicyNonce(), p))
		if err != nil {
			return err
		}
		req := connect.NewRequest(&tollgatev1.SetPolicyRequest{Datanet: name, Signature: hexutil.Encode(sig), Policy: policyMsg(p)})
		withLogin(req, *server, *token)
		res, err := svc.SetPolicy(ctx, req)
		if err != nil {
			return err
		}
		return print(res.Msg.GetDatanet(), fmt.Sprintf("%s: policy %s %v, %s", name, p.Access, strings.Join(append(p.Agents, p.MinAgentPrice), " "), writeRule(res.Msg.GetDatanet())))
	case "show":
		res, err := svc.GetDatanet(ctx, connect.NewRequest(&tollgatev1.GetDatanetRequest{Name: name}))
		if err != nil {
			return err
		}
		d := res.Msg.GetDatanet()
		return print(d, fmt.Sprintf("%s  owner %s  %s a read  version %d  root %s\n  %s\n  attribution by %s", d.GetName(), d.GetOwner(), tgtString(d.GetPricePerRead()), d.GetVersion(), d.GetRoot(),
			writeRule(d), strings.Join(d.GetAttribution(), ", ")))
	case "search":
		if fs.NArg() < 2 {
			return usageErr("usage: tollgate datanet search NAME QUERY")
		}
		req := connect.NewRequest(&tollgatev1.SearchRequest{Datanet: name, Query: fs.Arg(1), Limit: uint32(*limit)})
		withLogin(req, *server, *token)
		res, err := svc.Search(ctx, req)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(out).Encode(res.Msg.GetRecords())
		}
		for _, r := range res.Msg.GetRecords() {
			fmt.Fprintf(out, "%s  %s  %s\n", r.GetId(), short(r.GetContributor()), r.GetContent())
		}
		return nil
	}
	return usageErr(use)
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
func policyMsg(p registry.Policy) *tollgatev1.Policy {
	return &tollgatev1.Policy{Access: p.Access, Agents: p.Agents, MinAgentPrice: p.MinAgentPrice, Write: p.Write, Writers: p.Writers,
		WriterQuota: p.WriterQuota, WriterQuotaBytes: p.WriterQuotaBytes, Attribution: p.Attribution}
}

func policyFrom(p *tollgatev1.Policy) registry.Policy {
	return registry.Policy{Access: p.GetAccess(), Agents: p.GetAgents(), MinAgentPrice: p.GetMinAgentPrice(), Write: p.GetWrite(), Writers: p.GetWriters(),
		WriterQuota: p.GetWriterQuota(), WriterQuotaBytes: p.GetWriterQuotaBytes(), Attribution: p.GetAttribution()}
}

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

// streamImport sends a JSONL file of records ({"content", "contributor",
// "signature"} per line, or plain text) to a running node through
// ImportRecords; lines without a signature are signed with key on all
// cores. Records the datanet already holds come back as duplicates, so an
// interrupted import is resumed by running it again.
func streamImport(ctx context.Context, svc tollgatev1connect.DatanetServiceClient, server, token, keyFile, passFile, name, path string, asJSON bool, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	var key *ecdsa.PrivateKey
	if keyFile != "" {
		if key, err = loadKey(keyFile, passFile); err != nil {
			return err
		}
	}
	d, err := nodeDomain(ctx, server)
	if err != nil {
		return err
	}
	stream := svc.ImportRecords(ctx)
	if t := tokenFor(server, token); t != "" {
		stream.RequestHeader().Set("Authorization", "Bearer "+t)
	}
	counted := &countingReader{r: f}
	bar := newProgressBar(os.Stderr, info.Size())
	start := time.Now()
	sc := bufio.NewScanner(counted)
	sc.Buffer(make([]byte, 0, 1<<20), 4*registry.MaxRecordBytes+1024)
	const maxBatchBytes, maxBatch = 512 << 10, 500
	var batch []*tollgatev1.NewRecord
	var size, sent int
	var line int
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
		batch, size = nil, 0
		bar.draw(counted.n.Load(), fmt.Sprintf("%d records sent, %.0f/s", sent, float64(sent)/time.Since(start).Seconds()))
		return nil
	}
	var sendErr error
	for sc.Scan() && sendErr == nil {
		line++
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		var l registry.ImportLine
		if json.Unmarshal([]byte(text), &l) != nil || l.Content == "" {
			l = registry.ImportLine{Content: text}
		}
		if l.Signature == "" && key == nil {
			sendErr = fmt.Errorf("datanet import: line %d has no signature; give --key to sign such lines", line)
			break
		}
		batch = append(batch, &tollgatev1.NewRecord{Contributor: l.Contributor, Content: l.Content, Signature: l.Signature})
		size += len(l.Content) + 200
		if len(batch) == maxBatch || size >= maxBatchBytes {
			sendErr = flush()
		}
	}
	if sendErr == nil {
		sendErr = sc.Err()
	}
	if sendErr == nil {
		sendErr = flush()
	}
	res, err := stream.CloseAndReceive()
	bar.done()
	if err != nil {
		return fmt.Errorf("datanet import: %w", err)
	}
	if sendErr != nil && !errors.Is(sendErr, io.EOF) {
		return sendErr
	}
	m := res.Msg
	elapsed := time.Since(start)
	if asJSON {
		return json.NewEncoder(out).Encode(map[string]any{"received": m.GetReceived(), "added": m.GetAdded(), "duplicates": m.GetDuplicates(),
			"version": m.GetVersion(), "root": m.GetRoot(), "seconds": elapsed.Seconds(), "records_per_s": float64(m.GetReceived()) / elapsed.Seconds()})
	}
	fmt.Fprintf(out, "imported %s into %s: %d records, %d added, %d duplicates, now at version %d, in %s (%.0f records/s)\n",
		path, name, m.GetReceived(), m.GetAdded(), m.GetDuplicates(), m.GetVersion(), elapsed.Round(time.Millisecond), float64(m.GetReceived())/elapsed.Seconds())
	return nil
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
