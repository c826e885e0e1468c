import { Head } from "./ui";
import { useEffect, useMemo, useState } from "preact/hooks";
import { agentApi, errorText, getDeployment, ledgerApi, useDeployment } from "./api";
import { colourOf, short, tgt } from "./format";
import type { Plugin, Receipt, TracedSpan } from "./gen/tollgate/v1/tollgate_pb";
import { allPlugins } from "./plugins";
import { currentSession, useSession } from "./session";
import { verifyReceipt, type Expect, type Verdict } from "./eip712";

export function InvokeView() {
  const s = useSession();
  const [agents, setAgents] = useState<Plugin[]>([]);
  const [agent, setAgent] = useState("");
  const [input, setInput] = useState("Why is the sky blue?");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const [balance, setBalance] = useState<string | null>(null);
  const [result, setResult] = useState<{ receipt: Receipt; output: string; binary: boolean; spans: TracedSpan[]; ms: number } | null>(null);
  const dep = useDeployment();

  useEffect(() => {
    allPlugins()
      .then((ps) => {
        const as = ps.filter((p) => (p.kind === "agent" || p.kind === "model") && !p.yanked);
        setAgents(as);
        if (as.length && !agent) setAgent(as[0].ref);
      })
      .catch((e) => setErr(errorText(e)));
  }, []);

  const refreshBalance = () => {
    if (!s) return setBalance(null);
    ledgerApi
      .getBalance({ account: s.account })
      .then((b) => setBalance(b.balance))
      .catch(() => setBalance(null));
  };
  useEffect(refreshBalance, [s?.account]);

  const picked = agents.find((a) => a.ref === agent);
  const invoke = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    setResult(null);
    const t0 = performance.now();
    try {
      let id: string;
      if (picked?.kind === "model") {
        // A model is called directly through the node's OpenAI-compatible
        // endpoint, at the pinned version shown (its prices never change).
        id = await generate(agent, input);
      } else {
        // Agree to the price shown: a republish at a higher price is refused.
        id = (await agentApi.invoke({ agent, inputText: input, maxPrice: picked?.price ?? "" })).receipt!.id;
      }
      const tr = await ledgerApi.traceReceipt({ id });
      setResult({ receipt: tr.receipt!, output: tr.outputText, binary: tr.binary, spans: tr.spans, ms: performance.now() - t0 });
      refreshBalance();
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const faucet = async () => {
    setErr("");
    try {
      await ledgerApi.faucet({});
      refreshBalance();
    } catch (e) {
      setErr(errorText(e));
    }
  };

  return (
    <>
      <section aria-labelledby="invoke-h">
        <h1 id="invoke-h">Invoke an agent or a model</h1>
        <p class="sub">Ask an agent; see which words of its answer came from which record, and who was paid for it.</p>
        <form onSubmit={invoke}>
          <label for="agent">Agent or model</label>
          <select id="agent" value={agent} onChange={(e) => setAgent((e.target as HTMLSelectElement).value)}>
            {agents.map((a) => (
              <option value={a.ref}>
                {a.kind === "model" ? `${a.ref} · model, priced per token` : `${a.ref} · ${tgt(a.price)} TGT a call`}
              </option>
            ))}
          </select>
          <label for="input">Input</label>
          <textarea id="input" rows={3} value={input} onInput={(e) => setInput((e.target as HTMLTextAreaElement).value)} />
          <div class="row">
            <button type="submit" disabled={busy || !s || !agent}>
              {busy ? "Running…" : "Invoke"}
            </button>
            {s ? (
              <span class="muted">
                Credit: <span data-testid="balance">{balance === null ? "…" : tgt(balance)}</span> TGT{" "}
                {dep?.rpc && (
                  <button type="button" class="link" onClick={faucet}>
                    Get test credit
                  </button>
                )}
              </span>
            ) : (
              <span class="muted">Sign in to invoke: calls are paid from your credit.</span>
            )}
          </div>
        </form>
        {err && (
          <p class="err" role="alert">
            {err}
          </p>
        )}
      </section>
      {result && (
        <section aria-labelledby="answer-h" data-testid="result" data-invoke-ms={Math.round(result.ms)}>
          <h2 id="answer-h">Answer</h2>
          {result.binary ? <p class="muted">The agent answered with binary output: nothing to highlight.</p> : <Trace receipt={result.receipt} output={result.output} spans={result.spans} />}
          <FeeBar receipt={result.receipt} />
          <ReceiptPanel receipt={result.receipt} output={result.binary ? undefined : result.output} />
        </section>
      )}
    </>
  );
}

// generate asks a model through /v1/chat/completions and returns the id of
// the receipt the call was charged on.
async function generate(model: string, input: string): Promise<string> {
  const token = currentSession()?.token ?? "";
  const r = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
    body: JSON.stringify({ model, messages: [{ role: "user", content: input }] }),
  });
  const j = (await r.json()) as { error?: { code?: string; message?: string }; tollgate?: { receipt_id: string } };
  if (!r.ok || !j.tollgate) throw new Error(`${j.error?.code ?? r.status}: ${j.error?.message ?? "the model call failed"}`);
  return j.tollgate.receipt_id;
}

