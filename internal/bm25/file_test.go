package bm25

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/tollgate-dev/tollgate/internal/pageout"
)

type testRecord struct{ id, content string }

func zipfRecords(seed uint64, n int) []testRecord {
	zipf := rand.NewZipf(rand.New(rand.NewPCG(seed, 2)), 1.1, 2, 999)
	rng := rand.New(rand.NewPCG(seed, 4))
	recs := make([]testRecord, n)
	for i := range recs {
		var sb strings.Builder
		for range 1 + rng.IntN(60) {
			sb.WriteString("w" + strconv.FormatUint(zipf.Uint64(), 36) + " ")
		}
		recs[i] = testRecord{fmt.Sprintf("r%d", i), sb.String()}
	}
	return recs
}

// splitIntoParts cuts recs into files of whole blocks, built either by a
// Builder or by appends, and an index in memory for the rest.
func splitIntoParts(t *testing.T, recs []testRecord, rng *rand.Rand) []Part {
	t.Helper()
	dir := t.TempDir()
	var parts []Part
	at := 0
	for at < len(recs) {
		n := blockSize * (1 + rng.IntN(6))
		if at+n >= len(recs) || rng.IntN(5) == 0 {
			break
		}
		var ix *Index
		if rng.IntN(2) == 0 {
			b, err := NewBuilderAt(uint64(at+1), uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			w := b.Tokenizer()
			for i := n - 1; i >= 0; i-- { // any order
				if err := w.Add(uint64(at+i+1), recs[at+i].id, recs[at+i].content); err != nil {
					t.Fatal(err)
				}
			}
			if ix, err = b.Finish(); err != nil {
				t.Fatal(err)
			}
		} else {
			var err error
			if ix, err = NewAt(uint64(at + 1)); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if !ix.Add(uint64(at+i+1), recs[at+i].id, recs[at+i].content) {
					t.Fatalf("add version %d refused", at+i+1)
				}
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("%d.bm25", at))
		if err := WriteFile(path, ix); err != nil {
			t.Fatal(err)
		}
		f, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.First() != uint64(at+1) || f.Last() != uint64(at+n) {
			t.Fatalf("file holds %d-%d, want %d-%d", f.First(), f.Last(), at+1, at+n)
		}
		parts = append(parts, f)
		at += n
	}
	tail, err := NewAt(uint64(at + 1))
	if err != nil {
		t.Fatal(err)
	}
	for i := at; i < len(recs); i++ {
		if !tail.Add(uint64(i+1), recs[i].id, recs[i].content) {
			t.Fatalf("add version %d refused", i+1)
		}
	}
	return append(parts, tail)
}

// TestPartsRankAsOneIndex holds a datanet split into files and an index
// in memory to one index over the same records: the same records, in the
// same order, with bit-identical scores, for random queries, limits and
// versions.
func TestPartsRankAsOneIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	packed := 0 // files' packed block bounds (listed ones: TestListedAndPackedBoundsRankAsMemory)
	defer func() {
		if !t.Failed() && packed == 0 {
			t.Error("no file had packed block bounds: the test needs them")
		}
	}()
	for round := range 8 {
		recs := zipfRecords(uint64(round), 300+rng.IntN(3000))
		whole := New()
		for i, r := range recs {
			whole.Add(uint64(i+1), r.id, r.content)
		}
		parts := splitIntoParts(t, recs, rng)
		for _, p := range parts {
			if f, ok := p.(*File); ok {
				packed += len(f.bounds)
			}
		}
		zipf := rand.NewZipf(rand.New(rand.NewPCG(uint64(round), 9)), 1.1, 2, 999)
		for q := range 60 {
			words := make([]string, 1+q%5)
			for i := range words {
				words[i] = "w" + strconv.FormatUint(zipf.Uint64(), 36)
			}
			query := strings.Join(words, " ")
			limit := []int{1, 10, 50}[q%3]
			upTo := AllVersions
			if q%4 == 3 {
				upTo = uint64(1 + rng.IntN(len(recs)))
			}
			wantIDs, wantScores, _ := whole.TopScored(query, limit, upTo)
			ids, scores, _, err := Search(context.Background(), parts, query, limit, upTo)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, wantIDs) || !slices.Equal(scores, wantScores) {
				t.Fatalf("round %d (%d parts), %q limit %d up to %d:\n got  %v %v\n want %v %v", round, len(parts), query, limit, upTo, ids, scores, wantIDs, wantScores)
			}
			if len(wantIDs) == 0 && q%4 != 3 && len(words) > 2 {
				t.Logf("no results for %q", query)
			}
		}
	}
}

