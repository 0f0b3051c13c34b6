import { loadBaseTokenizer, learnExtension, readCorpusLines } from "@transllm/tokenizer";
import { llama2FullDir, llama3Dir } from "../test/fixtures.js";
for (const dir of [await llama2FullDir(), await llama3Dir()]) {
  const t = performance.now();
  const base = await loadBaseTokenizer(dir);
  const plan = await learnExtension({ base, lines: readCorpusLines("/tmp/tk/synth.txt"), lang: "th", newTokens: 5000 });
  console.log("ours", base.family, (performance.now() - t).toFixed(0));
}
