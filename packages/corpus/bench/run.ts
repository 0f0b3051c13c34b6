import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeJsonAtomic } from "@transllm/core";
import { MultilingualLexicon, augmentParallel, codeSwitchPairs, dictionaryLanguages } from "../src/index.js";
import type { CorpusPair } from "../src/index.js";
import { udhrArticlePairs } from "../test/udhr.js";
import { generateCorpus } from "./generate-corpus.js";

// `pnpm bench` → documents/s of the clean pipeline (read-only floor, filters, filters + MinHash dedup) on a
// generated Thai corpus of --size-mb (default 1024), each run in its own process for its peak memory, and
// pairs/s of LLaMAX code-switch augmentation. The filters run once in one thread and once on --filter-workers
// threads (default: available cores), one input shard per thread. The peer, in the same run, is a short Python
// script with the same filters minus segmentation and language ID (bench/peer_clean.py): datatrove cannot be
// installed on this machine (npm and Debian only), and no npm package implements these filters or LLaMAX's
// augmentation. Per CPU-second figures count every thread of the process (process.cpuUsage).
const { values } = parseArgs({
	options: {
		"size-mb": { type: "string", default: "1024" },
		"shard-mb": { type: "string", default: "64" },
		pairs: { type: "string", default: "100000" },
		modes: { type: "string", default: "io,filters-1,filters,dedup" },
		"filter-workers": { type: "string", default: String(availableParallelism()) },
		dir: { type: "string", default: join(tmpdir(), "transllm-corpus-bench") },
	},
});
const sizeMb = Number(values["size-mb"]);
const shardMb = Number(values["shard-mb"]);
const pairCount = Number(values.pairs);
const dir = values.dir as string;
const here = import.meta.dirname;

async function corpus(): Promise<{ files: string[]; documents: number; bytes: number }> {
	const marker = join(dir, `corpus-${sizeMb}-${shardMb}.json`);
	try {
		return JSON.parse(await readFile(marker, "utf8")) as { files: string[]; documents: number; bytes: number };
	} catch {
		await rm(join(dir, "in"), { recursive: true, force: true });
		const generated = await generateCorpus({ dir: join(dir, "in"), bytes: sizeMb * 1024 * 1024, shardBytes: shardMb * 1024 * 1024 });
		await writeFile(marker, JSON.stringify(generated));
		return generated;
	}
}

await mkdir(dir, { recursive: true });
const loadBefore = loadavg()[0];
const generated = await corpus();
process.stderr.write(`corpus: ${generated.documents} documents, ${(generated.bytes / 1048576).toFixed(0)} MiB in ${generated.files.length} shards\n`);
const runs: Record<string, unknown>[] = [];
for (const mode of (values.modes as string).split(",")) {
	const loadAtStart = loadavg()[0];
	const line = execFileSync(process.execPath, ["--import", "tsx", join(here, "clean-once.ts"), JSON.stringify({ inputs: generated.files, outDir: join(dir, `out-${mode}`), mode, filterWorkers: Number(values["filter-workers"]) })], {
		encoding: "utf8",
		maxBuffer: 1 << 24,
		stdio: ["ignore", "pipe", "inherit"],
	});
	const result = JSON.parse(line.trim().split("\n").pop() as string) as { documents: number; seconds: number };
	const run = { ...result, loadAverage: [loadAtStart, loadavg()[0]], docsPerSecond: Math.round(result.documents / result.seconds), mbPerSecond: Number((generated.bytes / 1048576 / result.seconds).toFixed(2)) };
	runs.push(run);
	process.stderr.write(`${mode}: ${JSON.stringify(run)}\n`);
	await rm(join(dir, `out-${mode}`), { recursive: true, force: true });
}