// TestBadFilesAreRefused damages a good file in each way a disk or a crash
// can and expects ErrBadFile, never a file that answers.
func TestBadFilesAreRefused(t *testing.T) {
	recs := zipfRecords(1, 640)
	ix := New()
	for i, r := range recs {
		ix.Add(uint64(i+1), r.id, r.content)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bm25")
	if err := WriteFile(good, ix); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(good); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	cases := map[string][]byte{
		"empty":          {},
		"header only":    b[:headerBytes],
		"truncated":      b[:len(b)-8],
		"one byte more":  append(slices.Clone(b), 0),
		"other magic":    append([]byte("TGCORPUS"), b[8:]...),
		"newer format":   func() []byte { c := slices.Clone(b); c[8] = FileFormat + 1; return c }(),
		"older format":   func() []byte { c := slices.Clone(b); c[8] = FileFormat - 1; return c }(),
		"flags":          func() []byte { c := slices.Clone(b); c[12] = 1; return c }(),
		"unaligned":      func() []byte { c := slices.Clone(b); c[16] = 2; return c }(),
		"checksum":       func() []byte { c := slices.Clone(b); c[120] ^= 1; return c }(),
		"a flipped body": func() []byte { c := slices.Clone(b); c[headerBytes+rng.IntN(len(c)-headerBytes)] ^= 0x10; return c }(),
	}
	for name, data := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenFile(path); !errors.Is(err, ErrBadFile) {
			t.Errorf("%s: err %v, want ErrBadFile", name, err)
		}
	}
	if _, err := OpenFile(filepath.Join(dir, "absent")); err == nil || errors.Is(err, ErrBadFile) {
		t.Errorf("a missing file: err %v, want an error that is not ErrBadFile", err)
	}
}

