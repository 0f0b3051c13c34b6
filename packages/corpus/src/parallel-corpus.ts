import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
	Completions,
	ConfigError,
	RejectsWriter,
	Reservoir,
	SeededRng,
	Stats,
	assertSameSettings,
	createProgress,
	readJsonl,
	readRunSettings,
	writeJsonAtomic,
	writeJsonlStream,
} from "@transllm/core";
import type { BadRecordPolicy, StatsJson } from "@transllm/core";
import { interleaveTranslationPretraining } from "@transllm/tcot";
import type { CorpusPair } from "./document.js";
import type { Filter } from "./filter.js";
import { applyFilters } from "./filter.js";
import { FilterAudit } from "./filter-audit.js";
import type { LayoutOptions } from "./llamax-layout.js";
import { countLanguagePairs, layoutParallel } from "./llamax-layout.js";
import type { ReadDocumentsParams } from "./read-documents.js";
import { readDocuments } from "./read-documents.js";
import type { ReadPairsParams } from "./read-pairs.js";
import { readPairs } from "./read-pairs.js";

/** A pair as written to `pairs.jsonl` (readable again with `readPairs({ format: "jsonl" })`). */
export interface PairRecord {
	id: string;
	sourceLang: string;
	targetLang: string;
	source: string;
	target: string;
}

export interface BuildParallelDataParams {
	/** Where the pairs come from (format, files, languages); bad lines follow `onBadRecord`. */
	read: Omit<ReadPairsParams, "onBadRecord" | "rejects">;
	/** Output folder. */
	outDir: string;
	/** Pair filters in order (`PairLanguageFilter`, `LengthRatioFilter` …), each drop audited. */
	filters: readonly Filter<CorpusPair>[];
	/** Pairs to sample uniformly (seeded reservoir) from those that pass; all when omitted. TransLLM: 1M. */
	sample?: number;
	seed: string | number;
	/**
	 * English monolingual documents for TransLLM's translation pre-training (Sec. 2.2.2), with how many to sample
	 * (TransLLM Sec. 3.1: 1M Pile documents; all when omitted).
	 */
	english?: Omit<ReadDocumentsParams, "onBadRecord" | "rejects"> & { sample?: number };
	/** Characters per record of `translation-pretraining.jsonl`, cut at line breaks only (default 16,384). */
	pretrainChunkChars?: number;
	/** Also write LLaMAX's layout of the sampled pairs (`layout.jsonl`). */
	layout?: Omit<LayoutOptions, "seed">;
	onBadRecord?: BadRecordPolicy;
	resume?: boolean;
	force?: boolean;
	silent?: boolean;
}

export interface ParallelSummary {
	read: number;
	kept: number;
	sampled: number;
	dropped: Record<string, number>;
	english?: number;
	pretrainingRecords?: number;
	layoutRecords?: number;
	outputs: Record<string, string>;
	stats: StatsJson;
}

const MANAGED = ["filtered.jsonl", "pairs.jsonl", "english.jsonl", "translation-pretraining.jsonl", "layout.jsonl", "audit", "completions", "config.json", "summary.json"];

function configOf(params: BuildParallelDataParams): Record<string, unknown> {
	return {
		read: params.read,
		filters: params.filters.map((filter) => ({ name: filter.name, config: JSON.parse(JSON.stringify(filter)) as unknown })),
		sample: params.sample ?? null,
		seed: params.seed,
		english: params.english ?? null,
		pretrainChunkChars: params.pretrainChunkChars ?? null,
		layout: params.layout ?? null,
	};
}

async function prepare(params: BuildParallelDataParams): Promise<void> {
	await mkdir(params.outDir, { recursive: true });
	const present = (await readdir(params.outDir)).filter((name) => MANAGED.some((managed) => name === managed || name.startsWith(`${managed}.`)));
	const configPath = join(params.outDir, "config.json");
	const config = configOf(params);
	if (present.length > 0 && params.resume) {
		assertSameSettings(await readRunSettings(configPath), config, { output: params.outDir });
	} else if (present.length > 0) {
		if (!params.force) throw new ConfigError(`${params.outDir} holds an earlier run: continue it with --resume, or start over with --force`);
		for (const name of present) await rm(join(params.outDir, name), { recursive: true, force: true });
	}
	await writeJsonAtomic(configPath, config);
}

