import { basename, dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { AutoModelForCausalLM, AutoTokenizer, Tensor as HfTensor, env } from "@huggingface/transformers";
import { udhrParagraphs } from "@transllm/udhr-text";
import { buildLlamaFixture, loadModel } from "@transllm/runtime";
const dir = join(tmpdir(), `probe-${process.pid}`);
await buildLlamaFixture({ dir, layers: 8, hidden: 512, heads: 8, kvHeads: 4, intermediate: 1376, vocab: 32000, seed: 1 });
env.allowRemoteModels = false; env.localModelPath = dirname(dir);
const tok = await AutoTokenizer.from_pretrained(basename(dir)); tok.padding_side = "left";
const peer = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: "fp32", device: "cpu", use_external_data_format: true });
const local = await loadModel(dir, { worker: false, executionProvider: "cpu" });
const worker = await loadModel(dir, { executionProvider: "cpu" });
const prompts = udhrParagraphs("en").filter((p) => p.length > 200).slice(0, 8).map((p) => p.slice(0, 200));
const N = Number(process.env.N ?? 16);
const t = async (f: () => Promise<unknown>) => { const s = performance.now(); await f(); return Math.round(performance.now() - s); };
for (let r = 0; r < 3; r++) {
  const a = await t(() => local.generate({ prompts, maxNewTokens: N }));
  const b = await t(() => worker.generate({ prompts, maxNewTokens: N }));
  const c = await t(() => peer.generate({ ...tok(prompts, { padding: true }), max_new_tokens: N, min_new_tokens: N, do_sample: false }));
  const d = await t(() => local.generate({ prompts, maxNewTokens: N, decodeLoop: "graph" }));
  console.log({ local: a, worker: b, peer: c, graphLoop: d });
}
await local.dispose(); await worker.dispose(); await peer.dispose();
