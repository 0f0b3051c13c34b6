import { mkdir, readdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { Completions, ConfigError, Stats, assertSameSettings, createProgress, readRunSettings, writeJsonAtomic } from "@transllm/core";
import type { StatsJson } from "@transllm/core";
import type { CorpusDocument } from "./document.js";
import type { Filter } from "./filter.js";
import { filterShard } from "./filter-shard.js";
import type { ShardJob, ShardReadOptions, ShardResult } from "./filter-shard.js";
import { filterSpecOf } from "./filter-spec.js";
import { filterShardsInWorkers } from "./filter-workers.js";

export type { CleanRecord } from "./filter-shard.js";

/** The near-duplicate removal step of `cleanCorpus`: given the filtered shards, returns the deduplicated files. */
export type DedupStage = (params: {
	inputs: readonly string[];
	outDir: string;
	resume: boolean;
	silent: boolean;
}) => Promise<{ outputs: string[]; stats: Record<string, number> }>;

export interface CleanCorpusParams extends ShardReadOptions {
	/** Input files (JSONL/JSONL.gz, text, Parquet); each becomes one output shard. */
	inputs: readonly string[];
	/** Output folder: `filtered/`, `audit/`, `dedup/`, `summary.json`. */
	outDir: string;
	/** Filters in the order they run (cheap ones first pays: a dropped document skips the rest). */
	filters: readonly Filter<CorpusDocument>[];
	/** Near-duplicate removal after the filters (e.g. `minhashDedupStage(...)`); omitted: no dedup. */
	dedup?: DedupStage;
	/** Start over in an `outDir` that holds an earlier run. */
	force?: boolean;
	/** No progress lines. */
	silent?: boolean;
	/**
	 * Spread the filter stage over processes or machines (datatrove's ranks): rank r of W filters the inputs
	 * r, r+W, r+2W …, and stops there. A final run without `rank` (with `resume`) finds every shard done, then
	 * deduplicates and writes the summary.
	 */
	rank?: number;
	worldSize?: number;
	/**
	 * Worker threads filtering input files side by side (default 1: this thread). Each input is filtered whole
	 * by one thread, so the output, audit and summary files are the same for any number; needs the built-in
	 * filters (custom ones cannot be sent to a thread) and pays off with at least as many inputs as workers.
	 */
	filterWorkers?: number;
}

export interface CleanSummary {
	/**
	 * Shards not filtered yet (another rank's, with `rank`): dedup, `outputs` and `summary.json` wait for them, and
	 * the counts cover the finished shards only.
	 */
	pending: number;
	inputs: number;
	/** Documents read from all inputs. */
	read: number;
	/** Documents left after the filters. */
	filtered: number;
	/** Documents in the final output (after dedup when it runs). */
	kept: number;
	/** Dropped documents per `<filter>/dropped_<reason>`. */
	dropped: Record<string, number>;
	dedup?: Record<string, number>;
	/** The final output files. */
	outputs: string[];
	/** Audit files (one per filter and shard that dropped anything). */
	audits: string[];
	stats: StatsJson;
}

const MANAGED = ["filtered", "audit", "completions", "dedup", "config.json", "summary.json"];

/** Shard name of the i-th input: its index (inputs may share a basename) and its name without extensions. */
function shardName(index: number, path: string): string {
	const stem = basename(path).replace(/(\.(jsonl|ndjson|json|txt|parquet|gz))+$/i, "").replace(/[^A-Za-z0-9._-]/g, "_");
	return `${String(index).padStart(5, "0")}-${stem}`;
}

/** A fingerprint of what decides the output, so that `resume` refuses a changed configuration. */
function configOf(params: CleanCorpusParams): Record<string, unknown> {
	return {
		inputs: params.inputs,
		filters: params.filters.map((filter) => ({ name: filter.name, config: JSON.parse(JSON.stringify(filter)) as unknown })),
		dedup: params.dedup !== undefined,
		format: params.format ?? "auto",
		textField: params.textField ?? "text",
		idField: params.idField ?? "id",
		metadataFields: params.metadataFields ?? [],
		textMode: params.textMode ?? "line",
		specialTokens: params.specialTokens ?? "error",
	};
}

async function prepareOutDir(params: CleanCorpusParams, ranked: boolean): Promise<void> {
	await mkdir(params.outDir, { recursive: true });
	const configPath = join(params.outDir, "config.json");
	const present = (await readdir(params.outDir)).filter((name) => MANAGED.includes(name));
	const config = configOf(params);
	if (ranked && params.force) throw new ConfigError("--force would delete the work of other ranks: empty the output folder before starting the ranks");
	// Ranks start side by side in one folder: each may find the others' files there.
	if (present.length > 0 && (params.resume || ranked)) {
		assertSameSettings(await readRunSettings(configPath), config, { output: params.outDir });
	} else if (present.length > 0) {
		if (!params.force) throw new ConfigError(`${params.outDir} holds an earlier run: continue it with --resume, or start over with --force`);
		for (const name of present) await rm(join(params.outDir, name), { recursive: true, force: true });
	}
	await writeJsonAtomic(configPath, config);
}

/**
 * The clean pipeline of TransLLM's target-language pre-training data (`../shared/papers/000_1ce36f3811662daf.txt`
 * Sec. 3.1: sensitive-word filtering, then MinHashLSH deduplication): read → filters → dedup → write.
 *
 * Streams every input file through the filters into its own shard (`filtered/<shard>.jsonl`), with every drop in
 * `audit/<shard>/<filter>.jsonl`; a finished shard leaves a completion marker holding its counts. A killed run
 * restarted with `resume` skips finished shards and continues the unfinished one after its last complete record
 * (filters are deterministic, so the shard is re-filtered from its start and only the missing tail is written).
 * Dedup then runs over the shards with its own resume.
 */
export async function cleanCorpus(params: CleanCorpusParams): Promise<CleanSummary> {
	if (params.inputs.length === 0) throw new ConfigError("clean needs at least one input file");
	const worldSize = params.worldSize ?? 1;
	const rank = params.rank;
	if (!Number.isInteger(worldSize) || worldSize < 1) throw new ConfigError(`world size must be an integer ≥ 1, got ${worldSize}`);
	if (rank !== undefined && !(Number.isInteger(rank) && rank >= 0 && rank < worldSize)) throw new ConfigError(`rank must be an integer in [0, ${worldSize}), got ${rank}`);
	await prepareOutDir(params, rank !== undefined);
	const filterWorkers = params.filterWorkers ?? 1;
	if (!Number.isInteger(filterWorkers) || filterWorkers < 1) throw new ConfigError(`filter workers must be an integer ≥ 1, got ${filterWorkers}`);
	const specs = filterWorkers > 1 ? params.filters.map((filter) => filterSpecOf(filter)) : [];
	const completions = new Completions(params.outDir);
	const total = new Stats();
	const progress = createProgress({ label: "clean", unit: "docs", silent: params.silent });
	const shards: string[] = [];
	const audits: string[] = [];
	// Per input, in input order: what its completion marker holds (merged in this order whatever finishes first).
	const results: (ShardResult | undefined)[] = [];
	const jobs: ShardJob[] = [];
	let pending = 0;
	for (const [index, input] of params.inputs.entries()) {
		const shard = shardName(index, input);
		const outPath = join(params.outDir, "filtered", `${shard}.jsonl`);
		shards.push(outPath);
		const done = await completions.read<ShardResult>(`filter-${shard}`);
		results.push(done);
		if (done) progress.tick(done.stats.counters["read/documents"] ?? 0);
		else if (rank !== undefined && index % worldSize !== rank) pending += 1;
		else jobs.push({ index, input, outPath, auditDir: join(params.outDir, "audit", shard), progress: !params.silent });
	}
	const reading: ShardReadOptions = {
		format: params.format,
		textField: params.textField,
		idField: params.idField,
		metadataFields: params.metadataFields,
		textMode: params.textMode,
		onBadRecord: params.onBadRecord,
		resume: params.resume,
	};
	const finished = async (job: ShardJob, result: ShardResult): Promise<void> => {
		await completions.markDone(`filter-${shardName(job.index, job.input)}`, result);
		results[job.index] = result;
	};
	if (filterWorkers > 1 && jobs.length > 1) {
		await filterShardsInWorkers(jobs, { specs, read: reading }, filterWorkers, (n) => progress.tick(n), finished);
	} else {
		for (const job of jobs) await finished(job, await filterShard(job, reading, params.filters, (n) => progress.tick(n)));
	}
	for (const result of results) {
		if (!result) continue;
		total.merge(result.stats);
		audits.push(...result.audits);
	}
	progress.done();

	let outputs = shards;
	let dedup: Record<string, number> | undefined;
	if (params.dedup && pending === 0) {
		const result = await params.dedup({ inputs: shards, outDir: join(params.outDir, "dedup"), resume: params.resume ?? false, silent: params.silent ?? false });
		outputs = result.outputs;
		dedup = result.stats;
	}
	const dropped: Record<string, number> = {};
	for (const [key, n] of Object.entries(total.counters)) if (key.includes("/dropped_")) dropped[key] = n;
	const read = total.counters["read/documents"] ?? 0;
	const filtered = total.counters["filtered/documents"] ?? 0;
	const summary: CleanSummary = {
		pending,
		inputs: params.inputs.length,
		read,
		filtered,
		kept: dedup?.kept ?? filtered,
		dropped,
		...(dedup ? { dedup } : {}),
		outputs: pending === 0 ? outputs : [],
		audits,
		stats: total.toJSON(),
	};
	if (pending === 0) await writeJsonAtomic(join(params.outDir, "summary.json"), summary);
	return summary;
}