/** Indices 0…n−1 to keep: `k` of `n` uniformly (seeded reservoir over indices, so memory is O(k) numbers), sorted. */
function sampleIndices(n: number, k: number | undefined, rng: SeededRng): Set<number> | undefined {
	if (k === undefined || k >= n) return undefined;
	const reservoir = new Reservoir<number>(k, rng);
	for (let i = 0; i < n; i++) reservoir.offer(i);
	return new Set(reservoir.items);
}

async function* pick<T>(records: AsyncIterable<T>, keep: Set<number> | undefined): AsyncGenerator<T> {
	let index = 0;
	for await (const record of records) {
		if (keep === undefined || keep.has(index)) yield record;
		index += 1;
	}
}

async function* values<T>(path: string): AsyncGenerator<T> {
	for await (const { value } of readJsonl<T>(path)) yield value;
}

/** Joins the lines of the translation pre-training stream into records of at most `chunkChars` characters. */
async function* chunkLines(lines: AsyncIterable<string>, chunkChars: number): AsyncGenerator<{ text: string }> {
	let chunk: string[] = [];
	let size = 0;
	for await (const line of lines) {
		if (chunk.length > 0 && size + 1 + line.length > chunkChars) {
			yield { text: chunk.join("\n") };
			chunk = [];
			size = 0;
		}
		size += (chunk.length > 0 ? 1 : 0) + line.length;
		chunk.push(line);
	}
	if (chunk.length > 0) yield { text: chunk.join("\n") };
}

/**
 * The parallel data of TransLLM's translation pre-training (`../shared/papers/000_1ce36f3811662daf.txt`
 * Sec. 3.1: "We randomly sample 1 million parallel pairs and EN documents"; Sec. 2.2.2 for the text) and,
 * optionally, LLaMAX's layout of the same pairs:
 *
 * 1. read pairs → filters (language of both sides, length ratio …) → `filtered.jsonl`, drops in `audit/`;
 * 2. sample N of them (seeded reservoir over indices; the file is read again, in input order) → `pairs.jsonl`;
 * 3. sample N English documents the same way → `english.jsonl`;
 * 4. @transllm/tcot's `interleaveTranslationPretraining`: both instances of every pair inserted at random
 *    positions between the English documents, "\n"-separated → `translation-pretraining.jsonl`;
 * 5. `layout.jsonl` (LLaMAX Sec. 2.1) when asked.
 *
 * Every stage streams with known counts (constant memory besides the sampled indices), leaves a completion
 * marker, and resumes: a finished stage is skipped, an unfinished output continues after its last record.
 */
