import { useState } from "preact/hooks";
import { authApi, errorText, useDeployment } from "./api";
import { short } from "./format";
import { devWallet, hasProvider, injectedWallet, setSession, useSession, type Wallet } from "./session";

// signIn runs Sign-In with Ethereum: the node's challenge, signed by the
// wallet with personal_sign, exchanged for a bearer token kept in this tab.
async function signIn(w: Wallet) {
  const ch = await authApi.challenge({ address: w.address });
  const signature = await w.signMessage(ch.message);
  const r = await authApi.signIn({ message: ch.message, signature });
  setSession({ token: r.token, account: r.account, operator: r.operator, expiresAt: Number(r.expiresAt), wallet: w.kind });
}

export function SignIn() {
  const s = useSession();
  const dep = useDeployment();
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const run = (f: () => Promise<void>) => async () => {
    setBusy(true);
    setErr("");
    try {
      await f();
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  if (s) {
    return (
      <div class="who" data-testid="signed-in">
        <span title={s.account}>
          {short(s.account, 4)}
          {s.operator ? " · operator" : ""}
          {s.wallet === "dev" ? " · dev key" : ""}
        </span>
        <button class="link" onClick={() => setSession(null)} title={s.wallet === "dev" ? "The development key stays in this tab until it closes" : undefined}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <div class="who">
      {hasProvider() && (
        <button disabled={busy} onClick={run(async () => signIn(await injectedWallet()))}>
          Sign in with wallet
        </button>
      )}
      {dep?.rpc && (
        // Only on the node's own development chain: the key lives in this
        // tab and is gone when it closes, with whatever it earned.
        <button disabled={busy} class={hasProvider() ? "secondary" : ""} onClick={run(async () => signIn(devWallet()))} title="A key made in this tab for the node's development chain; it is lost when the tab closes">
          Use a development key
        </button>
      )}
      {err && (
        <p class="err" role="alert">
          {err}
        </p>
      )}
    </div>
  );
}
