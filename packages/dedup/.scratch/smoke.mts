import { writeFileSync, rmSync } from "node:fs";
import { generateCorpus } from "../bench/generate-corpus.ts";
import { runDedup } from "../src/index.ts";
const c = generateCorpus({ families: 1500 });
writeFileSync("/tmp/smoke.jsonl", c.documents.map(d => JSON.stringify({ id: d.id, text: d.text })).join("\n") + "\n");
rmSync("/tmp/smoke-out", { recursive: true, force: true });
const t = performance.now();
const r = await runDedup({ inputs: ["/tmp/smoke.jsonl"], outDir: "/tmp/smoke-out", workers: Number(process.argv[2] ?? 0), memoryLimitMb: 0.05, idField: "id" });
console.log(performance.now() - t, JSON.stringify(r.stats, null, 1).slice(0, 1500));
