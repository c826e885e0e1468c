package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// The direct digest is go-ethereum's generic EIP-712 encoding of the same
// typed data, byte for byte, and fails where that fails: on random
// receipts, and on every edge a field can take (bad addresses and hashes,
// negative and oversized amounts, zero times, empty and long lists).
func TestDigestMatchesTheGenericEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hash := func() string {
		switch rng.IntN(4) {
		case 0:
			return ""
		case 1:
			return "0xnothex"
		}
		s := sha256.Sum256(fmt.Append(nil, rng.Int()))
		return hex.EncodeToString(s[:])
	}
	addr := func() string {
		switch rng.IntN(5) {
		case 0:
			return "not an address"
		case 1:
			return ""
		case 2:
			return "0xabcdefabcdefabcdefabcdefabcdefabcdefabcd"
		}
		return fmt.Sprintf("0x%040x", rng.Uint64())
	}
	str := func() string {
		return []string{"", "examples/qa@1.0.0", "naïve ☃ text", string(bytes.Repeat([]byte{'x'}, 300))}[rng.IntN(4)]
	}
	amount := func() *big.Int {
		switch rng.IntN(8) {
		case 0:
			return nil
		case 1:
			return big.NewInt(-rng.Int64N(1e18))
		case 2:
			return new(big.Int).Lsh(big.NewInt(1), 255)
		case 3:
			return new(big.Int).Lsh(big.NewInt(1), 256)
		case 4:
			return new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 255))
		}
		return big.NewInt(rng.Int64())
	}
	domains := []Domain{{}, {ChainID: big.NewInt(1337), Settlement: "0x5FbDB2315678afecb367f032d93F642f64180aa3"},
		{ChainID: big.NewInt(-1)}, {ChainID: new(big.Int).Lsh(big.NewInt(1), 300), Settlement: "x"}}
	agree, failed := 0, 0
	for i := range 3000 {
		r := &Receipt{
			ID: str(), RequestID: str(), Caller: addr(), Agent: str(), AgentHash: hash(), Attribution: str(),
			AttributionHash: hash(), Method: str(), InputHash: hash(), OutputHash: hash(), PrevBundle: hash(),
			Epoch: rng.Uint64(), Fuel: rng.Uint64(),
		}
		if rng.IntN(3) > 0 {
			r.Time = time.Unix(0, rng.Int64()).UTC()
		}
		for range rng.IntN(4) {
			r.Datanets = append(r.Datanets, DatanetVersion{Name: str(), Version: rng.Uint64(), Root: hash()})
		}
		for range rng.IntN(5) {
			r.Accesses = append(r.Accesses, Access{Datanet: str(), Record: str(), Contributor: addr(), Bytes: rng.IntN(1<<20) - 10, Fee: amount()})
		}
		for range rng.IntN(5) {
			r.Scores = append(r.Scores, Score{Record: str(), Contributor: addr(), Weight: rng.Float64() * []float64{1, 1e-300, 1e300}[rng.IntN(3)]})
		}
		for range rng.IntN(7) {
			r.Postings = append(r.Postings, Posting{Account: addr(), Kind: str(), Amount: amount(), Memo: str()})
		}
		// Half the receipts in schema 3, with model calls.
		if rng.IntN(2) == 0 {
			r.Schema = ReceiptSchema
			r.AgentManifest, r.AttributionManifest = hash(), hash()
			for range rng.IntN(3) {
				g := Generation{Model: str(), ModelHash: hash(), Backend: str(), Seed: rng.Uint64(), Temperature: rng.Float64() * 2,
					MaxTokens: rng.IntN(5000) - 5, Prompt: str(), TokensIn: rng.IntN(100) - 2, TokensOut: rng.IntN(100) - 2, Finish: str(), Text: str(), Cost: amount()}
				for range rng.IntN(3) {
					g.Stop = append(g.Stop, str())
				}
				for range rng.IntN(4) {
					g.Shares = append(g.Shares, TokenShare{Datanet: str(), Record: str(), Contributor: addr(), Tokens: big.NewRat(rng.Int64N(100), rng.Int64N(7)+1)})
				}
				r.Generations = append(r.Generations, g)
			}
		}
		d := domains[i%len(domains)]
		want, _, wantErr := apitypes.TypedDataAndHash(r.TypedData(d))
		got, err := r.Digest(d)
		switch {
		case (err == nil) != (wantErr == nil):
			t.Fatalf("receipt %d: digest error %v, generic encoder %v", i, err, wantErr)
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("receipt %d: digest %x, generic encoder %x", i, got, want)
		case err == nil:
			agree++
		default:
			failed++
		}
	}
	if agree < 400 || failed < 400 {
		t.Fatalf("%d digests agreed and %d failed in both: the cases do not cover both", agree, failed)
	}
}

