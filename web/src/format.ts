// Amounts are decimal strings of the token's base units (18 decimals).
import { formatUnits } from "viem";

export function tgt(units: string | bigint | undefined): string {
  if (units === undefined || units === "") return "0";
  const v = typeof units === "bigint" ? units : BigInt(units);
  const s = formatUnits(v, 18);
  const [whole, frac = ""] = s.split(".");
  return frac ? `${whole}.${frac.slice(0, 6).replace(/0+$/, "") || "0"}` : whole;
}

export function short(s: string, n = 6): string {
  if (!s) return "";
  return s.length <= 2 * n + 1 ? s : `${s.slice(0, n + (s.startsWith("0x") ? 2 : 0))}…${s.slice(-n)}`;
}

export function when(unix: bigint | number): string {
  const n = Number(unix);
  return n ? new Date(n * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "";
}

// Contributor colours: light tints with dark text, each distinct, readable.
const palette = ["#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#ffc9c9", "#c3fae8", "#d0bfff"];
const strong = ["#e8590c", "#2f9e44", "#1c7ed6", "#ae3ec9", "#f08c00", "#e03131", "#0ca678", "#7048e8"];

export function colourOf(index: number): { tint: string; strong: string } {
  return { tint: palette[index % palette.length], strong: strong[index % strong.length] };
}
