package registry_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/registry"
)

func jsonl(t testing.TB, n int, keys []*ecdsa.PrivateKey, forgeAt int) string {
	var b strings.Builder
	for i := range n {
		content := fmt.Sprintf("record %d: the quick brown fox number %d jumps", i, i*7)
		line := registry.ImportLine{Content: content}
		if k := keys[i%len(keys)]; k != nil {
			signer := k
			if i+1 == forgeAt {
				signer = keys[(i+1)%len(keys)]
			}
			sig, _ := registry.Sign(signer, registry.Domain{}.RecordDigest("bulk", content))
			line.Contributor, line.Signature = registry.Address(k), "0x"+hex.EncodeToString(sig)
		}
		j, _ := json.Marshal(line)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// cutReader fails after n bytes, as a crashed upload would.
type cutReader struct {
	r io.Reader
	n int
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errors.New("connection lost")
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func TestImportIsResumableWithoutDuplicates(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	alice, bob, own := key(t), key(t), key(t)
	newDatanet(t, r, own, registry.Datanet{Name: "bulk", Owner: registry.Address(own), Policy: registry.Policy{Write: registry.WriteOpen}})
	input := jsonl(t, 3000, []*ecdsa.PrivateKey{alice, bob, nil}, 0)
	opts := registry.ImportOptions{Datanet: "bulk", Source: "bulk.jsonl", Key: own, Batch: 250}

	// The first run dies part way.
	st, err := r.Import(ctx, &cutReader{r: strings.NewReader(input), n: len(input) / 2}, opts)
	if err == nil || st.Added == 0 || st.Added >= 3000 {
		t.Fatalf("cut import: %+v, %v", st, err)
	}
	// The rerun skips what was committed and adds the rest, once.
	var progress int
	opts.Progress = func(int64, registry.ImportStats) { progress++ }
	st2, err := r.Import(ctx, strings.NewReader(input), opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.Added+st2.Added != 3000 || st2.Duplicates != 0 || st2.Resumed != st.Added || progress == 0 {
		t.Fatalf("first %+v, rerun %+v", st, st2)
	}
	d := ok(r.Datanet(ctx, "bulk")).of(t)
	if d.Version != 3000 {
		t.Fatalf("datanet version %d after 3000 records", d.Version)
	}
	// Another source with the same contents adds nothing and credits no one new.
	st3, err := r.Import(ctx, strings.NewReader(input), registry.ImportOptions{Datanet: "bulk", Source: "copy.jsonl", Key: key(t)})
	if err != nil || st3.Added != 0 || st3.Duplicates != 3000 {
		t.Fatalf("re-import: %+v, %v", st3, err)
	}
	rec, err := r.Get(ctx, "bulk", registry.RecordID("record 2: the quick brown fox number 14 jumps"))
	if err != nil || rec.Contributor != registry.Address(own) {
		t.Fatalf("unsigned line's record %+v, %v; want the import key's", rec, err)
	}
}

func TestImportRefusesBadLines(t *testing.T) {
	ctx := context.Background()
	alice := key(t)
	cases := []struct {
		name  string
		input string
		key   *ecdsa.PrivateKey
		line  int
		code  abi.Code
	}{
		{"forged signature", jsonl(t, 100, []*ecdsa.PrivateKey{alice, key(t)}, 57), nil, 57, abi.CodeBadSignature},
		{"no signature and no key", jsonl(t, 30, []*ecdsa.PrivateKey{nil}, 0), nil, 1, abi.CodeBadSignature},
		{"not JSON", jsonl(t, 45, []*ecdsa.PrivateKey{alice}, 0) + "{oops\n", nil, 46, abi.CodeBadRequest},
		{"invalid UTF-8", `{"content":"\xff\xfe"}` + "\n", alice, 1, abi.CodeBadRequest},
		{"oversized record", `{"content":"` + strings.Repeat("x", registry.MaxRecordBytes+1) + `"}` + "\n", alice, 1, abi.CodeBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := open(t)
			newDatanet(t, r, alice, registry.Datanet{Name: "bulk", Owner: registry.Address(alice), Policy: registry.Policy{Write: registry.WriteOpen}})
			st, err := r.Import(ctx, strings.NewReader(c.input), registry.ImportOptions{Datanet: "bulk", Key: c.key, Batch: 20})
			if abi.CodeOf(err) != c.code || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("line %d:", c.line)) {
				t.Fatalf("err = %v, want %s at line %d", err, c.code, c.line)
			}
			// Whole batches before the bad line's stay; nothing of its batch.
			if want := int64((c.line - 1) / 20 * 20); st.Added != want {
				t.Fatalf("added %d, want %d", st.Added, want)
			}
		})
	}
	r := open(t)
	if _, err := r.Import(ctx, strings.NewReader(""), registry.ImportOptions{Datanet: "nope"}); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("unknown datanet: %v", err)
	}
}

// FuzzImport feeds arbitrary JSONL: the import never panics, and what it
// reports added is exactly what the datanet holds.
func FuzzImport(f *testing.F) {
	k := key(f)
	f.Add(jsonl(f, 3, []*ecdsa.PrivateKey{k, nil}, 0))
	f.Add(`{"content":"x","contributor":"0x1","signature":"0xzz"}` + "\n")
	f.Add("{}\n\n{\"content\":\"\"}")
	f.Fuzz(func(t *testing.T, input string) {
		r := open(t)
		newDatanet(t, r, k, registry.Datanet{Name: "f", Owner: registry.Address(k)})
		st, err := r.Import(context.Background(), strings.NewReader(input), registry.ImportOptions{Datanet: "f", Key: k, Batch: 2})
		if code := abi.CodeOf(err); err != nil && code != abi.CodeBadRequest && code != abi.CodeBadSignature {
			t.Fatalf("import of %q: %v", input, err)
		}
		d := ok(r.Datanet(context.Background(), "f")).of(t)
		if int64(d.Version) != st.Added {
			t.Fatalf("reported %d added, datanet holds %d", st.Added, d.Version)
		}
	})
}

// A streamed import adds only signed records; resending it adds nothing
// twice. Records list in the order they were added, page by page, and a
// scratch copy fed that list rebuilds every version's root; only a
// scratch registry mirrors a datanet without its owner's signature.
func TestStreamedImportAndTheVersionOrder(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	alice, bob, own := key(t), key(t), key(t)
	newDatanet(t, r, own, registry.Datanet{Name: "bulk", Owner: registry.Address(own), Policy: registry.Policy{Write: registry.WriteOpen}})
	lines := strings.Split(strings.TrimSpace(jsonl(t, 1200, []*ecdsa.PrivateKey{alice, bob}, 0)), "\n")
	stream := func(lines []string) func() (registry.ImportLine, error) {
		return func() (registry.ImportLine, error) {
			if len(lines) == 0 {
				return registry.ImportLine{}, io.EOF
			}
			var l registry.ImportLine
			json.Unmarshal([]byte(lines[0]), &l)
			lines = lines[1:]
			return l, nil
		}
	}
	st, err := r.ImportStream(ctx, stream(lines), registry.ImportOptions{Datanet: "bulk", Batch: 100})
	if err != nil || st.Added != 1200 {
		t.Fatalf("import: %+v %v", st, err)
	}
	if st, err := r.ImportStream(ctx, stream(lines), registry.ImportOptions{Datanet: "bulk", Batch: 100}); err != nil || st.Added != 0 || st.Duplicates != 1200 {
		t.Fatalf("the same stream again: %+v %v", st, err)
	}
	unsigned := []string{`{"content":"no signature"}`}
	if _, err := r.ImportStream(ctx, stream(unsigned), registry.ImportOptions{Datanet: "bulk"}); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("an unsigned record: %v", err)
	}

	var all []registry.Record
	var after uint64
	for {
		page, v, err := r.RecordsAt(ctx, "bulk", 1000, after, 333)
		if err != nil || v != 1000 {
			t.Fatalf("records at 1000: %v, %v", v, err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Version
	}
	if len(all) != 1000 {
		t.Fatalf("listed %d records up to version 1000", len(all))
	}
	for i, rec := range all {
		if rec.Version != uint64(i+1) {
			t.Fatalf("record %d is version %d", i, rec.Version)
		}
	}
	if _, _, err := r.RecordsAt(ctx, "bulk", 5000, 0, 10); abi.CodeOf(err) != abi.CodeNotFound {
		t.Fatalf("a version past the datanet's: %v", err)
	}

	if err := r.MirrorDatanet(ctx, registry.Datanet{Name: "copy", Owner: registry.Address(own)}); err == nil {
		t.Fatal("a node's registry mirrored a datanet with no owner's signature")
	}
	scratch, err := registry.Open(t.TempDir(), registry.Options{Scratch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Close()
	if err := scratch.MirrorDatanet(ctx, registry.Datanet{Name: "bulk", Owner: registry.Address(own)}); err != nil {
		t.Fatal(err)
	}
	i := 0
	next := func() (registry.ImportLine, error) {
		if i == len(all) {
			return registry.ImportLine{}, io.EOF
		}
		rec := all[i]
		i++
		return registry.ImportLine{Content: rec.Content, Contributor: rec.Contributor, Signature: "0x" + hex.EncodeToString(rec.Signature)}, nil
	}
	if _, err := scratch.ImportStream(ctx, next, registry.ImportOptions{Datanet: "bulk"}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint64{1, 500, 1000} {
		want, _ := r.VersionRoot(ctx, "bulk", v)
		if got, err := scratch.VersionRoot(ctx, "bulk", v); err != nil || got != want {
			t.Fatalf("version %d: the copy's root %s, the node's %s (%v)", v, got, want, err)
		}
	}
}

// A signature with the other recovery id is refused even after the same
// contributor's valid signatures: the stored record must verify wherever it
// is checked again.
func TestImportRefusesTheWrongRecoveryID(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	alice, own := key(t), key(t)
	newDatanet(t, r, own, registry.Datanet{Name: "bulk", Owner: registry.Address(own), Policy: registry.Policy{Write: registry.WriteOpen}})
	var b strings.Builder
	for i := range 3 {
		content := fmt.Sprint("fact ", i)
		sig, _ := registry.Sign(alice, registry.Domain{}.RecordDigest("bulk", content))
		if i == 2 {
			sig[64] ^= 1 // 27 <-> 28
		}
		j, _ := json.Marshal(registry.ImportLine{Content: content, Contributor: registry.Address(alice), Signature: "0x" + hex.EncodeToString(sig)})
		b.Write(append(j, '\n'))
	}
	if _, err := r.Import(ctx, strings.NewReader(b.String()), registry.ImportOptions{Datanet: "bulk", Workers: 1, Batch: 1}); abi.CodeOf(err) != abi.CodeBadSignature {
		t.Fatalf("a flipped recovery id: %v", err)
	}
}

// TestImportProgressIsConsistent checks what Progress sees after each
// batch: the lines read up to that batch and the lines skipped as
// imported before, while the reader goes on reading ahead. Run it with
// -race: the reader must not write the stats the committer hands out.
func TestImportProgressIsConsistent(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	own := key(t)
	newDatanet(t, r, own, registry.Datanet{Name: "bulk", Owner: registry.Address(own), Policy: registry.Policy{Write: registry.WriteOpen}})
	for i := range 10 {
		input := jsonl(t, 40+i, []*ecdsa.PrivateKey{nil}, 0)
		source := fmt.Sprintf("bulk-%d.jsonl", i)
		head := strings.Join(strings.SplitAfter(input, "\n")[:10], "")
		if _, err := r.Import(ctx, strings.NewReader(head), registry.ImportOptions{Datanet: "bulk", Source: source, Key: own}); err != nil {
			t.Fatal(err)
		}
		var seen []registry.ImportStats
		opts := registry.ImportOptions{Datanet: "bulk", Source: source, Key: own, Batch: 4, Workers: 1,
			Progress: func(lines int64, st registry.ImportStats) {
				if st.Lines != lines {
					t.Errorf("progress at line %d reports %d lines", lines, st.Lines)
				}
				seen = append(seen, st)
			}}
		st, err := r.Import(ctx, strings.NewReader(input), opts)
		if err != nil {
			t.Fatal(err)
		}
		if st.Lines != int64(40+i) || st.Resumed != 10 || len(seen) == 0 {
			t.Fatalf("import %+v after %d progress reports, want %d lines, 10 resumed", st, len(seen), 40+i)
		}
		for _, p := range seen {
			if p.Resumed != 10 {
				t.Fatalf("progress %+v, want 10 resumed", p)
			}
		}
	}
}
