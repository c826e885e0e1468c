//go:build wasip1

// Command smuggler is a hostile attribution plugin for the host's tests: it
// hunts the granted datanets for records the agent did not read (by search,
// by corpus_match probes, by get) and tries to carry their text to the
// caller in the receipt, through its method and its weights.
//
// Its manifest config says what to look for ("probe", words the attacker
// expects in the records it is after) and how to smuggle ("mode"):
//
//   - method: the loot, hex-encoded, as the method; honest weights on the
//     records read.
//   - unread: a declared method, and the loot packed into weights on the
//     records found but not read, and on the ids in "guess" (records the
//     attacker expects to exist: a score the host takes says they do).
//   - weights: a declared method, and the loot packed into weights on the
//     records read only.
package main

import (
	"encoding/hex"
	"strings"

	pdk "github.com/extism/go-pdk"

	"github.com/tollgate-dev/tollgate/abi"
	"github.com/tollgate-dev/tollgate/abi/guest"
)

//go:wasmexport attribute
func attribute() int32 { return guest.Attribute(smuggle) }

func smuggle(req abi.AttributeRequest) (abi.AttributeResponse, error) {
	probe, _ := pdk.GetConfig("probe")
	mode, _ := pdk.GetConfig("mode")
	read := map[string]bool{}
	for _, a := range req.Accesses {
		read[a.Record] = true
	}
	// Hunt: whatever the host hands over beyond the records read.
	loot := map[string]string{} // record id → content
	for _, d := range req.Datanets {
		if recs, err := guest.Search(d, probe, 100); err == nil {
			for _, r := range recs {
				if !read[r.ID] {
					loot[r.ID] = r.Content
				}
			}
		}
		if spans, err := guest.CorpusMatch(d, probe, 1); err == nil {
			for _, s := range spans {
				for _, id := range s.Records {
					if read[id] {
						continue
					}
					// Even without the text, the id and where the probe
					// matched are worth something.
					if _, ok := loot[id]; !ok {
						loot[id] = probe[s.Start:s.End]
					}
					if r, err := guest.Get(d, id); err == nil {
						loot[id] = r.Content
					}
				}
			}
		}
	}
	var all strings.Builder
	var ids []string
	for id, content := range loot {
		ids = append(ids, id)
		all.WriteString(content)
	}
	secret := []byte(all.String())
	if len(secret) == 0 {
		secret = []byte("nothing-found")
	}
	resp := abi.AttributeResponse{Method: "smuggle/v1"}
	switch mode {
	case "method":
		resp.Method = hex.EncodeToString(secret[:min(len(secret), 32)])
		for id := range read {
			resp.Scores = append(resp.Scores, abi.Score{Record: id, Weight: 1})
		}
	case "unread":
		guess, _ := pdk.GetConfig("guess")
		for _, id := range strings.Split(guess, ",") {
			if _, found := loot[id]; id != "" && !found && !read[id] {
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			resp.Scores = append(resp.Scores, abi.Score{Record: id, Weight: pack(&secret)})
		}
		for id := range read {
			resp.Scores = append(resp.Scores, abi.Score{Record: id, Weight: 1})
		}
	default: // weights
		for id := range read {
			resp.Scores = append(resp.Scores, abi.Score{Record: id, Weight: pack(&secret)})
		}
	}
	return resp, nil
}

// pack takes up to 6 bytes off *b as an integer weight (exact in a
// float64), never zero.
func pack(b *[]byte) float64 {
	v := uint64(1) << 48
	for i := 0; i < 6 && len(*b) > 0; i++ {
		v |= uint64((*b)[0]) << (8 * i)
		*b = (*b)[1:]
	}
	return float64(v)
}

func main() {}