export function ReceiptView({ id }: { id: string }) {
  const s = useSession();
  const [data, setData] = useState<{ receipt: Receipt; output?: string; spans: TracedSpan[]; note: string } | null>(null);
  const [err, setErr] = useState("");
  useEffect(() => {
    setErr("");
    setData(null);
    (async () => {
      // The receipt first (the node shows it to those it names and the
      // operator until its epoch closes, then to anyone); its output is
      // traced only where the node shows that too.
      const receipt = (await ledgerApi.getReceipt({ id })).receipt!;
      const open = (await ledgerApi.listEpochs({ pageSize: 1 })).open;
      const mine = !!s && (s.operator || s.account.toLowerCase() === receipt.caller.toLowerCase());
      if (receipt.epoch >= open && !mine) return setData({ receipt, spans: [], note: "The output is its caller's until the epoch closes." });
      const tr = await ledgerApi.traceReceipt({ id });
      setData({ receipt: tr.receipt!, output: tr.binary ? undefined : tr.outputText, spans: tr.spans, note: tr.binary ? "The output is binary: nothing to highlight." : "" });
    })().catch((e) => setErr(errorText(e)));
  }, [id, s?.account]);
  return (
    <section aria-labelledby="receipt-h">
      <h1 id="receipt-h">Receipt {short(id, 8)}</h1>
      {err && (
        <p class="err" role="alert">
          {err}
        </p>
      )}
      {data && (
        <>
          {data.output !== undefined ? <Trace receipt={data.receipt} output={data.output} spans={data.spans} /> : <p class="muted">{data.note}</p>}
          <FeeBar receipt={data.receipt} />
          <ReceiptPanel receipt={data.receipt} output={data.output} />
        </>
      )}
    </section>
  );
}

// contributorIndex numbers the receipt's contributors in the order they
// were scored, so each keeps one colour across the output, legend and bar.
function contributorIndex(r: Receipt): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of [...r.scores.map((s) => s.contributor), ...r.accesses.map((a) => a.contributor), ...r.generations.flatMap((g) => g.shares.map((s) => s.contributor))]) {
    if (!m.has(c)) m.set(c, m.size);
  }
  return m;
}

interface Piece {
  text: string;
  span?: TracedSpan;
}

// pieces cuts the output into runs, each word given to the longest span
// covering it (ties to the one starting first), as the ngram rule does.
function pieces(output: string, spans: TracedSpan[]): Piece[] {
  const owner: (number | undefined)[] = new Array(output.length);
  const order = spans.map((s, i) => i).sort((a, b) => spans[b].end - spans[b].start - (spans[a].end - spans[a].start) || spans[a].start - spans[b].start);
  for (const i of order) {
    for (let k = spans[i].start; k < spans[i].end && k < output.length; k++) if (owner[k] === undefined) owner[k] = i;
  }
  const out: Piece[] = [];
  let k = 0;
  while (k < output.length) {
    let j = k;
    while (j < output.length && owner[j] === owner[k]) j++;
    const i = owner[k];
    out.push({ text: output.slice(k, j), span: i === undefined ? undefined : spans[i] });
    k = j;
  }
  return out;
}

