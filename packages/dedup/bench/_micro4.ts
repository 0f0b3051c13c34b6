import { generateCorpus, udhrWords } from "./generate-corpus.js";
import { normalizeText } from "../src/normalize-text.js";
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
const P = /[\p{P}\p{S}\s]+/gu;
const old = (text: string) => text.normalize("NFKC").toLowerCase().replace(INVISIBLE, "").replace(P, " ").trim();
const corpus = generateCorpus({ families: 1500, seed: "bench" });
const th = corpus.documents.filter((d) => d.lang === "th").map((d) => d.text);
const en = corpus.documents.filter((d) => d.lang === "en").map((d) => d.text);
const t = (name: string, n: number, f: () => void) => { f(); const c = process.cpuUsage(); f(); f(); const u = process.cpuUsage(c); console.log(name, ((u.user+u.system)/n/2).toFixed(1), "us/doc"); };
for (const [nm, docs] of [["th", th], ["en", en]] as const) { t(nm+" old", docs.length, () => { for (const s of docs) old(s); }); t(nm+" new", docs.length, () => { for (const s of docs) normalizeText(s); }); }
const extra = ["  a,,b  c\t\nd 😀😀 e 😀f \ud800 x \udc00 y  ", " ", "", "\u3000ok\u3000", "a\u00a0\u00a0b", "𝐀𝐁 x 🎉", "ไทย ๆ ฯ", "x\u200by"];
let bad = 0; for (const s of [...th, ...en, ...extra, udhrWords("th").join(" "), udhrWords("en").join(" , ")]) if (old(s) !== normalizeText(s)) { bad++; console.log(JSON.stringify(s.slice(0,80))); } console.log("diff", bad);
// exhaustive: every BMP and a sample of astral code points, alone and in context
let bad2 = 0; for (let c = 0; c < 0x110000; c += (c < 0x10000 ? 1 : 7)) { const ch = String.fromCodePoint(c); for (const s of [`a${ch}b`, `a ${ch} b`, `${ch}${ch}`, ch]) if (old(s) !== normalizeText(s)) bad2++; } console.log("diff2", bad2);
