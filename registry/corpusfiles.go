package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/abi"
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
// persistCorpusBytes a background job writes them as files, and merges
// files while the newer is at least half the older's size and the merged
// one stays within maxSegmentBytes. A file that cannot be written (a full
// or read-only disk) leaves its records indexed in memory, and writing is
// tried again once twice as many bytes are in memory.
var persistCorpusBytes = 16 << 20

// maxSegmentBytes bounds a segment file's corpus as it is built, and
// maxMergedBytes as two files are merged from their arrays (variables for
// tests).
var (
	maxSegmentBytes = corpus.MaxSegmentBytes
	maxMergedBytes  = corpus.MaxMergedBytes
)

// mergedLimit is the largest corpus a merge of segs may write: a merge of
// two files' arrays takes little memory, one that builds again as much as a
// build.
func mergedLimit(segs []*corpus.Segment) int {
	if corpus.MaxMerged(corpus.WordStarts, segs...) > corpus.MaxSegmentBytes {
		return maxMergedBytes
	}
	return maxSegmentBytes
}

// corpusFiles is where a datanet's segment files live; "" keeps the index
// in memory only (a registry in memory).
func (r *Registry) corpusFiles(datanet string) string {
	return r.indexFiles("corpus", datanet)
}

// indexFiles is where a datanet's files of one kind of index live, or ""
// for a registry in memory. The directory is named by the name in hex,
// or for a name too long for that to be a file name (over 100 bytes), by
// its sha256.
func (r *Registry) indexFiles(kind, datanet string) string {
	if r.dir == "" {
		return ""
	}
	name := hex.EncodeToString([]byte(datanet))
	if len(datanet) > 100 {
		sum := sha256.Sum256([]byte(datanet))
		name = "sha256-" + hex.EncodeToString(sum[:])
	}
	return filepath.Join(r.dir, kind, name)
}

// errNoSuchVersion is segmentName's answer for versions the datanet does
// not have.
var errNoSuchVersion = errors.New("the datanet has no such version")

// segmentName names the segment file of a datanet's versions first..last.
func (r *Registry) segmentName(datanet string, first, last uint64) (string, error) {
	return r.versionsFileName(datanet, first, last, ".seg")
}

// versionsFileName names the file of a datanet's versions first..last,
// FIRST-LAST-ROOT.ext, root being the datanet's root at last. It fails
// with errNoSuchVersion if the datanet has no version last (or its root
// is not hex), and with another error if the root cannot be read now.
func (r *Registry) versionsFileName(datanet string, first, last uint64, ext string) (string, error) {
	root, err := r.VersionRoot(r.ctx, datanet, last)
	switch {
	case abi.CodeOf(err) == abi.CodeNotFound:
		return "", errNoSuchVersion
	case err != nil:
		return "", err
	}
	root = strings.TrimPrefix(root, "0x")
	if root == "" || strings.Trim(root, "0123456789abcdefABCDEF") != "" {
		return "", errNoSuchVersion
	}
	return fmt.Sprintf("%020d-%020d-%s%s", first, last, root, ext), nil
}

// parseVersionsName reads the versions a file's name says it holds.
func parseVersionsName(name, ext string) (first, last uint64, ok bool) {
	parts := strings.Split(strings.TrimSuffix(name, ext), "-")
	if len(parts) != 3 || !strings.HasSuffix(name, ext) {
		return 0, 0, false
	}
	_, err := fmt.Sscanf(parts[0]+" "+parts[1], "%d %d", &first, &last)
	return first, last, err == nil && first >= 1 && last >= first
}

// openSegmentFiles returns the segment files of dir that hold versions 1
// to some version in order, mapped, deleting every other (unless the
// registry is read-only).
func (r *Registry) openSegmentFiles(datanet, dir string) []*corpus.Segment {
	return openVersionFiles(r, datanet, dir, ".seg", corpus.OpenSegment, corpus.ErrBadSegment)
}

// versioned is an index file that holds a run of a datanet's versions.
type versioned interface {
	First() uint64
	Last() uint64
}

