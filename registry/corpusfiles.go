package registry

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/corpus"
)

// A registry with a directory keeps each datanet's corpus_match index as
// segment files (internal/corpus's format) under corpus/<hex of the
// datanet's name>/, named by the versions they hold, FIRST-LAST.seg. They
// are mapped, not read: a node's heap holds only the segments of records
// appended since the last file, and a datanet larger than memory is served
// from the page cache. At the first match after a start the files that
// form an unbroken run of versions from 1 are used, after each is checked
// whole; a damaged, stray or left-over one is deleted, and the versions it
// held are indexed again from the records, which stay the truth.
//
// Appends go to segments in memory (see corpusIndex); once those hold
// persistCorpusBytes they are written as one file, and files then merge
// while the newer is at least half the older's size and the merged one
// stays within corpus.MaxSegmentBytes.
var persistCorpusBytes = 16 << 20

// corpusFiles is where a datanet's segment files live; "" keeps the index
// in memory only (a registry in memory).
func (r *Registry) corpusFiles(datanet string) string {
	if r.dir == "" {
		return ""
	}
	return filepath.Join(r.dir, "corpus", hex.EncodeToString([]byte(datanet)))
}

func segmentName(first, last uint64) string { return fmt.Sprintf("%020d-%020d.seg", first, last) }

// openSegmentFiles returns the segment files of dir that hold versions 1
// to some version in order, mapped, deleting every other (unless the
// registry is read-only).
func (r *Registry) openSegmentFiles(dir string) []*corpus.Segment {
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
		f.name = e.Name()
		if _, err := fmt.Sscanf(f.name, "%020d-%020d.seg", &f.first, &f.last); err != nil || f.name != segmentName(f.first, f.last) {
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

// buildSegments indexes the records of versions after..head of datanet,
// in version order, reading them a page at a time: as files in dir of up
// to corpus.MaxSegmentBytes each, or in memory when dir is "".
func (r *Registry) buildSegments(ctx context.Context, datanet, dir string, after, head uint64) ([]*corpus.Segment, error) {
	var segs []*corpus.Segment
	var ids, contents []string
	first, size := after+1, 0
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		seg, err := r.newSegment(dir, first, ids, contents)
		if err != nil {
			return err
		}
		segs = append(segs, seg)
		first += uint64(len(ids))
		ids, contents, size = nil, nil, 0
		return nil
	}
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
			if dir != "" && size > 0 && size+len(rec.Content)+1 > corpus.MaxSegmentBytes {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			ids, contents = append(ids, rec.ID), append(contents, rec.Content)
			size += len(rec.Content) + 1
			v = rec.Version
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return segs, nil
}

// newSegment indexes records as a file in dir, mapped, or in memory when
// dir is "" or the registry is read-only.
func (r *Registry) newSegment(dir string, first uint64, ids, contents []string) (*corpus.Segment, error) {
	if dir == "" || r.readOnly {
		return corpus.NewSegment(first, ids, contents), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, segmentName(first, first+uint64(len(ids))-1))
	if err := corpus.WriteSegment(path, first, ids, contents); err != nil {
		return nil, err
	}
	return corpus.OpenSegment(path)
}

// persist writes the segments in memory at the end of segs as one file
// once they hold persistCorpusBytes, then merges files while the newer is
// at least half the older's size and the merged one fits a segment. It
// returns the segments to use. On an error it returns segments that hold
// the same records (some still in memory): the index still answers.
func (r *Registry) persist(dir string, segs []*corpus.Segment) ([]*corpus.Segment, error) {
	if dir == "" || r.readOnly {
		return segs, nil
	}
	k := len(segs)
	tail := 0
	for k > 0 && !segs[k-1].Mapped() {
		k--
		tail += segs[k].Size()
	}
	if tail < persistCorpusBytes || tail > corpus.MaxSegmentBytes {
		return segs, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return segs, err
	}
	write := func(in []*corpus.Segment) (*corpus.Segment, error) {
		path := filepath.Join(dir, segmentName(in[0].First(), in[len(in)-1].Last()))
		if err := corpus.WriteMerged(path, in...); err != nil {
			return nil, err
		}
		return corpus.OpenSegment(path)
	}
	seg, err := write(segs[k:])
	if err != nil {
		return segs, err
	}
	out := append(slices.Clone(segs[:k]), seg)
	for n := len(out); n >= 2 && 2*out[n-1].Size() >= out[n-2].Size() && out[n-2].Size()+out[n-1].Size() <= corpus.MaxSegmentBytes; n = len(out) {
		merged, err := write(out[n-2:])
		if err != nil {
			return out, err
		}
		for _, old := range out[n-2:] {
			os.Remove(filepath.Join(dir, segmentName(old.First(), old.Last())))
		}
		out = append(out[:n-2], merged)
	}
	return out, nil
}
