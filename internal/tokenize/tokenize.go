// Package tokenize is the one definition of a word that search and
// corpus matching share: a maximal run of Unicode letters and digits. Search
// compares words lowercased; corpus matching keeps their bytes and offsets.
package tokenize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsWord reports whether r belongs to a word.
func IsWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Tokens splits text into lowercase words.
func Tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !IsWord(r) })
}

// Each calls fn with each word of text, lowercased, as [Tokens] splits them,
// without allocating: tok is valid only during the call.
func Each(text string, buf []byte, fn func(tok []byte)) []byte {
	buf = buf[:0]
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				buf = append(buf, c)
			case 'A' <= c && c <= 'Z':
				buf = append(buf, c+'a'-'A')
			default:
				if len(buf) > 0 {
					fn(buf)
					buf = buf[:0]
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if r = unicode.ToLower(r); IsWord(r) {
			buf = utf8.AppendRune(buf, r)
		} else if len(buf) > 0 {
			fn(buf)
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		fn(buf)
	}
	return buf
}

// Spans returns the [start, end) byte offsets of the words of text.
func Spans(text string) [][2]int {
	var out [][2]int
	start := -1
	for i, c := range text {
		word := IsWord(c)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(text)})
	}
	return out
}
