import { Head } from "./ui";
import { useEffect, useState } from "preact/hooks";
import { parseUnits, sha256 } from "viem";
import { errorText, getDeployment, ledgerApi, registryApi } from "./api";
import { manifestJSON, publishTypedData, type AgentManifest } from "./eip712";
import { short, tgt } from "./format";
import type { Plugin } from "./gen/tollgate/v1/tollgate_pb";
import { allPlugins } from "./plugins";
import { useSession, wallet } from "./session";

export function PublishView() {
  const s = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [version, setVersion] = useState("1.0.0");
  const [price, setPrice] = useState("0.01");
  const [datanets, setDatanets] = useState("");
  const [attribution, setAttribution] = useState("builtin/ngram@1.1.0");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const [done, setDone] = useState<Plugin | null>(null);
  const [mine, setMine] = useState<Plugin[]>([]);
  const [stats, setStats] = useState(new Map<string, { calls: number; earned: bigint }>());

  const refresh = () => {
    if (!s) return;
    allPlugins().then((ps) => setMine(ps.filter((p) => p.publisher.toLowerCase() === s.account.toLowerCase())), () => setMine([]));
    ledgerApi.listReceipts({ account: s.account, pageSize: 1000 }).then(
      (r) => {
        const m = new Map<string, { calls: number; earned: bigint }>();
        for (const ar of r.receipts) {
          const rc = ar.receipt!;
          const pay = rc.postings.filter((p) => p.kind === "developer" && p.account.toLowerCase() === s.account.toLowerCase());
          if (!pay.length) continue;
          const st = m.get(rc.agent) ?? { calls: 0, earned: 0n };
          st.calls++;
          st.earned += pay.reduce((t, p) => t + BigInt(p.amount), 0n);
          m.set(rc.agent, st);
        }
        setStats(m);
      },
      () => setStats(new Map()),
    );
  };
  useEffect(refresh, [s?.account]);

  const publish = async (e: Event) => {
    e.preventDefault();
    setErr("");
    setDone(null);
    setBusy(true);
    try {
      if (!file) throw new Error("choose the plugin's .wasm file");
      const dep = await getDeployment();
      const w = await wallet(dep.chainId);
      const wasm = new Uint8Array(await file.arrayBuffer());
      if (!/^\d*\.?\d*$/.test(price.trim())) throw new Error(`price ${price} is not an amount of TGT, like 0.01`);
      const units = parseUnits(price.trim() || "0", 18);
      const m: AgentManifest = {
        name: name.trim(),
        version: version.trim(),
        kind: "agent",
        wasm_sha256: sha256(wasm).slice(2),
        publisher: w.address,
        price: units > 0n ? units.toString() : undefined,
        datanets: datanets
          .split(/[\s,]+/)
          .map((d) => d.trim())
          .filter(Boolean),
        attribution: attribution.trim() || undefined,
      };
      const json = manifestJSON(m);
      const signature = await w.signTypedData(publishTypedData(dep.chainId, dep.settlement, m, json));
      const r = await registryApi.publishPlugin({ manifestJson: json, signature, wasm });
      setDone(r.plugin!);
      refresh();
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <section aria-labelledby="pub-h">
        <h1 id="pub-h">Publish an agent</h1>
        <p class="sub">Upload an Extism plugin; your wallet signs its manifest (EIP-712), and the node checks the signature, compiles and instantiates it before it accepts the version.</p>
        <form onSubmit={publish}>
          <label for="wasm">Module (.wasm)</label>
          <input id="wasm" type="file" accept=".wasm,application/wasm" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
          <label for="pname">Name</label>
          <input id="pname" value={name} placeholder="you/agent" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          <label for="pver">Version</label>
          <input id="pver" value={version} onInput={(e) => setVersion((e.target as HTMLInputElement).value)} />
          <label for="pprice">Price per call (TGT)</label>
          <input id="pprice" value={price} inputMode="decimal" onInput={(e) => setPrice((e.target as HTMLInputElement).value)} />
          <label for="pdn">Datanets it reads (comma-separated)</label>
          <input id="pdn" value={datanets} onInput={(e) => setDatanets((e.target as HTMLInputElement).value)} />
          <label for="pattr">Attribution plugin</label>
          <input id="pattr" value={attribution} onInput={(e) => setAttribution((e.target as HTMLInputElement).value)} />
          <div class="row">
            <button type="submit" disabled={busy || !s}>
              {busy ? "Publishing…" : "Sign and publish"}
            </button>
            {!s && <span class="muted">Sign in: the publisher is the signed-in wallet.</span>}
          </div>
        </form>
        {err && (
          <p class="err" role="alert">
            {err}
          </p>
        )}
        {done && (
          <p class="ok" role="status" data-testid="published">
            Published {done.ref} (module {short(done.wasmSha256, 6)}).
          </p>
        )}
      </section>
      {s && (
        <section aria-labelledby="mine-h">
          <h2 id="mine-h">Your plugins</h2>
          <table data-testid="my-plugins">
            <Head cols={[["Version"], ["Price", "num wide"], ["Calls", "num"], ["Earned", "num"]]} />
            <tbody>
              {mine.map((p) => {
                const st = stats.get(p.ref);
                return (
                  <tr>
                    <td>
                      {p.ref}
                      {p.yanked ? " · yanked" : ""}
                    </td>
                    <td class="num wide">{tgt(p.price)}</td>
                    <td class="num">{st?.calls ?? 0}</td>
                    <td class="num">{tgt(st?.earned ?? 0n)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p class="muted small">Calls and earnings count the last 1,000 receipts that paid you.</p>
        </section>
      )}
    </>
  );
}