// TestFileTablesAreChecked writes files whose checksum is right but whose
// tables are not an index (as a faulty writer would) and expects them
// refused: no lookup may read outside the mapping.
func TestFileTablesAreChecked(t *testing.T) {
	ix := New()
	const records = 10 * blockSize
	for i, r := range zipfRecords(2, records) {
		// A common word in 4 blocks of 10: its bounds are listed; the
		// commonest Zipf words', in every block, packed.
		if b := i / blockSize; b < 2 || b >= 8 {
			r.content += " listed"
		}
		ix.Add(uint64(i+1), r.id, r.content)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bm25")
	if err := WriteFile(good, ix); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	f, err := OpenFile(good)
	if err != nil {
		t.Fatal(err)
	}
	l := fileLayout{first: 1, records: records, total: f.total, terms: uint64(len(f.info) - 1), termBytes: uint64(len(f.termBytes)), postings: uint64(len(f.docs)), blocks: uint64(len(f.blocks)), idBytes: uint64(len(f.ids)), packed: uint64(len(f.bounds)), narrow: uint64(len(f.offs))}
	if tp := f.postings("listed"); tp == nil || len(tp.blocks) != 4 || tp.packed.bounds != nil || tp.offs == nil {
		t.Fatalf("the word in 4 blocks of 10: %+v, want 4 listed block bounds and narrow postings", tp)
	}
	if tp := f.postings("w2"); tp == nil || tp.blocks != nil || len(tp.packed.bounds) != 10 || tp.docs != nil || len(tp.offs) == 0 {
		t.Fatalf("a word in every block: %+v, want 10 packed block bounds and narrow postings", tp)
	}
	reseal := func(c []byte) []byte {
		h := fileHeader(l, xxhashOf(c[headerBytes:]))
		return append(h, c[headerBytes:]...)
	}
	put32 := func(c []byte, off uint64, v uint32) []byte {
		c = slices.Clone(c)
		c[off], c[off+1], c[off+2], c[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		return c
	}
	cases := map[string][]byte{
		"a posting past the records":        put32(b, l.docsOff(), records),
		"a packed start past its term":      put32(b, l.startsOff()+4, 1<<30),
		"a packed block emptied":            func() []byte { c := slices.Clone(b); c[l.boundsOff()] = 0; return c }(),
		"a packed length bound too long":    func() []byte { c := slices.Clone(b); c[l.boundsOff()+1] = 255; return c }(),
		"narrow postings out of order":      func() []byte { c := slices.Clone(b); c[l.offsOff()+1] = c[l.offsOff()]; return c }(),
		"a narrow frequency of zero":        func() []byte { c := slices.Clone(b); c[l.ntfsOff()] = 0; return c }(),
		"a narrow frequency past its bound": func() []byte { c := slices.Clone(b); c[l.ntfsOff()] = 200; return c }(),
		"packed blocks from another":        put32(b, l.infoOff()+48*uint64(termIndex(f, "w2"))+40, 1),
		// Block 1's first posting of w2, its offset's high bit set: it
		// writes out to the same record (the block's own bit), but counts
		// apart from it.
		"a narrow offset past its block": func() []byte {
			c := slices.Clone(b)
			tp := f.postings("w2")
			c[l.offsOff()+f.info[termIndex(f, "w2")].narrow+uint64(tp.packed.starts[1])] |= blockSize
			return c
		}(),
		"postings past the total":         infoPast(b, l, 0),
		"narrow postings past the total":  infoPast(b, l, 8),
		"listed bounds past the total":    infoPast(b, l, 16),
		"packed bounds past the total":    infoPast(b, l, 24),
		"postings out of order":           put32(b, l.docsOff()+4, 0),
		"a length off the total":          put32(b, headerBytes, 1<<20),
		"a block start past its term":     put32(b, l.blocksOff()+4, 1<<30),
		"terms out of order":              func() []byte { c := slices.Clone(b); c[l.termBytesOff()] = 'z'; return c }(),
		"a block bound too low":           func() []byte { c := slices.Clone(b); c[l.blocksOff()+8], c[l.blocksOff()+9] = 0, 0; return c }(),
		"a block bound for another block": put32(b, l.blocksOff(), 1),
		"a term bound too low":            put32(b, l.infoOff()+32, 0),
	}
	for name, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		os.WriteFile(path, reseal(c), 0o600)
		if _, err := OpenFile(path); !errors.Is(err, ErrBadFile) {
			t.Errorf("%s: err %v, want ErrBadFile", name, err)
		}
	}
	// A record too long for a block's uint16 bound, its total kept right.
	long := put32(b, headerBytes+4, 1<<16)
	l2 := l
	l2.total += 1<<16 - uint64(f.docLen[1])
	path := filepath.Join(dir, "long")
	os.WriteFile(path, append(fileHeader(l2, xxhashOf(long[headerBytes:])), long[headerBytes:]...), 0o600)
	if _, err := OpenFile(path); !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), "words long") {
		t.Errorf("a record of 65,536 words: err %v, want ErrBadFile for its length", err)
	}
	// The reseal itself makes a good file of good tables.
	path = filepath.Join(dir, "resealed")
	os.WriteFile(path, reseal(b), 0o600)
	if _, err := OpenFile(path); err != nil {
		t.Errorf("resealed good file: %v", err)
	}
}

func TestIndexesStartOnBlocks(t *testing.T) {
	for _, first := range []uint64{0, 2, blockSize, math.MaxUint32 + 2} {
		if _, err := NewAt(first); err == nil {
			t.Errorf("NewAt(%d) accepted", first)
		}
		if _, err := NewBuilderAt(first, 1); err == nil {
			t.Errorf("NewBuilderAt(%d) accepted", first)
		}
	}
	ix, err := NewAt(blockSize + 1)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Add(1, "a", "x") || ix.Add(blockSize+2, "a", "x") || !ix.Add(blockSize+1, "a", "x") {
		t.Error("an index at version 129 takes a version other than 129 first")
	}
}

func xxhashOf(b []byte) uint64 { return xxhash.Sum64(b) }

