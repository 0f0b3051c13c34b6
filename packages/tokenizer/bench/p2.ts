import { writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { SeededRng } from "@transllm/core";
import { loadBaseTokenizer, learnExtension, readCorpusLines, udhrLines } from "@transllm/tokenizer";
import { llama2FullDir, llama3Dir } from "../test/fixtures.js";
const segs: string[] = [];
const seg = new Intl.Segmenter("th", { granularity: "word" });
for (const line of [...await udhrLines("tha"), ...await udhrLines("tha2")]) { for (const s of seg.segment(line)) segs.push(s.segment); segs.push(" "); }
const rng = new SeededRng("corpus");
const lines: string[] = [];
for (let i = 0; i < 20000; i++) { const start = rng.int(segs.length - 80); lines.push(segs.slice(start, start + 20 + rng.int(60)).join("").trim()); }
writeFileSync("/tmp/tk/synth.txt", lines.join("\n") + "\n");
console.log("bytes", Buffer.byteLength(lines.join("\n")), "unique", new Set(lines).size);
for (const k of [1000, 5000]) {
  let t = performance.now();
  const r = spawnSync("spm_train", ["--input=/tmp/tk/synth.txt", "--model_prefix=/tmp/tk/spm", `--vocab_size=${k}`, "--model_type=bpe", "--character_coverage=1.0", "--byte_fallback=true", "--hard_vocab_limit=false", "--max_sentence_length=1000000", "--num_threads=2"], { encoding: "utf8" });
  console.log("spm", k, (performance.now() - t).toFixed(0), r.status, r.stderr.split("\n").filter(l => /vocab|Saving|pieces/i.test(l)).slice(-2).join(" | "));
  for (const dir of [await llama2FullDir(), await llama3Dir()]) {
    t = performance.now();
    const base = await loadBaseTokenizer(dir);
    const plan = await learnExtension({ base, lines: readCorpusLines("/tmp/tk/synth.txt"), lang: "th", newTokens: k });
    console.log("ours", k, base.family, (performance.now() - t).toFixed(0), plan.chars.length + plan.merges.length);
  }
}