// The peer on the same shards, in this run.
const loadAtPeer = loadavg()[0];
const peerLine = execFileSync("python3", [join(here, "peer_clean.py"), join(dir, "peer-out.jsonl"), ...generated.files], { encoding: "utf8", maxBuffer: 1 << 24 });
const peerResult = JSON.parse(peerLine.trim().split("\n").pop() as string) as { documents: number; kept: number; seconds: number; cpuSeconds: number };
const peer = { ...peerResult, docsPerCpuSecond: Math.round(peerResult.documents / peerResult.cpuSeconds), loadAverage: [loadAtPeer, loadavg()[0]] };
await rm(join(dir, "peer-out.jsonl"), { force: true });
process.stderr.write(`python peer: ${JSON.stringify(peer)}\n`);
const one = runs.find((run) => run.mode === "filters-1") as { docsPerCpuSecond?: number; seconds?: number } | undefined;
const two = runs.find((run) => run.mode === "filters") as { seconds?: number } | undefined;
const ratios = {
	filtersOneThreadPerCpuSecondOverPeer: one?.docsPerCpuSecond !== undefined ? one.docsPerCpuSecond / peer.docsPerCpuSecond : undefined,
	twoWorkersOverOneWall: one?.seconds !== undefined && two?.seconds !== undefined ? one.seconds / two.seconds : undefined,
};

// Augmentation: the 30 article-aligned UDHR en–th pairs, repeated to --pairs pairs (distinct ids), with the
// hand-checked UDHR lexicon (en-fr, en-de, en-es, en-th), both directions, rate 0.3.
const fixtures = join(here, "..", "test", "fixtures", "udhr-lexicon");
const dictionaries = ["en-fr.txt", "en-de.txt", "en-es.tsv", "en-th.txt"].map((name) => ({ path: join(fixtures, name), ...(dictionaryLanguages(name) as { sourceLang: string; targetLang: string }) }));
const lexicon = await MultilingualLexicon.fromDictionaries(dictionaries);
const base = udhrArticlePairs("eng", "tha");
const pairs = function* (): Generator<CorpusPair> {
	for (let i = 0; i < pairCount; i++) {
		const pair = base[i % base.length] as (typeof base)[number];
		yield { id: `p${i}`, source: pair.source, target: pair.target, sourceLang: "en", targetLang: "th", file: "udhr", line: i + 1 };
	}
};
let start = performance.now();
let augmented = 0;
for await (const _ of codeSwitchPairs(pairs(), lexicon, { seed: 1, rate: 0.3 })) augmented += 1;
const inMemorySeconds = (performance.now() - start) / 1000;
await writeFile(join(dir, "pairs.en"), `${[...pairs()].map((p) => p.source).join("\n")}\n`);
await writeFile(join(dir, "pairs.th"), `${[...pairs()].map((p) => p.target).join("\n")}\n`);
start = performance.now();
const endToEnd = await augmentParallel({
	read: { format: "moses", paths: [join(dir, "pairs.en"), join(dir, "pairs.th")], sourceLang: "en", targetLang: "th" },
	dictionaries,
	codeSwitch: { seed: 1, rate: 0.3 },
	out: join(dir, "augmented.jsonl"),
	layoutOut: join(dir, "layout.jsonl"),
	force: true,
	silent: true,
});
const endToEndSeconds = (performance.now() - start) / 1000;
const augmentation = {
	pairs: pairCount,
	augmentedPairs: augmented,
	codeSwitchPairsPerSecond: Math.round(pairCount / inMemorySeconds),
	endToEndPairsPerSecond: Math.round(pairCount / endToEndSeconds),
	endToEnd: { seconds: Number(endToEndSeconds.toFixed(2)), augmented: endToEnd.augmented, layoutRecords: endToEnd.layoutRecords },
};
process.stderr.write(`augmentation: ${JSON.stringify(augmentation)}\n`);

await writeJsonAtomic(join(here, "results", "corpus.json"), {
	date: new Date().toISOString(),
	machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverageAtStart: loadBefore },
	corpus: { sizeMb, documents: generated.documents, bytes: generated.bytes, shards: generated.files.length },
	clean: runs,
	pythonPeer: peer,
	ratios,
	augmentation,
	machineLoadAtEnd: loadavg(),
	command: `pnpm --filter @transllm/corpus bench --size-mb ${sizeMb} --shard-mb ${shardMb} --pairs ${pairCount}`,
});
