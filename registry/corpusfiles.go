package registry

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/corpus"
)

// A registry with a directory keeps each datanet's corpus_match index as
// segment files (internal/corpus's format) under corpus/<hex of the
// datanet's name>/, named by the versions they hold and the datanet's
// Merkle root at the last of them, FIRST-LAST-ROOT.seg. They are mapped,
// not read: a node's heap holds only the segments of records
// appended since the last file, and a datanet larger than memory is served
// from the page cache. At the first match after a start the files that
// form an unbroken run of versions from 1 are used, after each is checked
// whole and its root against the datanet's (so a store restored from a
// backup, whose versions hold other records, never matches an older
// index); a damaged, stray or left-over one is deleted, and the versions
// it held are indexed again from the records, which stay the truth.
//
// Appends go to segments in memory (see corpusIndex); once those hold
// persistCorpusBytes they are written as one file, and files then merge
// while the newer is at least half the older's size and the merged one
// stays within maxSegmentBytes.
var persistCorpusBytes = 16 << 20

// maxSegmentBytes bounds a segment file's corpus (a variable for tests).
var maxSegmentBytes = corpus.MaxSegmentBytes

// corpusFiles is where a datanet's segment files live; "" keeps the index
// in memory only (a registry in memory).
func (r *Registry) corpusFiles(datanet string) string {
	if r.dir == "" {
		return ""
	}
	return filepath.Join(r.dir, "corpus", hex.EncodeToString([]byte(datanet)))
}

// segmentName names the file of a datanet's versions first..last, root
// being the datanet's root at last; "" if the root cannot be read or is
// not hex.
func (r *Registry) segmentName(datanet string, first, last uint64) string {
	root, err := r.VersionRoot(r.ctx, datanet, last)
	root = strings.TrimPrefix(root, "0x")
	if err != nil || root == "" || strings.Trim(root, "0123456789abcdefABCDEF") != "" {
		return ""
	}
	return fmt.Sprintf("%020d-%020d-%s.seg", first, last, root)
}

// parseSegmentName reads the versions a file's name says it holds.
func parseSegmentName(name string) (first, last uint64, ok bool) {
	parts := strings.Split(strings.TrimSuffix(name, ".seg"), "-")
	if len(parts) != 3 || !strings.HasSuffix(name, ".seg") {
		return 0, 0, false
	}
	_, err := fmt.Sscanf(parts[0]+" "+parts[1], "%d %d", &first, &last)
	return first, last, err == nil && first >= 1 && last >= first
}

