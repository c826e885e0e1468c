package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tollgatev1 "github.com/tollgate-dev/tollgate/gen/tollgate/v1"
	"github.com/tollgate-dev/tollgate/ledger"
)

// webVerifier runs the page's receipt verifier (web/src/eip712.ts) in Node
// over receipts as the API serves them.
func webVerifier(t *testing.T, receipts []*tollgatev1.Receipt) []struct {
	Digest string `json:"digest"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
} {
	t.Helper()
	if _, err := os.Stat("../web/node_modules/esbuild"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("web/node_modules is missing: .ci/run runs npm ci in web/")
		}
		t.Skip("run npm ci in web/ to check the page's receipt verifier against the ledger")
	}
	var items []json.RawMessage
	for _, r := range receipts {
		b, err := protojson.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, b)
	}
	in, _ := json.Marshal(items)
	cmd := exec.Command("node", "e2e/digest.mjs")
	cmd.Dir = "../web"
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node e2e/digest.mjs: %v\n%s", err, stderr.String())
	}
	var res []struct {
		Digest string `json:"digest"`
		OK     bool   `json:"ok"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(receipts) {
		t.Fatalf("node answered %d results for %d receipts: %v", len(res), len(receipts), err)
	}
	return res
}

// randomReceipt makes a receipt with the awkward values a real one can
// hold: any float weight, unicode and escapes in strings, big and negative
// amounts, times in other zones, the zero time, and model calls.
func randomReceipt(rng *rand.Rand, i int) *ledger.Receipt {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	str := func() string {
		return pick("", "a", "examples/qa@1.2.0", "naïve 🐝 <b>&amp;</b>", "quote \" back\\slash", "tab\tnew\nline", "\u2028sep", strings.Repeat("x", rng.IntN(300)),
			"0x", "0x41", "0xzz", "0x"+strings.Repeat("ab", 32))
	}
	addr := func() string {
		var a common.Address
		for j := range a {
			a[j] = byte(rng.Uint32())
		}
		switch rng.IntN(6) {
		case 0:
			return strings.ToLower(a.Hex())
		case 1:
			return "not-an-address"
		case 2:
			return strings.TrimPrefix(a.Hex(), "0x") // bare hex, an address to Go
		case 3:
			return "0X" + strings.TrimPrefix(a.Hex(), "0x")
		}
		return a.Hex()
	}
	hash := func() string {
		b := make([]byte, 32)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		switch rng.IntN(5) {
		case 0:
			return ""
		case 1:
			return "0x" + hex.EncodeToString(b)
		case 2:
			return "abc" // not 32 bytes: signs as zero
		}
		return hex.EncodeToString(b)
	}
	weights := []float64{0, 1, 0.5, 1.0 / 3, 1e-4, 9.99e-5, 1e-5, 1.5e-7, 123456.7, 999999, 1e6, 2.5e21, 65536, math.SmallestNonzeroFloat64, math.MaxFloat64, -0.25}
	weight := func() float64 {
		if rng.IntN(3) == 0 {
			return rng.Float64() * math.Pow(10, float64(rng.IntN(20)-10))
		}
		return weights[rng.IntN(len(weights))]
	}
	bigAmt := func(neg bool) *big.Int {
		v := new(big.Int).Lsh(big.NewInt(int64(rng.Uint32())), uint(rng.IntN(200)))
		if neg && rng.IntN(2) == 0 {
			v.Neg(v)
		}
		return v
	}
	r := &ledger.Receipt{
		ID: fmt.Sprintf("%064x", rng.Uint64()), RequestID: str(), Caller: addr(), Agent: str(), AgentHash: hash(),
		Attribution: str(), AttributionHash: hash(), Method: str(), InputHash: hash(), OutputHash: hash(),
		Epoch: rng.Uint64() >> rng.IntN(64), Fuel: rng.Uint64() >> rng.IntN(64), PrevBundle: hash(),
	}
	switch rng.IntN(4) {
	case 0: // the zero time
	case 1:
		r.Time = time.Unix(int64(rng.Uint32()), int64(rng.IntN(1e9))).In(time.FixedZone("", (rng.IntN(27)-12)*3600+rng.IntN(2)*1800))
	default:
		r.Time = time.Unix(1_700_000_000+int64(rng.IntN(1e8)), int64(rng.IntN(1e9))).UTC()
	}
	for range rng.IntN(4) {
		r.Datanets = append(r.Datanets, ledger.DatanetVersion{Name: str(), Version: rng.Uint64() >> rng.IntN(64), Root: hash()})
	}
	for range rng.IntN(5) {
		r.Accesses = append(r.Accesses, ledger.Access{Datanet: str(), Record: str(), Contributor: addr(), Bytes: rng.IntN(1 << 20), Fee: bigAmt(false)})
	}
	for range rng.IntN(5) {
		r.Scores = append(r.Scores, ledger.Score{Record: str(), Contributor: addr(), Weight: weight()})
	}
	for range rng.IntN(6) {
		r.Postings = append(r.Postings, ledger.Posting{Account: addr(), Kind: pick("call", "developer", "protocol", "access", "attribution", "training"), Amount: bigAmt(true), Memo: str()})
	}
	if i%3 != 0 { // schema 3, with manifests and model calls
		r.Schema = ledger.ReceiptSchema
		r.AgentManifest, r.AttributionManifest = hash(), hash()
		for range rng.IntN(3) {
			g := ledger.Generation{Model: str(), ModelHash: hash(), Backend: pick("infgram", "openai"), Seed: rng.Uint64(),
				Temperature: []float64{0, 1, 0.7, 1e-7}[rng.IntN(4)], MaxTokens: rng.IntN(1025) - 1, Prompt: str(), TokensIn: rng.IntN(5000),
				TokensOut: rng.IntN(1025), Finish: pick("length", "stop", "end", "error"), Text: str(), Cost: bigAmt(false)}
			for range rng.IntN(3) {
				g.Stop = append(g.Stop, str())
			}
			for range rng.IntN(4) {
				g.Shares = append(g.Shares, ledger.TokenShare{Datanet: str(), Record: str(), Contributor: addr(), Tokens: big.NewRat(int64(rng.IntN(1000)), int64(1+rng.IntN(7)))})
			}
			r.Generations = append(r.Generations, g)
		}
	}
	return r
}

