import { loadBaseTokenizer, learnExtension, readCorpusLines } from "@transllm/tokenizer";
import { llama2FullDir, llama3Dir } from "../test/fixtures.js";
const dirs = [await llama2FullDir(), await llama3Dir()];
for (const dir of dirs) {
  const t = performance.now(); const c0 = process.cpuUsage();
  const base = await loadBaseTokenizer(dir); const t1 = performance.now();
  const plan = await learnExtension({ base, lines: readCorpusLines("/tmp/tk/synth.txt"), lang: "th", newTokens: 1000 });
  const c = process.cpuUsage(c0); console.log("ours", base.family, "load", (t1 - t).toFixed(0), "wall", (performance.now() - t).toFixed(0), "cpu", ((c.user + c.system) / 1000).toFixed(0));
}