// openSegmentFiles returns the segment files of dir that hold versions 1
// to some version in order, mapped, deleting every other (unless the
// registry is read-only).
func (r *Registry) openSegmentFiles(datanet, dir string) []*corpus.Segment {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	type file struct {
		name        string
		first, last uint64
	}
	var files []file
	for _, e := range entries {
		var f file
		var ok bool
		f.name = e.Name()
		if f.first, f.last, ok = parseSegmentName(f.name); !ok {
			r.dropSegmentFile(dir, f.name, "not a segment file's name")
			continue
		}
		files = append(files, f)
	}
	// By first version, and of those starting together the one holding most.
	slices.SortFunc(files, func(a, b file) int {
		if a.first != b.first {
			return cmpUint(a.first, b.first)
		}
		return cmpUint(b.last, a.last)
	})
	var segs []*corpus.Segment
	next := uint64(1)
	for _, f := range files {
		if f.first != next {
			// Held by a file already taken (a merge that did not get to
			// delete its inputs), or after a gap.
			r.dropSegmentFile(dir, f.name, "outside the run of versions from 1")
			continue
		}
		if f.name != r.segmentName(datanet, f.first, f.last) {
			// Versions the datanet does not have, or other records at them.
			r.dropSegmentFile(dir, f.name, "not the datanet's records at those versions")
			continue
		}
		seg, err := corpus.OpenSegment(filepath.Join(dir, f.name))
		if err == nil && (seg.First() != f.first || seg.Last() != f.last) {
			err = fmt.Errorf("holds versions %d-%d", seg.First(), seg.Last())
		}
		if err != nil {
			r.dropSegmentFile(dir, f.name, err.Error())
			continue
		}
		segs = append(segs, seg)
		next = f.last + 1
	}
	return segs
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (r *Registry) dropSegmentFile(dir, name, why string) {
	if r.readOnly {
		return
	}
	if !strings.HasSuffix(name, ".tmp") {
		r.logger.Warn("corpus index: deleting a segment file it will not use", "file", filepath.Join(dir, name), "why", why)
	}
	os.Remove(filepath.Join(dir, name))
}

// segmentWriter cuts records given in version order into segments of at
// most maxSegmentBytes: files in dir, mapped, or in memory when dir is ""
// or the registry is read-only.
type segmentWriter struct {
	r            *Registry
	datanet, dir string
	b            *corpus.Builder
	segs         []*corpus.Segment
}

func newSegmentWriter(r *Registry, datanet, dir string, first uint64) *segmentWriter {
	return &segmentWriter{r: r, datanet: datanet, dir: dir, b: corpus.NewBuilder(first)}
}

func (w *segmentWriter) add(id, content string) error {
	if w.b.Records() > 0 && w.b.Size()+len(content)+1 > maxSegmentBytes {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.b.Add(id, content)
	return nil
}

func (w *segmentWriter) flush() error {
	n := w.b.Records()
	if n == 0 {
		return nil
	}
	seg, err := w.r.newSegment(w.datanet, w.dir, w.b)
	if err != nil {
		return err
	}
	w.segs = append(w.segs, seg)
	w.b = corpus.NewBuilder(seg.Last() + 1)
	return nil
}

// buildSegments indexes the records of versions after..head of datanet,
// in version order, reading them a page at a time.
func (r *Registry) buildSegments(ctx context.Context, datanet, dir string, after, head uint64) ([]*corpus.Segment, error) {
	w := newSegmentWriter(r, datanet, dir, after+1)
	for v := after; v < head; {
		recs, _, err := r.RecordsAt(ctx, datanet, head, v, 4096)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("registry: %s has no record after version %d of %d", datanet, v, head)
		}
		for _, rec := range recs {
			if rec.Version != v+1 {
				return nil, fmt.Errorf("registry: %s: record %s has version %d, want %d", datanet, rec.ID, rec.Version, v+1)
			}
			if err := w.add(rec.ID, rec.Content); err != nil {
				return nil, err
			}
			v = rec.Version
		}
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	return w.segs, nil
}

// newSegment indexes b's records as a file in dir, mapped, or in memory
// when dir is "" or the registry is read-only.
func (r *Registry) newSegment(datanet, dir string, b *corpus.Builder) (*corpus.Segment, error) {
	name := ""
	if dir != "" && !r.readOnly {
		name = r.segmentName(datanet, b.First(), b.First()+uint64(b.Records())-1)
	}
	if name == "" {
		return b.Segment(), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := b.Write(path); err != nil {
		return nil, err
	}
	return corpus.OpenSegment(path)
}

// appendSegments adds the records appended (in version order, after
// segs) to segs. They go to a segment in memory, merged with those before
// it while about its size; once the segments in memory at the end hold
// persistCorpusBytes they are written out as files together, and files
// merge while the newer is at least half the older and the merged one
// fits a segment. Writing a file fails only to memory: the index still
// answers.
func (r *Registry) appendSegments(datanet, dir string, segs []*corpus.Segment, recs []Record) []*corpus.Segment {
	k := len(segs)
	tail := 0
	for k > 0 && !segs[k-1].Mapped() {
		k--
		tail += segs[k].Size()
	}
	for _, rec := range recs {
		tail += len(rec.Content) + 1
	}
	if dir != "" && !r.readOnly && tail >= persistCorpusBytes {
		first := recs[0].Version
		if k < len(segs) {
			first = segs[k].First()
		}
		w := newSegmentWriter(r, datanet, dir, first)
		err := func() error {
			for _, seg := range segs[k:] {
				for i := range seg.Records() {
					id, content := seg.Record(i)
					if err := w.add(id, content); err != nil {
						return err
					}
				}
			}
			for _, rec := range recs {
				if err := w.add(rec.ID, rec.Content); err != nil {
					return err
				}
			}
			return w.flush()
		}()
		if err == nil {
			return r.mergeFiles(datanet, dir, append(slices.Clone(segs[:k]), w.segs...))
		}
		r.logger.Warn("corpus index: writing segment files; keeping the segments in memory", "dir", dir, "err", err)
	}
	ids, contents := make([]string, len(recs)), make([]string, len(recs))
	for i, rec := range recs {
		ids[i], contents[i] = rec.ID, rec.Content
	}
	segs = append(segs, corpus.NewSegment(recs[0].Version, ids, contents))
	for n := len(segs); n >= 2 && !segs[n-2].Mapped() && 2*segs[n-1].Size() >= segs[n-2].Size(); n = len(segs) {
		segs = append(segs[:n-2], segs[n-2].Merge(segs[n-1]))
	}
	return segs
}

// mergeFiles merges the files at the end of segs while the newer is at
// least half the older's size and the merged one fits a segment.
func (r *Registry) mergeFiles(datanet, dir string, segs []*corpus.Segment) []*corpus.Segment {
	for n := len(segs); n >= 2 && segs[n-2].Mapped() && segs[n-1].Mapped() &&
		2*segs[n-1].Size() >= segs[n-2].Size() && segs[n-2].Size()+segs[n-1].Size() <= maxSegmentBytes; n = len(segs) {
		name := r.segmentName(datanet, segs[n-2].First(), segs[n-1].Last())
		err := errors.New("cannot read the datanet's root")
		var merged *corpus.Segment
		if name != "" {
			err = corpus.WriteMerged(filepath.Join(dir, name), segs[n-2:]...)
		}
		if err == nil {
			merged, err = corpus.OpenSegment(filepath.Join(dir, name))
		}
		if err != nil {
			r.logger.Warn("corpus index: merging segment files", "dir", dir, "err", err)
			return segs
		}
		for _, old := range segs[n-2:] {
			if name := r.segmentName(datanet, old.First(), old.Last()); name != "" {
				os.Remove(filepath.Join(dir, name))
			}
		}
		segs = append(segs[:n-2], merged)
	}
	return segs
}
