// Who is signed in, for this tab only (sessionStorage): the node's bearer
// token, and the wallet that signed the sign-in message.
import { useEffect, useState } from "preact/hooks";
import { getAddress, toHex, type Hex, type TypedDataDefinition } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

export interface Session {
  token: string;
  account: string;
  operator: boolean;
  expiresAt: number;
  wallet: "injected" | "dev";
}

// A Wallet signs for the signed-in account: an EIP-1193 provider
// (window.ethereum) or a development key made in this tab.
export interface Wallet {
  kind: "injected" | "dev";
  address: Hex;
  signMessage(message: string): Promise<Hex>;
  signTypedData(td: TypedDataDefinition): Promise<Hex>;
  // Only a provider sends transactions; a dev key's claims go through the node.
  sendTransaction?(tx: { to: Hex; data: Hex }): Promise<Hex>;
}

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

declare global {
  interface Window {
    ethereum?: Eip1193;
  }
}

const key = "tollgate.session";
const devKey = "tollgate.devkey";
let current: Session | null = load();
const listeners = new Set<(s: Session | null) => void>();

function load(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(key) || "null") as Session | null;
    return s && s.expiresAt * 1000 > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function currentSession(): Session | null {
  if (current && current.expiresAt * 1000 <= Date.now()) setSession(null);
  return current;
}

export function setSession(s: Session | null) {
  current = s;
  if (s) sessionStorage.setItem(key, JSON.stringify(s));
  else sessionStorage.removeItem(key);
  listeners.forEach((l) => l(s));
}

export function useSession(): Session | null {
  const [s, set] = useState(currentSession());
  useEffect(() => {
    listeners.add(set);
    return () => void listeners.delete(set);
  }, []);
  return s;
}

export function hasProvider(): boolean {
  return typeof window.ethereum?.request === "function";
}

// JSON for eth_signTypedData_v4: integers as decimal strings.
function typedDataJSON(td: TypedDataDefinition): string {
  return JSON.stringify(td, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

// onChain asks the wallet to be on chainId before it signs or sends
// anything bound to that chain.
async function onChain(eth: Eip1193, chainId: bigint) {
  const now = BigInt((await eth.request({ method: "eth_chainId" })) as string);
  if (now === chainId) return;
  try {
    await eth.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x" + chainId.toString(16) }] });
  } catch {
    throw new Error(`the wallet is on chain ${now}; switch it to this node's chain ${chainId}`);
  }
}

export async function injectedWallet(chainId?: bigint): Promise<Wallet> {
  const eth = window.ethereum;
  if (!eth) throw new Error("no wallet in this browser (window.ethereum); use a development key instead");
  const accounts = (await eth.request({ method: "eth_requestAccounts" })) as string[];
  if (!accounts?.length) throw new Error("the wallet gave no account");
  const address = getAddress(accounts[0]);
  return {
    kind: "injected",
    address,
    signMessage: async (message) => (await eth.request({ method: "personal_sign", params: [toHex(message), address] })) as Hex,
    signTypedData: async (td) => {
      if (chainId !== undefined) await onChain(eth, chainId);
      return (await eth.request({ method: "eth_signTypedData_v4", params: [address, typedDataJSON(td)] })) as Hex;
    },
    sendTransaction: async (tx) => {
      if (chainId === undefined) throw new Error("no chain to send on");
      await onChain(eth, chainId);
      return (await eth.request({ method: "eth_sendTransaction", params: [{ from: address, to: tx.to, data: tx.data, chainId: "0x" + chainId.toString(16) }] })) as Hex;
    },
  };
}

// devWallet is a key made and kept in this tab, for the node's development
// chain: the faucet funds it, and it never leaves the browser.
export function devWallet(): Wallet {
  let k = sessionStorage.getItem(devKey) as Hex | null;
  if (!k) {
    k = generatePrivateKey();
    sessionStorage.setItem(devKey, k);
  }
  const acct = privateKeyToAccount(k);
  return {
    kind: "dev",
    address: acct.address,
    signMessage: (message) => acct.signMessage({ message }),
    signTypedData: (td) => acct.signTypedData(td),
  };
}

// wallet returns the signed-in session's wallet again, bound to the
// node's chain.
export async function wallet(chainId: bigint): Promise<Wallet> {
  const s = currentSession();
  if (!s) throw new Error("sign in first");
  const w = s.wallet === "dev" ? devWallet() : await injectedWallet(chainId);
  if (getAddress(w.address) !== getAddress(s.account)) throw new Error(`the wallet is on ${w.address}, but ${s.account} is signed in: sign in again`);
  return w;
}

