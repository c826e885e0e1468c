package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/tollgate-dev/tollgate/internal/pageout"
)

// randomRecords makes n records of words from a small vocabulary, so that
// spans repeat across records; big makes them long enough for a suffix
// array.
func randomRecords(rng *rand.Rand, n int, big bool) (ids, contents []string) {
	// Some words end, start or hold others: "cat" in "scat" and "scatters",
	// "é" in "bé", "light" in "lights".
	vocab := []string{"a", "b", "sky", "blue", "the", "Blau", "ß", "é", "light", "scatters", "scat", "cat", "bé", "lights"}
	for i := range n {
		words := 1 + rng.IntN(40)
		if big {
			words = 200 + rng.IntN(400)
		}
		w := make([]string, words)
		for j := range w {
			w[j] = vocab[rng.IntN(len(vocab))]
		}
		ids = append(ids, "rec-"+strconv.Itoa(i)+strings.Repeat("x", rng.IntN(70)))
		contents = append(contents, strings.Join(w, " "))
	}
	return ids, contents
}

// writeOpen writes ids and contents, numbered from first, to a segment file
// at path, indexing which suffixes, and maps it.
func writeOpen(t testing.TB, path string, which Suffixes, first uint64, ids, contents []string) *Segment {
	t.Helper()
	if err := WriteSegment(path, which, first, ids, contents); err != nil {
		t.Fatal(err)
	}
	seg, err := OpenSegment(path)
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

// layoutOf is the layout of the file seg was mapped from, written with
// which to hold ids.
func layoutOf(seg *Segment, which Suffixes, ids []string) layout {
	l := layout{which: which, first: seg.first, records: uint64(len(ids)), text: uint64(seg.Size()),
		entries: uint64(len(seg.sa)), vocab: uint64(len(seg.vocab)), vocabEntries: uint64(len(seg.vocabSA))}
	for _, id := range ids {
		l.idBytes += uint64(len(id))
	}
	return l
}

// A segment written to a file and mapped back answers every match as the
// same records indexed in memory: the same spans, records and cuts by
// version, through its own suffix array or by scanning.
func TestSegmentFileMatchesMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	dir := t.TempDir()
	for trial := range 60 {
		big := trial%2 == 1
		n := 1 + rng.IntN(60)
		if big {
			n += 10
		}
		ids, contents := randomRecords(rng, n, big)
		first := uint64(1 + rng.IntN(100))
		mem := NewSegment(first, ids, contents)
		path := filepath.Join(dir, strconv.Itoa(trial)+".seg")
		which := Suffixes(trial / 2 % 2) // AllSuffixes, then WordStarts
		if err := WriteSegment(path, which, first, ids, contents); err != nil {
			t.Fatal(err)
		}
		file, err := OpenSegment(path)
		if err != nil {
			t.Fatal(err)
		}
		if big != (file.sa != nil) || big != (mem.idx != nil) || file.wordStarts != (big && which == WordStarts) {
			t.Fatalf("trial %d: a %d-byte corpus: mapped array %v, memory index %v", trial, file.Size(), file.sa != nil, mem.idx != nil)
		}
		if file.Size() != mem.Size() || file.Records() != len(ids) || file.First() != first || file.Last() != first+uint64(len(ids))-1 {
			t.Fatalf("trial %d: size %d records %d first %d last %d", trial, file.Size(), file.Records(), file.First(), file.Last())
		}
		for q := range 20 {
			out := contents[rng.IntN(len(contents))]
			if w := strings.Fields(out); len(w) > 30 {
				k := rng.IntN(len(w) - 20)
				out = strings.Join(w[k:k+20], " ")
			}
			out += " light the sky " + strconv.Itoa(q)
			minTokens := 1 + rng.IntN(5)
			upTo := first + uint64(rng.IntN(len(ids)+1))
			if q == 0 {
				upTo = math.MaxUint64
			}
			got := Match([]*Segment{file}, out, minTokens, upTo)
			want := Match([]*Segment{mem}, out, minTokens, upTo)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d: mapped %+v\nmemory %+v", trial, got, want)
			}
			for _, w := range []string{"sky blue", "ß é", "a", "cat", "é", "nowhere"} {
				a, b := file.lookup([]byte(w), -1), mem.lookup([]byte(w), -1)
				if file.wordStarts { // its array finds only the occurrences that start a word
					b = slices.DeleteFunc(b, func(off int) bool { return wordBefore(mem.text, off) })
				}
				if !reflect.DeepEqual(sorted(a), sorted(b)) {
					t.Fatalf("trial %d: lookup %q: %v, in memory %v", trial, w, a, b)
				}
			}
		}
	}
}

