// The node's Connect API, from the browser: binary protobuf over fetch to
// this page's own origin, with the signed-in token when there is one.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AgentService, AuthService, DatanetService, LedgerService, RegistryService } from "./gen/tollgate/v1/tollgate_pb";
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
