// An example Tollgate agent in AssemblyScript: it answers a question from the
// best-matching record of the first datanet it was granted, through the same
// metered host function (datanet_search) as the Go example. It shows the
// plugin ABI is plain Extism: JSON in and out through Extism memory.
import { Host, Memory, Config } from "@extism/as-pdk";

@external("extism:host/user", "datanet_search")
declare function datanet_search(offset: u64): u64;

@external("extism:host/env", "length")
declare function extism_length(offset: u64): u64;

export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {}

// jsonString quotes s as a JSON string.
function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c == '"' || c == "\\") out += "\\" + c;
    else if (s.charCodeAt(i) < 0x20) out += " ";
    else out += c;
  }
  return out + '"';
}

// field returns the string value of the first `"name":"…"` at or after from,
// unescaped, and where it ends; "" and -1 if there is none.
function field(json: string, name: string, from: i32): string {
  const key = '"' + name + '":"';
  let i = json.indexOf(key, from);
  if (i < 0) return "";
  i += key.length;
  let out = "";
  while (i < json.length) {
    const c = json.charAt(i);
    if (c == '"') break;
    if (c == "\\" && i + 1 < json.length) {
      i++;
      const e = json.charAt(i);
      out += e == "n" ? "\n" : e == "t" ? "\t" : e;
    } else {
      out += c;
    }
    i++;
  }
  return out;
}

export function invoke(): i32 {
  const question = Host.inputString();
  const granted = Config.get("tollgate.datanets");
  if (granted == null || granted.length == 0) {
    Host.outputString("no datanet granted");
    return 1;
  }
  const comma = granted.indexOf(",");
  const datanet = comma < 0 ? granted : granted.substring(0, comma);

  const req = Memory.allocateString(
    '{"datanet":' + jsonString(datanet) + ',"query":' + jsonString(question) + ',"limit":1}',
  );
  const respOffset = datanet_search(req.offset);
  const resp = new Memory(respOffset, extism_length(respOffset)).toString();
  if (resp.indexOf('"error"') >= 0) {
    Host.outputString("datanet_search failed: " + resp);
    return 1;
  }
  const content = field(resp, "content", 0);
  if (content.length == 0) {
    Host.outputString("I found nothing in " + datanet + " about that.");
    return 0;
  }
  const id = field(resp, "id", 0);
  Host.outputString(content + " [1]\n\nSources:\n[1] " + datanet + "/" + id.substring(0, 12));
  return 0;
}
