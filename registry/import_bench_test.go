package registry_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/tollgate-dev/tollgate/registry"
)

// BenchmarkImport: records per second imported from JSONL, each line
// signed by one of 100 contributors and verified on import. The size is
// TOLLGATE_IMPORT_N (default 100,000; the figure in the notes used 1,000,000).
//
//	TOLLGATE_IMPORT_N=1000000 go test ./registry -run '^$' -bench Import -benchtime 1x -timeout 1h
func BenchmarkImport(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("TOLLGATE_IMPORT_N")); err == nil {
		n = v
	}
	path := filepath.Join(b.TempDir(), "records.jsonl")
	writeSignedJSONL(b, path, n)
	st, _ := os.Stat(path)
	b.ResetTimer()
	var rate float64
	for range b.N {
		b.StopTimer()
		r := open(b)
		own := key(b)
		newDatanet(b, r, own, registry.Datanet{Name: "bulk", Owner: registry.Address(own), Policy: registry.Policy{Write: registry.WriteOpen}})
		f, _ := os.Open(path)
		b.StartTimer()
		stats, err := r.Import(context.Background(), bufio.NewReaderSize(f, 1<<20), registry.ImportOptions{Datanet: "bulk", Source: "bench"})
		b.StopTimer()
		f.Close()
		if err != nil || stats.Added != int64(n) {
			b.Fatalf("%+v, %v", stats, err)
		}
		rate = float64(stats.Added) / stats.Elapsed.Seconds()
		r.Close()
	}
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(float64(st.Size())/float64(n), "bytes/record")
}

// writeSignedJSONL writes n signed ~500-byte records, signing on all cores.
func writeSignedJSONL(b *testing.B, path string, n int) {
	keys := make([]*ecdsa.PrivateKey, 100)
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
	}
	words := strings.Fields("data contributor model answer record token price ledger epoch proof claim agent attribution datanet receipt span corpus verbatim chain settle")
	lines := make([][]byte, n)
	var wg sync.WaitGroup
	workers := 2
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := w; i < n; i += workers {
				var sb strings.Builder
				fmt.Fprintf(&sb, "record %d:", i)
				for sb.Len() < 480 {
					sb.WriteString(" " + words[rng.IntN(len(words))])
				}
				k := keys[i%len(keys)]
				sig, _ := registry.Sign(k, registry.Domain{}.RecordDigest("bulk", sb.String()))
				lines[i], _ = json.Marshal(registry.ImportLine{Content: sb.String(), Contributor: registry.Address(k), Signature: "0x" + hex.EncodeToString(sig)})
			}
		}()
	}
	wg.Wait()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.Write(l)
		w.WriteByte('\n')
	}
	w.Flush()
	f.Close()
}
