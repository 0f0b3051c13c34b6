// Builds the demo's stand-in for the user's exported chat model: a tiny Llama decoder written by
// @transllm/runtime's `buildLlamaFixture` in the layout of an Optimum `text-generation-with-past` export
// (model.onnx + model.onnx_data, config.json, tokenizer.json, tokenizer_config.json with Llama-2-chat's template).
// Its weights are RANDOM (seeded), so it runs through exactly the code path a real model takes but writes
// gibberish. Usage: node scripts/build-fixture.mjs <dir>
import { rm } from "node:fs/promises";
import { buildLlamaFixture } from "@transllm/runtime";

const dir = process.argv[2];
if (!dir) {
	console.error("usage: node scripts/build-fixture.mjs <dir>");
	process.exit(2);
}
await rm(dir, { recursive: true, force: true });
const fixture = await buildLlamaFixture({ dir, layers: 4, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: "quickstart" });
const { layers, hidden, heads, kvHeads, vocab } = fixture.arch;
console.log(`tiny Llama: ${layers} layers, hidden ${hidden}, ${heads} heads (${kvHeads} KV heads), vocabulary ${vocab} (byte-level BPE); random weights, seed "quickstart"`);