// TestMergedFileIsTheFileOfItsRecords merges files of adjacent records,
// terms rare in one and common in the other among them, and expects the
// very bytes of the file written from one index over all their records.
func TestMergedFileIsTheFileOfItsRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	for round := range 8 {
		recs := zipfRecords(uint64(100+round), blockSize*(4+rng.IntN(20)))
		if round >= 6 { // every layout of a common word
			recs = layoutRecords(uint64(round), 4+rng.IntN(12))
		}
		cut := blockSize * (1 + rng.IntN(len(recs)/blockSize-1))
		write := func(name string, from, to int) string {
			ix, err := NewAt(uint64(from + 1))
			if err != nil {
				t.Fatal(err)
			}
			for i := from; i < to; i++ {
				ix.Add(uint64(i+1), recs[i].id, recs[i].content)
			}
			path := filepath.Join(dir, fmt.Sprintf("%d-%s", round, name))
			if err := WriteFile(path, ix); err != nil {
				t.Fatal(err)
			}
			return path
		}
		a, err := OpenFile(write("a", 0, cut))
		if err != nil {
			t.Fatal(err)
		}
		b, err := OpenFile(write("b", cut, len(recs)))
		if err != nil {
			t.Fatal(err)
		}
		merged := filepath.Join(dir, fmt.Sprintf("%d-merged", round))
		if err := WriteMerged(merged, a, b); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(merged)
		want, _ := os.ReadFile(write("whole", 0, len(recs)))
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: merging %d and %d records: %d bytes differ from the %d of one index", round, cut, len(recs)-cut, len(got), len(want))
		}
		if err := WriteMerged(merged, b, a); err == nil {
			t.Fatal("merged files out of order")
		}
	}
}

