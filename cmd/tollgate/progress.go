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
	"time"

	"github.com/tollgate-dev/tollgate/ledger/chain"
	"github.com/tollgate-dev/tollgate/registry"
)

// progressBar draws a one-line bar of records on a terminal, with the
// rate and an ETA, and nothing elsewhere.
type progressBar struct {
	w       io.Writer
	total   int64
	skipped int64 // records an earlier run sent, not counted in the rate
	start   time.Time
	tty     bool
}

func newProgressBar(f *os.File, total int64) *progressBar {
	st, err := f.Stat()
	return &progressBar{w: f, total: total, start: time.Now(), tty: err == nil && st.Mode()&os.ModeCharDevice != 0}
}

// draw shows done of total records.
func (p *progressBar) draw(done int64) {
	if !p.tty || p.total <= 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s ", p.line(done, time.Since(p.start)))
}

// line is the bar's text after elapsed.
func (p *progressBar) line(done int64, elapsed time.Duration) string {
	const width = 30
	done = min(done, p.total)
	filled := int(width * done / p.total)
	rate := float64(done-p.skipped) / max(elapsed.Seconds(), 1e-3)
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second).String()
	}
	s := fmt.Sprintf("[%s%s] %3d%%  %d/%d records  %.0f/s  ETA %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), 100*done/p.total, done, p.total, rate, eta)
	if p.skipped > 0 {
		s += fmt.Sprintf("  (resumed after %d)", p.skipped)
	}
	return s
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
