package registry

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/internal/kv"
)

// ImportLine is one line of a JSONL import: a record's content, and its
// contributor's signature of the content for this datanet (see
// [Domain.RecordDigest]).
// Lines without contributor and signature are signed with the import's key.
type ImportLine struct {
	Content     string `json:"content"`
	Contributor string `json:"contributor,omitempty"`
	Signature   string `json:"signature,omitempty"` // 0x-hex, 65 bytes
}

// ImportOptions configures [Registry.Import].
type ImportOptions struct {
	Datanet string
	// Source names the input (say, its path and size) so an interrupted
	// import resumes after the last line it committed.
	Source string
	// Key signs the lines that carry no signature; nil refuses them.
	Key *ecdsa.PrivateKey
	// Workers verify signatures in parallel; 0 means GOMAXPROCS.
	Workers int
	// Batch is how many lines one transaction commits; 0 means 2000.
	Batch int
	// Progress, if set, is called after every batch with the lines done.
	Progress func(lines int64, stats ImportStats)
}

// ImportStats counts an import's lines.
type ImportStats struct {
	Lines      int64 // lines read, including those skipped on resume
	Added      int64
	Duplicates int64 // content already in the datanet: credited to its first contributor
	Resumed    int64 // lines skipped because an earlier run committed them
	Elapsed    time.Duration
}

func checkpointKey(datanet, source string) []byte { return append(scoped("i/", datanet), source...) }

// Import adds the records of a JSONL stream to a datanet. Signatures are
// checked on all cores; each batch of lines commits in one transaction
// together with the datanet's new version and a checkpoint, so a crash
// loses at most the batch in flight and a rerun with the same Source skips
// what was committed. A bad line stops the import with its line number and
// code; the lines before its batch stay committed.
func (r *Registry) Import(ctx context.Context, in io.Reader, opts ImportOptions) (ImportStats, error) {
	start := time.Now()
	var st ImportStats
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Batch <= 0 {
		opts.Batch = 2000
	}
	if _, err := r.Datanet(ctx, opts.Datanet); err != nil {
		return st, err
	}
	var done int64
	if opts.Source != "" {
		err := r.db.View(func(txn kv.Txn) error {
			b, err := kv.GetBytes(txn, checkpointKey(opts.Datanet, opts.Source))
			if err == nil && len(b) == 8 {
				done = int64(binary.BigEndian.Uint64(b))
			}
			return nil
		})
		if err != nil {
			return st, err
		}
	}
	var signer string
	if opts.Key != nil {
		signer = Address(opts.Key)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 4*MaxRecordBytes+1024)
	var n int64
	next := func() (ImportLine, error) {
		var l ImportLine
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return l, errorf(abi.CodeBadRequest, "import line %d: %v", n+1, err)
			}
			return l, io.EOF
		}
		n++
		if n <= done {
			return l, errSkip
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return l, errorf(abi.CodeBadRequest, "import line %d: not a JSON record: %v", n, err)
		}
		return l, nil
	}
	return r.importFrom(ctx, next, signer, opts, start)
}

// MaxImportBatchBytes bounds the record bytes one import batch holds, so
// an import of large records holds a few batches' worth of memory, not
// Batch times the largest record.
const MaxImportBatchBytes = 8 << 20

// errSkip is what an import's source returns for a line an earlier run
// committed.
var errSkip = errors.New("registry: line already imported")

