import { Head, Pager } from "./ui";
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { encodeFunctionData, type Hex } from "viem";
import { errorText, getDeployment, ledgerApi, useDeployment } from "./api";
import { short, tgt, when } from "./format";
import type { AccountReceipt, GetBalanceResponse, GetProofResponse } from "./gen/tollgate/v1/tollgate_pb";
import { useSession, wallet } from "./session";

const claimAbi = [
  {
    type: "function",
    name: "claim",
    stateMutability: "nonpayable",
    inputs: [
      { name: "account", type: "address" },
      { name: "cumulative", type: "uint256" },
      { name: "proof", type: "bytes32[]" },
    ],
    outputs: [],
  },
] as const;

// The epochs the chart reaches back over.
const chartEpochs = 30;
// The receipts the chart sums, in pages of 1,000.
const receiptPages = 10;

export function EarningsView({ account: given }: { account?: string }) {
  const s = useSession();
  const account = given || s?.account || "";
  const [bal, setBal] = useState<GetBalanceResponse | null>(null);
  const [proof, setProof] = useState<GetProofResponse | null>(null);
  const [series, setSeries] = useState<{ epoch: number; earned: number; open: boolean }[]>([]);
  const [err, setErr] = useState("");
  const [note, setNote] = useState("");
  const [tick, setTick] = useState(0);
  const dep = useDeployment();

  // Only the account itself and the operator read its balance and
  // receipts: anyone else is asked to sign in, and no request is sent
  // that the node would refuse.
  const allowed = !!s && (s.operator || s.account.toLowerCase() === account.toLowerCase());
  useEffect(() => {
    if (!account || !allowed) return;
    setErr("");
    ledgerApi.getBalance({ account }).then(setBal, (e) => setErr(errorText(e)));
    (async () => {
      // Earnings by epoch, from the receipts that paid the account.
      const byEpoch = new Map<bigint, bigint>();
      let pageToken = "";
      for (let i = 0; i < receiptPages; i++) {
        const r = await ledgerApi.listReceipts({ account, pageToken, pageSize: 1000 });
        for (const ar of r.receipts) byEpoch.set(ar.receipt!.epoch, (byEpoch.get(ar.receipt!.epoch) ?? 0n) + BigInt(ar.earned || "0"));
        pageToken = r.nextPageToken;
        if (!pageToken) break;
      }
      const eps = await ledgerApi.listEpochs({ pageSize: chartEpochs });
      const epochs = [...eps.epochs.map((e) => e.epoch).reverse(), eps.open];
      const first = epochs[0] ?? 0n;
      let cum = [...byEpoch].filter(([e]) => e < first).reduce((t, [, v]) => t + v, 0n);
      const pts = epochs.map((e) => {
        cum += byEpoch.get(e) ?? 0n;
        return { epoch: Number(e), earned: Number(cum) / 1e18, open: e === eps.open, units: cum };
      });
      setSeries(pts);
      // A proof exists once a closed epoch's tree holds the account.
      const closed = pts.filter((p) => !p.open);
      if (closed.length && closed[closed.length - 1].units > 0n) setProof(await ledgerApi.getProof({ epoch: 0n, account }));
      else setProof(null);
    })().catch((e) => setErr(errorText(e)));
  }, [account, allowed, tick]);

  if (!account || !allowed) {
    return (
      <section>
        <h1>Earnings</h1>
        <p>Sign in to see what your records earned, the calls that paid them, and to claim them on-chain. (The operator may open #/earnings/0xADDRESS.)</p>
      </section>
    );
  }
  const claimed = BigInt(bal?.claimed || "0");
  const inRoot = proof?.posted ? BigInt(proof.cumulative) : 0n;
  const claimable = inRoot > claimed ? inRoot - claimed : 0n;
  const mine = s && s.account.toLowerCase() === account.toLowerCase();
  const calldata =
    proof && proof.posted
      ? encodeFunctionData({ abi: claimAbi, functionName: "claim", args: [proof.account as Hex, BigInt(proof.cumulative), proof.proof as Hex[]] })
      : "";

  const relay = async () => {
    setErr("");
    setNote("");
    try {
      const r = await ledgerApi.relayClaim({});
      setNote(`Claimed ${tgt(r.amount)} TGT in transaction ${r.tx}.`);
      setTick(tick + 1);
    } catch (e) {
      setErr(errorText(e));
    }
  };
  const fromWallet = async () => {
    setErr("");
    setNote("");
    try {
      const dep = await getDeployment();
      const w = await wallet(dep.chainId);
      if (!w.sendTransaction) throw new Error("a development key sends no transactions: claim through the node");
      const tx = await w.sendTransaction({ to: dep.settlement as Hex, data: calldata as Hex });
      setNote(`Claim sent from your wallet in transaction ${tx}.`);
      setTimeout(() => setTick((t) => t + 1), 500);
    } catch (e) {
      setErr(errorText(e));
    }
  };

  return (
    <>
      <section aria-labelledby="earn-h">
        <h1 id="earn-h">Earnings of {short(account, 4)}</h1>
        <dl class="stats">
          <div>
            <dt>Earned (all time)</dt>
            <dd data-testid="earned">{tgt(bal?.earned)} TGT</dd>
          </div>
          <div>
            <dt>In the last posted root</dt>
            <dd>{tgt(inRoot)} TGT</dd>
          </div>
          <div>
            <dt>Claimed on-chain</dt>
            <dd data-testid="claimed">{tgt(claimed)} TGT</dd>
          </div>
          <div>
            <dt>Claimable now</dt>
            <dd data-testid="claimable">{tgt(claimable)} TGT</dd>
          </div>
        </dl>
        {mine && (
          <div class="row">
            <button type="button" disabled={claimable === 0n || !!dep?.paused || s?.wallet === "dev"} onClick={fromWallet}>
              Claim with my wallet
            </button>
            <button type="button" class="secondary" disabled={claimable === 0n || !!dep?.paused} onClick={relay}>
              Claim through the node (no gas)
            </button>
            {dep?.paused && <span class="err">Claims are paused by the contract's guardian.</span>}
          </div>
        )}
        {note && (
          <p class="ok" role="status" data-testid="claim-note">
            {note}
          </p>
        )}
        {err && (
          <p class="err" role="alert">
            {err}
          </p>
        )}
        {calldata && (
          <details>
            <summary>Claim calldata and proof, to send from any wallet</summary>
            <p>
              To the settlement contract, epoch {proof!.epoch.toString()}, cumulative {proof!.cumulative}:
            </p>
            <pre class="wrap">{calldata}</pre>
            <pre class="wrap">{proof!.proof.join("\n")}</pre>
          </details>
        )}
      </section>
      <section aria-labelledby="chart-h">
        <h2 id="chart-h">Cumulative earnings by epoch</h2>
        <p class="muted small">Summed from the newest {(receiptPages * 1000).toLocaleString("en")} receipts that paid this account, over the last {chartEpochs} epochs.</p>
        {series.length > 1 ? <Chart series={series} /> : <p class="muted">The chart starts when the first epoch closes.</p>}
      </section>
      <Calls account={account} />
    </>
  );
}

function Chart({ series }: { series: { epoch: number; earned: number; open: boolean }[] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const width = Math.max(200, el.current.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: false } },
        axes: [{ label: "epoch", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, { label: "TGT" }],
        series: [{ label: "epoch" }, { label: "earned (TGT)", stroke: "#1c7ed6", width: 2, fill: "rgba(28,126,214,0.1)" }],
      },
      [series.map((p) => p.epoch), series.map((p) => p.earned)],
      el.current,
    );
    // Follow the column's width, from a phone to a desktop.
    const ro = new ResizeObserver(() => {
      if (el.current && el.current.clientWidth !== plot.width) plot.setSize({ width: Math.max(200, el.current.clientWidth), height: 220 });
    });
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [series]);
  return (
    <div ref={el} class="chart" role="img" aria-label={`Cumulative earnings by epoch: ${series.map((p) => `epoch ${p.epoch}${p.open ? " (open)" : ""} ${p.earned} TGT`).join(", ")}`} />
  );
}

