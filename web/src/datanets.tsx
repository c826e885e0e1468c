import { Head, Pager } from "./ui";
import { useEffect, useMemo, useState } from "preact/hooks";
import { datanetApi, errorText } from "./api";
import { short, tgt } from "./format";
import type { Datanet, GetVersionResponse, Plugin, Record as DnRecord } from "./gen/tollgate/v1/tollgate_pb";
import { allPlugins } from "./plugins";
import { useSession } from "./session";

// trainedOn reads a model's training datanets from its signed manifest.
function trainedOn(p: Plugin): string[] {
  try {
    const m = JSON.parse(p.manifestJson) as { model?: { training?: { datanet: string }[] } };
    return (m.model?.training ?? []).map((t) => t.datanet);
  } catch {
    return [];
  }
}

export function DatanetsView({ name }: { name: string }) {
  const [plugins, setPlugins] = useState<Plugin[]>([]);
  const [lookup, setLookup] = useState("");
  useEffect(() => {
    allPlugins().then(setPlugins, () => setPlugins([]));
  }, []);
  const names = useMemo(() => [...new Set(plugins.flatMap((p) => [...p.datanets, ...trainedOn(p)]))].sort(), [plugins]);
  if (name) return <DatanetDetail name={name} plugins={plugins} />;
  return (
    <section aria-labelledby="dn-h">
      <h1 id="dn-h">Datanets</h1>
      <p class="sub">The datanets the published agents and models read.</p>
      <ul data-testid="datanets">
        {names.map((n) => (
          <li>
            <a href={"#/datanets/" + n}>{n}</a>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = "#/datanets/" + lookup;
        }}
      >
        <label for="dn-name">Open a datanet by name</label>
        <div class="row">
          <input id="dn-name" value={lookup} onInput={(e) => setLookup((e.target as HTMLInputElement).value)} placeholder="owner/name" />
          <button type="submit">Open</button>
        </div>
      </form>
    </section>
  );
}

const pageSize = 25;
// Contributor shares count the records of up to this many pages.
const statPages = 40;

function DatanetDetail({ name, plugins }: { name: string; plugins: Plugin[] }) {
  const s = useSession();
  const [dn, setDn] = useState<Datanet | null>(null);
  const [versions, setVersions] = useState<GetVersionResponse[]>([]);
  const [records, setRecords] = useState<DnRecord[]>([]);
  const [pages, setPages] = useState<string[]>([""]);
  const [next, setNext] = useState("");
  const [shares, setShares] = useState<{ contributor: string; records: number; bytes: number }[]>([]);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<DnRecord[] | null>(null);
  const [err, setErr] = useState("");

  // The owner and the operator list every record; anyone else the records
  // closed epochs settled payouts on, up to public_version.
  const full = !!s && !!dn && (s.operator || s.account.toLowerCase() === dn.owner.toLowerCase());
  const listAt: bigint | null = !dn ? null : full ? 0n : dn.publicVersion > 0n ? dn.publicVersion : null;
  const load = (token: string) =>
    datanetApi.listRecords({ datanet: name, version: listAt ?? 0n, pageToken: token, pageSize }).then(
      (r) => {
        setRecords(r.records);
        setNext(r.nextPageToken);
      },
      (e) => setErr(errorText(e)),
    );

  useEffect(() => {
    setErr("");
    setFound(null);
    setDn(null);
    setVersions([]);
    datanetApi.getDatanet({ name }).then(
      async (r) => {
        const d = r.datanet!;
        setDn(d);
        const vs: GetVersionResponse[] = [];
        for (let v = d.version; v > 0n && vs.length < 8; v--) vs.push(await datanetApi.getVersion({ datanet: name, version: v }));
        setVersions(vs);
      },
      (e) => setErr(errorText(e)),
    );
  }, [name]);

  useEffect(() => {
    setRecords([]);
    setShares([]);
    setPages([""]);
    if (listAt === null) return;
    load("");
    (async () => {
      const by = new Map<string, { records: number; bytes: number }>();
      let token = "";
      for (let i = 0; i < statPages; i++) {
        const r = await datanetApi.listRecords({ datanet: name, version: listAt, pageToken: token, pageSize: 1000 });
        for (const rec of r.records) {
          const c = by.get(rec.contributor) ?? { records: 0, bytes: 0 };
          c.records++;
          c.bytes += new TextEncoder().encode(rec.content).length;
          by.set(rec.contributor, c);
        }
        token = r.nextPageToken;
        if (!token) break;
      }
      setShares([...by].map(([contributor, v]) => ({ contributor, ...v })).sort((a, b) => b.records - a.records));
    })().catch(() => setShares([]));
  }, [name, listAt]);

  const canSearch = full;
  const search = async (e: Event) => {
    e.preventDefault();
    if (!query) return setFound(null);
    // Search reads the records for free: the node lets only the owner and
    // the operator; anyone else searches the page shown.
    if (canSearch) {
      try {
        setFound((await datanetApi.search({ datanet: name, query, limit: 25 })).records);
      } catch (e) {
        setErr(errorText(e));
      }
      return;
    }
    const q = query.toLowerCase();
    setFound(records.filter((r) => r.content.toLowerCase().includes(q)));
  };
  const readers = plugins.filter((p) => p.datanets.includes(name) || trainedOn(p).includes(name));
  const totalRecords = shares.reduce((t, c) => t + c.records, 0);
  const shown = found ?? records;

  return (
    <>
      <section aria-labelledby="dnd-h">
        <h1 id="dnd-h">{name}</h1>
        {err && (
          <p class="err" role="alert">
            {err}
          </p>
        )}
        {dn && (
          <dl class="stats">
            <div>
              <dt>Owner</dt>
              <dd title={dn.owner}>{short(dn.owner, 4)}</dd>
            </div>
            <div>
              <dt>Price per read</dt>
              <dd>{tgt(dn.pricePerRead)} TGT</dd>
            </div>
            <div>
              <dt>Records</dt>
              <dd>{dn.version.toString()}</dd>
            </div>
            <div>
              <dt>Licence</dt>
              <dd>{dn.license || "—"}</dd>
            </div>
            <div>
              <dt>Writes</dt>
              <dd>{dn.write}</dd>
            </div>
          </dl>
        )}
        {dn?.description && <p>{dn.description}</p>}
      </section>
      <section aria-labelledby="rec-h">
        <h2 id="rec-h">Records</h2>
        {listAt === null ? (
          <p class="muted" data-testid="records-private">
            Records are read through agents, which pay for them. Anyone may list those that closed epochs settled payouts on; none has closed on this datanet yet. Its owner and the operator list them all.
          </p>
        ) : (
          !full && <p class="muted small">Up to version {listAt.toString()}, the last that closed epochs settled payouts on; the owner and the operator see later records too.</p>
        )}
        <form onSubmit={search} class="row">
          <label for="dn-q" class="sr-only">
            Search records
          </label>
          <input id="dn-q" type="search" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} placeholder="Search records" />
          <button type="submit">Search</button>
        </form>
        <table data-testid="records">
          <Head cols={[["Record", "wide"], ["Contributor"], ["Content"]]} />
          <tbody>
            {shown.map((r) => (
              <tr>
                <td title={r.id} class="wide">
                  {short(r.id, 6)}
                </td>
                <td title={r.contributor}>{short(r.contributor, 4)}</td>
                <td>{r.content}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!found && (
          <Pager
            tokens={pages}
            next={next}
            labels={["Previous", "Next"]}
            go={(p) => {
              setPages(p);
              load(p[p.length - 1]);
            }}
          />
        )}
        {!canSearch && <p class="muted small">Search runs on the node for the owner and the operator; here it searches the page shown.</p>}
      </section>
      <section aria-labelledby="contrib-h">
        <h2 id="contrib-h">Contributors</h2>
        <p class="muted small">Shares of the first {(statPages * 1000).toLocaleString("en")} records listed.</p>
        <table>
          <Head cols={[["Contributor"], ["Records", "num"], ["Share", "num"]]} />
          <tbody>
            {shares.map((c) => (
              <tr>
                <td title={c.contributor}>{short(c.contributor, 4)}</td>
                <td class="num">{c.records}</td>
                <td class="num">{totalRecords ? ((100 * c.records) / totalRecords).toFixed(1) : "0"}%</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="ver-h">
        <h2 id="ver-h">Versions</h2>
        <table data-testid="versions">
          <Head cols={[["Version"], ["Merkle root"]]} />
          <tbody>
            {versions.map((v) => (
              <tr>
                <td>{v.version.toString()}</td>
                <td>
                  <code class="wrap">{v.root}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="readers-h">
        <h2 id="readers-h">Agents and models granted it</h2>
        <ul>
          {readers.map((p) => (
            <li>
              {p.ref} ({p.kind}){p.yanked ? " · yanked" : ""}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
