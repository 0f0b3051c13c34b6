import { basename, dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { AutoModelForCausalLM, AutoTokenizer, env } from "@huggingface/transformers";
import { udhrParagraphs } from "@transllm/udhr-text";
import { buildLlamaFixture, loadModel } from "@transllm/runtime";
const dir = join(tmpdir(), `ab-${process.pid}`);
await buildLlamaFixture({ dir, layers: 8, hidden: 512, heads: 8, kvHeads: 4, intermediate: 1376, vocab: 32000, seed: 1 });
env.allowRemoteModels = false; env.localModelPath = dirname(dir);
const tok = await AutoTokenizer.from_pretrained(basename(dir)); tok.padding_side = "left";
const peer = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: "fp32", device: "cpu", use_external_data_format: true });
const ours = await loadModel(dir, { executionProvider: "cpu" });
const english = udhrParagraphs("en").filter((p) => p.length > 200);
const prompts = Array.from({ length: 32 }, (_, i) => (english[i % english.length] as string).slice(0, 200));
const N = 16;
const t = async (f: () => Promise<unknown>) => { const s = performance.now(); await f(); return Math.round(performance.now() - s); };
for (let r = 0; r < 3; r++) {
  const a = [await t(() => ours.generate({ prompts, maxNewTokens: N, batchSize: 32 })), await t(() => ours.generate({ prompts, maxNewTokens: N, batchSize: 32 }))];
  const b = [await t(() => peer.generate({ ...tok(prompts, { padding: true }), max_new_tokens: N, min_new_tokens: N, do_sample: false })), await t(() => peer.generate({ ...tok(prompts, { padding: true }), max_new_tokens: N, min_new_tokens: N, do_sample: false }))];
  const c = [await t(() => ours.generate({ prompts, maxNewTokens: N, batchSize: 32, decodeLoop: "graph" })), await t(() => ours.generate({ prompts, maxNewTokens: N, batchSize: 32, decodeLoop: "graph" }))];
  console.log(JSON.stringify({ host: a, peer: b, graph: c }));
}
await ours.dispose(); await peer.dispose();