// runsText joins one to four runs of words cut from random records, each
// at most maxRun words long, and after each run a word found nowhere
// (numbered q) when gap says so.
func runsText(rng *rand.Rand, records []string, maxRun, q int, gap func() bool) string {
	var parts []string
	for range 1 + rng.IntN(4) {
		w := strings.Fields(records[rng.IntN(len(records))])
		k := rng.IntN(len(w))
		parts = append(parts, strings.Join(w[k:min(len(w), k+1+rng.IntN(maxRun))], " "))
		if gap() {
			parts = append(parts, "nowhere"+strconv.Itoa(q))
		}
	}
	return strings.Join(parts, " ")
}

func sorted(a []int) []int {
	a = slices.Clone(a)
	slices.Sort(a)
	return a
}

// A file cut short, with any byte changed, of another format or not a
// segment at all is refused as ErrBadSegment, never mapped as a segment.
func TestSegmentFileDamageIsRefused(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ids, contents := randomRecords(rng, 50, true)
	dir := t.TempDir()
	path := filepath.Join(dir, "good.seg")
	seg := writeOpen(t, path, WordStarts, 1, ids, contents)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := layoutOf(seg, WordStarts, ids)
	if !seg.wordStarts || l.entries == 0 || l.entries >= l.text/3 || l.vocab == 0 || len(seg.filter) == 0 || l.size() != uint64(len(good)) {
		t.Fatalf("a WordStarts file of %d bytes with %d entries, %d bytes of vocabulary and a filter of %d words; %d bytes in all, the layout says %d",
			l.text, l.entries, l.vocab, len(seg.filter), len(good), l.size())
	}
	cases := map[string][]byte{
		"empty":           {},
		"header only":     good[:headerBytes],
		"truncated":       good[:len(good)-1],
		"one byte longer": append(append([]byte(nil), good...), 0),
		"not a segment":   append([]byte("NOTASEGM"), good[8:]...),
	}
	newer := append([]byte(nil), good...)
	newer[8] = FileFormat + 1
	cases["newer format"] = newer
	for name, off := range map[string]uint64{
		"header": 20, "text": headerBytes + 5, "starts": l.startsOff() + 3, "id table": l.idOffsOff() + 9,
		"suffix array": l.saOff() + 4*17 + 1, "vocabulary": l.vocabOff() + 3, "vocabulary array": l.vocabSAOff() + 4*5 + 2,
		"filter": l.filterOff() + 5, "ids": l.idsOff() + 2, "last byte": uint64(len(good) - 1), "flags": 12,
	} {
		b := append([]byte(nil), good...)
		b[off] ^= 0x40
		cases["flipped in "+name] = b
	}
	for name, b := range cases {
		p := filepath.Join(dir, "bad.seg")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if seg, err := OpenSegment(p); !errors.Is(err, ErrBadSegment) {
			_ = seg
			t.Errorf("%s: opened (%v), want ErrBadSegment", name, err)
		}
	}
	// A file that is not there says nothing of its contents: not
	// ErrBadSegment, on which its owner would delete it.
	if _, err := OpenSegment(filepath.Join(dir, "missing.seg")); !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrBadSegment) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := OpenSegment(path); err != nil {
		t.Fatalf("the good file: %v", err)
	}
}

