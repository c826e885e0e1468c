// The node's Connect API, from the browser: binary protobuf over fetch to
// this page's own origin, with the signed-in token when there is one.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { useEffect, useState } from "preact/hooks";
import { AgentService, AuthService, DatanetService, LedgerService, RegistryService, type GetDeploymentResponse } from "./gen/tollgate/v1/tollgate_pb";
import { currentSession } from "./session";

const bearer: Interceptor = (next) => async (req) => {
  const s = currentSession();
  if (s) req.header.set("Authorization", "Bearer " + s.token);
  return next(req);
};

const transport = createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true, interceptors: [bearer] });

export const authApi = createClient(AuthService, transport);
export const agentApi = createClient(AgentService, transport);
export const ledgerApi = createClient(LedgerService, transport);
export const datanetApi = createClient(DatanetService, transport);
export const registryApi = createClient(RegistryService, transport);

// errorText is what a failed call says to a person: the node's message,
// which starts with its error code.
export function errorText(e: unknown): string {
  const c = ConnectError.from(e);
  if (c.code === Code.Unauthenticated) return "Sign in first: " + c.rawMessage;
  return c.rawMessage || c.message;
}

// The deployment (chain, contracts, operator) changes only when the node is
// reconfigured: read it once per page load.
let deployment: Promise<GetDeploymentResponse> | null = null;

export function getDeployment(): Promise<GetDeploymentResponse> {
  deployment ??= ledgerApi.getDeployment({}).catch((e) => {
    deployment = null;
    throw e;
  });
  return deployment;
}

export function useDeployment(): GetDeploymentResponse | null {
  const [d, set] = useState<GetDeploymentResponse | null>(null);
  useEffect(() => {
    getDeployment().then(set, () => set(null));
  }, []);
  return d;
}
