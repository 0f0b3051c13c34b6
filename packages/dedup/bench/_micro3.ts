import { generateCorpus } from "./generate-corpus.js";
const corpus = generateCorpus({ families: 1500, seed: "bench" });
const th = corpus.documents.filter((d) => d.lang === "th").map((d) => d.text);
const en = corpus.documents.filter((d) => d.lang === "en").map((d) => d.text);
const t = (name: string, n: number, f: () => void) => { f(); const c = process.cpuUsage(); f(); f(); const u = process.cpuUsage(c); console.log(name, ((u.user+u.system)/n/2).toFixed(1), "us/doc"); };
const INV = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
const P = /[\p{P}\p{S}\s]+/gu;
for (const [nm, docs] of [["th", th], ["en", en]] as const) {
const pre = docs.map((s) => s.normalize("NFKC").toLowerCase());
t(nm+" inv", docs.length, () => { for (const s of pre) s.replace(INV, ""); });
t(nm+" inv-test", docs.length, () => { for (const s of pre) INV.test(s); });
t(nm+" punct", docs.length, () => { for (const s of pre) s.replace(P, " "); });
t(nm+" trim", docs.length, () => { for (const s of pre) s.trim(); });
}
const P2 = /[\p{P}\p{S}\s]{2,}|(?! )[\p{P}\p{S}\s]/gu;
for (const [nm, docs] of [["th", th], ["en", en]] as const) {
const pre = docs.map((s) => s.normalize("NFKC").toLowerCase());
t(nm+" P2", docs.length, () => { for (const s of pre) s.replace(P2, " "); });
}
