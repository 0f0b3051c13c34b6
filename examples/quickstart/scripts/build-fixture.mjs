// Builds the demo's stand-ins for the user's models: tiny Llama decoders written by @transllm/runtime's
// `buildLlamaFixture` in the layout of an Optimum `text-generation-with-past` export (model.onnx + model.onnx_data)
// beside the Hugging Face files (config.json, model.safetensors, tokenizer.json, tokenizer_config.json).
// Their weights are RANDOM (seeded), so they run through exactly the code path a real model takes but write
// gibberish. Usage: node scripts/build-fixture.mjs <dir> [<tokenizer dir>]
//   without a tokenizer: the chat model the data stages run (a 512-token byte-level BPE, Llama-2-chat's template);
//   with one (Llama-3's tokenizer.json + tokenizer_config.json): the checkpoint the extend stage resizes and the
//   training stages train — its vocabulary is the tokenizer's, so the extended tokenizer fits its rows.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { buildLlamaFixture } from "@transllm/runtime";

const [dir, tokenizerDir] = process.argv.slice(2);
if (!dir) {
	console.error("usage: node scripts/build-fixture.mjs <dir> [<tokenizer dir>]");
	process.exit(2);
}
await rm(dir, { recursive: true, force: true });
const readJson = async (name) => JSON.parse(await readFile(join(tokenizerDir, name), "utf8"));
const fixture = tokenizerDir
	? // Hidden 16, one layer: a 128K-row vocabulary stays ~8 MB of weights and trains in seconds on a CPU.
		await buildLlamaFixture({ dir, layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, seed: "quickstart-checkpoint", tokenizer: { tokenizerJson: await readJson("tokenizer.json"), tokenizerConfig: await readJson("tokenizer_config.json") } })
	: await buildLlamaFixture({ dir, layers: 4, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: "quickstart" });
const { layers, hidden, heads, kvHeads, vocab } = fixture.arch;
console.log(`tiny Llama in ${dir}: ${layers} layers, hidden ${hidden}, ${heads} heads (${kvHeads} KV heads), vocabulary ${vocab} (${tokenizerDir ? `tokenizer of ${tokenizerDir}` : "byte-level BPE"}); random weights`);
