import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Completions, ConfigError, Stats, assertSameSettings, readJsonFile, rejectsPathFor, writeJsonAtomic } from "@transllm/core";
import { defaultWorkers, layout, resolveConfig } from "./dedup-config.js";
import type { DedupConfig, DedupOptions, DedupStage } from "./dedup-config.js";
import { listSources } from "./doc-sources.js";
import type { DocSource } from "./doc-sources.js";
import { bucketsMarker, runBucketsStage } from "./stage-buckets.js";
import type { BucketsDone } from "./stage-buckets.js";
import { CLUSTERS_MARKER, runClustersStage } from "./stage-clusters.js";
import type { ClustersDone } from "./stage-clusters.js";
import { filterMarker, runFilterStage } from "./stage-filter.js";
import type { FilterDone } from "./stage-filter.js";
import { runSignaturesStage, signaturesMarker } from "./stage-signatures.js";
import type { SignaturesDone } from "./stage-signatures.js";

/** The numbers of a finished run (also written to `<outDir>/stats.json`). */
export interface DedupStats {
	documents: number;
	kept: number;
	removed: number;
	/** Removed / documents. */
	duplicateFraction: number;
	/** Documents shorter than one shingle: kept, never clustered. */
	shortDocuments: number;
	/** Documents with no word after normalisation: kept. */
	emptyDocuments: number;
	/** Bad records (skip policy), in kept/<rank>.jsonl.rejects.jsonl. */
	rejected: number;
	candidatePairs: number;
	verifications: number;
	rejectedCandidates: number;
	edges: number;
	clusters: number;
	largestCluster: number;
	oversizedClusters: number;
	oversizedBuckets: number;
	/** Seconds per stage in this process (0 for a stage that was already complete). */
	seconds: Record<DedupStage, number>;
	/** Signature-stage counters and metrics (shingles per document, …), merged over ranks. */
	signatureStats: ReturnType<Stats["toJSON"]>;
}

export interface DedupResult {
	config: DedupConfig;
	/** Present when every stage has finished. */
	stats?: DedupStats;
	outputs: { kept: string[]; removed: string[]; stats: string; rejects: string[] };
}

const STAGE_DIRECTORIES = ["signatures", "docs", "shingles", "bands", "candidates", "clusters", "kept", "removed", "completions"];

async function prepareOutDir(options: DedupOptions, wanted: DedupConfig): Promise<DedupConfig> {
	const path = layout.config(options.outDir);
	const existing = await readJsonFile<DedupConfig>(path).catch(() => undefined);
	if (existing && options.overwrite && !options.resume) {
		for (const name of [...STAGE_DIRECTORIES, "config.json", "stats.json"]) await rm(join(options.outDir, name), { recursive: true, force: true });
	} else if (existing) {
		// Later stages may run without knowing how many signature ranks there were: take the stored number.
		const config = options.worldSize === undefined || (options.stage !== "signatures" && options.stage !== "all" && options.stage !== undefined) ? { ...wanted, signatureWorldSize: existing.signatureWorldSize } : wanted;
		assertSameSettings(existing, config, { output: options.outDir });
		if ((options.stage ?? "all") === "all" && !options.resume) {
			throw new ConfigError(`${options.outDir} already holds a run: pass --resume to continue it or --force to start over`);
		}
		return existing;
	}
	await writeJsonAtomic(path, wanted);
	return wanted;
}

async function ranksDone<T>(completions: Completions, names: string[]): Promise<(T | undefined)[]> {
	return Promise.all(names.map((name) => completions.read<T>(name)));
}

/**
 * Near-duplicate removal with MinHash LSH "following GPT-3", as TransLLM deduplicates its mC4 Thai and
 * Arabic data (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 3.1), in four file-exchanging stages
 * (signatures → buckets → clusters → filter). Each unit of work is resumable through completion markers;
 * `rank`/`worldSize` with `stage` spread a stage over machines. Returns the run's statistics once all stages
 * are done.
 */
