import { streamDocuments } from "../bench/generate-corpus.ts";
import { normalizeText } from "../src/index.ts";
const docs = [...streamDocuments({ families: 600, seed: "x" })].filter(d => d.lang === "th").map(d => d.text).slice(0, 300);
const seg = new Intl.Segmenter("th", { granularity: "word" });
const cpu0 = process.cpuUsage(); let t = performance.now(); let n = 0;
for (const d of docs) for (const s of seg.segment(normalizeText(d))) if (s.isWordLike) n++;
let c = process.cpuUsage(cpu0);
console.log("generated thai µs/doc wall", (performance.now() - t) / docs.length * 1000, "cpu", (c.user + c.system) / docs.length, "len", docs[0].length);
// split at spaces, segment each phrase separately
const cpu1 = process.cpuUsage(); t = performance.now();
for (const d of docs) for (const phrase of normalizeText(d).split(" ")) for (const s of seg.segment(phrase)) if (s.isWordLike) n++;
c = process.cpuUsage(cpu1);
console.log("per-phrase µs/doc wall", (performance.now() - t) / docs.length * 1000, "cpu", (c.user + c.system) / docs.length);