// ImportStream adds records to a datanet as [Registry.Import] does, reading
// them from next until it returns io.EOF. Records already in the datanet
// are counted as duplicates, so resending a stream after an interruption
// resumes it. Every record must be signed by its contributor unless
// opts.Key is set.
func (r *Registry) ImportStream(ctx context.Context, next func() (ImportLine, error), opts ImportOptions) (ImportStats, error) {
	if opts.Source != "" {
		return ImportStats{}, errorf(abi.CodeBadRequest, "a streamed import resumes by content, not by Source")
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Batch <= 0 {
		opts.Batch = 2000
	}
	if _, err := r.Datanet(ctx, opts.Datanet); err != nil {
		return ImportStats{}, err
	}
	var signer string
	if opts.Key != nil {
		signer = Address(opts.Key)
	}
	return r.importFrom(ctx, next, signer, opts, time.Now())
}

func (r *Registry) importFrom(ctx context.Context, next func() (ImportLine, error), signer string, opts ImportOptions, start time.Time) (ImportStats, error) {
	var st ImportStats
	// Three stages overlap: reading lines, verifying a batch on all cores,
	// and committing the previous batch.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan verifiedBatch, 1)
	rd := &batchReader{r: r, next: next, signer: signer, opts: opts}
	go func() {
		defer close(out)
		rd.run(ctx, out)
	}()
	// rd's counters are the reader's until out is closed: each batch
	// carries them as they were when it was sent, and the totals are read
	// only once out is drained.
	finish := func(err error) (ImportStats, error) {
		st.Lines, st.Resumed, st.Elapsed = rd.lines, rd.resumed, time.Since(start)
		return st, err
	}
	stop := func(err error) (ImportStats, error) {
		cancel()
		for range out {
		}
		return finish(err)
	}
	for v := range out {
		if v.err != nil {
			return stop(v.err)
		}
		added, dups, err := r.commitBatch(opts.Datanet, v.recs, v.lines-int64(len(v.recs)), checkpointKey(opts.Datanet, opts.Source), v.lines, opts.Source != "")
		if err != nil {
			return stop(err)
		}
		st.Added += added
		st.Duplicates += dups
		if opts.Progress != nil {
			p := st
			p.Lines, p.Resumed, p.Elapsed = v.lines, v.resumed, time.Since(start)
			opts.Progress(v.lines, p)
		}
	}
	if rd.err == nil {
		rd.err = ctx.Err()
	}
	return finish(rd.err)
}

// verifiedBatch is a batch of import lines, verified, or why it is not.
type verifiedBatch struct {
	recs    []*Record
	lines   int64 // line number of the batch's last line
	resumed int64 // lines up to it skipped as imported before
	err     error
}

// batchReader reads an import's lines into batches and verifies each.
type batchReader struct {
	r      *Registry
	next   func() (ImportLine, error)
	signer string
	opts   ImportOptions
	// What run leaves, to read once out is closed: the lines read, of
	// them those skipped as imported before, and what stopped the reading
	// other than the end of the lines or a batch that failed to verify.
	lines, resumed int64
	err            error
}

// run sends the verified batches to out until the lines end, a batch fails
// to verify, or ctx is done.
func (b *batchReader) run(ctx context.Context, out chan<- verifiedBatch) {
	batch := make([]ImportLine, 0, b.opts.Batch)
	batchBytes := 0
	send := func() bool {
		recs, err := b.r.verifyBatch(batch, b.lines-int64(len(batch)), b.signer, b.opts)
		select {
		case out <- verifiedBatch{recs, b.lines, b.resumed, err}:
		case <-ctx.Done():
			return false
		}
		batch, batchBytes = make([]ImportLine, 0, b.opts.Batch), 0
		return err == nil
	}
	for ctx.Err() == nil {
		l, err := b.next()
		if err == io.EOF {
			break
		}
		b.lines++
		if err == errSkip {
			b.resumed++
			continue
		}
		if err != nil {
			b.err = err
			break
		}
		if len(l.Signature) > 2+2*65 || len(l.Contributor) > 2+2*20 || len(l.Content) > MaxRecordBytes {
			b.err = errorf(abi.CodeBadRequest, "import line %d: a signature is 0x and 130 hex digits, a contributor 0x and 40, a record at most %d bytes", b.lines, MaxRecordBytes)
			break
		}
		batch = append(batch, l)
		batchBytes += len(l.Content) + len(l.Signature) + len(l.Contributor)
		if (len(batch) == b.opts.Batch || batchBytes >= MaxImportBatchBytes) && !send() {
			return
		}
	}
	if len(batch) > 0 && b.err == nil {
		send()
	}
}

// verifyBatch parses and verifies lines in parallel, keeping their order.
// first is the line number before the batch.
func (r *Registry) verifyBatch(lines []ImportLine, first int64, signer string, opts ImportOptions) ([]*Record, error) {
	recs := make([]*Record, len(lines))
	errs := make([]error, len(lines))
	var wg sync.WaitGroup
	per := (len(lines) + opts.Workers - 1) / opts.Workers
	for w := 0; w < len(lines); w += per {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				recs[i], errs[i] = parseLine(r.domain, lines[i], opts.Datanet, signer, opts.Key)
			}
		}(w, min(w+per, len(lines)))
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("registry: import line %d: %w", first+int64(i)+1, err)
		}
	}
	return recs, nil
}

