import { registryApi } from "./api";
import type { Plugin } from "./gen/tollgate/v1/tollgate_pb";

// allPlugins pages through the registry (at most 10 pages of 1,000).
export async function allPlugins(): Promise<Plugin[]> {
  const out: Plugin[] = [];
  let pageToken = "";
  for (let i = 0; i < 10; i++) {
    const r = await registryApi.listPlugins({ pageToken, pageSize: 1000 });
    out.push(...r.plugins);
    pageToken = r.nextPageToken;
    if (!pageToken) break;
  }
  return out;
}
