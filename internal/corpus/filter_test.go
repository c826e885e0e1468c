package corpus

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// newStartFilter returns the filter of the text made of pieces, which
// starts entries words, built whole.
func newStartFilter(entries uint64, pieces ...[]byte) startFilter {
	f := make(startFilter, filterWords(entries))
	f.addPart(0, uint64(len(f)/blockWords), pieces)
	return f
}

// TestStartFilterHoldsEveryStart: every run of four words of the text,
// as tokenize.Spans finds them in a record, is held by the filter, and of
// runs the text does not hold, the filter turns most away.
func TestStartFilterHoldsEveryStart(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	vocab := []string{"a", "sky", "Blau", "ß", "é", "light", "scat", "日本", "x1", "\xff", "\xe6\x97"}
	seps := []string{" ", ", ", "\n", " — ", "\xff ", "", "\x00"}
	var records []string
	var text strings.Builder
	for range 6000 {
		var r strings.Builder
		for n := 1 + rng.IntN(12); n > 0; n-- {
			r.WriteString(vocab[rng.IntN(len(vocab))])
			r.WriteString(seps[rng.IntN(len(seps))])
		}
		records = append(records, r.String())
		text.WriteString(r.String())
		text.WriteByte(0)
	}
	words := 0
	for _, r := range records {
		words += len(tokenize.Spans(r))
	}
	f := newStartFilter(uint64(words), []byte(text.String()))
	held := 0
	for _, r := range records {
		ws := tokenize.Spans(r)
		for i := 0; i+3 < len(ws); i++ {
			if strings.IndexByte(r[ws[i][0]:ws[i+3][1]], 0) >= 0 {
				continue // a run never holds a NUL
			}
			if !f.mayStart([]byte(r[ws[i][0]:ws[i+3][0]])) {
				t.Fatalf("the run %q of %q is not held", r[ws[i][0]:ws[i+3][1]], r)
			}
			held++
		}
	}
	if held < 6000 {
		t.Fatalf("only %d runs tried", held)
	}
	absent, passed := 0, 0
	for n := range 20000 {
		key := []byte(fmt.Sprintf("nowhere%d other%d third%d ", n, n*7, n))
		absent++
		if f.mayStart(key) {
			passed++
		}
	}
	if rate := float64(passed) / float64(absent); rate > 0.04 {
		t.Fatalf("%.3f of absent runs pass the filter, want few", rate)
	}
}

// At its load, a word start for each key, the filter lets about one
// absent run in forty through: neither none (a filter too large for its
// keys, or one that cannot tell them apart) nor the one in six of four
// bits a start.
func TestStartFilterFalsePositivesAtItsLoad(t *testing.T) {
	const keys = 200_000
	var text strings.Builder
	for n := range keys + 3 {
		fmt.Fprintf(&text, "w%d ", n)
	}
	f := newStartFilter(keys+3, []byte(text.String()))
	for n := range keys {
		if !f.mayStart(fmt.Appendf(nil, "w%d w%d w%d ", n, n+1, n+2)) {
			t.Fatalf("run %d is not held", n)
		}
	}
	passed := 0
	const absent = 100_000
	for n := range absent {
		if f.mayStart(fmt.Appendf(nil, "w%d w%d w%d ", n, n+2, n+1)) {
			passed++
		}
	}
	if rate := float64(passed) / absent; rate < 0.01 || rate > 0.04 {
		t.Fatalf("%.4f of absent runs pass the filter, want about 0.025", rate)
	}
}

// A filter written a part at a time is the filter built whole, whether the
// parts divide it or the last is shorter.
func TestStartFilterWrittenInParts(t *testing.T) {
	var text strings.Builder
	for n := range 30_000 {
		fmt.Fprintf(&text, "w%d ", n%7919)
		if n%97 == 96 {
			text.WriteByte(0)
		}
	}
	pieces := [][]byte{[]byte(text.String()), []byte("one two three four five\x00")}
	entries := uint64(30_000 + 5)
	var whole bytes.Buffer
	w := bufio.NewWriter(&whole)
	writeWords(w, newStartFilter(entries, pieces...))
	w.Flush()
	defer func(was int) { maxFilterPart = was }(maxFilterPart)
	for _, part := range []int{64, 3 * 64, 1 << 20} {
		maxFilterPart = part
		var parts bytes.Buffer
		w := bufio.NewWriter(&parts)
		writeStartFilter(w, entries, pieces...)
		w.Flush()
		if !bytes.Equal(parts.Bytes(), whole.Bytes()) {
			t.Fatalf("written in parts of %d bytes, the filter differs from the whole (%d bytes, %d whole)", part, parts.Len(), whole.Len())
		}
	}
	if whole.Len() <= 3*64 {
		t.Fatalf("a filter of %d bytes: the test splits nothing", whole.Len())
	}
}