export async function buildParallelData(params: BuildParallelDataParams): Promise<ParallelSummary> {
	await prepare(params);
	const resume = params.resume ?? false;
	const completions = new Completions(params.outDir);
	const rng = new SeededRng(params.seed);
	const paths = {
		filtered: join(params.outDir, "filtered.jsonl"),
		pairs: join(params.outDir, "pairs.jsonl"),
		english: join(params.outDir, "english.jsonl"),
		pretraining: join(params.outDir, "translation-pretraining.jsonl"),
		layout: join(params.outDir, "layout.jsonl"),
	};
	const outputs: Record<string, string> = { filtered: paths.filtered, pairs: paths.pairs };

	let filterInfo = await completions.read<{ stats: StatsJson }>("filter");
	if (!filterInfo) {
		const stats = new Stats();
		const audit = new FilterAudit<CorpusPair>(join(params.outDir, "audit"), { resume });
		const rejects = params.onBadRecord === "skip" ? await RejectsWriter.open(paths.filtered, { resume }) : undefined;
		const progress = createProgress({ label: "parallel", unit: "pairs", silent: params.silent });
		const counted = (async function* () {
			for await (const pair of readPairs({ ...params.read, onBadRecord: params.onBadRecord, rejects })) {
				stats.count("read/pairs");
				progress.tick();
				yield pair;
			}
		})();
		const kept = (async function* () {
			for await (const pair of applyFilters(counted, params.filters, { stats, audit })) {
				stats.count("filtered/pairs");
				yield { id: pair.id, sourceLang: pair.sourceLang, targetLang: pair.targetLang, source: pair.source, target: pair.target } satisfies PairRecord;
			}
		})();
		try {
			await writeJsonlStream(paths.filtered, kept, { resume, overwrite: true });
			await audit.finish();
		} catch (error) {
			await audit.close();
			throw error;
		} finally {
			await rejects?.close();
			progress.done();
		}
		if (rejects && rejects.count > 0) stats.count("rejected/records", rejects.count);
		filterInfo = { stats: stats.toJSON() };
		await completions.markDone("filter", filterInfo);
	}
	const stats = Stats.fromJSON(filterInfo.stats);
	const kept = stats.counters["filtered/pairs"] ?? 0;

	const keepPairs = sampleIndices(kept, params.sample, rng.fork("pairs"));
	const sampled = keepPairs?.size ?? kept;
	if (!(await completions.isDone("sample"))) {
		await writeJsonlStream(paths.pairs, pick(values<PairRecord>(paths.filtered), keepPairs), { resume, overwrite: true });
		await completions.markDone("sample", { sampled });
	}

	let englishCount: number | undefined;
	let pretrainingRecords: number | undefined;
	if (params.english) {
		const { sample, ...read } = params.english;
		const done = await completions.read<{ english: number }>("english");
		if (done) englishCount = done.english;
		else {
			let total = 0;
			for await (const _ of readDocuments(read)) total += 1;
			const keepEnglish = sampleIndices(total, sample, rng.fork("english"));
			const documents = (async function* () {
				for await (const document of pick(readDocuments(read), keepEnglish)) yield { id: document.id, text: document.text };
			})();
			englishCount = await writeJsonlStream(paths.english, documents, { resume, overwrite: true });
			await completions.markDone("english", { english: englishCount });
		}
		outputs.english = paths.english;
		const pretraining = await completions.read<{ records: number }>("pretraining");
		if (pretraining) pretrainingRecords = pretraining.records;
		else {
			const pairs = (async function* () {
				for await (const pair of values<PairRecord>(paths.pairs)) yield pair;
			})();
			const english = (async function* () {
				for await (const document of values<{ text: string }>(paths.english)) yield document.text;
			})();
			const lines = interleaveTranslationPretraining(pairs, english, { seed: `${String(params.seed)}/pretraining`, pairCount: sampled, englishLineCount: englishCount });
			pretrainingRecords = await writeJsonlStream(paths.pretraining, chunkLines(lines, params.pretrainChunkChars ?? 16_384), { resume, overwrite: true });
			await completions.markDone("pretraining", { records: pretrainingRecords });
		}
		outputs.pretraining = paths.pretraining;
	}

	let layoutRecords: number | undefined;
	if (params.layout) {
		const done = await completions.read<{ records: number }>("layout");
		if (done) layoutRecords = done.records;
		else {
			// LLaMAX counts the pairs a language pair contributes to training: here, the sampled ones.
			const sampledCounts = await countLanguagePairs(values<PairRecord>(paths.pairs));
			const pairs = (async function* () {
				for await (const pair of values<PairRecord>(paths.pairs)) yield { ...pair, file: paths.pairs, line: 0 };
			})();
			layoutRecords = await writeJsonlStream(paths.layout, layoutParallel(pairs, sampledCounts, { ...params.layout, seed: `${String(params.seed)}/layout` }), { resume, overwrite: true });
			await completions.markDone("layout", { records: layoutRecords });
		}
		outputs.layout = paths.layout;
	}

	const dropped: Record<string, number> = {};
	for (const [key, n] of Object.entries(stats.counters)) if (key.includes("/dropped_")) dropped[key] = n;
	const summary: ParallelSummary = {
		read: stats.counters["read/pairs"] ?? 0,
		kept,
		sampled,
		dropped,
		...(englishCount !== undefined ? { english: englishCount } : {}),
		...(pretrainingRecords !== undefined ? { pretrainingRecords } : {}),
		...(layoutRecords !== undefined ? { layoutRecords } : {}),
		outputs,
		stats: stats.toJSON(),
	};
	await writeJsonAtomic(join(params.outDir, "summary.json"), summary);
	return summary;
}