function Calls({ account }: { account: string }) {
  const [rows, setRows] = useState<AccountReceipt[]>([]);
  const [next, setNext] = useState("");
  const [pages, setPages] = useState<string[]>([""]);
  const [err, setErr] = useState("");
  const load = (token: string) =>
    ledgerApi.listReceipts({ account, pageToken: token, pageSize: 20 }).then(
      (r) => {
        setRows(r.receipts);
        setNext(r.nextPageToken);
      },
      (e) => setErr(errorText(e)),
    );
  useEffect(() => {
    setPages([""]);
    load("");
  }, [account]);
  return (
    <section aria-labelledby="calls-h">
      <h2 id="calls-h">Calls that paid or charged this account</h2>
      {err ? (
        <p class="muted">{err}</p>
      ) : (
        <table data-testid="calls">
          <Head cols={[["Receipt"], ["Agent", "wide"], ["Epoch", "wide"], ["Earned", "num"], ["Charged", "num"]]} />
          <tbody>
            {rows.map((r) => (
              <tr>
                <td>
                  <a href={"#/receipt/" + r.receipt!.id}>{short(r.receipt!.id, 6)}</a>
                  <div class="muted small">{when(Math.floor(Date.parse(r.receipt!.time) / 1000))}</div>
                </td>
                <td class="wide">{r.receipt!.agent || r.receipt!.method}</td>
                <td class="wide">{r.receipt!.epoch.toString()}</td>
                <td class="num">{tgt(r.earned)}</td>
                <td class="num">{tgt(r.charged)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        tokens={pages}
        next={next}
        go={(p) => {
          setPages(p);
          load(p[p.length - 1]);
        }}
      />
    </section>
  );
}
