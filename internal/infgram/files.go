package infgram

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/tollgate-dev/tollgate/internal/corpus"
	"github.com/tollgate-dev/tollgate/internal/fsutil"
)

// A model's files are a directory: its vocabulary, and its segments
// (package corpus's format) named 00000000.seg, 00000001.seg, ... A
// segment's records are token ids, 3 bytes each, ending in the separator
// (id 0): two zero bytes, and the NUL corpus adds after every record.
//
// The vocabulary file is a 48-byte header, then the tokens from id 1 on,
// each ended by a newline (no token holds one: newlines separate tokens):
//
//	magic "TGVOCAB\x00" | format uint64 | records uint64 | segments uint64 |
//	tokens uint64 | xxhash64 of the header's first 40 bytes and the body
//
// (little-endian). A Builder writes the directory beside its name and
// renames it whole, so a directory under the name is complete; [Open]
// checks it all the same, every segment whole and every id in the
// vocabulary, and refuses a damaged one with ErrBadFiles.
const (
	vocabMagic  = "TGVOCAB\x00"
	vocabFormat = 1
	vocabHeader = 48
	vocabFile   = "vocab"
)

// ErrBadFiles is a model directory that is damaged or not a model's.
var ErrBadFiles = errors.New("infgram: model files are damaged")

// segmentBytes bounds a segment's text (a variable for tests).
var segmentBytes = corpus.MaxSegmentBytes

// Builder builds a model from records added in order, a segment at a time:
// in memory, or as files in a directory, holding in memory only the
// vocabulary and the segment being built.
type Builder struct {
	dir, tmp string // "" in memory
	vocab    map[string]uint32
	tokens   []string
	cur      *corpus.Builder
	segs     []*corpus.Segment
	records  int
	buf      []byte
}

// NewBuilder starts a model; its files go to dir, which must not exist
// yet ("" keeps the model in memory).
func NewBuilder(dir string) (*Builder, error) {
	b := &Builder{dir: dir, vocab: map[string]uint32{}, tokens: []string{""}, cur: corpus.NewBuilder(1)}
	if dir != "" {
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".*.tmp")
		if err != nil {
			return nil, err
		}
		b.tmp = tmp
	}
	return b, nil
}

// Add appends a record.
func (b *Builder) Add(r Record) error {
	b.buf = b.buf[:0]
	for _, t := range Tokens(r.Content) {
		id, ok := b.vocab[t]
		if !ok {
			if len(b.tokens) > MaxVocabulary {
				b.Abort()
				return ErrVocabulary
			}
			id = uint32(len(b.tokens))
			b.vocab[t] = id
			b.tokens = append(b.tokens, t)
		}
		b.buf = appendID(b.buf, id)
	}
	b.buf = append(b.buf, 0, 0) // and the NUL: the separator's id
	if b.cur.Records() > 0 && b.cur.Size()+len(b.buf)+1 > segmentBytes {
		if err := b.flush(); err != nil {
			return err
		}
	}
	b.cur.AddBytes(r.ID, b.buf)
	b.records++
	return nil
}

func (b *Builder) flush() error {
	if b.cur.Records() == 0 {
		return nil
	}
	var seg *corpus.Segment
	if b.tmp == "" {
		seg = b.cur.Segment()
	} else {
		path := filepath.Join(b.tmp, segmentName(len(b.segs)))
		err := b.cur.Write(path, corpus.AllSuffixes)
		if err == nil {
			seg, err = corpus.OpenSegment(path)
		}
		if err != nil {
			b.Abort()
			return err
		}
	}
	b.segs = append(b.segs, seg)
	b.cur = corpus.NewBuilder(seg.Last() + 1)
	return nil
}

func segmentName(i int) string { return fmt.Sprintf("%08d.seg", i) }

// Model finishes the model: in memory, or its files written, renamed to
// the builder's directory and mapped.
func (b *Builder) Model() (*Model, error) {
	if err := b.flush(); err != nil {
		return nil, err
	}
	if b.tmp == "" {
		return &Model{vocab: b.vocab, tokens: b.tokens, segs: b.segs, records: b.records}, nil
	}
	body := []byte(strings.Join(b.tokens[1:], "\n"))
	if len(b.tokens) > 1 {
		body = append(body, '\n')
	}
	head := make([]byte, vocabHeader)
	copy(head, vocabMagic)
	binary.LittleEndian.PutUint64(head[8:], vocabFormat)
	binary.LittleEndian.PutUint64(head[16:], uint64(b.records))
	binary.LittleEndian.PutUint64(head[24:], uint64(len(b.segs)))
	binary.LittleEndian.PutUint64(head[32:], uint64(len(b.tokens)-1))
	binary.LittleEndian.PutUint64(head[40:], vocabSum(head, body))
	if err := fsutil.WriteFileAtomic(filepath.Join(b.tmp, vocabFile), append(head, body...), 0o600); err != nil {
		b.Abort()
		return nil, err
	}
	if err := os.Rename(b.tmp, b.dir); err != nil {
		b.Abort()
		// Another build of the same model got there first: use it.
		if m, openErr := Open(b.dir); openErr == nil {
			return m, nil
		}
		return nil, err
	}
	b.tmp = ""
	if err := fsutil.SyncDir(filepath.Dir(b.dir)); err != nil {
		return nil, err
	}
	return Open(b.dir)
}

