// builtin/ngram@1.1.0: Tollgate's default attribution rule, the one
// plugins/ngram/main.go states and builtin/ngram@1.0.0 runs, written in
// AssemblyScript so that a fresh instance costs a few pages of memory and no
// language runtime start-up. The rule, in the order it is applied:
//
//  1. Spans: the maximal spans of the output, at least min_tokens words
//     long (default 4), found verbatim in a granted datanet (corpus_match).
//  2. Overlaps: every output byte belongs to the longest span covering it
//     (ties to the span that starts first); a span owns words in proportion
//     to the bytes no longer span took first, at least one.
//  3. Rarity: a span owning t words in n records weighs t/n (0 if none named).
//  4. Sharing: the weight is split equally among the records holding the
//     span, or among those of them the agent read, if it read any.
//  5. No span at all: every record read is weighted by the bytes read.
//
// Every step iterates in the same order as the Go plugin and adds the same
// floats in the same order, so both give the same weights, bit for bit; a
// differential test in attribution/ holds them to it.
import { Host, Memory } from "@extism/as-pdk";

@external("extism:host/user", "corpus_match")
declare function corpus_match(offset: u64): u64;

@external("extism:host/env", "length")
declare function extism_length(offset: u64): u64;

@external("extism:host/env", "error_set")
declare function error_set(offset: u64): void;

export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {}

// ---- JSON: just what the ABI's envelopes need ----

const NULL: u8 = 0;
const BOOL: u8 = 1;
const NUM: u8 = 2;
const STR: u8 = 3;
const ARR: u8 = 4;
const OBJ: u8 = 5;

class J {
  t: u8 = NULL;
  n: f64 = 0;
  s: string = "";
  a: Array<J> = [];
  k: Array<string> = [];
  v: Array<J> = [];

  get(key: string): J | null {
    for (let i = 0; i < this.k.length; i++) {
      if (this.k[i] == key) return this.v[i];
    }
    return null;
  }
}

class Parser {
  s: string;
  i: i32 = 0;
  ok: bool = true;

  constructor(s: string) {
    this.s = s;
  }

  fail(): J {
    this.ok = false;
    return new J();
  }

  ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.i++;
    }
  }

  value(): J {
    this.ws();
    if (this.i >= this.s.length) return this.fail();
    const c = this.s.charCodeAt(this.i);
    if (c == 0x7b) return this.object();
    if (c == 0x5b) return this.array();
    if (c == 0x22) {
      const j = new J();
      j.t = STR;
      j.s = this.str();
      return j;
    }
    if (this.s.startsWith("true", this.i)) {
      this.i += 4;
      const j = new J();
      j.t = BOOL;
      j.n = 1;
      return j;
    }
    if (this.s.startsWith("false", this.i)) {
      this.i += 5;
      const j = new J();
      j.t = BOOL;
      return j;
    }
    if (this.s.startsWith("null", this.i)) {
      this.i += 4;
      return new J();
    }
    return this.number();
  }

  number(): J {
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if ((c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45) this.i++;
      else break;
    }
    if (this.i == start) return this.fail();
    const j = new J();
    j.t = NUM;
    j.n = parseFloat(this.s.substring(start, this.i));
    if (isNaN(j.n)) return this.fail();
    return j;
  }

  hex4(): i32 {
    if (this.i + 4 > this.s.length) {
      this.ok = false;
      return 0;
    }
    const v = I32.parseInt(this.s.substring(this.i, this.i + 4), 16);
    this.i += 4;
    return v;
  }

  str(): string {
    this.i++; // the opening quote
    let out = "";
    let run = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c == 0x22) {
        out += this.s.substring(run, this.i);
        this.i++;
        return out;
      }
      if (c != 0x5c) {
        this.i++;
        continue;
      }
      out += this.s.substring(run, this.i);
      this.i++;
      if (this.i >= this.s.length) break;
      const e = this.s.charCodeAt(this.i);
      this.i++;
      if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x75) out += String.fromCharCode(this.hex4());
      else out += String.fromCharCode(e); // \" \\ \/
      run = this.i;
    }
    this.ok = false;
    return out;
  }

  array(): J {
    this.i++;
    const j = new J();
    j.t = ARR;
    this.ws();
    if (this.i < this.s.length && this.s.charCodeAt(this.i) == 0x5d) {
      this.i++;
      return j;
    }
    while (this.ok) {
      j.a.push(this.value());
      this.ws();
      if (this.i >= this.s.length) return this.fail();
      const c = this.s.charCodeAt(this.i);
      this.i++;
      if (c == 0x5d) return j;
      if (c != 0x2c) return this.fail();
    }
    return j;
  }

  object(): J {
    this.i++;
    const j = new J();
    j.t = OBJ;
    this.ws();
    if (this.i < this.s.length && this.s.charCodeAt(this.i) == 0x7d) {
      this.i++;
      return j;
    }
    while (this.ok) {
      this.ws();
      if (this.i >= this.s.length || this.s.charCodeAt(this.i) != 0x22) return this.fail();
      const key = this.str();
      this.ws();
      if (this.i >= this.s.length || this.s.charCodeAt(this.i) != 0x3a) return this.fail();
      this.i++;
      j.k.push(key);
      j.v.push(this.value());
      this.ws();
      if (this.i >= this.s.length) return this.fail();
      const c = this.s.charCodeAt(this.i);
      this.i++;
      if (c == 0x7d) return j;
      if (c != 0x2c) return this.fail();
    }
    return j;
  }
}

