// The page in a real Chromium against a real `tollgate serve`, driven by
// web/browser_test.go, which starts the node, sets up a datanet and an
// agent, and passes the keys and addresses in $TOLLGATE_E2E.
//
// The wallet is an EIP-1193 provider injected into the page whose every
// request is answered here, in Node, with a test key (viem): personal_sign,
// eth_signTypedData_v4, and eth_sendTransaction to the node's embedded
// chain. Any failed expectation throws, and the process exits non-zero.
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import { createWalletClient, defineChain, http, hexToString, isHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";

const cfg = JSON.parse(process.env.TOLLGATE_E2E || "{}");
const base = new URL(cfg.base);
mkdirSync(cfg.out, { recursive: true });
const accounts = Object.fromEntries(Object.entries(cfg.keys).map(([k, v]) => [k, privateKeyToAccount("0x" + v)]));
let who = "caller"; // the key the injected wallet signs with now

function expect(ok, what) {
  if (!ok) throw new Error("expected: " + what);
}

// api calls the node's Connect API as JSON from Node, as a third party would.
async function api(method, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const r = await fetch(new URL("/tollgate.v1." + method, base), { method: "POST", headers, body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(`${method}: ${j.code}: ${j.message}`);
  return j;
}

const dep = await api("LedgerService/GetDeployment", {});
const chain = defineChain({ id: Number(dep.chainId), name: "tollgate-dev", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [cfg.chainRPC] } } });

async function walletRequest({ method, params = [] }) {
  const acct = accounts[who];
  switch (method) {
    case "eth_requestAccounts":
    case "eth_accounts":
      return [acct.address];
    case "eth_chainId":
      return "0x" + chain.id.toString(16);
    case "personal_sign": {
      const [msg] = params;
      return acct.signMessage({ message: isHex(msg) ? { raw: msg } : msg });
    }
    case "eth_signTypedData_v4": {
      const td = JSON.parse(params[1]);
      const { EIP712Domain, ...types } = td.types;
      return acct.signTypedData({ domain: td.domain, types, primaryType: td.primaryType, message: td.message });
    }
    case "eth_sendTransaction": {
      const [tx] = params;
      const w = createWalletClient({ account: acct, chain, transport: http(cfg.chainRPC) });
      return w.sendTransaction({ to: tx.to, data: tx.data });
    }
    default:
      throw new Error("the test wallet does not answer " + method);
  }
}

const browser = await chromium.launch({ executablePath: cfg.chromium, headless: true });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
await context.exposeBinding("__testWallet", (_src, args) => walletRequest(args));
await context.addInitScript(() => {
  window.ethereum = { request: (args) => window.__testWallet(args) };
});
const page = await context.newPage();

// Every request the page makes must go to its own origin; no console error.
const foreign = [];
const consoleErrors = [];
page.on("request", (r) => {
  const u = new URL(r.url());
  if (u.protocol !== "data:" && u.origin !== base.origin) foreign.push(r.url());
});
page.on("console", (m) => {
  if (m.type() === "error") consoleErrors.push(m.text());
});
page.on("pageerror", (e) => consoleErrors.push(String(e)));

const figures = {};
async function axe(name) {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.length === 0, `${name}: no serious accessibility violation, got ${JSON.stringify(bad.map((v) => [v.id, v.nodes.map((n) => n.target)]))}`);
  return r.violations.length;
}

