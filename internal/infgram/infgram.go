// Package infgram is an ∞-gram language model (Liu et al. 2024,
// "Infini-gram") over a corpus of records: the next token's distribution
// comes from the continuations of the longest suffix of the context that
// occurs in the corpus, backing off to shorter suffixes until one has a
// continuation. Generation is sampled from a seeded generator, so the same
// model, prompt and parameters give the same text, bit for bit.
//
// Its attribution is exact: a generated token's probability is the count
// of positions in the corpus where the suffix is followed by it, over the
// count of the suffix's continuations, and each of those positions lies in
// one record. A token's share is split over the records in proportion to
// how many of the positions each holds.
//
// Tokens are words (maximal runs of letters and digits) and single
// punctuation characters; text is rebuilt by joining them with spaces,
// except before punctuation. The corpus is held as a suffix array over
// fixed-width token ids.
package infgram

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/corpus"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// idWidth is the bytes of one token id in the suffix array's text. Id 0
// separates records, so no match crosses from one record into the next.
const idWidth = 3

// MaxVocabulary is the most distinct tokens a model may hold.
const MaxVocabulary = 1<<(8*idWidth) - 1

// MaxContext bounds the suffix of the context looked up, in tokens: a
// longer one almost never occurs, and each token more costs a lookup.
const MaxContext = 64

// Record is one training record.
type Record struct {
	ID      string
	Content string
}

// Model is an ∞-gram model over a fixed set of records. It is immutable
// and safe for concurrent use.
//
// Its text is the records' token ids, each record followed by the
// separator, cut into segments (package corpus) of at most segmentBytes,
// each with its suffix array: in memory, or mapped from the files a
// [Builder] wrote (see files.go), so a model larger than memory is served
// from the page cache.
type Model struct {
	vocab   map[string]uint32 // token -> id (from 1)
	tokens  []string          // id -> token; tokens[0] is the separator
	segs    []*corpus.Segment
	records int

	unigramOnce sync.Once
	unigram     Distribution // what follows the empty suffix: every token
}

// ErrVocabulary is returned when the records hold more distinct tokens
// than MaxVocabulary.
var ErrVocabulary = errors.New("infgram: more distinct tokens than the model can hold")

// New builds a model in memory over records, in the order given (which
// fixes the token ids, so the same records give the same model).
func New(records []Record) (*Model, error) {
	b, err := NewBuilder("")
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		if err := b.Add(r); err != nil {
			return nil, err
		}
	}
	return b.Model()
}

func appendID(b []byte, id uint32) []byte {
	return append(b, byte(id>>16), byte(id>>8), byte(id))
}

func idAt(b []byte, off int) uint32 {
	return uint32(b[off])<<16 | uint32(b[off+1])<<8 | uint32(b[off+2])
}

// Tokens splits text into the model's tokens: words, and each punctuation
// or symbol character on its own; spaces separate and are dropped.
func Tokens(text string) []string {
	var out []string
	word := -1
	for i, r := range text {
		switch {
		case tokenize.IsWord(r):
			if word < 0 {
				word = i
			}
			continue
		case word >= 0:
			out = append(out, text[word:i])
			word = -1
		}
		if !unicode.IsSpace(r) {
			out = append(out, string(r))
		}
	}
	if word >= 0 {
		out = append(out, text[word:])
	}
	return out
}

