package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

// countingReader counts the bytes read through it, for a progress bar.
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
