// What web/e2e/digest.mjs runs in Node: the page's own receipt verifier
// over receipts the Go ledger signed (api's TestBrowserVerifierMatchesTheLedger).
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { hashTypedData } from "viem";
import { ReceiptSchema } from "../src/gen/tollgate/v1/tollgate_pb";
import { receiptTypedData, verifyReceipt } from "../src/eip712";

export async function check(items: JsonValue[]) {
  return Promise.all(
    items.map(async (j) => {
      const r = fromJson(ReceiptSchema, j);
      const v = await verifyReceipt(r);
      return { digest: hashTypedData(receiptTypedData(r)), ok: v.ok, reason: v.reason ?? "" };
    }),
  );
}