function parse(s: string): J | null {
  const p = new Parser(s);
  const j = p.value();
  p.ws();
  if (!p.ok || p.i != s.length) return null;
  return j;
}

const HEX = "0123456789abcdef";

// quote writes s as a JSON string.
function quote(s: string): string {
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c || c < 0x20) {
      out += s.substring(run, i);
      if (c == 0x22) out += '\\"';
      else if (c == 0x5c) out += "\\\\";
      else out += "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
      run = i + 1;
    }
  }
  return out + s.substring(run) + '"';
}

function str(j: J | null): string {
  return j != null && j.t == STR ? j.s : "";
}

function int(j: J | null): i32 {
  return j != null && j.t == NUM ? i32(j.n) : 0;
}

// allocate copies s, UTF-8, into Extism memory, eight bytes per kernel call
// (the PDK's allocateString stores a byte per call).
function allocate(s: string): Memory {
  const bytes = Uint8Array.wrap(String.UTF8.encode(s));
  const m = Memory.allocate(bytes.length);
  m.store(bytes);
  return m;
}

function fail(message: string): i32 {
  error_set(allocate(message).offset);
  return 1;
}

// ---- the rule ----

class Span {
  start: i32;
  end: i32;
  tokens: i32;
  records: Array<string>;
  owned: i32 = 0;

  constructor(start: i32, end: i32, tokens: i32, records: Array<string>) {
    this.start = start;
    this.end = end;
    this.tokens = tokens;
    this.records = records;
  }
}

// before orders spans longest first, then earliest first.
function before(a: Span, b: Span): bool {
  if (a.tokens != b.tokens) return a.tokens > b.tokens;
  return a.start < b.start;
}

// stableSort sorts by before, keeping the order of equal spans (a merge
// sort: AssemblyScript's own sort is not stable).
function stableSort(xs: Array<Span>): Array<Span> {
  if (xs.length < 2) return xs;
  const mid = xs.length >> 1;
  const l = stableSort(xs.slice(0, mid));
  const r = stableSort(xs.slice(mid));
  const out = new Array<Span>(0);
  let i = 0;
  let k = 0;
  while (i < l.length && k < r.length) {
    if (before(r[k], l[i])) out.push(r[k++]);
    else out.push(l[i++]);
  }
  while (i < l.length) out.push(l[i++]);
  while (k < r.length) out.push(r[k++]);
  return out;
}

function resolveOverlaps(spans: Array<Span>): void {
  const order = stableSort(spans.slice(0));
  let end = 0;
  for (let i = 0; i < spans.length; i++) end = max(end, spans[i].end);
  const taken = new Uint8Array(end);
  for (let i = 0; i < order.length; i++) {
    const s = order[i];
    let free = 0;
    for (let b = s.start; b < s.end; b++) {
      if (taken[b] == 0) {
        taken[b] = 1;
        free++;
      }
    }
    if (free > 0) s.owned = max(1, (s.tokens * free) / (s.end - s.start));
  }
}

// sortedUnique returns the distinct strings of xs in order.
function sortedUnique(xs: Array<string>): Array<string> {
  const out = xs.slice(0);
  // Insertion sort: granted datanets are few.
  for (let i = 1; i < out.length; i++) {
    const x = out[i];
    let j = i - 1;
    while (j >= 0 && out[j] > x) {
      out[j + 1] = out[j];
      j--;
    }
    out[j + 1] = x;
  }
  const uniq = new Array<string>(0);
  for (let i = 0; i < out.length; i++) {
    if (i == 0 || out[i] != out[i - 1]) uniq.push(out[i]);
  }
  return uniq;
}

