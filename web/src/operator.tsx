import { Head } from "./ui";
import { useEffect, useState } from "preact/hooks";
import { errorText, ledgerApi } from "./api";
import { short, tgt, when } from "./format";
import type { Epoch, GetBalanceResponse, GetDeploymentResponse } from "./gen/tollgate/v1/tollgate_pb";
import { currentSession, useSession } from "./session";

interface Histogram {
  name: string;
  buckets: { le: string; count: number }[];
  count: number;
  sum: number;
}

// parseHistograms reads Prometheus histograms (summed over their labels
// but le) from the node's /metrics text.
export function parseHistograms(text: string): Histogram[] {
  const hs = new Map<string, Histogram>();
  const get = (name: string) => {
    let h = hs.get(name);
    if (!h) hs.set(name, (h = { name, buckets: [], count: 0, sum: 0 }));
    return h;
  };
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)_(bucket|count|sum)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const [, name, part, labels = "", value] = m;
    const h = get(name);
    const v = Number(value);
    if (part === "count") h.count += v;
    else if (part === "sum") h.sum += v;
    else {
      const le = /le="([^"]*)"/.exec(labels)?.[1] ?? "+Inf";
      const b = h.buckets.find((x) => x.le === le);
      if (b) b.count += v;
      else h.buckets.push({ le, count: v });
    }
  }
  return [...hs.values()].filter((h) => h.buckets.length);
}

export function OperatorView() {
  const s = useSession();
  const [dep, setDep] = useState<GetDeploymentResponse | null>(null);
  const [epochs, setEpochs] = useState<Epoch[]>([]);
  const [open, setOpen] = useState(0n);
  const [pool, setPool] = useState<GetBalanceResponse | null>(null);
  const [hists, setHists] = useState<Histogram[]>([]);
  const [counters, setCounters] = useState<{ name: string; value: number }[]>([]);
  const [err, setErr] = useState("");
  const [note, setNote] = useState("");
  const [tick, setTick] = useState(0);

  useEffect(() => {
    ledgerApi.getDeployment({}).then(
      (d) => {
        setDep(d);
        if (s?.operator) ledgerApi.getBalance({ account: d.operator }).then(setPool, () => setPool(null));
      },
      (e) => setErr(errorText(e)),
    );
    ledgerApi.listEpochs({ pageSize: 50 }).then(
      (r) => {
        setEpochs(r.epochs);
        setOpen(r.open);
      },
      (e) => setErr(errorText(e)),
    );
    const token = currentSession()?.token;
    if (s?.operator && token) {
      fetch("/metrics", { headers: { Authorization: "Bearer " + token } })
        .then((r) => (r.ok ? r.text() : ""))
        .then((t) => {
          setHists(parseHistograms(t));
          setCounters(
            t
              .split("\n")
              .map((l) => /^(tollgate_[a-z_]+_total|tollgate_invocations_in_flight)(?:\{[^}]*\})? (\S+)$/.exec(l))
              .filter((m): m is RegExpExecArray => !!m)
              .reduce((acc, m) => {
                const c = acc.find((x) => x.name === m[1]);
                if (c) c.value += Number(m[2]);
                else acc.push({ name: m[1], value: Number(m[2]) });
                return acc;
              }, [] as { name: string; value: number }[]),
          );
        })
        .catch(() => setHists([]));
    }
  }, [tick, s?.operator]);

  const close = async () => {
    setErr("");
    setNote("");
    try {
      const r = await ledgerApi.closeEpoch({});
      setNote(`Closed epoch ${r.epoch}: ${r.receipts} receipts, root ${r.root}, posted in ${r.postTx}.`);
      setTick(tick + 1);
    } catch (e) {
      setErr(errorText(e));
    }
  };

  return (
    <>
      <section aria-labelledby="op-h">
        <h1 id="op-h">Operator</h1>
        {dep && (
          <dl class="stats">
            <div>
              <dt>Chain</dt>
              <dd>{dep.chainId.toString()}</dd>
            </div>
            <div>
              <dt>Settlement</dt>
              <dd title={dep.settlement}>{short(dep.settlement, 4)}</dd>
            </div>
            <div>
              <dt>Operator</dt>
              <dd title={dep.operator}>{short(dep.operator, 4)}</dd>
            </div>
            <div>
              <dt>Contract</dt>
              <dd data-testid="paused">{dep.paused ? "paused" : "running"}</dd>
            </div>
            <div>
              <dt>Open epoch</dt>
              <dd>{open.toString()}</dd>
            </div>
            {pool && (
              <div>
                <dt>Operator's fees earned</dt>
                <dd>{tgt(pool.earned)} TGT</dd>
              </div>
            )}
          </dl>
        )}
        {s?.operator && (
          <div class="row">
            <button type="button" onClick={close}>
              Close epoch {open.toString()} and post its root
            </button>
          </div>
        )}
        {note && (
          <p class="ok" role="status">
            {note}
          </p>
        )}
        {err && (
          <p class="err" role="alert">
            {err}
          </p>
        )}
      </section>
      <section aria-labelledby="ep-h">
        <h2 id="ep-h">Closed epochs</h2>
        <div class="scroll">
          <table data-testid="epochs">
            <Head cols={[["Epoch"], ["Closed", "wide"], ["Receipts", "num wide"], ["Total", "num"], ["Root"], ["Posted in", "wide"]]} />
            <tbody>
              {epochs.map((e) => (
                <tr data-epoch={e.epoch.toString()} data-root={e.root}>
                  <td>{e.epoch.toString()}</td>
                  <td class="wide">{when(e.closed)}</td>
                  <td class="num wide">{e.receipts}</td>
                  <td class="num">{tgt(e.total)}</td>
                  <td>
                    <code title={e.root}>{short(e.root, 6)}</code>
                  </td>
                  <td class="wide">
                    <code title={e.postTx}>{short(e.postTx, 6)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {s?.operator && (
        <section aria-labelledby="lat-h">
          <h2 id="lat-h">Latency and traffic</h2>
          {counters.length > 0 && (
            <dl class="stats">
              {counters.map((c) => (
                <div>
                  <dt>{c.name.replace(/^tollgate_/, "").replace(/_/g, " ")}</dt>
                  <dd>{c.value}</dd>
                </div>
              ))}
            </dl>
          )}
          {hists.map((h) => (
            <Bars h={h} />
          ))}
        </section>
      )}
    </>
  );
}

// Bars draws a histogram's buckets (cumulative counts made per-bucket).
function Bars({ h }: { h: Histogram }) {
  const per = h.buckets.map((b, i) => ({ le: b.le, n: b.count - (i ? h.buckets[i - 1].count : 0) }));
  const max = Math.max(1, ...per.map((b) => b.n));
  return (
    <figure class="hist" data-testid="histogram">
      <figcaption>
        {h.name}: {h.count} observations{h.count ? `, mean ${((h.sum / h.count) * 1000).toFixed(2)} ms` : ""}
      </figcaption>
      <ol>
        {per.map((b) => (
          <li>
            <span class="le">≤ {b.le === "+Inf" ? "∞" : `${Number(b.le) * 1000} ms`}</span>
            <span class="hbar" style={{ width: `${(100 * b.n) / max}%` }} />
            <span class="n">{b.n}</span>
          </li>
        ))}
      </ol>
    </figure>
  );
}