func BenchmarkReceiptDigest(b *testing.B) {
	r := &Receipt{ID: "id", Caller: "0x5FbDB2315678afecb367f032d93F642f64180aa3", Agent: "examples/qa@1.1.0", Time: time.Now()}
	for range 3 {
		r.Accesses = append(r.Accesses, Access{Datanet: "examples/facts", Record: "r", Contributor: r.Caller, Bytes: 100, Fee: big.NewInt(1000)})
		r.Scores = append(r.Scores, Score{Record: "r", Contributor: r.Caller, Weight: 0.3})
	}
	for range 8 {
		r.Postings = append(r.Postings, Posting{Account: r.Caller, Kind: "fee", Amount: big.NewInt(-1000), Memo: "r"})
	}
	d := Domain{ChainID: big.NewInt(1337), Settlement: r.Caller}
	b.Run("generic", func(b *testing.B) {
		for range b.N {
			apitypes.TypedDataAndHash(r.TypedData(d))
		}
	})
	b.Run("direct", func(b *testing.B) {
		for range b.N {
			r.Digest(d)
		}
	})
}

// A receipt's model calls are bounded, and a schema 2 receipt, which signs
// none of the fields models added, is refused if it carries them.
func TestValidateBoundsGenerations(t *testing.T) {
	base := func() *Receipt {
		return &Receipt{ID: "r", Caller: "0x1111111111111111111111111111111111111111", Schema: ReceiptSchema,
			Postings: []Posting{{Account: "0x1111111111111111111111111111111111111111", Kind: KindCall, Amount: big.NewInt(0)}}}
	}
	r := base()
	for range MaxGenerations + 1 {
		r.Generations = append(r.Generations, Generation{Cost: big.NewInt(0)})
	}
	if err := Validate(r); err == nil {
		t.Fatal("a receipt past MaxGenerations model calls validated")
	}
	r = base()
	r.Schema = 0
	r.Generations = []Generation{{Cost: big.NewInt(0)}}
	if err := Validate(r); err == nil {
		t.Fatal("a schema 2 receipt carrying a generation validated")
	}
	r = base()
	r.Generations = []Generation{{Cost: big.NewInt(0), MaxTokens: 4, TokensOut: 2, Shares: []TokenShare{{Contributor: "0x2222222222222222222222222222222222222222", Tokens: big.NewRat(3, 1)}}}}
	if err := Validate(r); err == nil {
		t.Fatal("shares of more tokens than were generated validated")
	}
	r.Generations[0].Shares[0].Tokens = big.NewRat(2, 1)
	if err := Validate(r); err != nil {
		t.Fatal(err)
	}
}

// A receipt made before models (schema 2, no Schema field in its JSON)
// keeps the digest it was signed under: the bytes below were computed by
// the code that made such receipts.
func TestSchema2ReceiptsKeepTheirDigest(t *testing.T) {
	rc := &Receipt{ID: "rc-1", RequestID: "req", Caller: "0x1111111111111111111111111111111111111111", Agent: "examples/qa@1.0.0",
		AgentHash: "aa00000000000000000000000000000000000000000000000000000000000001", Attribution: "builtin/ngram@1.1.0",
		AttributionHash: "bb00000000000000000000000000000000000000000000000000000000000002", Method: "ngram",
		InputHash: "cc00000000000000000000000000000000000000000000000000000000000003", OutputHash: "dd00000000000000000000000000000000000000000000000000000000000004",
		Epoch: 3, Time: time.Unix(1700000000, 5).UTC(), Fuel: 77,
		Datanets: []DatanetVersion{{Name: "acme/docs", Version: 9, Root: "ee00000000000000000000000000000000000000000000000000000000000005"}},
		Accesses: []Access{{Datanet: "acme/docs", Record: "r1", Contributor: "0x2222222222222222222222222222222222222222", Bytes: 12, Fee: big.NewInt(5)}},
		Scores:   []Score{{Record: "r1", Contributor: "0x2222222222222222222222222222222222222222", Weight: 0.5}},
		Postings: []Posting{{Account: "0x1111111111111111111111111111111111111111", Kind: KindCall, Amount: big.NewInt(-105)}, {Account: "0x2222222222222222222222222222222222222222", Kind: KindAccess, Amount: big.NewInt(105), Memo: "r1"}}}
	d := Domain{ChainID: big.NewInt(1337), Settlement: "0x5FbDB2315678afecb367f032d93F642f64180aa3"}
	got, err := rc.Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "70513d3d075258f95b0a894598b22c4c429f0cae4236139092427cc374ad72a9"; hex.EncodeToString(got) != want {
		t.Fatalf("schema 2 digest %x, signed as %s", got, want)
	}
	// The same receipt in schema 3 is another message: a signature over
	// one does not verify the other.
	rc.Schema = ReceiptSchema
	if got3, _ := rc.Digest(d); bytes.Equal(got3, got) {
		t.Fatal("schema 3 digests as schema 2")
	}
	rc.Schema = 9
	if _, err := rc.Digest(d); err == nil {
		t.Fatal("an unknown schema digested")
	}
}
