package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"connectrpc.com/connect"
	"github.com/ethereum/go-ethereum/common/hexutil"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/gen/tollgate/v1/tollgatev1connect"
	"github.com/tollgate-dev/tollgate/registry"
)

// datanetCmd creates datanets, adds records and reads them on a running
// node; every write is signed locally with its owner's or contributor's key.
func datanetCmd(ctx context.Context, args []string, out io.Writer) error {
	const use = "usage: tollgate datanet create|add|show|search [flags]"
	if len(args) == 0 {
		return errors.New(use)
	}
	sub := args[0]
	fs := newFlags("datanet " + sub)
	server := fs.String("server", "http://127.0.0.1:8080", "node URL")
	token := fs.String("token", "", "API token (default: the one tollgate login saved)")
	keyFile := fs.String("key", "", "owner's (create) or contributor's (add) key")
	passFile := fs.String("passphrase-file", "", "file holding the key's passphrase")
	price := fs.String("price", "0", "price per record read, in tokens (0.001) or base units (1000wei)")
	description := fs.String("description", "", "what the datanet holds")
	file := fs.String("file", "", "add: a file of records, one per line (JSON {\"content\": …} or plain text)")
	limit := fs.Uint("limit", 10, "search: most records to return")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return errors.New(use + " NAME …")
	}
	name := fs.Arg(0)
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
		sig, err := registry.Sign(key, d.DatanetDigest(dn))
		if err != nil {
			return err
		}
		req := connect.NewRequest(&tollgatev1.CreateDatanetRequest{Signature: hexutil.Encode(sig), Datanet: &tollgatev1.Datanet{
			Name: dn.Name, Owner: dn.Owner, Description: dn.Description, PricePerRead: dn.PricePerRead}})
		withLogin(req, *server, *token)
		res, err := svc.CreateDatanet(ctx, req)
		if err != nil {
			return err
		}
		return print(res.Msg.GetDatanet(), fmt.Sprintf("created %s, owned by %s, %s a read", name, dn.Owner, tgt(amount)))
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
			return errors.New("datanet add: give records as arguments or --file")
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
	case "show":
		res, err := svc.GetDatanet(ctx, connect.NewRequest(&tollgatev1.GetDatanetRequest{Name: name}))
		if err != nil {
			return err
		}
		d := res.Msg.GetDatanet()
		return print(d, fmt.Sprintf("%s  owner %s  %s a read  version %d  root %s", d.GetName(), d.GetOwner(), tgtString(d.GetPricePerRead()), d.GetVersion(), d.GetRoot()))
	case "search":
		if fs.NArg() < 2 {
			return errors.New("usage: tollgate datanet search NAME QUERY")
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
	return errors.New(use)
}