func parseLine(domain Domain, l ImportLine, datanet, signer string, key *ecdsa.PrivateKey) (*Record, error) {
	if len(l.Content) == 0 || len(l.Content) > MaxRecordBytes {
		return nil, abi.Errorf(abi.CodeBadRequest, "record is %d bytes, want 1..%d", len(l.Content), MaxRecordBytes)
	}
	if !utf8.ValidString(l.Content) {
		return nil, abi.Errorf(abi.CodeBadRequest, "record is not valid UTF-8")
	}
	msg := domain.RecordDigest(datanet, l.Content)
	var sig []byte
	switch {
	case l.Signature == "" && l.Contributor == "" && key != nil:
		s, err := Sign(key, msg)
		if err != nil {
			return nil, err
		}
		sig, l.Contributor = s, signer
	case l.Signature == "":
		return nil, abi.Errorf(abi.CodeBadSignature, "record has no signature")
	default:
		b, err := hex.DecodeString(strings.TrimPrefix(l.Signature, "0x"))
		if err != nil {
			return nil, abi.Errorf(abi.CodeBadSignature, "signature is not hex")
		}
		sig = b
	}
	contributor, err := CanonicalAddress(l.Contributor)
	if err != nil {
		return nil, err
	}
	// Recovery, not a check against a key learnt from an earlier record:
	// that check ignores v, and would keep signatures with the wrong
	// recovery id, which fail wherever they are checked again.
	if err := verifySigner(msg, sig, contributor); err != nil {
		return nil, err
	}
	return &Record{Datanet: datanet, ID: RecordID(l.Content), Contributor: contributor, Content: l.Content, Signature: sig}, nil
}

// commitBatch appends verified records in one transaction with the
// datanet's versions, the contributors' write counts and the checkpoint; a
// record the datanet's write rule refuses fails the whole batch. first is
// the line number before the batch.
func (r *Registry) commitBatch(datanet string, recs []*Record, first int64, ckKey []byte, lines int64, checkpoint bool) (added, dups int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now().UTC()
	err = r.update(func(txn kv.Txn) (err error) {
		if added, dups, err = r.appendBatch(txn, datanet, recs, first, now); err != nil {
			return err
		}
		if checkpoint {
			return txn.Set(ckKey, binary.BigEndian.AppendUint64(nil, uint64(lines)))
		}
		return nil
	})
	if err == nil && added > 0 {
		r.indexAppended(datanet, recs)
	}
	return added, dups, err
}

// appendBatch appends to datanet, in txn, the records of recs not already
// in it, with the contributors' write counts, and counts what it added and
// what it found already there.
func (r *Registry) appendBatch(txn kv.Txn, datanet string, recs []*Record, first int64, now time.Time) (added, dups int64, err error) {
	var d Datanet
	if err := kv.GetJSON(txn, datanetKey(datanet), &d); err != nil {
		return 0, 0, err
	}
	inBatch := map[string]bool{}
	// What each contributor has written, with this batch, to be stored
	// with it; a scratch registry mirrors what another node admitted.
	counts := map[string]written{}
	for i, rec := range recs {
		if !r.scratch {
			if err := d.checkWriter(rec.Contributor); err != nil {
				return added, dups, fmt.Errorf("registry: import line %d: %w", first+int64(i)+1, err)
			}
		}
		if inBatch[rec.ID] {
			dups++
			continue
		}
		if _, err := txn.Get(recordKey(datanet, rec.ID)); err == nil {
			dups++
			continue
		} else if !errors.Is(err, kv.ErrNotFound) {
			return added, dups, err
		}
		if !r.scratch {
			w, ok := counts[rec.Contributor]
			if !ok {
				var err error
				if w, err = getWritten(txn, datanet, rec.Contributor); err != nil {
					return added, dups, err
				}
			}
			w, err := d.admit(rec.Contributor, w, len(rec.Content))
			if err != nil {
				return added, dups, fmt.Errorf("registry: import line %d: %w", first+int64(i)+1, err)
			}
			counts[rec.Contributor] = w
		}
		inBatch[rec.ID] = true
		if err := appendRecord(txn, datanet, &d, rec, now); err != nil {
			return added, dups, err
		}
		added++
	}
	for contributor, w := range counts {
		if err := setWritten(txn, datanet, contributor, w); err != nil {
			return added, dups, err
		}
	}
	return added, dups, kv.SetJSON(txn, datanetKey(datanet), d)
}
