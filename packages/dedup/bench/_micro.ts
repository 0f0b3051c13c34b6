import { generateCorpus } from "../bench/generate-corpus.js";
import { DocumentHasher, normalizeText } from "../src/index.js";
const corpus = generateCorpus({ families: 1500, seed: "bench" });
const th = corpus.documents.filter((d) => d.lang === "th").map((d) => d.text);
const en = corpus.documents.filter((d) => d.lang === "en").map((d) => d.text);
const t = (name: string, n: number, f: () => void) => { f(); const c = process.cpuUsage(); f(); const u = process.cpuUsage(c); console.log(name, (n / ((u.user + u.system) / 1e6)).toFixed(0), "docs/cpu-s", ((u.user+u.system)/n).toFixed(1), "us/doc"); };
const h = new DocumentHasher({ numPerm: 128, ngram: 5, unit: "word", scheme: "oph", seed: 1, bands: 17, rows: 7, keepShingles: false });
t("hash th", th.length, () => h.hashBatch(th));
t("hash en", en.length, () => h.hashBatch(en));
t("normalize th", th.length, () => { for (const s of th) normalizeText(s); });
const norm = th.map(normalizeText);
const seg = new Intl.Segmenter("th", { granularity: "word" });
t("segment whole th", th.length, () => { for (const s of norm) for (const x of seg.segment(s)) {} });
t("segment per-token th", th.length, () => { for (const s of norm) for (const tok of s.split(" ")) for (const x of seg.segment(tok)) {} });
console.log(th[0].slice(0, 300)); console.log(th.length, en.length, th.reduce((a, s) => a + s.length, 0) / th.length);
const V = (Intl as any).v8BreakIterator;
if (V) { const it = new V("th", { type: "word" }); t("v8BreakIterator th", th.length, () => { for (const s of norm) { it.adoptText(s); let n = 0; while (it.next() !== -1) { if (it.breakType() !== "none") n++; } } }); }
t("segment whole, only index", th.length, () => { for (const s of norm) { const it = seg.segment(s)[Symbol.iterator](); let r; while (!(r = it.next()).done) { r.value.index; } } });