// TestOpenFileLeavesItsPagesOutOfTheProcess: the check at open reads the
// whole file, and the process does not keep counting those pages.
func TestOpenFileLeavesItsPagesOutOfTheProcess(t *testing.T) {
	ix := New()
	for i, r := range zipfRecords(3, 64*blockSize) {
		ix.Add(uint64(i+1), r.id, r.content)
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a.bm25")
	f := writeOpen(t, path, ix)
	resident, err := pageout.Resident()
	if err != nil || resident == nil {
		t.Skip("no /proc/self/smaps")
	}
	if kb := resident[path]; kb*1024 > int64(f.Size())/4 {
		t.Fatalf("%d KB of a %d KB file resident after open", kb, f.Size()/1024)
	}
	if ids, _, _, _ := Search(context.Background(), []Part{f}, "w1 w2", 3, AllVersions); len(ids) != 3 {
		t.Fatalf("search after open: %v", ids)
	}
	// A miss reads the page a query needs, not megabytes around it; so
	// after a merge, which reads its files in order.
	if err := pageout.ReadAtRandom(path); err != nil {
		t.Fatal(err)
	}
	b, err := NewAt(f.Last() + 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range blockSize {
		b.Add(f.Last()+1+uint64(i), fmt.Sprint("b", i), "w1 w3")
	}
	bpath := filepath.Join(dir, "b.bm25")
	bf := writeOpen(t, bpath, b)
	if err := WriteMerged(filepath.Join(dir, "ab.bm25"), f, bf); err != nil {
		t.Fatal(err)
	}
	if err := pageout.ReadAtRandom(path, bpath); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(f)
	runtime.KeepAlive(bf)
}

// TestATermIsOneQueryTermOverAllParts: a query's working memory (a row of
// block positions per term) and the time to clear it do not grow with the
// number of parts a term's postings lie in.
func TestATermIsOneQueryTermOverAllParts(t *testing.T) {
	var parts []Part
	for i := range 64 {
		ix, err := NewAt(uint64(i*blockSize + 1))
		if err != nil {
			t.Fatal(err)
		}
		for j := range blockSize {
			ix.Add(uint64(i*blockSize+j+1), fmt.Sprint(i, j), "a b c")
		}
		parts = append(parts, ix)
	}
	q := newQuery(parts, "a b zzz", 10, AllVersions)
	if len(q.terms) != 2 || len(q.idf) != 2 {
		t.Fatalf("%d query terms over %d parts for two words that occur", len(q.terms), len(parts))
	}
	if ids, _, _, _ := Search(context.Background(), parts, "a b zzz", 10, AllVersions); len(ids) != 10 || ids[0] != "0 0" {
		t.Fatalf("results %v", ids)
	}
}

// TestSearchStopsWhenItsContextIsDone: a query that would read much of
// the index stops once the call it serves is given up.
func TestSearchStopsWhenItsContextIsDone(t *testing.T) {
	ix := New()
	for i, r := range zipfRecords(4, 40*blockSize) {
		ix.Add(uint64(i+1), r.id, r.content)
	}
	want, wantScores := ix.Top("w2 w7", 5)
	ctx, cancel := context.WithCancel(context.Background())
	if ids, _, scored, err := Search(ctx, []Part{ix}, "w2 w3 w4 w5", 10, AllVersions); err != nil || len(ids) != 10 || scored == 0 {
		t.Fatalf("a live query: %d results, %d blocks scored, %v", len(ids), scored, err)
	}
	cancel()
	ids, _, scored, err := Search(ctx, []Part{ix}, "w2 w3 w4 w5", 10, AllVersions)
	if !errors.Is(err, context.Canceled) || ids != nil || scored != 0 {
		t.Fatalf("a query given up: %d results, %d blocks scored, %v", len(ids), scored, err)
	}
	// The scratch a cancelled query left is clean for the next.
	got, gotScores, _, err := Search(context.Background(), []Part{ix}, "w2 w7", 5, AllVersions)
	if err != nil || !slices.Equal(got, want) || !slices.Equal(gotScores, wantScores) {
		t.Fatalf("after a cancelled query: %v %v %v, want %v %v", got, gotScores, err, want, wantScores)
	}
}

// countdown is a context that is done after its Err has been asked n
// times: it gives up a query part way through.
type countdown struct {
	context.Context
	n atomic.Int32
}

func (c *countdown) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestSearchStopsPartWay gives up queries at each point they look, and
// expects them to stop there: fewer blocks scored than in full, and the
// error.
func TestSearchStopsPartWay(t *testing.T) {
	ix := New()
	for i, r := range zipfRecords(5, 80*blockSize) {
		ix.Add(uint64(i+1), r.id, r.content)
	}
	defer func(f int) { firstBlocks = f }(firstBlocks)
	firstBlocks = 4
	const query = "w2 w3 w4 w5 w6 w7"
	_, _, full, err := Search(context.Background(), []Part{ix}, query, 50, AllVersions)
	if err != nil || full < 20 {
		t.Fatalf("the full query scored %d blocks (%v): too few to stop part way", full, err)
	}
	for n := range int32(6 + 4 + 2) { // the terms, the first blocks, two of three chunks
		ctx := &countdown{Context: context.Background()}
		ctx.n.Store(n)
		ids, _, scored, err := Search(ctx, []Part{ix}, query, 50, AllVersions)
		if !errors.Is(err, context.Canceled) || ids != nil || scored >= full {
			t.Fatalf("given up after %d looks: %d results, %d of %d blocks scored, %v", n, len(ids), scored, full, err)
		}
	}
}

// TestPackedBoundsAreNeverTighter: a packed bound reads as no lower a
// frequency and no longer a record than the block's own, and is never
// read as an empty block; so pruning by it stays exact.
func TestPackedBoundsAreNeverTighter(t *testing.T) {
	const maxTF = 1 << 15
	prev := packedBound{}
	for n := uint32(0); n < 1<<16; n++ {
		p := pack(1, n)
		if _, got := p.unpack(maxTF); got > n {
			t.Fatalf("length %d packs to %d, read as %d", n, p.len, got)
		}
		if p.len < prev.len {
			t.Fatalf("length %d packs lower than %d", n, n-1)
		}
		prev = p
	}
	if p := pack(1, 1<<16-1); p.len != 255 || packedLen[255] < 4096 {
		t.Fatalf("the longest record packs to %d, read as %d: the codes do not reach long records", p.len, packedLen[255])
	}
	for tf := uint32(1); tf <= maxTF; tf++ {
		p := pack(tf, 10)
		if got, _ := p.unpack(maxTF); got < tf || p.tf == 0 {
			t.Fatalf("frequency %d packs to %d, read as %d", tf, p.tf, got)
		}
		if tf < packedTFMax && p.tf != uint8(tf) {
			t.Fatalf("frequency %d packs to %d, want itself", tf, p.tf)
		}
	}
}

// layoutRecords returns blocks blocks of records whose common words take
// every layout a file has: "a" in the first and last two blocks (bounds
// listed, postings narrow), "b" up to 300 times a record (wide), "c" in
// every third record (packed, narrow); and lengths past the exact codes.
func layoutRecords(seed uint64, blocks int) []testRecord {
	rng := rand.New(rand.NewPCG(seed, 12))
	recs := make([]testRecord, blocks*blockSize)
	for i := range recs {
		var words []string
		if b := i / blockSize; b < 2 || b >= blocks-2 {
			words = append(words, "a")
		}
		for range 1 + rng.IntN(300) {
			words = append(words, "b")
		}
		if i%3 == 0 {
			words = append(words, "c")
		}
		for range rng.IntN(400) {
			words = append(words, "x"+strconv.Itoa(rng.IntN(50)))
		}
		rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
		recs[i] = testRecord{strconv.Itoa(i), strings.Join(words, " ")}
	}
	return recs
}

// TestListedAndPackedBoundsRankAsMemory: a file whose common words have
// both kinds of block bounds ranks as the index it was written from, at
// every version, though packed bounds are rounded.
func TestListedAndPackedBoundsRankAsMemory(t *testing.T) {
	ix := New()
	const blocks = 12
	for i, r := range layoutRecords(11, blocks) {
		ix.Add(uint64(i+1), r.id, r.content)
	}
	f := writeOpen(t, filepath.Join(t.TempDir(), "f.bm25"), ix)
	// Every layout of a common word: bounds listed or packed, postings
	// narrow or (a frequency past a byte) wide.
	for word, want := range map[string]string{"a": "listed narrow", "b": "listed wide", "c": "packed narrow"} {
		tp := f.postings(word)
		got := "listed"
		if tp.packed.bounds != nil {
			got = "packed"
		}
		if tp.offs != nil {
			got += " narrow"
		} else {
			got += " wide"
		}
		if got != want || (tp.blocks == nil) == (tp.packed.bounds == nil) {
			t.Fatalf("%q: %s, want %s", word, got, want)
		}
	}
	for _, query := range []string{"a", "b", "c", "a b", "a c", "b c", "a b c", "a x1", "b x7 x9"} {
		for _, limit := range []int{1, 10, 50} {
			for _, upTo := range []uint64{AllVersions, 1, blockSize + 7, 5*blockSize + 1, blocks*blockSize - 1} {
				want, wantScores, _ := ix.TopScored(query, limit, upTo)
				got, scores, _, err := Search(context.Background(), []Part{f}, query, limit, upTo)
				if err != nil || !slices.Equal(got, want) || !slices.Equal(scores, wantScores) {
					t.Fatalf("%q limit %d up to %d: got %v %v %v, want %v %v", query, limit, upTo, got, scores, err, want, wantScores)
				}
			}
		}
	}
}

// termIndex returns term t's place in f.
func termIndex(f *File, t string) int {
	i, _ := searchTerms(len(f.info)-1, func(i int) int { return strings.Compare(f.term(i), t) })
	return i
}

// TestEveryTermIsFound: a file's lookups (sampled terms in memory, then
// a run in the mapping) find every term it holds, whatever the run, and
// no term it does not.
func TestEveryTermIsFound(t *testing.T) {
	ix := New()
	for i := range 3 * blockSize {
		ix.Add(uint64(i+1), strconv.Itoa(i), fmt.Sprintf("t%d t%d common", i, i/3))
	}
	f := writeOpen(t, filepath.Join(t.TempDir(), "f.bm25"), ix)
	if n := len(f.info) - 1; n < 4*sampleEvery || n%sampleEvery == 0 {
		t.Fatalf("%d terms: the test needs several runs and a short last one", n)
	}
	for i := range len(f.info) - 1 {
		term := f.term(i)
		tp := f.postings(term)
		if tp == nil || tp.len() != ix.terms[term].len() {
			t.Fatalf("term %d %q: %+v, want %d postings", i, term, tp, ix.terms[term].len())
		}
		if f.postings(term+"0~") != nil || f.postings(term[:len(term)-1]+"/") != nil {
			t.Fatalf("a term near %q found", term)
		}
	}
	for _, absent := range []string{"", "a", "zzz", "\xff"} {
		if f.postings(absent) != nil {
			t.Fatalf("%q found", absent)
		}
	}
}

// infoPast returns the file b with its first term's table at offset
// field (post, narrow, block or packed) running one past the file's
// total: the next term's entry zero but there, and the first term's
// frequencies past a byte, so that wide postings are its layout.
func infoPast(b []byte, l fileLayout, field uint64) []byte {
	c := slices.Clone(b)
	total := map[uint64]uint64{0: l.postings, 8: l.narrow, 16: l.blocks, 24: l.packed}[field]
	next := c[l.infoOff()+48 : l.infoOff()+96]
	clear(next)
	binary.LittleEndian.PutUint64(next[field:], total+1)
	binary.LittleEndian.PutUint32(c[l.infoOff()+32:], 300)
	return c
}

// writeOpen writes ix as a file at path and opens it.
func writeOpen(t *testing.T, path string, ix *Index) *File {
	t.Helper()
	if err := WriteFile(path, ix); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
