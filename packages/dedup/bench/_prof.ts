import { generateCorpus } from "./generate-corpus.js";
import { DocumentHasher } from "../src/index.js";
const corpus = generateCorpus({ families: 1500, seed: "bench" });
const th = corpus.documents.filter((d) => d.lang === "th").map((d) => d.text);
const h = new DocumentHasher({ numPerm: 128, ngram: 5, unit: "word", scheme: "oph", seed: 1, bands: 17, rows: 7, keepShingles: false });
for (let i = 0; i < 4; i++) h.hashBatch(th);
