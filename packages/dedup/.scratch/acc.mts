import { writeFileSync, rmSync } from "node:fs";
import { generateCorpus } from "../bench/generate-corpus.ts";
import { evaluateRun } from "../bench/evaluate.ts";
import { runDedup } from "../src/index.ts";
const c = generateCorpus({ families: 4000, seed: "acc" });
writeFileSync("/tmp/acc.jsonl", c.documents.map(d => JSON.stringify({ id: d.id, text: d.text })).join("\n") + "\n");
for (const verify of ["exact", "signature"] as const) for (const scheme of ["oph", "kperm"] as const) {
rmSync("/tmp/acc-out", { recursive: true, force: true });
const r = await runDedup({ inputs: ["/tmp/acc.jsonl"], outDir: "/tmp/acc-out", workers: 0, idField: "id", progress: false, verify, scheme });
const a = evaluateRun("/tmp/acc-out", c, 0.8);
console.log(verify, scheme, JSON.stringify({ ...a, recallByJaccard: a.recallByJaccard.map(b => `${b.from.toFixed(2)}:${b.found}/${b.pairs}`).join(" ") }));
}
