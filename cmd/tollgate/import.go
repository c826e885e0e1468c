package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

// importCmd bulk-imports a JSONL file of records into a datanet of a node's
// data directory (the node must be stopped: Badger allows one process).
func importCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("import")
	dataDir := fs.String("data", "./tollgate-data", "data directory of the node")
	datanet := fs.String("datanet", "", "datanet to add the records to")
	keyFile := fs.String("key", "", "file holding a hex private key that signs lines without a signature (and owns a created datanet)")
	create := fs.Bool("create", false, "create the datanet if it does not exist")
	price := fs.String("price", "0", "price per record read, in base units, for a created datanet")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *datanet == "" {
		return errors.New("import: give --datanet and one JSONL file")
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	opts := registry.ImportOptions{Datanet: *datanet, Source: fmt.Sprintf("%s:%d", filepath.Base(path), info.Size())}
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		if opts.Key, err = crypto.HexToECDSA(strings.TrimSpace(string(b))); err != nil {
			return fmt.Errorf("import: key: %w", err)
		}
	}
	domain, err := registryDomain(*dataDir)
	if err != nil {
		return err
	}
	reg, err := registry.Open(filepath.Join(*dataDir, "registry"), registry.Options{Domain: domain})
	if err != nil {
		return err
	}
	defer reg.Close()
	if *create {
		if opts.Key == nil {
			return errors.New("import: --create needs --key for the owner")
		}
		if _, err := reg.Datanet(ctx, *datanet); err != nil {
			d := registry.Datanet{Name: *datanet, Owner: registry.Address(opts.Key), PricePerRead: *price}
			sig, err := registry.Sign(opts.Key, domain.DatanetDigest(d))
			if err != nil {
				return err
			}
			if _, err := reg.CreateDatanet(ctx, d, sig); err != nil {
				return err
			}
		}
	}
	counted := &countingReader{r: f}
	bar := newProgressBar(os.Stderr, info.Size())
	opts.Progress = func(lines int64, st registry.ImportStats) {
		bar.draw(counted.n.Load(), fmt.Sprintf("%d lines, %d added, %d duplicate, %.0f records/s",
			lines, st.Added, st.Duplicates, float64(st.Added)/st.Elapsed.Seconds()))
	}
	st, err := reg.Import(ctx, counted, opts)
	bar.done()
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(map[string]any{"lines": st.Lines, "added": st.Added, "duplicates": st.Duplicates,
			"resumed": st.Resumed, "seconds": st.Elapsed.Seconds(), "records_per_s": float64(st.Added) / st.Elapsed.Seconds()})
	}
	fmt.Fprintf(out, "imported %s into %s: %d lines, %d added, %d duplicates, %d already imported, in %s (%.0f records/s)\n",
		path, *datanet, st.Lines, st.Added, st.Duplicates, st.Resumed, st.Elapsed.Round(1e6), float64(st.Added)/st.Elapsed.Seconds())
	return nil
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progressBar draws a one-line bar on a terminal and nothing elsewhere.
type progressBar struct {
	w     io.Writer
	total int64
	tty   bool
}

func newProgressBar(f *os.File, total int64) *progressBar {
	st, err := f.Stat()
	return &progressBar{w: f, total: total, tty: err == nil && st.Mode()&os.ModeCharDevice != 0}
}

func (p *progressBar) draw(done int64, label string) {
	if !p.tty || p.total <= 0 {
		return
	}
	const width = 30
	filled := int(width * done / p.total)
	fmt.Fprintf(p.w, "\r[%s%s] %3d%%  %s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), 100*done/p.total, label)
}

func (p *progressBar) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// registryDomain is the deployment a data dir's registry signs for: the
// one in its deployment.json. Before the node's first start there is none,
// and signing for no deployment would make signatures that replay into any
// other chainless registry, so it is an error.
func registryDomain(dataDir string) (registry.Domain, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "deployment.json"))
	if errors.Is(err, os.ErrNotExist) {
		return registry.Domain{}, fmt.Errorf("%s has no deployment yet: start the node once (tollgate serve) so records are signed for its chain", dataDir)
	}
	if err != nil {
		return registry.Domain{}, err
	}
	var dep chain.Deployment
	if err := json.Unmarshal(b, &dep); err != nil {
		return registry.Domain{}, fmt.Errorf("deployment.json: %w", err)
	}
	return registry.Domain{ChainID: new(big.Int).SetUint64(dep.ChainID), Contract: dep.Settlement}, nil
}
