// The EIP-712 typed data the node signs receipts in and publishers sign
// manifests in, built here from the API's messages so the browser checks a
// receipt's signature itself (mirrors ledger/sign.go and registry/sign.go).
import { getAddress, keccak256, recoverTypedDataAddress, sha256, stringToBytes, type Hex, type TypedDataDefinition } from "viem";
import type { Receipt } from "./gen/tollgate/v1/tollgate_pb";

const zeroAddress = "0x0000000000000000000000000000000000000000";
const zeroHash = ("0x" + "00".repeat(32)) as Hex;

const receiptTypes2 = {
  Receipt: [
    { name: "schema", type: "uint16" },
    { name: "invocation", type: "string" },
    { name: "requestId", type: "string" },
    { name: "caller", type: "address" },
    { name: "agent", type: "string" },
    { name: "agentHash", type: "bytes32" },
    { name: "attribution", type: "string" },
    { name: "attributionHash", type: "bytes32" },
    { name: "method", type: "string" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "epoch", type: "uint64" },
    { name: "time", type: "uint64" },
    { name: "fuel", type: "uint64" },
    { name: "prevBundle", type: "bytes32" },
    { name: "datanets", type: "DatanetVersion[]" },
    { name: "reads", type: "Read[]" },
    { name: "scores", type: "Score[]" },
    { name: "fees", type: "Fee[]" },
  ],
  DatanetVersion: [
    { name: "name", type: "string" },
    { name: "version", type: "uint64" },
    { name: "root", type: "bytes32" },
  ],
  Read: [
    { name: "datanet", type: "string" },
    { name: "record", type: "string" },
    { name: "contributor", type: "address" },
    { name: "bytes", type: "uint64" },
    { name: "fee", type: "uint256" },
  ],
  Score: [
    { name: "record", type: "string" },
    { name: "contributor", type: "address" },
    { name: "weight", type: "string" },
  ],
  Fee: [
    { name: "account", type: "address" },
    { name: "kind", type: "string" },
    { name: "amount", type: "int256" },
    { name: "memo", type: "string" },
  ],
} as const;

const receiptTypes3 = {
  ...receiptTypes2,
  Receipt: [
    ...receiptTypes2.Receipt,
    { name: "agentManifest", type: "bytes32" },
    { name: "attributionManifest", type: "bytes32" },
    { name: "generations", type: "Generation[]" },
  ],
  Generation: [
    { name: "model", type: "string" },
    { name: "modelHash", type: "bytes32" },
    { name: "backend", type: "string" },
    { name: "seed", type: "uint64" },
    { name: "temperature", type: "string" },
    { name: "maxTokens", type: "uint64" },
    { name: "stop", type: "string[]" },
    { name: "promptHash", type: "bytes32" },
    { name: "tokensIn", type: "uint64" },
    { name: "tokensOut", type: "uint64" },
    { name: "finish", type: "string" },
    { name: "textHash", type: "bytes32" },
    { name: "cost", type: "uint256" },
    { name: "shares", type: "TokenShare[]" },
  ],
  TokenShare: [
    { name: "datanet", type: "string" },
    { name: "record", type: "string" },
    { name: "contributor", type: "address" },
    { name: "tokens", type: "string" },
  ],
} as const;

// An address field signs anything that is not an address as zero, and a
// bytes32 field anything that is not 32 bytes of hex as zero, as the node does.
// (Go's common.IsHexAddress: 40 hex digits, with or without 0x or 0X.)
function address(a: string): Hex {
  const m = /^(?:0[xX])?([0-9a-fA-F]{40})$/.exec(a);
  return m ? getAddress("0x" + m[1].toLowerCase()) : zeroAddress;
}

function hash32(h: string): Hex {
  const s = h.startsWith("0x") ? h.slice(2) : h;
  return /^[0-9a-fA-F]{64}$/.test(s) ? (("0x" + s.toLowerCase()) as Hex) : zeroHash;
}

