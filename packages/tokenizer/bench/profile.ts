import { writeFileSync } from "node:fs";
import { learnExtension, loadBaseTokenizer, readCorpusLines, rustTokenizer, udhrLines, encodeLinesRust, CorpusSegmenter, learnContinuedBpe } from "@transllm/tokenizer";
import { llama2FullDir, llama3Dir } from "../test/fixtures.js";
const tha = await udhrLines("tha"); const tha2 = await udhrLines("tha2");
const lines = Array.from({ length: 32 }, () => [...tha, ...tha2]).flat();
for (const dir of [await llama2FullDir(), await llama3Dir()]) {
  let t = performance.now();
  const base = await loadBaseTokenizer(dir); console.log("load", (performance.now() - t).toFixed(0)); t = performance.now();
  const tok = rustTokenizer(base.tokenizerJson); console.log("rust", (performance.now() - t).toFixed(0)); t = performance.now();
  const enc = await encodeLinesRust(tok, lines); console.log("encode", (performance.now() - t).toFixed(0)); t = performance.now();
  const seg = new CorpusSegmenter(base.family); for (const e of enc) seg.add(e); console.log("segment", (performance.now() - t).toFixed(0), seg.result.words.length); t = performance.now();
  const plan = await learnExtension({ base, lines, lang: "th", newTokens: 1000 }); console.log("learnExtension total", (performance.now() - t).toFixed(0));
}
