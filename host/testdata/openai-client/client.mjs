// Drives a node's OpenAI-compatible endpoint with the official openai
// client, unmodified: a completion, a streamed completion, the model list,
// and a refused request. Prints one JSON line of what it saw.
import OpenAI from "openai";

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL: baseURL + "/v1", apiKey, maxRetries: 0 });
const messages = [{ role: "user", content: "Why is the sky blue" }];

const done = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
let streamed = "";
let streamReceipt = "";
let streamUsage = 0;
const stream = await client.chat.completions.create({
  model, messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  for (const c of chunk.choices) streamed += c.delta?.content ?? "";
  if (chunk.tollgate) streamReceipt = chunk.tollgate.receipt_id;
  if (chunk.usage) streamUsage = chunk.usage.completion_tokens;
}
const models = [];
for await (const m of client.models.list()) models.push(m.id);
let refused = null;
try {
  await client.chat.completions.create({ model: "acme/none@1.0.0", messages });
} catch (e) {
  refused = { status: e.status, code: e.code };
}
console.log(JSON.stringify({
  text: done.choices[0].message.content, finish: done.choices[0].finish_reason, usage: done.usage,
  receipt: done.tollgate?.receipt_id, streamed, streamReceipt, streamUsage, models, refused,
}));
