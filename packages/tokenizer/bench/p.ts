import { loadBaseTokenizer, learnExtension, udhrLines } from "@transllm/tokenizer";
import { llama2FullDir, llama3Dir } from "../test/fixtures.js";
const tha = await udhrLines("tha");
for (const dir of [await llama2FullDir(), await llama3Dir()]) {
  const base = await loadBaseTokenizer(dir);
  for (let i = 0; i < 2; i++) { const t = performance.now(); const plan = await learnExtension({ base, lines: tha, lang: "th", newTokens: 1000 }); console.log("learn", (performance.now() - t).toFixed(0), plan.merges.length); }
}