// Join rebuilds text from tokens: a space between tokens, except before
// punctuation that closes (.,;:!?%) and after punctuation that opens.
func Join(tokens []string) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 && !closes(t) && !opens(tokens[i-1]) {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

func closes(t string) bool {
	r, _ := utf8.DecodeRuneInString(t)
	return len(t) == utf8.RuneLen(r) && strings.ContainsRune(".,;:!?%)]}'", r)
}

func opens(t string) bool {
	r, _ := utf8.DecodeRuneInString(t)
	return len(t) == utf8.RuneLen(r) && strings.ContainsRune("([{$", r)
}

// End is the continuation that ends a record: drawn, it ends generation.
const End = ""

// Records is how many records the model holds.
func (m *Model) Records() int { return m.records }

// Continuation is one token that may come next (End: the record ends),
// with how often it follows the suffix in each record that holds it.
type Continuation struct {
	Token    string
	Count    int            // in all records
	ByRecord map[string]int // record id -> count
}

// Distribution is what may follow a context: the longest suffix of it
// that occurs followed by a token (Suffix tokens long; 0 is the unigram
// distribution of the whole corpus), and its continuations, by token.
type Distribution struct {
	Suffix int
	Total  int
	Next   []Continuation // sorted by token id, so by first appearance in the corpus
}

// Next returns the distribution of the token after context.
func (m *Model) Next(context []string) Distribution {
	ids := make([]uint32, 0, len(context))
	for _, t := range context {
		ids = append(ids, m.vocab[t]) // an unknown token is 0: no suffix through it occurs
	}
	return m.next(ids)
}

func (m *Model) next(context []uint32) Distribution {
	if len(context) > MaxContext {
		context = context[len(context)-MaxContext:]
	}
	// The longest suffix that occurs with a continuation: if a suffix
	// occurs followed by a token, so does every shorter one, so lengthen
	// it until it fails, then count the continuations of the longest.
	k := 0
	for k < len(context) && m.continues(context[len(context)-k-1:]) {
		k++
	}
	if k == 0 {
		m.unigramOnce.Do(func() { m.unigram, _ = m.continuations(nil) })
		return m.unigram
	}
	d, _ := m.continuations(context[len(context)-k:])
	d.Suffix = k
	return d
}

// key is suffix as the suffix array's text holds it; ok is false if it
// holds the separator or an unknown token, which no record continues.
func key(suffix []uint32) (b []byte, ok bool) {
	b = make([]byte, 0, len(suffix)*idWidth)
	for _, id := range suffix {
		if id == 0 {
			return nil, false
		}
		b = appendID(b, id)
	}
	return b, true
}

// continues reports whether suffix occurs in a record (every occurrence
// is followed by a token or by the record's end). A few occurrences are
// looked at first: almost always one of them is on a token boundary.
func (m *Model) continues(suffix []uint32) bool {
	k, ok := key(suffix)
	if !ok {
		return false
	}
	aligned := func(off int) bool { return off%idWidth == 0 }
	for _, seg := range m.segs {
		some := seg.Lookup(k, 16)
		if slices.ContainsFunc(some, aligned) || len(some) == 16 && slices.ContainsFunc(seg.Lookup(k, -1), aligned) {
			return true
		}
	}
	return false
}

// continuations counts the tokens (and record ends) that follow suffix in
// the records; ok is false if suffix does not occur.
func (m *Model) continuations(suffix []uint32) (Distribution, bool) {
	key, ok := key(suffix)
	if !ok {
		return Distribution{}, false
	}
	byID := map[uint32]*Continuation{}
	total := 0
	for _, seg := range m.segs {
		text := seg.Text()
		count := func(off int) {
			if off%idWidth != 0 {
				return // a match across token boundaries
			}
			next := idAt(text, off+len(key)) // 0: the record ends there
			c := byID[next]
			if c == nil {
				c = &Continuation{Token: m.tokens[next], ByRecord: map[string]int{}}
				byID[next] = c
			}
			c.Count++
			c.ByRecord[seg.RecordOf(off)]++
			total++
		}
		if len(key) == 0 {
			for off := 0; off+idWidth <= len(text); off += idWidth {
				count(off)
			}
		} else {
			for _, off := range seg.Lookup(key, -1) {
				count(off)
			}
		}
		runtime.KeepAlive(seg) // its mapping, until text is read
	}
	if total == 0 {
		return Distribution{}, false
	}
	d := Distribution{Total: total}
	keys := make([]uint32, 0, len(byID))
	for id := range byID {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	for _, id := range keys {
		d.Next = append(d.Next, *byID[id])
	}
	return d, true
}

// Params are a generation's parameters.
type Params struct {
	MaxTokens int
	// Temperature reshapes the counts: each continuation is drawn with
	// weight count^(1/Temperature). 1 samples the counts as they are; 0
	// takes the most frequent (ties to the one first seen in the corpus).
	Temperature float64
	Seed        uint64
	Stop        []string // generation ends when the text ends with one of these
	// MaxBytes, if positive, ends generation (finish "length") before
	// the token that would take the text past it.
	MaxBytes int
	// Continue, if set, is asked every few tokens whether to go on; when
	// it says no, generation ends with finish "canceled" (a caller's
	// deadline, say), which no re-run reproduces.
	Continue func() bool
}

// Step is one generated token, with what it was drawn from.
type Step struct {
	Token  string
	Suffix int // tokens of context the distribution was conditioned on
	Count  int // positions where the suffix is followed by Token
	Total  int // positions where the suffix is followed by any token
	// ByRecord is how many of the Count positions each record holds: the
	// token's share is split over the records in these proportions.
	ByRecord map[string]int
}

// Generation is a generated text and how each of its tokens was drawn.
type Generation struct {
	Text         string
	Steps        []Step
	PromptTokens int
	FinishReason string // "length", "stop" or "end" (the records followed end there)
}

// Generate continues prompt.
func (m *Model) Generate(prompt string, p Params) Generation {
	ctx := make([]uint32, 0)
	promptTokens := Tokens(prompt)
	for _, t := range promptTokens {
		ctx = append(ctx, m.vocab[t])
	}
	rng := rand.New(rand.NewPCG(p.Seed, 0x746f6c6c67617465)) // "tollgate"
	g := Generation{PromptTokens: len(promptTokens), FinishReason: "length"}
	// The text is built as it goes (Join's rule, a token at a time), so a
	// long generation costs its length, not its square.
	var text []byte
	prev := ""
	for len(g.Steps) < p.MaxTokens {
		if p.Continue != nil && len(g.Steps)%16 == 0 && !p.Continue() {
			g.FinishReason = "canceled"
			break
		}
		d := m.next(ctx)
		if d.Total == 0 {
			g.FinishReason = "end"
			break
		}
		c := pick(d, p.Temperature, rng)
		if c.Token == End {
			g.FinishReason = "end" // where the records it follows end
			break
		}
		sep := len(text) > 0 && !closes(c.Token) && !opens(prev)
		if p.MaxBytes > 0 && len(text)+len(c.Token)+1 > p.MaxBytes {
			break // "length"
		}
		if sep {
			text = append(text, ' ')
		}
		text = append(text, c.Token...)
		prev = c.Token
		g.Steps = append(g.Steps, Step{Token: c.Token, Suffix: d.Suffix, Count: c.Count, Total: d.Total, ByRecord: c.ByRecord})
		ctx = append(ctx, m.vocab[c.Token])
		if slices.ContainsFunc(p.Stop, func(s string) bool { return s != "" && bytes.HasSuffix(text, []byte(s)) }) {
			g.FinishReason = "stop"
			break
		}
	}
	g.Text = string(text)
	return g
}

// pick draws a continuation. With temperature 1 the draw is an integer in
// [0, Total), so it is the same on every machine.
func pick(d Distribution, temperature float64, rng *rand.Rand) Continuation {
	switch {
	case temperature <= 0:
		best := d.Next[0]
		for _, c := range d.Next[1:] {
			if c.Count > best.Count {
				best = c
			}
		}
		return best
	case temperature == 1:
		r := rng.IntN(d.Total)
		for _, c := range d.Next {
			if r < c.Count {
				return c
			}
			r -= c.Count
		}
	}
	weights := make([]float64, len(d.Next))
	sum := 0.0
	for i, c := range d.Next {
		weights[i] = math.Pow(float64(c.Count), 1/temperature)
		sum += weights[i]
	}
	r := rng.Float64() * sum
	for i, w := range weights {
		if r < w {
			return d.Next[i]
		}
		r -= w
	}
	return d.Next[len(d.Next)-1]
}

// Shares are each record's exact share of a generation, summing to 1:
// every generated token weighs the same, and its weight is split over the
// records in proportion to the positions each holds (ByRecord/Count).
func (g Generation) Shares() map[string]*big.Rat {
	out := map[string]*big.Rat{}
	if len(g.Steps) == 0 {
		return out
	}
	n := big.NewRat(int64(len(g.Steps)), 1)
	for _, s := range g.Steps {
		for rec, c := range s.ByRecord {
			if out[rec] == nil {
				out[rec] = new(big.Rat)
			}
			out[rec].Add(out[rec], new(big.Rat).Quo(big.NewRat(int64(c), int64(s.Count)), n))
		}
	}
	return out
}

// Split divides pool among records by their exact shares, in integers that
// sum to pool: each gets the floor of its share, and the units left go one
// each to the largest remainders (ties to the smaller record id).
func Split(pool *big.Int, shares map[string]*big.Rat) map[string]*big.Int {
	type part struct {
		id  string
		rem *big.Rat
	}
	out := map[string]*big.Int{}
	if len(shares) == 0 || pool.Sign() <= 0 {
		return out
	}
	ids := make([]string, 0, len(shares))
	for id := range shares {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	left := new(big.Int).Set(pool)
	parts := make([]part, 0, len(ids))
	for _, id := range ids {
		exact := new(big.Rat).Mul(shares[id], new(big.Rat).SetInt(pool))
		floor := new(big.Int).Quo(exact.Num(), exact.Denom())
		out[id] = floor
		left.Sub(left, floor)
		parts = append(parts, part{id, new(big.Rat).Sub(exact, new(big.Rat).SetInt(floor))})
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].rem.Cmp(parts[j].rem) > 0 })
	for i := 0; left.Sign() > 0; i++ {
		out[parts[i%len(parts)].id].Add(out[parts[i%len(parts)].id], big.NewInt(1))
		left.Sub(left, big.NewInt(1))
	}
	return out
}