// A writer killed at any point, building a file or merging two, leaves no
// file at the path, or a whole one: never one OpenSegment accepts with
// other contents. Each kill comes after
// the child has finished some writes, at a random point of the next one,
// and the test checks that some kills did land mid-write (a temporary file
// left behind) and that whole files were there to check.
func TestSegmentFileKilledMidWrite(t *testing.T) {
	if dir := os.Getenv("TOLLGATE_SEGMENT_WRITER"); dir != "" {
		rng := rand.New(rand.NewPCG(11, 12))
		ids, contents := randomRecords(rng, 1500, true)
		// Every other write merges two halves' files from their arrays.
		var halves []*Segment
		for k, part := range [][2]int{{0, 700}, {700, 1500}} {
			p := filepath.Join(dir, fmt.Sprintf("half%d", k))
			if err := WriteSegment(p, WordStarts, uint64(1+part[0]), ids[part[0]:part[1]], contents[part[0]:part[1]]); err != nil {
				panic(err)
			}
			seg, err := OpenSegment(p)
			if err != nil {
				panic(err)
			}
			halves = append(halves, seg)
		}
		for i := 0; ; i++ {
			path := filepath.Join(dir, strconv.Itoa(i%3)+".seg")
			err := WriteSegment(path, WordStarts, 1, ids, contents)
			if i%2 == 1 {
				err = WriteMerged(path, WordStarts, halves...)
			}
			if err != nil {
				panic(err)
			}
			fmt.Println("wrote", i)
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	ids, contents := randomRecords(rng, 1500, true)
	want := NewSegment(1, ids, contents)
	dir := t.TempDir()
	jitter := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	checked, midWrite := 0, 0
	for kill := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSegmentFileKilledMidWrite$")
		cmd.Env = append(os.Environ(), "TOLLGATE_SEGMENT_WRITER="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for 1 to 3 finished writes, timing them, then kill at a
		// random point of the next.
		lines := bufio.NewScanner(out)
		last, took := time.Now(), time.Duration(0)
		for n := 0; n <= kill%3 && lines.Scan(); n++ {
			took, last = time.Since(last), time.Now()
		}
		time.Sleep(time.Duration(jitter.Int64N(int64(took) + 1)))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmps) > 0 {
			midWrite++
			for _, p := range tmps {
				os.Remove(p)
			}
		}
		for i := range 3 {
			p := filepath.Join(dir, strconv.Itoa(i)+".seg")
			if _, err := os.Stat(p); os.IsNotExist(err) {
				continue
			}
			seg, err := OpenSegment(p)
			if err != nil {
				t.Fatalf("after kill %d: %s is there but refused: %v", kill, p, err)
			}
			text := "sky blue light the a b " + contents[7][:200]
			if got, w := Match([]*Segment{seg}, text, 2, math.MaxUint64), Match([]*Segment{want}, text, 2, math.MaxUint64); !reflect.DeepEqual(got, w) {
				t.Fatalf("after kill %d: %s answers otherwise", kill, p)
			}
			checked++
		}
	}
	if checked == 0 || midWrite == 0 {
		t.Fatalf("%d whole files checked, %d kills mid-write: the test checked nothing", checked, midWrite)
	}
	t.Logf("%d whole files checked, %d of 6 kills left a write half done", checked, midWrite)
}

// Files written from other segments' records (WriteMerged) hold the same
// records, read back by Record, and answer as one segment built at once.
func TestWriteMergedMatchesOneSegment(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	dir := t.TempDir()
	ids, contents := randomRecords(rng, 80, true)
	a := NewSegment(5, ids[:30], contents[:30])
	bPath := filepath.Join(dir, "b.seg")
	if err := WriteSegment(bPath, WordStarts, 35, ids[30:], contents[30:]); err != nil {
		t.Fatal(err)
	}
	b, err := OpenSegment(bPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteMerged(filepath.Join(dir, "bad.seg"), WordStarts, b, a); err == nil {
		t.Fatal("merged segments out of version order")
	}
	path := filepath.Join(dir, "ab.seg")
	if err := WriteMerged(path, WordStarts, a, b); err != nil {
		t.Fatal(err)
	}
	ab, err := OpenSegment(path)
	if err != nil {
		t.Fatal(err)
	}
	whole := NewSegment(5, ids, contents)
	for i := range ids {
		if id, c := ab.Record(i); id != ids[i] || c != contents[i] {
			t.Fatalf("record %d: %q %q", i, id, c)
		}
	}
	for range 50 {
		out := contents[rng.IntN(len(contents))][:300] + " sky blue the"
		upTo := uint64(5 + rng.IntN(85))
		if got, want := Match([]*Segment{ab}, out, 3, upTo), Match([]*Segment{whole}, out, 3, upTo); !reflect.DeepEqual(got, want) {
			t.Fatalf("merged %+v\nwhole %+v", got, want)
		}
	}
}

// Across several mapped segments, matches find what the same segments in
// memory find: the same spans, records and cuts by version, for texts made
// of runs of records and of runs found nowhere.
func TestMappedSegmentsMatchLikeMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	dir := t.TempDir()
	for trial := range 12 {
		var files, mems []*Segment
		var all []string
		version := uint64(1)
		for s := range 1 + rng.IntN(4) {
			ids, contents := randomRecords(rng, 10+rng.IntN(30), true)
			path := filepath.Join(dir, fmt.Sprintf("%d-%d.seg", trial, s))
			if err := WriteSegment(path, WordStarts, version, ids, contents); err != nil {
				t.Fatal(err)
			}
			f, err := OpenSegment(path)
			if err != nil {
				t.Fatal(err)
			}
			files, mems = append(files, f), append(mems, NewSegment(version, ids, contents))
			all = append(all, contents...)
			version += uint64(len(ids))
		}
		for q := range 30 {
			out := runsText(rng, all, 60, q, func() bool { return true })
			minTokens := 1 + rng.IntN(6)
			upTo := uint64(1 + rng.IntN(int(version)))
			if q%3 == 0 {
				upTo = math.MaxUint64
			}
			got := Match(files, out, minTokens, upTo)
			want := Match(mems, out, minTokens, upTo)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d, up to %d:\nmapped %+v\nmemory %+v", trial, upTo, got, want)
			}
		}
	}
}

