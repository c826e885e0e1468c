package corpus

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/tokenize"
)

// referenceMatch is MatchBounded's rule written the plain way: for every
// word, the longest run from it (at most maxTokens words) found by
// scanning each segment's counted records, every run asked about and
// every occurrence read.
func referenceMatch(segs []*Segment, text string, minTokens, maxTokens int, upTo uint64) []abi.Span {
	minTokens = max(minTokens, 1)
	maxTokens = max(maxTokens, minTokens)
	words := tokenize.Spans(text)
	occurs := func(b string) (ids []string) {
		seen := map[string]bool{}
		for _, seg := range segs {
			counted := seg.Text()[:seg.Cut(upTo)]
			for off := 0; ; off++ {
				k := bytes.Index(counted[off:], []byte(b))
				if k < 0 {
					break
				}
				off += k
				seen[seg.RecordOf(off)] = true
			}
		}
		for id := range seen {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return ids
	}
	var spans []abi.Span
	prevEnd := -1
	for i := 0; i < len(words); i++ {
		j := i
		// A run never holds a NUL (a record holds none).
		for j < len(words) && j-i < maxTokens && !strings.Contains(text[words[i][0]:words[j][1]], "\x00") && len(occurs(text[words[i][0]:words[j][1]])) > 0 {
			j++
		}
		if j-i < minTokens || words[j-1][1] <= prevEnd {
			continue
		}
		start, end := words[i][0], words[j-1][1]
		spans = append(spans, abi.Span{Start: start, End: end, Tokens: j - i, Records: occurs(text[start:end])})
		prevEnd = end
		if j-i == maxTokens {
			i = j - 1
		}
	}
	return spans
}

// Match over mapped (with all suffixes or WordStarts), in-memory and
// scanned segments together finds what
// the plain rule finds: the same spans, the same records, the same cuts
// by version, for any minimum and maximum run length. Its shortcuts (asking
// for minTokens words at once, narrowing a run's range as it grows,
// skipping a segment where a shorter run was not found, looking runs up
// ahead, a few words at a time or none) change nothing.
func TestMatchAgreesWithThePlainRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	dir := t.TempDir()
	defer func(workers, words int, cold time.Duration) {
		lookAheadWorkers, aheadWords, coldLookup = workers, words, cold
	}(lookAheadWorkers, aheadWords, coldLookup)
	was := coldLookup
	for trial := range 40 {
		// Look ahead from the first lookup on (as if every lookup read
		// the disk), not at all, a few words at a time, or only after a
		// slow lookup (none, in memory).
		// (Every mode meets both kinds of file: trial%2 picks the kind.)
		mode := trial / 2 % 4
		lookAheadWorkers, aheadWords = []int{8, 1, 8, 8}[mode], []int{256, 256, 3, 256}[mode]
		coldLookup = []time.Duration{0, was, 0, was}[mode]
		var segs []*Segment
		var all []string
		version := uint64(1)
		for s := range 1 + rng.IntN(4) {
			big := rng.IntN(3) > 0
			ids, contents := randomRecords(rng, 5+rng.IntN(30), big)
			for k := range ids {
				ids[k] = fmt.Sprintf("%d-%d-%s", trial, s, ids[k])
			}
			var seg *Segment
			if s%2 == 0 {
				path := filepath.Join(dir, fmt.Sprintf("%d-%d.seg", trial, s))
				if err := WriteSegment(path, Suffixes(trial%2), version, ids, contents); err != nil {
					t.Fatal(err)
				}
				f, err := OpenSegment(path)
				if err != nil {
					t.Fatal(err)
				}
				seg = f
			} else {
				seg = NewSegment(version, ids, contents)
			}
			segs = append(segs, seg)
			all = append(all, contents...)
			version += uint64(len(ids))
		}
		for q := range 25 {
			out := runsText(rng, all, 40, q, func() bool { return rng.IntN(2) == 0 })
			if q%2 == 1 {
				// Cut at any byte, so the text's first word may end or lie
				// inside a longer word of a record, or be half a rune.
				rec := all[rng.IntN(len(all))]
				from := rng.IntN(len(rec))
				out = rec[from:min(len(rec), from+1+rng.IntN(200))] + " " + out
			}
			if q%5 == 2 {
				// A NUL splits the text into pieces no run crosses.
				if ws := tokenize.Spans(out); len(ws) > 1 {
					at := ws[rng.IntN(len(ws))][0]
					out = out[:at] + "\x00 " + out[at:]
				}
			}
			minTokens := rng.IntN(7)
			maxTokens := math.MaxInt
			if rng.IntN(3) == 0 {
				maxTokens = 1 + rng.IntN(12)
			}
			upTo := uint64(rng.IntN(int(version) + 1))
			if q%3 == 0 {
				upTo = math.MaxUint64
			}
			got, partial := MatchBounded(segs, out, minTokens, maxTokens, -1, upTo)
			want := referenceMatch(segs, out, minTokens, maxTokens, upTo)
			if partial || !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d, min %d, max %d, up to %d, text %q:\ngot  %+v\nwant %+v", trial, minTokens, maxTokens, upTo, out, got, want)
			}
		}
	}
}
