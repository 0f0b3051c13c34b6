import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ConfigError, getLanguage } from "@transllm/core";
import type { BadRecordPolicy, SpecialTokenPolicy } from "@transllm/core";
import type { HasherConfig } from "./document-hasher.js";
import { planBands } from "./lsh-plan.js";
import type { SignatureScheme } from "./minhash-signature.js";
import type { ShingleUnit } from "./shingle-hashes.js";

/** Which document of a cluster survives: the first in input order, the longest, or the highest numeric field. */
export type KeepPolicy = "first" | "longest" | { field: string };

/** The stages of a run: each exchanges files with the next and is resumable through completion markers. */
export type DedupStage = "signatures" | "buckets" | "clusters" | "filter";

export interface DedupOptions {
	/** Input `.jsonl` / `.jsonl.gz` files. Rank r of W signs and filters files[r::W]. */
	inputs: readonly string[];
	/** Output directory (kept/, removed/, stats.json and the intermediate stage files). */
	outDir: string;
	/** Field holding the text (default `text`). */
	textField?: string;
	/** Field holding a unique id (default: none; documents are named `file:line`). Duplicate ids are bad records. */
	idField?: string;
	/** Jaccard threshold (default 0.8). */
	threshold?: number;
	/** Signature length (default 128). */
	numPerm?: number;
	/** Shingle length (default 5). */
	ngram?: number;
	/** `word` (default) or `char` shingles. */
	unit?: ShingleUnit;
	/** Corpus language; scripts without spaces are word-segmented (mixed documents are detected either way). */
	lang?: string;
	/** `oph` (default) or `kperm`. */
	scheme?: SignatureScheme;
	/** Bands and rows; default: planned from threshold, numPerm and falseNegativeWeight. */
	bands?: number;
	rows?: number;
	/** Weight of false negatives when planning bands (default 0.98; see planBands). */
	falseNegativeWeight?: number;
	/** Candidate verification: `exact` Jaccard of the shingle sets (default) or `signature` (estimated). */
	verify?: "exact" | "signature";
	/** Which duplicate survives (default `first`). */
	keep?: KeepPolicy;
	/** Clusters larger than this are flagged in clusters/oversized.jsonl and the manifest (default 1000). */
	maxClusterSize?: number;
	/** Band buckets with more documents than this are compared as a star and a chain, not all pairs (default 50). */
	maxBucketSize?: number;
	/** Seed of shingle hashing, permutations and band keys (default 1). */
	seed?: number;
	/** Bad records: `error` (default) stops naming file:line; `skip` writes them to kept/<rank>.jsonl.rejects.jsonl. */
	onBadRecord?: BadRecordPolicy;
	/** Documents whose text exceeds this many UTF-8 bytes are bad records (default 16 MiB). */
	maxDocumentBytes?: number;
	/**
	 * Texts holding `</s>`, `<EN>`, `<RESPONSE>`, a language-ID or chat control token (core's one policy): `error`
	 * (default) makes them bad records, `escape` escapes the tokens in the kept text, `allow` keeps them.
	 */
	specialTokens?: SpecialTokenPolicy;
	/** Continue an interrupted run (finished units are skipped). */
	resume?: boolean;
	/** Replace the results of a finished run in outDir. */
	overwrite?: boolean;
	/** Hashing threads (default: available cores; 0 hashes in the calling thread). */
	workers?: number;
	/** Memory for band tables before they are spilled as sorted runs (default 1024 MiB). */
	memoryLimitMb?: number;
	/** Run one stage only (default: all four, in order). */
	stage?: DedupStage | "all";
	/** This task's rank and the number of tasks of the stage (spread a stage across machines). */
	rank?: number;
	worldSize?: number;
	/** Output directories of earlier runs: their documents are matched against and always win (incremental dedup). */
	against?: readonly string[];
	/** Documents per hashing batch (default 256). */
	batchSize?: number;
	/** Progress lines on stderr (default true). */
	progress?: boolean;
}

/** The parameters of a run that decide its results, stored in `config.json` and checked on resume. */
export interface DedupConfig extends Omit<HasherConfig, "keepShingles"> {
	version: 1;
	threshold: number;
	verify: "exact" | "signature";
	textField: string;
	idField?: string;
	keep: KeepPolicy;
	maxClusterSize: number;
	maxBucketSize: number;
	maxDocumentBytes: number;
	specialTokens: SpecialTokenPolicy;
	inputs: string[];
	/** Output directories of earlier runs matched against (their documents come first and always win). */
	against: string[];
	/** Ranks of the signatures (and filter) stage; fixed by the first signatures task. */
	signatureWorldSize: number;
}