// TestOpenSegmentLeavesItsPagesOutOfTheProcess: the check at open reads
// the whole file, and the process does not keep counting those pages.
func TestOpenSegmentLeavesItsPagesOutOfTheProcess(t *testing.T) {
	ids, contents := randomRecords(rand.New(rand.NewPCG(9, 9)), 400, true)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a.seg")
	if err := WriteSegment(path, WordStarts, 1, ids, contents); err != nil {
		t.Fatal(err)
	}
	seg, err := OpenSegment(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	resident, err := pageout.Resident()
	if err != nil || resident == nil {
		t.Skip("no /proc/self/smaps")
	}
	if kb := resident[path]; kb*1024 > st.Size()/4 {
		t.Fatalf("%d KB of a %d KB file resident after open", kb, st.Size()/1024)
	}
	if spans := Match([]*Segment{seg}, contents[7], 3, math.MaxUint64); len(spans) == 0 {
		t.Fatal("a record's own text matches nothing after open")
	}
	// A binary search's miss reads the page it needs, not megabytes around
	// it; so after a merge, which reads the text in order.
	if err := pageout.ReadAtRandom(path); err != nil {
		t.Fatal(err)
	}
	ids2, contents2 := randomRecords(rand.New(rand.NewPCG(9, 10)), 50, true)
	path2 := filepath.Join(dir, "b.seg")
	if err := WriteSegment(path2, WordStarts, seg.Last()+1, ids2, contents2); err != nil {
		t.Fatal(err)
	}
	seg2, err := OpenSegment(path2)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteMerged(filepath.Join(dir, "ab.seg"), WordStarts, seg, seg2); err != nil {
		t.Fatal(err)
	}
	if err := pageout.ReadAtRandom(path, path2); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(seg)
	runtime.KeepAlive(seg2)
}

// Two WordStarts files merged from their arrays make the very file that
// building one from all their records makes, byte for byte: the same
// array, vocabulary and tables. Some trials end the older segment with
// records that repeat earlier text, whose suffixes sort elsewhere once they
// go on into the newer segment's text.
func TestMergedArraysAreTheBuiltFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	dir := t.TempDir()
	moved := 0
	for trial := range 24 {
		ids, contents := randomRecords(rng, 40+rng.IntN(60), true)
		cut := 15 + rng.IntN(len(ids)-30)
		if trial%3 == 0 {
			// The older segment's last records repeat earlier ones.
			k := 1 + rng.IntN(3)
			for i := range k {
				contents[cut-k+i] = contents[rng.IntN(cut-k)]
			}
		}
		if trial%4 == 1 {
			contents[cut-1] = contents[cut-2] + " " + contents[cut-3] // ends as one record does
		}
		write := func(name string, first uint64, ids, contents []string) *Segment {
			path := filepath.Join(dir, fmt.Sprintf("%d-%s.seg", trial, name))
			if err := WriteSegment(path, WordStarts, first, ids, contents); err != nil {
				t.Fatal(err)
			}
			seg, err := OpenSegment(path)
			if err != nil || !seg.wordStarts {
				t.Fatalf("%s: %v", name, err)
			}
			return seg
		}
		a := write("a", 3, ids[:cut], contents[:cut])
		b := write("b", 3+uint64(cut), ids[cut:], contents[cut:])
		write("whole", 3, ids, contents)
		tail, err := a.repeatedTail()
		if err != nil {
			t.Fatal(err)
		}
		moved += len(tail)
		if !mergesArrays(WordStarts, []*Segment{a, b}) || MaxMerged(WordStarts, a, b) != MaxMergedBytes {
			t.Fatal("two WordStarts files are not merged from their arrays")
		}
		merged := filepath.Join(dir, fmt.Sprintf("%d-merged.seg", trial))
		if err := WriteMerged(merged, WordStarts, a, b); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(merged)
		want, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d-whole.seg", trial)))
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (%d suffixes moved): the merged file (%d bytes) is not the built one (%d bytes)", trial, len(tail), len(got), len(want))
		}
		if _, err := OpenSegment(merged); err != nil {
			t.Fatal(err)
		}
	}
	if moved < 24 {
		t.Fatalf("only %d suffixes were sorted again in all trials", moved)
	}
}

