import { Tokenizer as Js } from "@huggingface/tokenizers";
import { Tokenizer } from "tokenizers";
import { readFileSync } from "node:fs";
const lines = readFileSync("/tmp/tk/synth.txt", "utf8").split("\n").filter(Boolean);
const json = JSON.parse(readFileSync("/tmp/tk/llama3/tokenizer.json", "utf8"));
const [split, byteLevel] = json.pre_tokenizer.pretokenizers;
const shell = (pre: unknown) => ({ ...json, added_tokens: [], pre_tokenizer: pre, model: { ...json.model, vocab: {}, merges: [] } });
for (let rep = 0; rep < 2; rep++) {
let t = performance.now();
const js1 = new Js(shell(split), {}); const js2 = new Js(shell(byteLevel), {});
const counts = new Map<string, number>();
for (const line of lines) for (const p of js1.pre_tokenizer!.pre_tokenize_text(line)) counts.set(p, (counts.get(p) ?? 0) + 1);
console.log("js stage1", performance.now() - t, counts.size); t = performance.now();
const out = new Map<string, number>();
for (const [p, c] of counts) for (const q of js2.pre_tokenizer!.pre_tokenize_text(p)) out.set(q, (out.get(q) ?? 0) + c);
console.log("js stage2", performance.now() - t, out.size); t = performance.now();
const r1 = Tokenizer.fromString(JSON.stringify(shell(split))).getPreTokenizer()!;
const c2 = new Map<string, number>();
for (const line of lines) for (const [p] of r1.preTokenizeString(line)) c2.set(p, (c2.get(p) ?? 0) + 1);
console.log("rust stage1", performance.now() - t, c2.size);
}
