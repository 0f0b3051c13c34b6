/**
 * `pnpm bench`: accuracy, speed and memory of @transllm/dedup against npm `minhash` 0.0.9 on the same
 * generated Thai + English corpus, in the same run, and the out-of-core run (child process). Writes
 * bench/results/dedup.json. Sizes: DEDUP_BENCH_FAMILIES (default 10000 ≈ 21k documents),
 * DEDUP_BENCH_PEER_DOCS (default 1500), DEDUP_BENCH_OOC_DOCS (default 2000000), DEDUP_BENCH_OOC_MEMORY_MB (256);
 * DEDUP_BENCH_OOC=reuse quotes the last separate out-of-core run instead of starting one.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { SeededRng } from "@transllm/core";
import { DocumentHasher, MinHashLSH, Shingler, candidateProbability, planBands, runDedup } from "@transllm/dedup";
import type { DedupOptions } from "@transllm/dedup";
import { evaluateRun } from "./evaluate.js";
import { generateCorpus, shingleStrings } from "./generate-corpus.js";
import type { CorpusLanguage } from "./generate-corpus.js";

const here = dirname(fileURLToPath(import.meta.url));
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const families = env("DEDUP_BENCH_FAMILIES", 10_000);
const languageFamilies = env("DEDUP_BENCH_LANGUAGE_FAMILIES", 1500);
const peerDocs = env("DEDUP_BENCH_PEER_DOCS", 1500);
const oocDocs = env("DEDUP_BENCH_OOC_DOCS", 2_000_000);
const oocMemoryMb = env("DEDUP_BENCH_OOC_MEMORY_MB", 256);
const log = (message: string): void => void process.stderr.write(`[bench] ${message}\n`);
/** Wall seconds and CPU seconds (user + system, all threads of this process) of a piece of work. */
const measure = async <T>(work: () => T | Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> => {
	const cpu = process.cpuUsage();
	const start = performance.now();
	const value = await work();
	const used = process.cpuUsage(cpu);
	return { value, seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
};
const loadAtStart = loadavg();
const work = mkdtempSync(join(tmpdir(), "transllm-dedup-bench-"));

log(`generating ${families} families`);
const corpus = generateCorpus({ families, seed: "bench" });
const texts = corpus.documents.map((d) => d.text);
const input = join(work, "corpus.jsonl");
writeFileSync(input, `${corpus.documents.map((d) => JSON.stringify({ id: d.id, text: d.text })).join("\n")}\n`);
const meanBytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / texts.length;
const plan = planBands({ threshold: 0.8, numPerm: 128 });

// 1. Accuracy and end-to-end throughput of the whole pipeline, per configuration.
const runs: Record<string, unknown>[] = [];
const configurations: { name: string; options: Partial<DedupOptions> }[] = [
	{ name: "oph + exact verification (default)", options: {} },
	{ name: "unit word (Intl.Segmenter words for Thai, the 0.1 default)", options: { unit: "word" } },
	{ name: "kperm + exact verification", options: { scheme: "kperm" } },
	{ name: "oph + signature verification", options: { verify: "signature" } },
	{ name: "datasketch bands 9×13 + signature verification", options: { bands: 9, rows: 13, verify: "signature" } },
];
for (const { name, options } of configurations) {
	log(`pipeline: ${name}`);
	const outDir = join(work, `run-${runs.length}`);
	const { value: result, seconds, cpuSeconds } = await measure(() => runDedup({ inputs: [input], outDir, idField: "id", progress: false, ...options }));
	const accuracy = evaluateRun(outDir, corpus, 0.8);
	runs.push({
		name,
		bands: result.config.bands,
		rows: result.config.rows,
		workers: availableParallelism(),
		seconds,
		docsPerSecond: corpus.documents.length / seconds,
		cpuSeconds,
		docsPerCpuSecond: corpus.documents.length / cpuSeconds,
		stageSeconds: result.stats?.seconds,
		removed: result.stats?.removed,
		...accuracy,
	});
	rmSync(outDir, { recursive: true, force: true });
}

// 1b. Per language, the unit decided by measurement: the default (`auto`: character 5-grams where the script
// has no spaces) against ICU word 5-grams (`--unit word --lang <code>`), on a corpus of that language alone;
// ground truth is the exact Jaccard of the default's shingle strings (see the README for why).
const languages: Record<string, unknown>[] = [];
for (const lang of ["th", "th-ood", "lo", "km", "my", "zh", "ja", "en"] as const satisfies readonly CorpusLanguage[]) {
	const languageCorpus = generateCorpus({ families: languageFamilies, seed: `bench-${lang}`, languages: [lang] });
	const languageTexts = languageCorpus.documents.map((d) => d.text);
	const file = join(work, `corpus-${lang}.jsonl`);
	writeFileSync(file, `${languageCorpus.documents.map((d) => JSON.stringify({ id: d.id, text: d.text })).join("\n")}\n`);
	const code = lang === "th-ood" ? "th" : lang;
	for (const unit of ["auto", "word"] as const) {
		log(`language ${lang}, unit ${unit}`);
		const outDir = join(work, `lang-${lang}-${unit}`);
		await runDedup({ inputs: [file], outDir, idField: "id", progress: false, unit, lang: code });
		const accuracy = evaluateRun(outDir, languageCorpus, 0.8);
		rmSync(outDir, { recursive: true, force: true });
		const single = new DocumentHasher({ numPerm: 128, ngram: 5, unit, lang: code, scheme: "oph", seed: 1, bands: plan.bands, rows: plan.rows, keepShingles: false });
		single.hashBatch(languageTexts.slice(0, 200));
		const signing = await measure(() => single.hashBatch(languageTexts));
		let datasketchPeer: Record<string, unknown> | undefined;
		if (unit === "auto" && (lang === "th" || lang === "th-ood" || lang === "en")) {
			// datasketch's algorithm (NumPy re-implementation) on the same shingle strings, in this run.
			log(`peer: datasketch algorithm on ${lang}`);
			const peerShingles = join(work, `shingles-${lang}.jsonl`);
			const stringShingler = new Shingler({ ngram: 5 });
			writeFileSync(peerShingles, `${languageCorpus.documents.map((d) => JSON.stringify({ shingles: [...shingleStrings(d.text, stringShingler)] })).join("\n")}\n`);
			const peerRun = spawnSync("python3", [join(here, "peer_datasketch.py"), peerShingles], { encoding: "utf8", maxBuffer: 1 << 28 });
			if (peerRun.status !== 0) datasketchPeer = { skipped: `python3 peer did not run: ${peerRun.error?.message ?? peerRun.stderr}` };
			else {
				const out = JSON.parse(peerRun.stdout) as { docsPerCpuSecond: number; cpuSeconds: number; candidatePairs: [number, number][] };
				const candidates = new Set(out.candidatePairs.map(([x, y]) => `${x},${y}`));
				const truth = languageCorpus.pairs.filter((pair) => pair.jaccard >= 0.8);
				const found = truth.filter((pair) => candidates.has(`${pair.a},${pair.b}`)).length;
				const jaccardOf = new Map(languageCorpus.pairs.map((pair) => [`${pair.a},${pair.b}`, pair.jaccard]));
				const good = out.candidatePairs.filter(([x, y]) => (jaccardOf.get(`${x},${y}`) ?? 0) >= 0.8).length;
				datasketchPeer = { docsPerCpuSecond: out.docsPerCpuSecond, cpuSeconds: out.cpuSeconds, candidateRecall: found / Math.max(1, truth.length), candidatePrecision: good / Math.max(1, out.candidatePairs.length), candidatePairs: out.candidatePairs.length };
			}
		}
		languages.push({
			lang,
			unit,
			...(datasketchPeer ? { datasketchPeer } : {}),
			documents: languageCorpus.documents.length,
			meanBytes: languageTexts.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / languageTexts.length,
			truePairs: accuracy.truePairs,
			recall: accuracy.recall,
			precision: accuracy.precision,
			clusterPairPrecision: accuracy.clusterPairPrecision,
			signingDocsPerCpuSecond: languageTexts.length / signing.cpuSeconds,
			loadAverage: loadavg()[0],
		});
	}
}

// 2. The measured S-curve: P(candidate | exact J) over the planted pairs, against 1 − (1 − J^r)^b.
log("S-curve");
const hasher = new DocumentHasher({ numPerm: 128, ngram: 5, unit: "auto", scheme: "oph", seed: 1, bands: plan.bands, rows: plan.rows, keepShingles: false });
const hashed = hasher.hashBatch(texts);
const collide = (a: number, b: number): boolean => {
	for (let band = 0; band < plan.bands; band++) {
		const x = (a * plan.bands + band) * 2;
		const y = (b * plan.bands + band) * 2;
		if (hashed.bandKeys[x] === hashed.bandKeys[y] && hashed.bandKeys[x + 1] === hashed.bandKeys[y + 1]) return true;
	}
	return false;
};
const sBins = Array.from({ length: 14 }, (_, i) => ({ from: 0.3 + i * 0.05, to: 0.35 + i * 0.05, pairs: 0, candidates: 0 }));
for (const pair of corpus.pairs) {
	if ((hashed.shingles[pair.a] as number) === 0 || (hashed.shingles[pair.b] as number) === 0) continue;
	const bin = sBins.find((b) => pair.jaccard >= b.from && (pair.jaccard < b.to || b.to > 0.99));
	if (!bin) continue;
	bin.pairs += 1;
	if (collide(pair.a, pair.b)) bin.candidates += 1;
}
let unrelated = 0;
let unrelatedCandidates = 0;
for (let a = 0; a + 997 < corpus.documents.length && unrelated < 200_000; a += 1) {
	const b = (a * 7919 + 997) % corpus.documents.length;
	if (corpus.documents[a]?.family === corpus.documents[b]?.family) continue;
	unrelated += 1;
	if (collide(a, b)) unrelatedCandidates += 1;
}
const sCurveMeasured = sBins.map((bin) => {
	const middle = (bin.from + bin.to) / 2;
	return { jaccard: `${bin.from.toFixed(2)}–${bin.to.toFixed(2)}`, pairs: bin.pairs, measured: bin.pairs > 0 ? bin.candidates / bin.pairs : null, theory: candidateProbability(middle, plan.bands, plan.rows) };
});

// 3. Speed per core: hashing in one thread (normalise + segment + shingle + sign + band keys).
log("speed per core");
// Per core = documents / CPU seconds of the one thread doing the work: on a shared machine the wall clock
// also counts time spent waiting for a core.
const perCore: Record<string, { wallDocsPerSecond: number; docsPerCpuSecond: number }> = {};
for (const scheme of ["oph", "kperm"] as const) {
	const single = new DocumentHasher({ numPerm: 128, ngram: 5, unit: "auto", scheme, seed: 1, bands: plan.bands, rows: plan.rows, keepShingles: false });
	single.hashBatch(texts.slice(0, 500));
	for (const lang of ["all", "th", "en"] as const) {
		const subset = lang === "all" ? texts : corpus.documents.filter((d) => d.lang === lang).map((d) => d.text);
		const { seconds, cpuSeconds } = await measure(() => single.hashBatch(subset));
		perCore[`${scheme}_${lang}`] = { wallDocsPerSecond: subset.length / seconds, docsPerCpuSecond: subset.length / cpuSeconds };
	}
}

// 4. The peer, npm `minhash` 0.0.9, on the same documents and the same shingles, in this process.
log(`peer: npm minhash on ${peerDocs} documents`);
const require = createRequire(import.meta.url);
const { Minhash, LshIndex } = require("minhash") as {
	Minhash: new (config?: { numPerm?: number }) => { update(s: string): void; jaccard(o: unknown): number };
	LshIndex: new (args?: { bandSize?: number }) => { insert(key: string, m: unknown): void; query(m: unknown): string[] };
};
const peerShingler = new Shingler({ ngram: 5 });
const peerSubset = corpus.documents.slice(0, peerDocs);
const shingleLists = peerSubset.map((d) => [...shingleStrings(d.text, peerShingler)]);
const peerIndex = new LshIndex({ bandSize: 4 });
// The peer is given the shingle strings already made (its cost excludes normalising and segmenting).
const peerRun = await measure(() =>
	shingleLists.map((list, i) => {
		const m = new Minhash({ numPerm: 128 });
		for (const shingle of list) m.update(shingle);
		peerIndex.insert(String(i), m);
		return m;
	}),
);
const peerSignatures = peerRun.value;
// Ours starts from the raw text (normalise, segment, shingle, sign, band, index).
const ourRun = await measure(() => {
	const batch = new DocumentHasher({ numPerm: 128, ngram: 5, unit: "auto", scheme: "oph", seed: 1, bands: plan.bands, rows: plan.rows, keepShingles: false }).hashBatch(peerSubset.map((d) => d.text));
	const ourIndex = new MinHashLSH({ threshold: 0.8, numPerm: 128, bands: plan.bands, rows: plan.rows });
	for (let i = 0; i < batch.count; i++) if ((batch.shingles[i] as number) > 0) ourIndex.insert(String(i), batch.signatures.subarray(i * 128, (i + 1) * 128));
	return batch;
});
const ours = ourRun.value;
let peerError = 0;
let ourError = 0;
let compared = 0;
for (const pair of corpus.pairs) {
	if (pair.b >= peerDocs) continue;
	if (shingleLists[pair.a]?.length === 0 || shingleLists[pair.b]?.length === 0) continue;
	compared += 1;
	peerError += Math.abs((peerSignatures[pair.a] as { jaccard(o: unknown): number }).jaccard(peerSignatures[pair.b]) - pair.jaccard);
	let equal = 0;
	for (let k = 0; k < 128; k++) if (ours.signatures[pair.a * 128 + k] === ours.signatures[pair.b * 128 + k]) equal += 1;
	ourError += Math.abs(equal / 128 - pair.jaccard);
}
let peerQueryError: string | undefined;
try {
	const unseen = new Minhash({ numPerm: 128 });
	for (const shingle of ["never seen shingle a b", "another unseen one c d"]) unseen.update(shingle);
	peerIndex.query(unseen);
} catch (error) {
	peerQueryError = (error as Error).message;
}

// 5. Memory per document of the in-memory index API (heap growth / documents).
log("memory per document");
// A real collection before and after, so that the difference is live memory, not garbage.
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;
collect();
const before = process.memoryUsage();
const heapBefore = before.heapUsed + before.arrayBuffers;
const memoryIndex = new MinHashLSH({ threshold: 0.8, numPerm: 128 });
// Distinct random signatures: every band key is new, as for a corpus of mostly unique documents.
const memoryRng = new SeededRng("memory");
const randomSignature = new Uint32Array(128);
for (let i = 0; i < 100_000; i++) {
	for (let k = 0; k < 128; k++) randomSignature[k] = memoryRng.nextUint32();
	memoryIndex.insert(`d${i}`, randomSignature);
}
collect();
const after = process.memoryUsage();
const indexBytesPerDocument = (after.heapUsed + after.arrayBuffers - heapBefore) / memoryIndex.size;

// 6. The out-of-core run, in a child process so its peak RSS is its own.
// DEDUP_BENCH_OOC=reuse quotes bench/results/dedup-out-of-core-<docs>.json from a separate `tsx bench/out-of-core.ts` run
// (the 2,000,000-document run takes ~20 minutes on 2 shared cores).
let outOfCore: Record<string, unknown>;
if (process.env.DEDUP_BENCH_OOC === "reuse") {
	outOfCore = { ...(JSON.parse(readFileSync(join(here, "results", `dedup-out-of-core-${oocDocs}.json`), "utf8")) as Record<string, unknown>), reused: "run separately, see command" };
} else {
	log(`out-of-core: ${oocDocs} documents, band tables capped at ${oocMemoryMb} MiB`);
	const tsx = join(dirname(require.resolve("tsx/package.json")), "dist", "cli.mjs");
	const oocOutput = execFileSync(process.execPath, [tsx, join(here, "out-of-core.ts"), String(oocDocs), String(oocMemoryMb), join(work, "ooc")], {
		encoding: "utf8",
		stdio: ["ignore", "pipe", "inherit"],
		maxBuffer: 1 << 24,
	});
	outOfCore = JSON.parse(oocOutput.trim().split("\n").pop() as string) as Record<string, unknown>;
}

const results = {
	machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg() },
	note: "Timed on a 2-core machine shared with other engineers' jobs (see the load averages): figures are lower bounds.",
	command: `DEDUP_BENCH_FAMILIES=${families} DEDUP_BENCH_LANGUAGE_FAMILIES=${languageFamilies} DEDUP_BENCH_PEER_DOCS=${peerDocs}${process.env.DEDUP_BENCH_OOC === "reuse" ? " DEDUP_BENCH_OOC=reuse" : ""} pnpm --filter @transllm/dedup bench`,
	corpus: { documents: corpus.documents.length, plantedPairs: corpus.pairs.length, meanBytes, thai: corpus.documents.filter((d) => d.lang === "th").length },
	plan,
	pipeline: runs,
	languages: { families: languageFamilies, groundTruth: "exact Jaccard of the default (auto) shingle strings: word 5-grams, character 5-grams of text without spaces in Thai, Lao, Khmer, Myanmar, CJK", runs: languages },
	sCurve: { bands: plan.bands, rows: plan.rows, bins: sCurveMeasured, unrelatedPairs: unrelated, unrelatedCandidateRate: unrelatedCandidates / Math.max(1, unrelated) },
	speedPerCore: { docsPerSecond: perCore, meanDocumentBytes: meanBytes },
	peer: {
		name: "npm minhash 0.0.9 (Minhash + LshIndex bandSize 4, same shingles)",
		documents: peerDocs,
		peerDocsPerSecond: peerDocs / peerRun.seconds,
		peerDocsPerCpuSecond: peerDocs / peerRun.cpuSeconds,
		oursDocsPerSecond: peerDocs / ourRun.seconds,
		oursDocsPerCpuSecond: peerDocs / ourRun.cpuSeconds,
		speedupCpu: peerRun.cpuSeconds / ourRun.cpuSeconds,
		meanAbsoluteJaccardError: { peer: peerError / Math.max(1, compared), ours: ourError / Math.max(1, compared), pairs: compared },
		peerQueryOfUnseenBands: peerQueryError ?? "no error",
	},
	memory: {
		inMemoryIndexBytesPerDocument: indexBytesPerDocument,
		clustersStageBytesPerDocument: 20,
		clustersStageNote: "union-find parent (4) + cluster sizes (4) + keeper (4) + keep priority (8), typed arrays",
	},
	outOfCore,
};
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", "dedup.json"), `${JSON.stringify(results, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });
log("wrote bench/results/dedup.json");