// A merge whose older segment ends with more than maxMovedBytes that occur
// in it twice is refused, not sorted: records are distinct, so only
// crafted text does that.
func TestMergeOfARepeatedTailIsRefused(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	ids, contents := randomRecords(rng, 2000, true)
	n := 0
	for _, c := range contents {
		n += len(c) + 1
	}
	if n <= maxMovedBytes {
		t.Fatalf("%d bytes", n)
	}
	ids2 := make([]string, len(ids))
	for i := range ids {
		ids2[i] = ids[i] + "-again"
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.seg"), filepath.Join(dir, "b.seg")
	if err := WriteSegment(a, WordStarts, 1, slices.Concat(ids, ids2), slices.Concat(contents, contents)); err != nil {
		t.Fatal(err)
	}
	if err := WriteSegment(b, WordStarts, uint64(2*len(ids)+1), ids[:20], contents[:20]); err != nil {
		t.Fatal(err)
	}
	sa, err := OpenSegment(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := OpenSegment(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteMerged(filepath.Join(dir, "ab.seg"), WordStarts, sa, sb); err == nil || !strings.Contains(err.Error(), "occur in it twice") {
		t.Fatalf("merged: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "ab.seg*")); len(left) > 0 {
		t.Fatalf("left %v", left)
	}
}

// A merge whose older segment's last megabyte holds no word start, after
// text that occurs twice, is refused too: the repeated tail may go on
// before the window.
func TestMergeOfATailWithoutWordsIsRefused(t *testing.T) {
	long := "x" + strings.Repeat(" ", 1100<<10)
	dir := t.TempDir()
	sa := writeOpen(t, filepath.Join(dir, "a.seg"), WordStarts, 1, []string{"1", "2"}, []string{long, long})
	ids, contents := randomRecords(rand.New(rand.NewPCG(1, 2)), 20, true)
	sb := writeOpen(t, filepath.Join(dir, "b.seg"), WordStarts, 3, ids, contents)
	if err := WriteMerged(filepath.Join(dir, "ab.seg"), WordStarts, sa, sb); err == nil || !strings.Contains(err.Error(), "occur in it twice") {
		t.Fatalf("merged: %v", err)
	}
}

// A merge that would read more than mergeCompares bytes per corpus byte
// comparing suffixes is refused, and leaves no file.
func TestMergeOfLongRepeatsIsRefused(t *testing.T) {
	ids, contents := randomRecords(rand.New(rand.NewPCG(3, 4)), 60, true)
	dir := t.TempDir()
	var segs []*Segment
	for k, part := range [][2]int{{0, 30}, {30, 60}} {
		segs = append(segs, writeOpen(t, filepath.Join(dir, fmt.Sprintf("%d.seg", k)), WordStarts, uint64(1+part[0]), ids[part[0]:part[1]], contents[part[0]:part[1]]))
	}
	defer func(n int) { mergeCompares = n }(mergeCompares)
	mergeCompares = 1
	if err := WriteMerged(filepath.Join(dir, "m.seg"), WordStarts, segs...); err == nil || !strings.Contains(err.Error(), "comparing suffixes") {
		t.Fatalf("merged: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "m.seg*")); len(left) > 0 {
		t.Fatalf("left %v", left)
	}
	mergeCompares = 256
	if err := WriteMerged(filepath.Join(dir, "m.seg"), WordStarts, segs...); err != nil {
		t.Fatal(err)
	}
}

// Records of long words (few separators, as in Chinese or identifiers)
// have a vocabulary nearly their size: such a segment is written with
// every suffix, and matches as in memory.
func TestLongWordsAreIndexedWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var ids, contents []string
	for i := range 200 {
		var b strings.Builder
		for range 4 {
			for range 60 {
				b.WriteByte(byte('a' + rng.IntN(3)))
			}
			b.WriteString("。")
		}
		ids, contents = append(ids, strconv.Itoa(i)), append(contents, b.String())
	}
	seg := writeOpen(t, filepath.Join(t.TempDir(), "long.seg"), WordStarts, 1, ids, contents)
	if seg.Suffixes() != AllSuffixes || seg.wordStarts || len(seg.sa) != seg.Size() {
		t.Fatalf("written as %v with %d entries for %d bytes", seg.Suffixes(), len(seg.sa), seg.Size())
	}
	mem := NewSegment(1, ids, contents)
	for q := range 20 {
		c := contents[rng.IntN(len(contents))]
		out := c[rng.IntN(100):200] + "。 nowhere" + strconv.Itoa(q)
		if got, want := Match([]*Segment{seg}, out, 1, math.MaxUint64), Match([]*Segment{mem}, out, 1, math.MaxUint64); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %+v, in memory %+v", out, got, want)
		}
	}
}

// A merge whose older segment ends with a long record that repeats the one
// before it, word start for word start, has hundreds of thousands of
// suffixes to sort again, each comparison as long as the record: it gives
// up at its budget rather than after the sort.
func TestMergeOfALongRepeatedRecordGivesUp(t *testing.T) {
	run := strings.Repeat(" a", 250_000)
	dir := t.TempDir()
	sa := writeOpen(t, filepath.Join(dir, "a.seg"), WordStarts, 1, []string{"1", "2"}, []string{run, "z" + run})
	ids, contents := randomRecords(rand.New(rand.NewPCG(1, 2)), 20, true)
	sb := writeOpen(t, filepath.Join(dir, "b.seg"), WordStarts, 3, ids, contents)
	if tail, err := sa.repeatedTail(); err != nil || len(tail) < 200_000 {
		t.Fatalf("%d suffixes to sort again (%v)", len(tail), err)
	}
	if err := WriteMerged(filepath.Join(dir, "ab.seg"), WordStarts, sa, sb); err == nil || !strings.Contains(err.Error(), "comparing suffixes") {
		t.Fatalf("merged: %v", err)
	}
}

// A last record ending in more than a megabyte with no word start merges,
// when nothing before it repeats, into the file built from all records.
func TestMergeOfALongUnrepeatedTail(t *testing.T) {
	ids, contents := randomRecords(rand.New(rand.NewPCG(7, 8)), 40, true)
	contents[19] = "unique " + strings.Repeat(".", 1100<<10)
	dir := t.TempDir()
	var segs []*Segment
	for k, part := range [][2]int{{0, 20}, {20, 40}} {
		segs = append(segs, writeOpen(t, filepath.Join(dir, fmt.Sprintf("%d.seg", k)), WordStarts, uint64(1+part[0]), ids[part[0]:part[1]], contents[part[0]:part[1]]))
	}
	merged, whole := filepath.Join(dir, "m.seg"), filepath.Join(dir, "whole.seg")
	if err := WriteMerged(merged, WordStarts, segs...); err != nil {
		t.Fatal(err)
	}
	if err := WriteSegment(whole, WordStarts, 1, ids, contents); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(merged)
	want, _ := os.ReadFile(whole)
	if !slices.Equal(got, want) {
		t.Fatal("the merged file is not the built one")
	}
}

// TestFenceBoundsHoldTheAnswer holds a fence's bounds to a search of the
// whole array: for keys of 8 and 16 bytes, several samplings, and every
// query and text, the part of the array the fence gives holds the first
// suffix not less than the query and every suffix it prefixes. The bytes include NUL and 0xff, the fence's
// paddings, and queries run shorter and longer than its keys and past the
// text's end.
func TestFenceBoundsHoldTheAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	alphabet := []byte{0, 'a', 'b', 0xfe, 0xff}
	for trial := range 40 {
		text := make([]byte, 1+rng.IntN(600))
		for i := range text {
			text[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if trial%2 == 0 { // long shared prefixes: a key's 16 bytes tie
			for i := range text {
				if rng.IntN(8) > 0 {
					text[i] = 'a'
				}
			}
		}
		sa := make([]int32, len(text))
		for i := range sa {
			sa[i] = int32(i)
		}
		slices.SortFunc(sa, func(x, y int32) int { return bytes.Compare(text[x:], text[y:]) })
		for _, shape := range []fenceShape{{2, 0}, {2, 1}, {2, 3}, {2, 5}, {1, 0}, {1, 2}, {1, 4}} {
			seg := &Segment{text: text, sa: sa, fence: newFence(text, sa, shape)}
			for range 200 {
				var q []byte
				if rng.IntN(2) == 0 {
					p := rng.IntN(len(text))
					q = text[p:min(len(text), p+1+rng.IntN(24))]
				} else {
					q = make([]byte, 1+rng.IntN(24))
					for i := range q {
						q[i] = alphabet[rng.IntN(len(alphabet))]
					}
				}
				wantLo, wantHi := search(text, sa, q, 0, len(sa))
				from, to := seg.fence.bounds(q, len(sa))
				if wantHi > wantLo && (from > wantLo || to < wantHi) {
					t.Fatalf("fence %v, %q in %q: fence bounds [%d,%d) miss the answer [%d,%d)", shape, q, text, from, to, wantLo, wantHi)
				}
				if lo, hi := seg.narrow(q, 0, len(sa)); hi-lo != wantHi-wantLo || hi > lo && lo != wantLo {
					t.Fatalf("fence %v, %q in %q: narrow gives [%d,%d), want [%d,%d)", shape, q, text, lo, hi, wantLo, wantHi)
				}
			}
		}
	}
}

// TestSegmentFileWithoutItsArrayIsRefused: a file of every suffix whose
// header says it has no array is refused unless its text is small enough
// to scan, checksum or not: a mapped text without an array is indexed in
// the heap when opened, which must stay small.
func TestSegmentFileWithoutItsArrayIsRefused(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	ids, contents := randomRecords(rng, 50, true)
	path := filepath.Join(t.TempDir(), "all.seg")
	seg := writeOpen(t, path, AllSuffixes, 1, ids, contents)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := layoutOf(seg, AllSuffixes, ids)
	if l.text <= smallCorpus || l.entries != l.text || l.size() != uint64(len(good)) {
		t.Fatalf("a file of %d bytes of text with %d entries; %d bytes, the layout says %d", l.text, l.entries, len(good), l.size())
	}
	body := slices.Concat(good[headerBytes:l.saOff()], good[l.saOff()+pad8(4*l.entries):])
	l.entries = 0
	bad := slices.Concat(header(l, xxhash.Sum64(body)), body)
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSegment(path); !errors.Is(err, ErrBadSegment) || !strings.Contains(err.Error(), "entries") {
		t.Fatalf("a %d-byte text without its array: %v, want ErrBadSegment", l.text, err)
	}
}