// Abort drops what a builder of files wrote.
func (b *Builder) Abort() {
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
		b.tmp = ""
	}
}

func vocabSum(head, body []byte) uint64 {
	d := xxhash.New()
	d.Write(head[:40])
	d.Write(body)
	return d.Sum64()
}

// Open maps the model a Builder wrote in dir, after checking all of it. A
// damaged directory, or one whose vocabulary is missing (a deletion cut
// short), is ErrBadFiles; an error that says nothing of the files (no
// directory there at all, out of descriptors) is returned as it is.
func Open(dir string) (*Model, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadFiles, dir, fmt.Sprintf(format, a...))
	}
	raw, err := os.ReadFile(filepath.Join(dir, vocabFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat(dir); statErr == nil {
			return nil, bad("no vocabulary")
		}
	}
	if err != nil {
		return nil, err
	}
	if len(raw) < vocabHeader || string(raw[:8]) != vocabMagic {
		return nil, bad("no vocabulary header")
	}
	head, body := raw[:vocabHeader], raw[vocabHeader:]
	if f := binary.LittleEndian.Uint64(head[8:]); f != vocabFormat {
		return nil, bad("format %d, this build reads %d", f, vocabFormat)
	}
	if binary.LittleEndian.Uint64(head[40:]) != vocabSum(head, body) {
		return nil, bad("vocabulary checksum")
	}
	records := binary.LittleEndian.Uint64(head[16:])
	nsegs := binary.LittleEndian.Uint64(head[24:])
	ntokens := binary.LittleEndian.Uint64(head[32:])
	if ntokens > MaxVocabulary || nsegs > uint64(records)+1 {
		return nil, bad("%d tokens in %d segments", ntokens, nsegs)
	}
	m := &Model{vocab: map[string]uint32{}, tokens: []string{""}, records: int(records)}
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			return nil, bad("a token without its newline")
		}
		t := string(body[:i])
		if _, dup := m.vocab[t]; dup || t == "" {
			return nil, bad("token %q twice or empty", t)
		}
		m.vocab[t] = uint32(len(m.tokens))
		m.tokens = append(m.tokens, t)
		body = body[i+1:]
	}
	if uint64(len(m.tokens)-1) != ntokens {
		return nil, bad("%d tokens, the header says %d", len(m.tokens)-1, ntokens)
	}
	next := uint64(1)
	for i := range int(nsegs) {
		seg, err := corpus.OpenSegment(filepath.Join(dir, segmentName(i)))
		if errors.Is(err, os.ErrNotExist) {
			return nil, bad("segment %d is missing", i)
		}
		if err != nil && !errors.Is(err, corpus.ErrBadSegment) {
			return nil, err // not the files' fault: out of descriptors, say
		}
		if err != nil {
			return nil, bad("segment %d: %v", i, err)
		}
		if seg.Suffixes() != corpus.AllSuffixes {
			return nil, bad("segment %d indexes only word starts, not every token", i)
		}
		if seg.First() != next {
			return nil, bad("segment %d starts at record %d, want %d", i, seg.First(), next)
		}
		if err := checkIDs(seg.Text(), len(m.tokens)); err != nil {
			return nil, bad("segment %d: %v", i, err)
		}
		m.segs = append(m.segs, seg)
		next = seg.Last() + 1
	}
	if next-1 != records {
		return nil, bad("%d records, the header says %d", next-1, records)
	}
	if extra, _ := filepath.Glob(filepath.Join(dir, segmentName(int(nsegs)))); len(extra) > 0 {
		return nil, bad("more segments than the header says")
	}
	return m, nil
}

// checkIDs checks that text is whole ids, each in the vocabulary, ending in
// the separator.
func checkIDs(text []byte, tokens int) error {
	if len(text)%idWidth != 0 || len(text) > 0 && idAt(text, len(text)-idWidth) != 0 {
		return errors.New("not whole token ids ending a record")
	}
	for off := 0; off < len(text); off += idWidth {
		if id := idAt(text, off); int(id) >= tokens {
			return errors.New("token id " + strconv.Itoa(int(id)) + " outside the vocabulary")
		}
	}
	return nil
}