export async function runDedup(options: DedupOptions): Promise<DedupResult> {
	const stage = options.stage ?? "all";
	if (stage === "all" && options.rank !== undefined) throw new ConfigError("--rank needs --stage (a single machine runs every rank of --stage all itself)");
	const wanted = resolveConfig(options);
	const config = await prepareOutDir(options, wanted);
	const outDir = options.outDir;
	const completions = new Completions(outDir);
	const workers = options.workers ?? defaultWorkers();
	const memoryLimitMb = options.memoryLimitMb ?? 1024;
	const onBadRecord = options.onBadRecord ?? "error";
	const progress = options.progress ?? true;
	const seconds: Record<DedupStage, number> = { signatures: 0, buckets: 0, clusters: 0, filter: 0 };
	const timed = async <T>(name: DedupStage, work: () => Promise<T>): Promise<T> => {
		const start = performance.now();
		const result = await work();
		seconds[name] += (performance.now() - start) / 1000;
		return result;
	};
	const taskWorld = options.worldSize ?? 1;
	const mine = (count: number): number[] => {
		const all = Array.from({ length: count }, (_, i) => i);
		return options.rank === undefined ? all : all.filter((i) => i % taskWorld === options.rank);
	};
	if (options.rank !== undefined && (!Number.isInteger(options.rank) || options.rank < 0 || options.rank >= taskWorld)) {
		throw new ConfigError(`--rank must be an integer in [0, ${taskWorld}), got ${options.rank}`);
	}

	if (stage === "all" || stage === "signatures") {
		const ranks = options.rank === undefined ? mine(config.signatureWorldSize) : [options.rank];
		for (const rank of ranks) {
			await timed("signatures", () =>
				runSignaturesStage({ config, outDir, rank, workers, memoryLimitMb, onBadRecord, batchSize: options.batchSize ?? 256, progress }),
			);
		}
	}
	let sources: DocSource[] | undefined;
	const getSources = async (): Promise<DocSource[]> => (sources ??= await listSources(outDir, config));
	if (stage === "all" || stage === "buckets") {
		for (const band of mine(config.bands)) {
			const all = await getSources();
			await timed("buckets", () => runBucketsStage({ config, outDir, band, sources: all, memoryLimitMb }));
		}
	}
	if (stage === "all" || stage === "clusters") {
		const missing = (await ranksDone<BucketsDone>(completions, Array.from({ length: config.bands }, (_, b) => bucketsMarker(b)))).flatMap((done, band) => (done ? [] : [band]));
		if (missing.length > 0) throw new ConfigError(`the buckets stage has not finished for band(s) ${missing.join(", ")}; run them first (--stage buckets)`);
		const all = await getSources();
		await timed("clusters", () => runClustersStage({ config, outDir, sources: all }));
	}
	if (stage === "all" || stage === "filter") {
		if (!(await completions.isDone(CLUSTERS_MARKER))) throw new ConfigError("the clusters stage has not finished; run it first (--stage clusters)");
		const own = (await getSources()).filter((source) => !source.reference);
		const ranks = options.rank === undefined ? mine(config.signatureWorldSize) : [options.rank];
		for (const rank of ranks) {
			const source = own[rank];
			if (!source) throw new ConfigError(`--rank ${rank}: the signatures stage has ${own.length} ranks`);
			await timed("filter", () => runFilterStage({ config, outDir, source, onBadRecord, progress }));
		}
	}
	const ranks = Array.from({ length: config.signatureWorldSize }, (_, r) => r);
	const outputs = {
		kept: ranks.map((r) => layout.kept(outDir, r)),
		removed: ranks.map((r) => layout.manifest(outDir, r)),
		rejects: ranks.map((r) => rejectsPathFor(layout.kept(outDir, r))),
		stats: layout.stats(outDir),
	};
	const filters = await ranksDone<FilterDone>(completions, ranks.map(filterMarker));
	if (filters.some((done) => done === undefined)) return { config, outputs };
	const signatures = (await ranksDone<SignaturesDone>(completions, ranks.map(signaturesMarker))) as SignaturesDone[];
	const buckets = (await ranksDone<BucketsDone>(completions, Array.from({ length: config.bands }, (_, b) => bucketsMarker(b)))) as BucketsDone[];
	const clusters = (await completions.read<ClustersDone>(CLUSTERS_MARKER)) as ClustersDone;
	const signatureStats = new Stats();
	for (const done of signatures) signatureStats.merge(done.stats);
	const counter = (name: string): number => signatureStats.counters[name] ?? 0;
	const documents = counter("documents");
	const removed = (filters as FilterDone[]).reduce((sum, done) => sum + done.removed, 0);
	const stats: DedupStats = {
		documents,
		kept: (filters as FilterDone[]).reduce((sum, done) => sum + done.kept, 0),
		removed,
		duplicateFraction: documents > 0 ? removed / documents : 0,
		shortDocuments: counter("short_documents"),
		emptyDocuments: counter("empty_documents"),
		rejected: counter("rejected"),
		candidatePairs: clusters.candidatePairs,
		verifications: clusters.verifications,
		rejectedCandidates: clusters.rejectedCandidates,
		edges: clusters.edges,
		clusters: clusters.clusters,
		largestCluster: clusters.largestCluster,
		oversizedClusters: clusters.oversizedClusters,
		oversizedBuckets: buckets.reduce((sum, done) => sum + done.oversizedBuckets, 0),
		seconds,
		signatureStats: signatureStats.toJSON(),
	};
	await writeJsonAtomic(layout.stats(outDir), { config, stats });
	return { config, stats, outputs };
}