// openVersionFiles returns the files of dir named by their versions
// (see versionsFileName) that hold versions 1 to some version in order,
// opened, deleting every other (unless the registry is read-only): one
// whose name the datanet's roots do not confirm, or that open finds bad.
func openVersionFiles[T versioned](r *Registry, datanet, dir, ext string, open func(string) (T, error), errBad error) []T {
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
		if f.first, f.last, ok = parseVersionsName(f.name, ext); !ok {
			r.dropSegmentFile(dir, f.name, "not an index file's name")
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
	var out []T
	next := uint64(1)
	for _, f := range files {
		if f.first != next {
			// Held by a file already taken (a merge that did not get to
			// delete its inputs), or after a gap.
			r.dropSegmentFile(dir, f.name, "outside the run of versions from 1")
			continue
		}
		want, err := r.versionsFileName(datanet, f.first, f.last, ext)
		if err != nil && !errors.Is(err, errNoSuchVersion) {
			// The store cannot say now: keep the files, index from the
			// records this time.
			r.logger.Warn("index files: reading the datanet's roots; indexing from its records", "datanet", datanet, "err", err)
			return out
		}
		if f.name != want {
			// Versions the datanet does not have, or other records at them.
			r.dropSegmentFile(dir, f.name, "not the datanet's records at those versions")
			continue
		}
		x, err := open(filepath.Join(dir, f.name))
		if err != nil && !errors.Is(err, errBad) {
			// Not the file's fault (no descriptors, no address space):
			// keep the files, index from the records this time.
			r.logger.Warn("index files: opening a file; indexing from the records", "datanet", datanet, "err", err)
			return out
		}
		if err == nil && (x.First() != f.first || x.Last() != f.last) {
			err = fmt.Errorf("holds versions %d-%d", x.First(), x.Last())
		}
		if err != nil {
			r.dropSegmentFile(dir, f.name, err.Error())
			continue
		}
		out = append(out, x)
		next = f.last + 1
	}
	return out
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
		r.logger.Warn("index files: deleting a file it will not use", "file", filepath.Join(dir, name), "why", why)
	}
	os.Remove(filepath.Join(dir, name))
}

// segmentWriter cuts records given in version order into segments of at
// most maxSegmentBytes: files in dir, mapped, or in memory when dir is ""
// or the registry is read-only. A file that cannot be written (failed)
// leaves its records, and all the writer's later ones, in memory.
type segmentWriter struct {
	r            *Registry
	datanet, dir string
	b            *corpus.Builder
	segs         []*corpus.Segment
	failed       error // why the last segments are in memory
	inMemory     int   // bytes of the segments kept in memory
	// noFallback makes a file that cannot be written end the writer's
	// work (failed set, its records dropped) rather than index in memory.
	noFallback bool
}

func newSegmentWriter(r *Registry, datanet, dir string, first uint64) *segmentWriter {
	if r.readOnly {
		dir = ""
	}
	return &segmentWriter{r: r, datanet: datanet, dir: dir, b: corpus.NewBuilder(first)}
}

func (w *segmentWriter) add(id, content string) {
	if w.noFallback && w.failed != nil {
		return
	}
	if w.b.Records() > 0 && w.b.Size()+len(content)+1 > maxSegmentBytes {
		w.flush()
	}
	w.b.Add(id, content)
}

func (w *segmentWriter) flush() {
	if w.b.Records() == 0 || w.noFallback && w.failed != nil {
		return
	}
	var seg *corpus.Segment
	if w.dir != "" {
		var err error
		if err = w.r.ctx.Err(); err == nil {
			seg, err = w.r.writeSegment(w.datanet, w.dir, w.b)
		}
		if err != nil {
			w.failed = err
			if w.noFallback {
				return
			}
			w.r.logger.Warn("corpus index: writing a segment file; indexing in memory", "dir", w.dir, "err", err)
			w.dir = ""
		}
	}
	if seg == nil {
		seg = w.b.Segment()
		w.inMemory += seg.Size()
	}
	w.segs = append(w.segs, seg)
	w.b = corpus.NewBuilder(seg.Last() + 1)
}

// buildSegments indexes the records of versions after..head of datanet,
// in version order, reading them a page at a time.
func (r *Registry) buildSegments(ctx context.Context, datanet, dir string, after, head uint64) (*segmentWriter, error) {
	w := newSegmentWriter(r, datanet, dir, after+1)
	defer r.storeReads.scan()()
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
			w.add(rec.ID, rec.Content)
			v = rec.Version
		}
	}
	w.flush()
	return w, nil
}

// writeSegment indexes b's records as a file in dir, mapped.
func (r *Registry) writeSegment(datanet, dir string, b *corpus.Builder) (*corpus.Segment, error) {
	name, err := r.segmentName(datanet, b.First(), b.First()+uint64(b.Records())-1)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := b.Write(path, corpus.WordStarts); err != nil {
		return nil, err
	}
	return corpus.OpenSegment(path)
}