export function resolveConfig(options: DedupOptions): DedupConfig {
	const threshold = options.threshold ?? 0.8;
	const numPerm = options.numPerm ?? 128;
	if (!(threshold > 0 && threshold < 1)) throw new ConfigError(`threshold must be in (0, 1), got ${threshold}`);
	if (options.lang !== undefined) getLanguage(options.lang);
	let bands = options.bands;
	let rows = options.rows;
	if (bands === undefined || rows === undefined) {
		const plan = planBands({ threshold, numPerm, falseNegativeWeight: options.falseNegativeWeight ?? 0.98 });
		bands ??= plan.bands;
		rows ??= Math.floor(numPerm / bands);
	}
	if (!Number.isInteger(bands) || !Number.isInteger(rows) || bands < 1 || rows < 1 || bands * rows > numPerm) {
		throw new ConfigError(`bands × rows must be positive integers with bands × rows ≤ numPerm (${bands} × ${rows}, numPerm ${numPerm})`);
	}
	if (options.inputs.length === 0) throw new ConfigError("no input files");
	const keep = options.keep ?? "first";
	if (typeof keep === "string" && keep !== "first" && keep !== "longest") throw new ConfigError(`keep must be first, longest or a field, got ${String(keep)}`);
	return {
		version: 1,
		threshold,
		numPerm,
		ngram: options.ngram ?? 5,
		unit: options.unit ?? "auto",
		scheme: options.scheme ?? "oph",
		seed: options.seed ?? 1,
		lang: options.lang,
		bands,
		rows,
		verify: options.verify ?? "exact",
		textField: options.textField ?? "text",
		idField: options.idField,
		keep,
		maxClusterSize: options.maxClusterSize ?? 1000,
		maxBucketSize: options.maxBucketSize ?? 50,
		maxDocumentBytes: options.maxDocumentBytes ?? 16 * 1024 * 1024,
		specialTokens: options.specialTokens ?? "error",
		inputs: [...options.inputs],
		against: [...(options.against ?? [])],
		signatureWorldSize: options.worldSize ?? 1,
	};
}

/** The fields two runs must share for one to be matched against the other (`against`). */
export function signatureCompatible(a: DedupConfig, b: DedupConfig): boolean {
	return a.numPerm === b.numPerm && a.ngram === b.ngram && a.unit === b.unit && a.scheme === b.scheme && a.seed === b.seed && a.bands === b.bands && a.rows === b.rows;
}

export function hasherConfig(config: DedupConfig): HasherConfig {
	return {
		numPerm: config.numPerm,
		ngram: config.ngram,
		unit: config.unit,
		scheme: config.scheme,
		seed: config.seed,
		lang: config.lang,
		bands: config.bands,
		rows: config.rows,
		keepShingles: config.verify === "exact",
	};
}

export function defaultWorkers(): number {
	return availableParallelism();
}

const pad = (n: number): string => String(n).padStart(5, "0");

/** Where every stage file of an output directory lives. */
export const layout = {
	config: (dir: string) => join(dir, "config.json"),
	stats: (dir: string) => join(dir, "stats.json"),
	signatures: (dir: string, rank: number) => join(dir, "signatures", `${pad(rank)}.sig`),
	docs: (dir: string, rank: number) => join(dir, "docs", `${pad(rank)}.bin`),
	ids: (dir: string, rank: number) => join(dir, "docs", `${pad(rank)}.ids.jsonl`),
	shingles: (dir: string, rank: number) => join(dir, "shingles", `${pad(rank)}.bin`),
	shingleIndex: (dir: string, rank: number) => join(dir, "shingles", `${pad(rank)}.idx`),
	bandDir: (dir: string, band: number) => join(dir, "bands", `b${String(band).padStart(3, "0")}`),
	run: (dir: string, band: number, rank: number, run: number) => join(layout.bandDir(dir, band), `${pad(rank)}-${pad(run)}.bin`),
	candidates: (dir: string, band: number) => join(dir, "candidates", `b${String(band).padStart(3, "0")}.bin`),
	edges: (dir: string) => join(dir, "clusters", "edges.bin"),
	removed: (dir: string) => join(dir, "clusters", "removed.bin"),
	keepers: (dir: string) => join(dir, "clusters", "keepers.jsonl"),
	oversized: (dir: string) => join(dir, "clusters", "oversized.jsonl"),
	kept: (dir: string, rank: number) => join(dir, "kept", `${pad(rank)}.jsonl`),
	manifest: (dir: string, rank: number) => join(dir, "removed", `${pad(rank)}.jsonl`),
};

/** Per-document record of docs/<rank>.bin: float64 keep priority, uint32 shingles, uint32 flags. */
export const DOC_RECORD_BYTES = 16;
export const DOC_FLAG_SHORT = 1;
export const DOC_FLAG_EMPTY = 2;
