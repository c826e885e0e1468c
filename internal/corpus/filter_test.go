package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// TestStartFilterHoldsEveryStart: every run of four words of the text,
// as tokenize.Spans finds them in a record, is held by the filter, and of
// runs the text does not hold, the filter turns most away (at four bits a
// word start, about five in six).
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
	if rate := float64(passed) / float64(absent); rate > 0.25 {
		t.Fatalf("%.2f of absent runs pass the filter, want about 0.16", rate)
	}
}