// corpusMatch calls the host; it returns the spans, or sets error and
// returns null.
function corpusMatch(datanet: string, text: string, minTokens: i32, error: Array<string>): Array<Span> | null {
  const req = allocate('{"datanet":' + quote(datanet) + ',"text":' + quote(text) + ',"min_tokens":' + minTokens.toString() + "}");
  const off = corpus_match(req.offset);
  const resp = parse(new Memory(off, extism_length(off)).toString());
  if (resp == null || resp.t != OBJ) {
    error.push("corpus_match: a response that is not JSON");
    return null;
  }
  const e = resp.get("error");
  if (e != null && e.t == OBJ) {
    const code = str(e.get("code"));
    const message = str(e.get("message"));
    error.push(message.length == 0 ? code : code + ": " + message);
    return null;
  }
  const out = new Array<Span>(0);
  const spans = resp.get("spans");
  if (spans == null || spans.t != ARR) return out;
  for (let i = 0; i < spans.a.length; i++) {
    const s = spans.a[i];
    const recs = new Array<string>(0);
    const rs = s.get("records");
    if (rs != null && rs.t == ARR) {
      for (let k = 0; k < rs.a.length; k++) recs.push(str(rs.a[k]));
    }
    out.push(new Span(int(s.get("start")), int(s.get("end")), int(s.get("tokens")), recs));
  }
  return out;
}

// Weights keeps weights by record in first-added order, as the sums are
// made; the response sorts them by record.
class Weights {
  ids: Array<string> = [];
  index: Map<string, i32> = new Map();
  w: Array<f64> = [];

  add(id: string, x: f64): void {
    if (this.index.has(id)) {
      const i = this.index.get(id);
      this.w[i] = this.w[i] + x;
      return;
    }
    this.index.set(id, this.ids.length);
    this.ids.push(id);
    this.w.push(x);
  }
}

export function attribute(): i32 {
  const req = parse(Host.inputString());
  if (req == null || req.t != OBJ) return fail("attribution request is not JSON");
  let minTokens = 4;
  const params = req.get("params");
  if (params != null && params.t == OBJ) {
    const mt = params.get("min_tokens");
    if (mt != null && mt.t == NUM) minTokens = i32(mt.n);
  } else if (params != null && params.t != NULL) {
    return fail("params: want an object");
  }
  const output = str(req.get("output"));
  const granted = new Array<string>(0);
  const ds = req.get("datanets");
  if (ds != null && ds.t == ARR) {
    for (let i = 0; i < ds.a.length; i++) granted.push(str(ds.a[i]));
  }
  const accesses = req.get("accesses");
  const read = new Set<string>();
  if (accesses != null && accesses.t == ARR) {
    for (let i = 0; i < accesses.a.length; i++) read.add(str(accesses.a[i].get("record")));
  }

  const spans = new Array<Span>(0);
  const names = sortedUnique(granted);
  const error = new Array<string>(0);
  for (let d = 0; d < names.length; d++) {
    const found = corpusMatch(names[d], output, minTokens, error);
    if (found == null) return fail(error[0]);
    for (let i = 0; i < found.length; i++) spans.push(found[i]);
  }
  resolveOverlaps(spans);

  const weights = new Weights();
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    if (s.owned == 0 || s.records.length == 0) continue;
    const w = f64(s.owned) / f64(s.records.length);
    let holders = s.records;
    const readHolders = new Array<string>(0);
    for (let k = 0; k < s.records.length; k++) {
      if (read.has(s.records[k])) readHolders.push(s.records[k]);
    }
    if (readHolders.length > 0) holders = readHolders;
    for (let k = 0; k < holders.length; k++) weights.add(holders[k], w / f64(holders.length));
  }
  let method = "ngram/v1";
  if (weights.ids.length == 0) {
    method = "ngram/v1:access-bytes";
    if (accesses != null && accesses.t == ARR) {
      for (let i = 0; i < accesses.a.length; i++) {
        const a = accesses.a[i];
        weights.add(str(a.get("record")), f64(int(a.get("bytes"))));
      }
    }
  }
  // Records in order, as the Go plugin sorts them (ids are hex: code unit
  // order is byte order).
  const order = weights.ids.slice(0);
  order.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
  let out = '{"method":' + quote(method) + ',"scores":[';
  for (let i = 0; i < order.length; i++) {
    if (i > 0) out += ",";
    out += '{"record":' + quote(order[i]) + ',"weight":' + weights.w[weights.index.get(order[i])].toString() + "}";
  }
  // Host.outputString would size the output in UTF-16 units; it is ASCII
  // here, but say it in bytes.
  Host.output(Uint8Array.wrap(String.UTF8.encode(out + "]}")));
  return 0;
}
