// Reads receipts (protobuf JSON, an array) on stdin and prints, for each,
// the EIP-712 digest the page computes and whether the page verifies its
// signature, as JSON on stdout. The page's TypeScript is bundled for Node
// with esbuild first, so this checks the very code the page runs.
import { build } from "esbuild";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tollgate-digest-"));
try {
  const out = join(dir, "digest.mjs");
  await build({ entryPoints: [join(here, "digest-entry.ts")], bundle: true, format: "esm", platform: "node", outfile: out, logLevel: "error" });
  const { check } = await import(pathToFileURL(out).href);
  const items = JSON.parse(readFileSync(0, "utf8"));
  process.stdout.write(JSON.stringify(await check(items)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
