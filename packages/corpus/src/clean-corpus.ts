import { mkdir, readdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import {
	Completions,
	ConfigError,
	JsonlWriter,
	RejectsWriter,
	Stats,
	createProgress,
	readJsonFile,
	writeJsonAtomic,
} from "@transllm/core";
import type { BadRecordPolicy, StatsJson } from "@transllm/core";
import type { CorpusDocument } from "./document.js";
import type { Filter } from "./filter.js";
import { applyFilters } from "./filter.js";
import { FilterAudit } from "./filter-audit.js";
import type { DocumentFormat } from "./read-documents.js";
import { readDocuments } from "./read-documents.js";
import type { TextDocumentMode } from "./read-text-documents.js";

/** One record of a cleaned shard: the source record's other fields, then `id` and `text`. */
export interface CleanRecord {
	id: string;
	text: string;
	[field: string]: unknown;
}

/** The near-duplicate removal step of `cleanCorpus`: given the filtered shards, returns the deduplicated files. */
export type DedupStage = (params: {
	inputs: readonly string[];
	outDir: string;
	resume: boolean;
	silent: boolean;
}) => Promise<{ outputs: string[]; stats: Record<string, number> }>;

export interface CleanCorpusParams {
	/** Input files (JSONL/JSONL.gz, text, Parquet); each becomes one output shard. */
	inputs: readonly string[];
	/** Output folder: `filtered/`, `audit/`, `dedup/`, `summary.json`. */
	outDir: string;
	/** Filters in the order they run (cheap ones first pays: a dropped document skips the rest). */
	filters: readonly Filter<CorpusDocument>[];
	/** Near-duplicate removal after the filters (e.g. `minhashDedupStage(...)`); omitted: no dedup. */
	dedup?: DedupStage;
	format?: DocumentFormat | "auto";
	textField?: string;
	idField?: string;
	metadataFields?: readonly string[];
	textMode?: TextDocumentMode;
	/** Unreadable records: `error` (default) stops naming file:line; `skip` keeps them in `<shard>.rejects.jsonl`. */
	onBadRecord?: BadRecordPolicy;
	/** Continue an interrupted run in `outDir` (finished shards are skipped, a partial one continues). */
	resume?: boolean;
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
		textMode: params.textMode ?? "line",
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
		const previous = await readJsonFile<Record<string, unknown>>(configPath, "clean config").catch(() => undefined);
		if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(config)) {
			throw new ConfigError(`${params.outDir} holds a run with another configuration (${configPath}); resume it with the same inputs and filters, or start over with --force`);
		}
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
	const completions = new Completions(params.outDir);
	const total = new Stats();
	const progress = createProgress({ label: "clean", unit: "docs", silent: params.silent });
	const shards: string[] = [];
	const audits: string[] = [];
	let pending = 0;
	for (const [index, input] of params.inputs.entries()) {
		const shard = shardName(index, input);
		const outPath = join(params.outDir, "filtered", `${shard}.jsonl`);
		shards.push(outPath);
		const done = await completions.read<{ stats: StatsJson; audits: string[] }>(`filter-${shard}`);
		if (!done && rank !== undefined && index % worldSize !== rank) {
			pending += 1;
			continue;
		}
		if (done) {
			total.merge(done.stats);
			audits.push(...done.audits);
			progress.tick(done.stats.counters["read/documents"] ?? 0);
			continue;
		}
		const stats = new Stats();
		const writer = await JsonlWriter.open<CleanRecord>(outPath, { resume: params.resume, overwrite: true });
		const audit = new FilterAudit<CorpusDocument>(join(params.outDir, "audit", shard), { resume: params.resume });
		const rejects = params.onBadRecord === "skip" ? await RejectsWriter.open(outPath, { resume: params.resume }) : undefined;
		let skip = writer.resumedCount;
		try {
			const documents = readDocuments({
				paths: [input],
				format: params.format,
				textField: params.textField,
				idField: params.idField,
				metadataFields: params.metadataFields,
				textMode: params.textMode,
				onBadRecord: params.onBadRecord,
				rejects,
			});
			const counted = (async function* () {
				for await (const document of documents) {
					stats.count("read/documents");
					progress.tick();
					yield document;
				}
			})();
			for await (const document of applyFilters(counted, params.filters, { stats, audit })) {
				stats.count("filtered/documents");
				if (skip > 0) {
					skip -= 1;
					continue;
				}
				if (!writer.alreadyComplete) await writer.write({ ...document.metadata, id: document.id, text: document.text });
			}
			await writer.finish();
			await audit.finish();
		} catch (error) {
			await writer.close();
			await audit.close();
			throw error;
		} finally {
			await rejects?.close();
		}
		if (rejects && rejects.count > 0) stats.count("rejected/records", rejects.count);
		const shardAudits = params.filters
			.filter((filter) => Object.keys(stats.counters).some((key) => key.startsWith(`${filter.name}/dropped_`)))
			.map((filter) => audit.pathOf(filter.name));
		audits.push(...shardAudits);
		await completions.markDone(`filter-${shard}`, { stats: stats.toJSON(), audits: shardAudits });
		total.merge(stats);
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