// int is a decimal amount; anything else signs as zero, as a missing
// amount does on the node.
function int(s: string): bigint {
  return /^-?\d+$/.test(s) ? BigInt(s) : 0n;
}

// goFloat formats x as Go's strconv.FormatFloat(x, 'g', -1, 64): the
// shortest digits that round-trip, with an exponent below 1e-4 or from 1e6.
export function goFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const sign = x < 0 ? "-" : "";
  const [mant, e] = Math.abs(x).toExponential().split("e");
  const exp = parseInt(e, 10);
  const digits = mant.replace(".", "");
  if (exp < -4 || exp >= 6) {
    const ee = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${mant}e${exp < 0 ? "-" : "+"}${ee}`;
  }
  const dp = exp + 1;
  if (dp <= 0) return `${sign}0.${"0".repeat(-dp)}${digits}`;
  if (dp >= digits.length) return sign + digits + "0".repeat(dp - digits.length);
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

// nanos is an RFC 3339 time as Unix nanoseconds (0 for the zero time).
export function nanos(t: string): bigint {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return 0n;
  const [, y, mo, d, h, mi, s, frac = "", zone] = m;
  let secs = BigInt(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) / 1000);
  if (+y < 100) return 0n; // the zero time, and any before 1970, signs as 0
  if (zone !== "Z") {
    const off = (+zone.slice(1, 3) * 60 + +zone.slice(4, 6)) * 60;
    secs += BigInt(zone[0] === "+" ? -off : off);
  }
  const n = secs * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
  return n > 0n ? n : 0n;
}

// sha256Text hashes a string's UTF-8 bytes (never as hex, whatever it
// looks like).
export function sha256Text(s: string): Hex {
  return sha256(stringToBytes(s));
}

export function receiptTypedData(r: Receipt): TypedDataDefinition {
  const schema = r.schema === 0 ? 2 : r.schema;
  const message: Record<string, unknown> = {
    schema,
    invocation: r.id,
    requestId: r.requestId,
    caller: address(r.caller),
    agent: r.agent,
    agentHash: hash32(r.agentHash),
    attribution: r.attribution,
    attributionHash: hash32(r.attributionHash),
    method: r.method,
    inputHash: hash32(r.inputHash),
    outputHash: hash32(r.outputHash),
    epoch: r.epoch,
    time: nanos(r.time),
    fuel: r.fuel,
    prevBundle: hash32(r.prevBundle),
    datanets: r.datanets.map((d) => ({ name: d.name, version: d.version, root: hash32(d.root) })),
    reads: r.accesses.map((a) => ({
      datanet: a.datanet,
      record: a.record,
      contributor: address(a.contributor),
      bytes: a.bytes < 0n ? 0n : a.bytes,
      fee: int(a.fee),
    })),
    scores: r.scores.map((s) => ({ record: s.record, contributor: address(s.contributor), weight: goFloat(s.weight) })),
    fees: r.postings.map((p) => ({ account: address(p.account), kind: p.kind, amount: int(p.amount), memo: p.memo })),
  };
  if (schema !== 2) {
    message.agentManifest = hash32(r.agentManifest);
    message.attributionManifest = hash32(r.attributionManifest);
    message.generations = r.generations.map((g) => ({
      model: g.model,
      modelHash: hash32(g.modelHash),
      backend: g.backend,
      seed: g.seed,
      temperature: goFloat(g.temperature),
      maxTokens: BigInt(g.maxTokens),
      stop: g.stop,
      promptHash: sha256Text(g.prompt),
      tokensIn: BigInt(g.tokensIn),
      tokensOut: BigInt(g.tokensOut),
      finish: g.finish,
      textHash: sha256Text(g.text),
      cost: int(g.cost),
      shares: g.shares.map((s) => ({ datanet: s.datanet, record: s.record, contributor: address(s.contributor), tokens: s.tokens })),
    }));
  }
  return {
    domain: { name: "Tollgate", version: "1", chainId: r.chainId, verifyingContract: address(r.settlement) },
    types: schema === 2 ? receiptTypes2 : receiptTypes3,
    primaryType: "Receipt",
    message,
  } as TypedDataDefinition;
}

export interface Verdict {
  ok: boolean;
  signer?: string;
  reason?: string;
}

// What a receipt is checked against: the operator who signed the epoch's
// receipts, this node's chain and settlement contract, and the output shown.
export interface Expect {
  operator: string;
  chainId: bigint;
  settlement: string;
  output?: Uint8Array;
}

// verifyReceipt recovers who signed the receipt as it stands and checks it
// is the signer the receipt names, exactly as the node does (65 bytes, v 27
// or 28, the same checksummed address), that the signer is the epoch's
// operator on this node's deployment, and that the output shown is the one
// it signed.
export async function verifyReceipt(r: Receipt, want?: Expect): Promise<Verdict> {
  try {
    if (!/^0x[0-9a-fA-F]{128}(1b|1c)$/.test(r.signature)) return { ok: false, reason: "the signature is not 65 bytes with v 27 or 28" };
    const signer = await recoverTypedDataAddress({ ...receiptTypedData(r), signature: r.signature as Hex });
    if (signer !== r.signer) return { ok: false, signer, reason: `signed by ${signer}, but the receipt names ${r.signer || "no signer"}` };
    if (!want) return { ok: true, signer };
    if (r.chainId !== want.chainId || address(r.settlement) !== address(want.settlement)) {
      return { ok: false, signer, reason: `signed for chain ${r.chainId} and contract ${r.settlement}, not this node's chain ${want.chainId} and contract ${want.settlement}` };
    }
    if (address(want.operator) !== signer) return { ok: false, signer, reason: `signed by ${signer}, not the operator of epoch ${r.epoch}, ${want.operator}` };
    if (want.output && sha256(want.output).slice(2) !== r.outputHash.replace(/^0x/, "").toLowerCase()) {
      return { ok: false, signer, reason: "the output shown is not the one the receipt signed" };
    }
    return { ok: true, signer };
  } catch (e) {
    return { ok: false, reason: String((e as Error).message || e) };
  }
}

