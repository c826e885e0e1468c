// Package ollamatest runs a real Ollama server for tests, serving a model
// the test writes itself: a tiny llama-architecture GGUF whose weights
// make it answer one fixed reply, so a test knows exactly what the server
// will say without downloading any weights.
package ollamatest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// GGUF value types used here.
const (
	ggufUint32  = 4
	ggufInt32   = 5
	ggufFloat32 = 6
	ggufBool    = 7
	ggufString  = 8
	ggufArray   = 9
)

// The model's shape: one layer of width dims, whose attention and
// feed-forward weights are zero, so each position's output depends on its
// own token's embedding alone.
const (
	dims      = 32
	heads     = 4
	ctxLen    = 2048
	alignment = 32
	// margin is the logit a model's chosen token leads every other by.
	margin = 30.0
)

type gguf struct {
	kv    bytes.Buffer
	nkv   uint64
	names []string
	shape [][]uint64
	data  [][]float32
}

func putString(b *bytes.Buffer, s string) {
	binary.Write(b, binary.LittleEndian, uint64(len(s)))
	b.WriteString(s)
}

func (g *gguf) key(k string, typ uint32) {
	putString(&g.kv, k)
	binary.Write(&g.kv, binary.LittleEndian, typ)
	g.nkv++
}

func (g *gguf) u32(k string, v uint32) {
	g.key(k, ggufUint32)
	binary.Write(&g.kv, binary.LittleEndian, v)
}
func (g *gguf) f32(k string, v float32) {
	g.key(k, ggufFloat32)
	binary.Write(&g.kv, binary.LittleEndian, v)
}
func (g *gguf) str(k, v string) { g.key(k, ggufString); putString(&g.kv, v) }
func (g *gguf) boolean(k string, v bool) {
	g.key(k, ggufBool)
	binary.Write(&g.kv, binary.LittleEndian, v)
}

func (g *gguf) array(k string, elem uint32, n int, write func(*bytes.Buffer)) {
	g.key(k, ggufArray)
	binary.Write(&g.kv, binary.LittleEndian, elem)
	binary.Write(&g.kv, binary.LittleEndian, uint64(n))
	write(&g.kv)
}

func (g *gguf) tensor(name string, data []float32, shape ...uint64) {
	g.names = append(g.names, name)
	g.shape = append(g.shape, shape)
	g.data = append(g.data, data)
}

func pad(b *bytes.Buffer) {
	for b.Len()%alignment != 0 {
		b.WriteByte(0)
	}
}

func (g *gguf) bytes() []byte {
	var out, tensors bytes.Buffer
	out.WriteString("GGUF")
	binary.Write(&out, binary.LittleEndian, uint32(3))
	binary.Write(&out, binary.LittleEndian, uint64(len(g.names)))
	binary.Write(&out, binary.LittleEndian, g.nkv)
	out.Write(g.kv.Bytes())
	for i, name := range g.names {
		pad(&tensors)
		putString(&out, name)
		binary.Write(&out, binary.LittleEndian, uint32(len(g.shape[i])))
		for _, d := range g.shape[i] {
			binary.Write(&out, binary.LittleEndian, d)
		}
		binary.Write(&out, binary.LittleEndian, uint32(0)) // float32
		binary.Write(&out, binary.LittleEndian, uint64(tensors.Len()))
		binary.Write(&tensors, binary.LittleEndian, g.data[i])
	}
	pad(&out)
	out.Write(tensors.Bytes())
	return out.Bytes()
}