// startPersist starts the background job that writes the segments in
// memory to files, if they hold persistAt bytes (or always, with merge,
// to merge the files alone), unless one runs. The caller holds ix.mu.
func (ix *corpusIndex) startPersist(merge bool) {
	r := ix.registry
	if ix.dir == "" || r.readOnly || ix.frozen != nil || r.ctx.Err() != nil {
		return
	}
	k := 0
	for k < len(ix.segs) && ix.segs[k].Mapped() {
		k++
	}
	mem := 0
	for _, seg := range ix.segs[k:] {
		mem += seg.Size()
	}
	files, write := slices.Clone(ix.segs[:k]), []*corpus.Segment(nil)
	if mem >= ix.persistAt {
		write = slices.Clone(ix.segs[k:])
	}
	if len(write) == 0 && (!merge || len(files) < 2) {
		return
	}
	if !r.jobs.start() {
		return // closing
	}
	ix.frozen = map[*corpus.Segment]bool{}
	for _, seg := range write {
		ix.frozen[seg] = true
	}
	ix.persisted.Add(1)
	go ix.persist(files, write, mem)
}

// persist writes the segments in memory write (mem bytes) as files after
// files, merges files, and swaps them into the index.
func (ix *corpusIndex) persist(files, write []*corpus.Segment, mem int) {
	r := ix.registry
	defer r.jobs.done()
	defer ix.persisted.Done()
	out := slices.Clone(files) // merged in place; files is compared below
	failed := false
	if len(write) > 0 {
		w := newSegmentWriter(r, ix.datanet, ix.dir, write[0].First())
		w.noFallback = true
		for _, seg := range write {
			for i := range seg.Records() {
				if w.failed != nil || r.ctx.Err() != nil {
					break
				}
				w.add(seg.Record(i))
			}
		}
		w.flush()
		if w.failed == nil && r.ctx.Err() != nil {
			w.failed = r.ctx.Err()
		}
		if w.failed != nil && r.ctx.Err() == nil {
			r.logger.Warn("corpus index: writing segment files; keeping the segments in memory", "dir", ix.dir, "err", w.failed)
		}
		// If one failed, the index keeps the segments in memory; files
		// written before it are whole, and are used at the next start.
		out = append(out, w.segs...)
		failed = w.failed != nil
	}
	if !failed && r.ctx.Err() == nil {
		out = r.mergeFiles(ix.datanet, ix.dir, out)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.frozen = nil
	n := len(files) + len(write)
	if len(ix.segs) < n || !slices.Equal(ix.segs[:len(files)], files) || !slices.Equal(ix.segs[len(files):n], write) {
		return // not the index it started from (cannot happen: only jobs swap these)
	}
	if failed {
		// Keep the segments in memory whole; try again at twice the bytes.
		ix.persistAt = max(ix.persistAt, 2*mem)
		return
	}
	ix.segs = append(out, ix.segs[n:]...)
	ix.persistAt = persistCorpusBytes // a disk that failed before took these
	// The next job, if due, is started by the next catch-up: a job started
	// here could freeze segments a catch-up is merging.
}

// mergeFiles merges the files at the end of segs while the newer is at
// least half the older's size and the merged one fits mergedLimit.
func (r *Registry) mergeFiles(datanet, dir string, segs []*corpus.Segment) []*corpus.Segment {
	for n := len(segs); n >= 2 && segs[n-2].Mapped() && segs[n-1].Mapped() &&
		2*segs[n-1].Size() >= segs[n-2].Size() && segs[n-2].Size()+segs[n-1].Size() <= mergedLimit(segs[n-2:]); n = len(segs) {
		if r.ctx.Err() != nil {
			return segs
		}
		name, err := r.segmentName(datanet, segs[n-2].First(), segs[n-1].Last())
		var merged *corpus.Segment
		if err == nil {
			err = corpus.WriteMerged(filepath.Join(dir, name), corpus.WordStarts, segs[n-2:]...)
		}
		if err == nil {
			merged, err = corpus.OpenSegment(filepath.Join(dir, name))
		}
		if err != nil {
			r.logger.Warn("corpus index: merging segment files", "dir", dir, "err", err)
			return segs
		}
		for _, old := range segs[n-2:] {
			if name, err := r.segmentName(datanet, old.First(), old.Last()); err == nil {
				os.Remove(filepath.Join(dir, name))
			}
		}
		segs = append(segs[:n-2], merged)
	}
	return segs
}

// ModelFiles is where models built from the registry's datanets keep their
// files (see model.BuildInfgram); "" for a registry in memory or
// read-only, whose models stay in memory.
func (r *Registry) ModelFiles() string {
	if r.dir == "" || r.readOnly {
		return ""
	}
	return filepath.Join(r.dir, "models")
}

// sweepModelBuilds deletes what model builds cut short by a crash left
// beside their names (see infgram.NewBuilder): no build runs before the
// registry is open.
func (r *Registry) sweepModelBuilds() {
	dir := r.ModelFiles()
	if dir == "" {
		return
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	for _, p := range left {
		r.logger.Warn("model files: deleting a build cut short", "dir", p)
		os.RemoveAll(p)
	}
}