// The registry's signing domain, and a manifest as the publisher signs it.
export function registryDomain(chainId: bigint, settlement: string) {
  return { name: "Tollgate Registry", version: "1", chainId, verifyingContract: address(settlement) } as const;
}

export interface AgentManifest {
  name: string;
  version: string;
  kind: "agent" | "attribution";
  wasm_sha256: string;
  publisher: string;
  price?: string;
  datanets?: string[];
  attribution?: string;
}

// manifestJSON is the manifest exactly as the node encodes it (Go's
// encoding/json: fields in declaration order, empty ones left out, and
// <, >, &, U+2028 and U+2029 escaped), so what is signed is what it checks.
export function manifestJSON(m: AgentManifest): string {
  const ordered: Record<string, unknown> = { name: m.name, version: m.version, kind: m.kind, wasm_sha256: m.wasm_sha256, publisher: m.publisher };
  if (m.price) ordered.price = m.price;
  if (m.datanets?.length) ordered.datanets = m.datanets;
  if (m.attribution) ordered.attribution = m.attribution;
  for (const v of [m.name, m.version, m.price ?? "", m.attribution ?? "", ...(m.datanets ?? [])]) {
    if (/[\u0000-\u001f\u007f]/.test(v)) throw new Error("manifest fields cannot hold control characters");
  }
  return JSON.stringify(ordered).replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

export function publishTypedData(chainId: bigint, settlement: string, m: AgentManifest, json: string): TypedDataDefinition {
  return {
    domain: registryDomain(chainId, settlement),
    types: {
      Publish: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "manifest", type: "bytes32" },
      ],
    },
    primaryType: "Publish",
    message: { name: m.name, version: m.version, manifest: keccak256(stringToBytes(json)) },
  } as TypedDataDefinition;
}