export function Trace({ receipt, output, spans }: { receipt: Receipt; output: string; spans: TracedSpan[] }) {
  const colours = useMemo(() => contributorIndex(receipt), [receipt]);
  const score = useMemo(() => new Map(receipt.scores.map((s) => [s.record, s])), [receipt]);
  const version = useMemo(() => new Map(receipt.datanets.map((d) => [d.name, d.version])), [receipt]);
  const [focus, setFocus] = useState<TracedSpan | null>(null);
  // Weights are relative: a record's share is its weight over their sum.
  const totalWeight = receipt.scores.reduce((t, s) => t + s.weight, 0);
  const share = (w: number) => (totalWeight > 0 ? `${((100 * w) / totalWeight).toFixed(1)}%` : "0%");
  // A training record a model call paid, by id: its contributor and tokens.
  const trained = useMemo(() => new Map(receipt.generations.flatMap((g) => g.shares.map((s) => [s.record, s] as const))), [receipt]);
  const contributorOf = (id: string) => score.get(id)?.contributor ?? trained.get(id)?.contributor ?? "";
  const describe = (sp: TracedSpan) =>
    sp.records
      .map((id) => {
        const sc = score.get(id);
        if (sc) return `record ${short(id, 6)} in ${sp.datanet}@v${version.get(sp.datanet) ?? "?"}, by ${short(sc.contributor, 4)}, share ${share(sc.weight)} (weight ${sc.weight})`;
        const tr = trained.get(id);
        return `training record ${short(id, 6)} in ${sp.datanet}, by ${short(tr?.contributor ?? "", 4)}, ${tr?.tokens ?? "?"} tokens of the model's answer`;
      })
      .join("; ");
  return (
    <div class="trace">
      <p class="output" data-testid="output">
        {pieces(output, spans).map((p) => {
          if (!p.span) return p.text;
          const who = contributorOf(p.span.records[0]);
          const c = colourOf(colours.get(who) ?? 0);
          return (
            <mark
              tabIndex={0}
              style={{ background: c.tint, borderBottomColor: c.strong }}
              title={describe(p.span)}
              data-records={p.span.records.join(" ")}
              data-datanet={p.span.datanet}
              data-contributor={who}
              onMouseEnter={() => setFocus(p.span!)}
              onFocus={() => setFocus(p.span!)}
            >
              {p.text}
            </mark>
          );
        })}
      </p>
      <p class="muted" aria-live="polite" data-testid="span-detail">
        {focus ? describe(focus) : spans.length ? "Hover or tab to a highlighted span to see its record." : "No span of the output is held verbatim by a record it paid."}
      </p>
      {receipt.scores.length > 0 && (
        <table>
          <caption>Attribution ({receipt.method})</caption>
          <Head cols={[["Contributor"], ["Record"], ["Weight", "num wide"], ["Share", "num"]]} />
          <tbody>
            {receipt.scores.map((s) => (
              <tr>
                <td>
                  <span class="swatch" style={{ background: colourOf(colours.get(s.contributor) ?? 0).strong }} aria-hidden="true" />
                  <span title={s.contributor}>{short(s.contributor, 4)}</span>
                </td>
                <td title={s.record}>{short(s.record, 6)}</td>
                <td class="num wide">{s.weight}</td>
                <td class="num">{share(s.weight)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {receipt.generations.map((g) => (
        <details>
          <summary>
            Model call {g.model}: {g.tokensIn} tokens in, {g.tokensOut} out, cost {tgt(g.cost)} TGT
          </summary>
          <p class="output">{g.text}</p>
          <table>
            <Head cols={[["Training record"], ["Contributor"], ["Tokens", "num"]]} />
            <tbody>
              {g.shares.map((s) => (
                <tr>
                  <td title={s.record}>{short(s.record, 6)}</td>
                  <td title={s.contributor}>{short(s.contributor, 4)}</td>
                  <td class="num">{s.tokens}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </div>
  );
}

const kindLabel: Record<string, string> = {
  access: "access",
  attribution: "attribution",
  developer: "publisher",
  protocol: "operator",
  model: "model",
  training: "training",
};

// FeeBar is the charge as one bar, split by who was paid and for what.
export function FeeBar({ receipt }: { receipt: Receipt }) {
  const colours = contributorIndex(receipt);
  const paid = receipt.postings.filter((p) => BigInt(p.amount || "0") > 0n);
  const total = paid.reduce((t, p) => t + BigInt(p.amount), 0n);
  if (total === 0n) return null;
  const colourFor = (p: { account: string; kind: string }) => {
    if (colours.has(p.account) && (p.kind === "access" || p.kind === "training")) return colourOf(colours.get(p.account)!).tint;
    if (colours.has(p.account) && p.kind === "attribution") return colourOf(colours.get(p.account)!).strong;
    return p.kind === "protocol" ? "#495057" : p.kind === "developer" ? "#343a40" : "#868e96";
  };
  return (
    <figure class="feebar" data-testid="feebar" data-total={total.toString()} data-charged={receipt.charged}>
      <figcaption>
        Charged {tgt(receipt.charged)} TGT, paid to {new Set(paid.map((p) => p.account)).size} accounts
      </figcaption>
      <div class="bar" role="img" aria-label={paid.map((p) => `${kindLabel[p.kind] ?? p.kind} ${tgt(p.amount)} TGT to ${p.account}`).join(", ")}>
        {paid.map((p) => (
          <span
            class="seg"
            data-kind={p.kind}
            data-account={p.account}
            data-amount={p.amount}
            title={`${kindLabel[p.kind] ?? p.kind}: ${tgt(p.amount)} TGT to ${p.account}`}
            style={{ flexGrow: Number((BigInt(p.amount) * 1_000_000n) / total), background: colourFor(p) }}
          />
        ))}
      </div>
      <ul class="legend">
        {paid.map((p) => (
          <li>
            <span class="swatch" style={{ background: colourFor(p) }} aria-hidden="true" />
            {kindLabel[p.kind] ?? p.kind} <span title={p.account}>{short(p.account, 4)}</span> <strong>{tgt(p.amount)}</strong>
          </li>
        ))}
      </ul>
    </figure>
  );
}

// expectFor is what a receipt must match: the operator who signs its
// epoch (the contract's, for a closed one; this node's, for the open one),
// this node's deployment, and the output shown.
async function expectFor(receipt: Receipt, output: string | undefined): Promise<Expect> {
  const dep = await getDeployment();
  const open = (await ledgerApi.listEpochs({ pageSize: 1 })).open;
  const operator = receipt.epoch < open ? (await ledgerApi.getEpoch({ epoch: receipt.epoch })).operator : dep.operator;
  return { operator, chainId: dep.chainId, settlement: dep.settlement, output: output === undefined ? undefined : new TextEncoder().encode(output) };
}

export function ReceiptPanel({ receipt, output }: { receipt: Receipt; output?: string }) {
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [busy, setBusy] = useState(false);
  const check = async () => {
    setBusy(true);
    try {
      setVerdict(await verifyReceipt(receipt, await expectFor(receipt, output)));
    } catch (e) {
      setVerdict({ ok: false, reason: "cannot check: " + errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="receipt">
      <p>
        Receipt <a href={"#/receipt/" + receipt.id}>{short(receipt.id, 8)}</a> · epoch {receipt.epoch.toString()} · signed by{" "}
        <span title={receipt.signer}>{short(receipt.signer, 4)}</span>
      </p>
      <div class="row">
        <button type="button" onClick={check} disabled={busy}>
          Verify this receipt
        </button>
        {verdict && (
          <span data-testid="verdict" data-ok={String(verdict.ok)} class={verdict.ok ? "ok" : "err"} role="status">
            {verdict.ok
              ? `Signature valid: signed by ${verdict.signer}, the operator of epoch ${receipt.epoch} on this node's chain${output === undefined ? "" : ", over the output shown"}.`
              : `Not valid: ${verdict.reason}`}
          </span>
        )}
      </div>
      <details>
        <summary>Signature and signed fields</summary>
        <pre>{JSON.stringify(receipt, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}</pre>
      </details>
    </div>
  );
}
