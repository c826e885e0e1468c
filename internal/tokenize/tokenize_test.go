package tokenize

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Search's two ways of splitting words (one allocation-free, for builds)
// agree.
func TestEachSplitsAsTokens(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pieces := []string{"a", "Z", "ß", "İ", "Σ", "ǅ", "٣", "x1", " ", ",", "-", "\xff", "\u00a0", "日本", "ÉCOLE", "é", "\u0301", "ｆ", "Ⅷ", "\U0001d400"}
	for range 5000 {
		var sb strings.Builder
		for range rng.IntN(20) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := sb.String()
		var got []string
		Each(text, nil, func(tok []byte) { got = append(got, string(tok)) })
		if want := Tokens(text); !slices.Equal(got, want) {
			t.Fatalf("%q: %q, Tokens %q", text, got, want)
		}
	}
}