// WriteModel writes a GGUF model that answers reply (distinct words) to a
// prompt that does not end in one of its words, word by word, then ends. Its vocabulary is three special tokens, the 256 byte
// tokens (so any prompt tokenizes) and one token per word of reply.
//
// The model is a counter: the embedding of the i-th reply word is the
// i+1-th unit vector (every other token's, the first), the layer adds
// nothing, and the output row of the word that follows, or of the end
// token after the last, reads that unit: after the prompt the model says
// the first word, after it the second, and so on, each by a margin no
// temperature below ten undoes.
func WriteModel(path, reply string) error {
	words := strings.Fields(reply)
	if len(words) == 0 || len(words) >= dims {
		return fmt.Errorf("ollamatest: a reply of 1..%d words", dims-1)
	}
	for i, w := range words {
		if slices.Contains(words[:i], w) {
			return fmt.Errorf("ollamatest: the reply says %q twice: each word is a token of its own", w)
		}
	}
	tokens := []string{"<unk>", "<s>", "</s>"}
	kinds := []int32{2, 3, 3} // unknown, control, control
	for b := 0; b < 256; b++ {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		kinds = append(kinds, 6) // byte
	}
	first := len(tokens)
	for i, w := range words {
		if i > 0 {
			w = "\u2581" + w // sentencepiece's space
		}
		tokens = append(tokens, w)
		kinds = append(kinds, 1) // normal
	}
	const eos = 2
	vocab := len(tokens)
	embed := make([]float32, vocab*dims)
	for t := range vocab {
		unit := 0
		if t >= first {
			unit = t - first + 1
		}
		embed[t*dims+unit] = 1
	}
	// After normalisation a unit vector holds sqrt(dims) where it is one,
	// so a weight of margin/sqrt(dims) gives its logit the margin.
	w := float32(margin / math.Sqrt(dims))
	output := make([]float32, vocab*dims)
	for i := range words {
		output[(first+i)*dims+i] = w // after unit i (the prompt, or word i), word i
	}
	output[eos*dims+len(words)] = w // after the last word, the end
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	var g gguf
	g.str("general.architecture", "llama")
	g.str("general.name", "tollgate-test")
	g.u32("general.file_type", 0)
	g.u32("general.alignment", alignment)
	g.u32("llama.context_length", ctxLen)
	g.u32("llama.embedding_length", dims)
	g.u32("llama.block_count", 1)
	g.u32("llama.feed_forward_length", dims)
	g.u32("llama.attention.head_count", heads)
	g.u32("llama.attention.head_count_kv", heads)
	g.f32("llama.attention.layer_norm_rms_epsilon", 1e-5)
	g.u32("llama.rope.dimension_count", dims/heads)
	g.f32("llama.rope.freq_base", 10000)
	g.u32("llama.vocab_size", uint32(vocab))
	g.str("tokenizer.ggml.model", "llama")
	g.array("tokenizer.ggml.tokens", ggufString, vocab, func(b *bytes.Buffer) {
		for _, t := range tokens {
			putString(b, t)
		}
	})
	g.array("tokenizer.ggml.scores", ggufFloat32, vocab, func(b *bytes.Buffer) {
		binary.Write(b, binary.LittleEndian, make([]float32, vocab))
	})
	g.array("tokenizer.ggml.token_type", ggufInt32, vocab, func(b *bytes.Buffer) { binary.Write(b, binary.LittleEndian, kinds) })
	g.u32("tokenizer.ggml.unknown_token_id", 0)
	g.u32("tokenizer.ggml.bos_token_id", 1)
	g.u32("tokenizer.ggml.eos_token_id", eos)
	g.boolean("tokenizer.ggml.add_bos_token", true)
	g.boolean("tokenizer.ggml.add_eos_token", false)

	g.tensor("token_embd.weight", embed, dims, uint64(vocab))
	g.tensor("output_norm.weight", ones(dims), dims)
	g.tensor("output.weight", output, dims, uint64(vocab))
	zero := func(n int) []float32 { return make([]float32, n) }
	g.tensor("blk.0.attn_norm.weight", ones(dims), dims)
	for _, n := range []string{"attn_q", "attn_k", "attn_v", "attn_output"} {
		g.tensor("blk.0."+n+".weight", zero(dims*dims), dims, dims)
	}
	g.tensor("blk.0.ffn_norm.weight", ones(dims), dims)
	g.tensor("blk.0.ffn_gate.weight", zero(dims*dims), dims, dims)
	g.tensor("blk.0.ffn_up.weight", zero(dims*dims), dims, dims)
	g.tensor("blk.0.ffn_down.weight", zero(dims*dims), dims, dims)
	return os.WriteFile(path, g.bytes(), 0o644)
}