// shoot keeps a screenshot of the view on a desktop and at 360 px, and
// checks both with axe; at 360 px nothing may scroll sideways.
async function shoot(name) {
  await page.screenshot({ path: join(cfg.out, `${name}-desktop.png`), fullPage: true });
  const minor = await axe(name + " (desktop)");
  await page.setViewportSize({ width: 360, height: 780 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.screenshot({ path: join(cfg.out, `${name}-360.png`), fullPage: true });
  const minorNarrow = await axe(name + " (360 px)");
  await page.setViewportSize({ width: 1280, height: 900 });
  expect(overflow <= 360, `${name} fits 360 px without scrolling sideways (scrollWidth ${overflow})`);
  console.log(`e2e: ${name} ok (axe: ${minor} minor on desktop, ${minorNarrow} at 360 px)`);
}

async function signInAs(name) {
  if (await page.getByRole("button", { name: "Sign out" }).isVisible()) await page.getByRole("button", { name: "Sign out" }).click();
  who = name;
  await page.getByRole("button", { name: "Sign in with wallet" }).click();
  await page.getByTestId("signed-in").waitFor();
  const s = await page.evaluate(() => JSON.parse(sessionStorage.getItem("tollgate.session")));
  expect(s.account === accounts[name].address, `signed in as the ${name}`);
  return s.token;
}

// The page itself: headers, size, paint.
const resp = await page.goto(base.href, { waitUntil: "networkidle" });
const csp = resp.headers()["content-security-policy"] || "";
expect(/script-src 'self'(;|$)/.test(csp) && !csp.includes("unsafe-inline"), "a CSP that forbids inline scripts: " + csp);
const perf = await page.evaluate(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource");
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return { fcp: fcp ? fcp.startTime : -1, bytes: nav.transferSize + res.reduce((t, r) => t + r.transferSize, 0), assets: res.map((r) => r.name) };
});
figures.fcpMs = Math.round(perf.fcp);
figures.transferredBytes = perf.bytes;
expect(perf.bytes < 150 * 1024, `/ transfers under 150 KB (${perf.bytes} bytes)`);
for (const a of perf.assets) expect(/\/assets\/[\w-]+-[\w-]{8}\.(js|css)$/.test(new URL(a).pathname) || new URL(a).pathname.startsWith("/tollgate.v1."), "content-hashed asset: " + a);

// Sign in, get credit, invoke, trace.
const callerToken = await signInAs("caller");
await page.getByRole("button", { name: "Get test credit" }).click();
await page.waitForFunction(() => {
  const b = document.querySelector("[data-testid=balance]");
  return b && b.textContent !== "…" && b.textContent !== "0";
});
await page.getByLabel("Agent or model", { exact: true }).selectOption(cfg.agent);
await page.getByLabel("Input", { exact: true }).fill(cfg.question);
await page.getByRole("button", { name: "Invoke", exact: true }).click();
await page.getByTestId("result").waitFor({ timeout: 60_000 });
figures.invokeToHighlightMs = Number(await page.getByTestId("result").getAttribute("data-invoke-ms"));

const marks = await page.locator("[data-testid=output] mark").evaluateAll((ms) => ms.map((m) => ({ text: m.textContent, records: m.dataset.records.split(" "), datanet: m.dataset.datanet })));
expect(marks.length > 0, "the output has highlighted spans");
const receiptId = (await page.locator(".receipt a").first().getAttribute("href")).replace("#/receipt/", "");
const traced = await api("LedgerService/TraceReceipt", { id: receiptId }, callerToken);
const receipt = traced.receipt;
const scored = new Set((receipt.scores || []).map((s) => s.record));
for (const m of marks) {
  expect(m.datanet === cfg.datanet, "a span in the agent's datanet");
  for (const r of m.records) expect(scored.has(r), `highlighted record ${r} is one the receipt scored`);
}
// Each highlighted run is text of a span the API traced, with its records.
for (const m of marks) {
  const sp = traced.spans.find((s) => traced.outputText.slice(s.start ?? 0, s.end).includes(m.text) && s.records.join(" ") === m.records.join(" "));
  expect(sp, `highlight "${m.text}" is a span the API traced`);
}
// And every highlighted run is text the record it names holds.
const contentOf = Object.fromEntries(cfg.records.map((c) => [createHash("sha256").update(c).digest("hex"), c]));
for (const m of marks) for (const r of m.records) expect(contentOf[r]?.includes(m.text), `highlight "${m.text}" is text of record ${r}`);

// The fee bar sums to what the caller was charged.
const segs = await page.locator("[data-testid=feebar] .seg").evaluateAll((ss) => ss.map((s) => ({ kind: s.dataset.kind, account: s.dataset.account, amount: s.dataset.amount })));
const sum = segs.reduce((t, s) => t + BigInt(s.amount), 0n);
expect(sum === BigInt(receipt.charged), `the fee bar sums to the charge (${sum} vs ${receipt.charged})`);
expect(segs.some((s) => s.kind === "attribution" && s.account === accounts.contributor.address), "the contributor is in the fee bar");
expect(segs.some((s) => s.kind === "access"), "the read fee is in the fee bar");

// Keyboard: tabbing to a span shows its record.
await page.locator("[data-testid=output] mark").first().focus();
const detail = await page.getByTestId("span-detail").textContent();
expect(detail.includes(marks[0].records[0].slice(0, 6)), "a focused span names its record: " + detail);

// Verify this receipt, in the browser.
await page.getByRole("button", { name: "Verify this receipt" }).click();
await page.getByTestId("verdict").waitFor();
expect((await page.getByTestId("verdict").getAttribute("data-ok")) === "true", "the receipt verifies: " + (await page.getByTestId("verdict").textContent()));
await shoot("invoke");

// A model through an agent: the generation's receipt verifies too.
{
  const opts = await page.locator("#agent option").evaluateAll((os) => os.map((o) => o.value));
  await page.getByLabel("Agent or model", { exact: true }).selectOption(opts.find((o) => o.startsWith("examples/rag@")));
}
await page.getByLabel("Input", { exact: true }).fill("Why is the sky blue?");
await page.getByRole("button", { name: "Invoke", exact: true }).click();
await page.locator("details summary", { hasText: "Model call" }).waitFor({ timeout: 60_000 });
await page.getByRole("button", { name: "Verify this receipt" }).click();
await page.getByTestId("verdict").waitFor();
expect((await page.getByTestId("verdict").getAttribute("data-ok")) === "true", "a receipt with a model call verifies: " + (await page.getByTestId("verdict").textContent()));

// A model called directly: its answer is highlighted by the training
// records its token shares name, and its receipt verifies.
{
  const opts = await page.locator("#agent option").evaluateAll((os) => os.map((o) => o.value));
  const model = opts.find((o) => o.startsWith("examples/facts-lm@"));
  expect(model, "the seeded model is offered: " + opts.join(", "));
  await page.getByLabel("Agent or model", { exact: true }).selectOption(model);
  await page.getByLabel("Input", { exact: true }).fill("Why is the sky blue?");
  await page.getByRole("button", { name: "Invoke", exact: true }).click();
  await page.locator("details summary", { hasText: "Model call " + model }).waitFor({ timeout: 60_000 });
  const id = (await page.locator(".receipt a").first().getAttribute("href")).replace("#/receipt/", "");
  const tr = await api("LedgerService/TraceReceipt", { id }, callerToken);
  const shared = new Set(tr.receipt.generations.flatMap((g) => (g.shares || []).map((s) => s.record)));
  const gm = await page.locator("[data-testid=output] mark").evaluateAll((ms) => ms.map((m) => m.dataset.records.split(" ")));
  expect(gm.length > 0 && shared.size > 0, "the model's answer is highlighted by its training records");
  for (const rs of gm) for (const r of rs) expect(shared.has(r), `highlighted training record ${r} is one a share names`);
  await page.getByRole("button", { name: "Verify this receipt" }).click();
  await page.waitForFunction(() => document.querySelector("[data-testid=verdict]")?.dataset.ok === "true");
}

// What is shown must be what was signed. The receipt page is served a
// trace whose output, then whose posting, was changed after signing, and
// a deployment naming another operator; each is refused.
const before = await api("LedgerService/TraceReceipt", { id: receiptId }, callerToken);
const amount = before.receipt.postings.find((p) => BigInt(p.amount) > 0n).amount;
const bumped = amount.slice(0, -1) + String((Number(amount.slice(-1)) + 1) % 10);
const word = marks[0].text.split(" ")[0];
for (const [what, route, from, to, reason] of [
  ["output", "TraceReceipt", word, word.slice(0, -1) + (word.endsWith("z") ? "y" : "z"), "not the one the receipt signed"],
  ["posting", "TraceReceipt", amount, bumped, "signed by"],
  ["operator", "GetDeployment", dep.operator, accounts.contributor.address, "not the operator"],
]) {
  await page.route("**/tollgate.v1.LedgerService/" + route, async (r) => {
    const res = await r.fetch();
    const body = (await res.body()).toString("latin1");
    expect(body.includes(from), `the ${route} response holds ${from}`);
    await r.fulfill({ response: res, body: Buffer.from(body.replace(from, to), "latin1") });
  });
  await page.goto(new URL("/#/receipt/" + receiptId, base).href);
  await page.reload(); // a fresh page: the deployment is read once per load
  await page.getByRole("button", { name: "Verify this receipt" }).click();
  await page.getByTestId("verdict").waitFor();
  const v = page.getByTestId("verdict");
  expect((await v.getAttribute("data-ok")) === "false" && (await v.textContent()).includes(reason), `a changed ${what} is refused: ${await v.textContent()}`);
  await page.unroute("**/tollgate.v1.LedgerService/" + route);
}
await page.goto(new URL("/#/receipt/" + receiptId, base).href);
await page.reload();
await page.getByRole("button", { name: "Verify this receipt" }).click();
await page.waitForFunction(() => document.querySelector("[data-testid=verdict]")?.dataset.ok === "true");
await shoot("receipt");

// Publish a plugin from the page, signed by the wallet.
await page.goto(new URL("/#/publish", base).href);
await page.getByLabel("Module (.wasm)", { exact: true }).setInputFiles(cfg.wasm);
await page.getByLabel("Name", { exact: true }).fill("e2e/uploaded");
await page.getByLabel("Version", { exact: true }).fill("1.0.0");
await page.getByLabel("Price per call (TGT)", { exact: true }).fill("0.02");
await page.getByLabel("Datanets it reads (comma-separated)", { exact: true }).fill(cfg.datanet);
await page.getByRole("button", { name: "Sign and publish" }).click();
await page.getByTestId("published").waitFor({ timeout: 60_000 });
const pub = await api("RegistryService/GetPlugin", { ref: "e2e/uploaded@1.0.0" });
expect(pub.plugin.publisher === accounts.caller.address && pub.plugin.price === "20000000000000000", "the published plugin is the wallet's, at its price");
await shoot("publish");

// Datanet, as a caller: its records are paid reads, not listed until an
// epoch settles on them.
await page.goto(new URL("/#/datanets/" + cfg.datanet, base).href);
await page.locator("[data-testid=versions] tbody tr").first().waitFor();
await page.getByTestId("records-private").waitFor();
expect((await page.locator("[data-testid=records] tbody tr").count()) === 0, "a caller lists no record of an unsettled datanet");

// Operator: close the epoch from the page; its root is the API's.
const operatorToken = await signInAs("operator");
await page.goto(new URL("/#/operator", base).href);
const open = (await api("LedgerService/ListEpochs", {})).open;
await page.getByRole("button", { name: /^Close epoch/ }).click();
await page.locator(`[data-testid=epochs] tr[data-epoch="${open}"]`).waitFor({ timeout: 60_000 });
const ep = await api("LedgerService/GetEpoch", { epoch: open });
expect((await page.locator(`[data-testid=epochs] tr[data-epoch="${open}"]`).getAttribute("data-root")) === ep.epoch.root, "the closed epoch's root is shown");
expect(ep.onChainRoot === ep.epoch.root, "the root is on-chain");
await page.getByTestId("histogram").first().waitFor();
await shoot("operator");
void operatorToken;

// Contributor: earnings, the calls that paid, a claim from the wallet.
const contributorToken = await signInAs("contributor");
await page.goto(new URL("/#/", base).href);
await page.getByRole("button", { name: "Get test credit" }).click(); // gas for the claim
await page.waitForFunction(() => {
  const b = document.querySelector("[data-testid=balance]");
  return b && b.textContent !== "…" && b.textContent !== "0";
});
await page.goto(new URL("/#/earnings", base).href);
await page.locator("[data-testid=calls] tbody tr").first().waitFor();
const proof = await api("LedgerService/GetProof", { account: accounts.contributor.address });
expect(BigInt(proof.cumulative) > 0n, "the contributor earned");
await page.getByRole("button", { name: "Claim with my wallet" }).click();
await page.getByTestId("claim-note").waitFor({ timeout: 60_000 });
for (let i = 0; ; i++) {
  const b = await api("LedgerService/GetBalance", { account: accounts.contributor.address }, contributorToken);
  if (b.claimed === proof.cumulative) break;
  expect(i < 50, `the chain shows the claim (claimed ${b.claimed}, cumulative ${proof.cumulative})`);
  await new Promise((r) => setTimeout(r, 200));
}
await page.reload();
await page.waitForFunction(() => document.querySelector("[data-testid=claimable]")?.textContent === "0 TGT");
await shoot("earnings");

// A receipt of the closed epoch, seen by someone else than its caller: its
// output is public now, and it verifies against the epoch's operator as
// the contract records it.
await page.goto(new URL("/#/receipt/" + receiptId, base).href);
await page.locator("[data-testid=output] mark").first().waitFor();
await page.getByRole("button", { name: "Verify this receipt" }).click();
await page.waitForFunction(() => document.querySelector("[data-testid=verdict]")?.dataset.ok === "true");

// Datanet, as its owner: records, versions, contributors.
await page.goto(new URL("/#/datanets/" + cfg.datanet, base).href);
await page.locator("[data-testid=versions] tbody tr").first().waitFor();
const rows = await page.locator("[data-testid=records] tbody tr").count();
expect(rows === 3, `the datanet's 3 records are listed (${rows})`);
const v = await api("DatanetService/GetVersion", { datanet: cfg.datanet });
expect((await page.locator("[data-testid=versions] tbody tr").first().textContent()).includes(v.root), "the current version's root is shown");
await shoot("datanet");


// A newcomer without a wallet: a development key made in the tab, test
// credit from the faucet, the seeded example agent, a verified receipt.
{
  const ctx2 = await browser.newContext({ viewport: { width: 360, height: 780 } });
  const p2 = await ctx2.newPage();
  p2.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  p2.on("pageerror", (e) => consoleErrors.push(String(e)));
  p2.on("request", (r) => new URL(r.url()).origin !== base.origin && !r.url().startsWith("data:") && foreign.push(r.url()));
  await p2.goto(base.href);
  expect(!(await p2.getByRole("button", { name: "Sign in with wallet" }).isVisible()), "no wallet button without a wallet");
  await p2.getByRole("button", { name: "Use a development key" }).click();
  await p2.getByTestId("signed-in").waitFor();
  await p2.getByRole("button", { name: "Get test credit" }).click();
  await p2.waitForFunction(() => {
    const b = document.querySelector("[data-testid=balance]");
    return b && b.textContent !== "…" && b.textContent !== "0";
  });
  const opts = await p2.locator("#agent option").evaluateAll((os) => os.map((o) => o.value));
  await p2.getByLabel("Agent or model", { exact: true }).selectOption(opts.find((o) => o.startsWith("examples/qa@")));
  await p2.getByRole("button", { name: "Invoke", exact: true }).click();
  await p2.locator("[data-testid=output] mark").first().waitFor({ timeout: 60_000 });
  await p2.getByRole("button", { name: "Verify this receipt" }).click();
  await p2.waitForFunction(() => document.querySelector("[data-testid=verdict]")?.dataset.ok === "true");
  await p2.screenshot({ path: join(cfg.out, "newcomer-360.png"), fullPage: true });
  await ctx2.close();
  console.log("e2e: newcomer with a development key ok");
}

expect(foreign.length === 0, "no request to another origin: " + foreign.join(", "));
expect(consoleErrors.length === 0, "no console error: " + consoleErrors.join(" | "));
console.log("e2e: figures " + JSON.stringify(figures));
console.log("e2e: all views passed");
await browser.close();
