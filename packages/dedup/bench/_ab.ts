import { generateCorpus } from "./generate-corpus.js";
import { Shingler } from "../src/index.js";
import { OldShingler } from "./_old-shingle.js";
const corpus = generateCorpus({ families: 1500, seed: "bench" });
const th = corpus.documents.filter((d) => d.lang === "th").map((d) => d.text);
const en = corpus.documents.filter((d) => d.lang === "en").map((d) => d.text);
const mixed = th.map((s, i) => s.slice(0, 400) + " " + (en[i] ?? "").slice(0, 1200));
const cpu = (f: () => void) => { const c = process.cpuUsage(); f(); const u = process.cpuUsage(c); return u.user + u.system; };
for (const lang of [undefined, "th"]) {
  const a = new OldShingler({ lang, seed: 1 }), b = new Shingler({ lang, seed: 1 });
  for (const [nm, docs] of [["th", th], ["en", en], ["mixed", mixed]] as const) {
    let bad = 0; for (const s of docs) { const x = a.shingle(s), y = b.shingle(s); if (x.shingles !== y.shingles || a.hashes.subarray(0, x.shingles).some((h, i) => h !== b.hashes[i])) bad++; }
    const ta: number[] = [], tb: number[] = [];
    for (let r = 0; r < 7; r++) { ta.push(cpu(() => { for (const s of docs) a.shingle(s); })); tb.push(cpu(() => { for (const s of docs) b.shingle(s); })); }
    const m = (x: number[]) => Math.min(...x) / docs.length;
    console.log(`lang=${lang} ${nm}: old ${m(ta).toFixed(1)} us/doc, new ${m(tb).toFixed(1)} us/doc, mismatching docs ${bad}`);
  }
}