// The page's "verify this receipt" computes the digest the ledger signs,
// for receipts of both schemas with every awkward value, and refuses a
// receipt changed in any signed field after signing.
func TestBrowserVerifierMatchesTheLedger(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	key, _ := crypto.GenerateKey()
	var receipts []*tollgatev1.Receipt
	var digests []string
	const n = 600
	for i := range n {
		d := ledger.Domain{ChainID: new(big.Int).SetUint64(1 + rng.Uint64()>>rng.IntN(64)), Settlement: common.BigToAddress(big.NewInt(int64(rng.Uint32()))).Hex()}
		r := randomReceipt(rng, i)
		if err := r.Sign(key, d); err != nil {
			t.Fatal(err)
		}
		digest, err := r.Digest(d)
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, receiptProto(r))
		digests = append(digests, "0x"+hex.EncodeToString(digest))
	}
	// Each kind of change after signing, on a receipt that has the field.
	tampers := []struct {
		name   string
		change func(r *tollgatev1.Receipt) bool
	}{
		{"caller", func(r *tollgatev1.Receipt) bool { r.Caller = common.HexToAddress("0x1").Hex(); return true }},
		{"fuel", func(r *tollgatev1.Receipt) bool { r.Fuel++; return true }},
		{"time", func(r *tollgatev1.Receipt) bool {
			tm, err := time.Parse(time.RFC3339Nano, r.Time)
			if err != nil || tm.UnixNano() <= 0 {
				return false
			}
			r.Time = tm.Add(time.Nanosecond).Format(time.RFC3339Nano)
			return true
		}},
		{"weight", func(r *tollgatev1.Receipt) bool {
			if len(r.Scores) == 0 {
				return false
			}
			r.Scores[0].Weight = math.Nextafter(r.Scores[0].Weight, math.Inf(1))
			return true
		}},
		{"amount", func(r *tollgatev1.Receipt) bool {
			if len(r.Postings) == 0 {
				return false
			}
			a, _ := new(big.Int).SetString(r.Postings[0].Amount, 10)
			r.Postings[0].Amount = a.Add(a, big.NewInt(1)).String()
			return true
		}},
		{"generation text", func(r *tollgatev1.Receipt) bool {
			if r.Schema < 3 || len(r.Generations) == 0 {
				return false
			}
			r.Generations[0].Text += "."
			return true
		}},
		{"share", func(r *tollgatev1.Receipt) bool {
			for _, g := range r.Generations {
				if r.Schema >= 3 && len(g.Shares) > 0 {
					g.Shares[0].Tokens = "1/1000003"
					return true
				}
			}
			return false
		}},
		{"prev bundle", func(r *tollgatev1.Receipt) bool { r.PrevBundle = strings.Repeat("ab", 32); return true }},
	}
	var tampered []*tollgatev1.Receipt
	var tamperNames, tamperOf []string
	for i, r := range receipts {
		tm := tampers[i%len(tampers)]
		c := proto.Clone(r).(*tollgatev1.Receipt)
		if tm.change(c) && !proto.Equal(c, r) {
			tampered = append(tampered, c)
			tamperNames = append(tamperNames, tm.name)
			tamperOf = append(tamperOf, digests[i])
		}
	}
	res := webVerifier(t, append(append([]*tollgatev1.Receipt(nil), receipts...), tampered...))
	for i := range receipts {
		if res[i].Digest != digests[i] || !res[i].OK {
			j, _ := protojson.Marshal(receipts[i])
			t.Fatalf("receipt %d: the page's digest %s, the ledger's %s (verifies: %v %s)\n%s", i, res[i].Digest, digests[i], res[i].OK, res[i].Reason, j)
		}
	}
	seen := map[string]int{}
	for i, r := range res[len(receipts):] {
		if r.OK || r.Digest == tamperOf[i] || !strings.Contains(r.Reason, "signed by") {
			t.Fatalf("a receipt with its %s changed after signing: verifies %v, digest %s (was %s), %q", tamperNames[i], r.OK, r.Digest, tamperOf[i], r.Reason)
		}
		seen[tamperNames[i]]++
	}
	if len(seen) != len(tampers) {
		t.Fatalf("only %d of %d kinds of change were tried: %v", len(seen), len(tampers), seen)
	}
	t.Logf("%d receipts match the ledger's digest; %d changed ones refused (%v)", len(receipts), len(tampered), seen)
}
