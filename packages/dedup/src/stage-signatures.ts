import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Completions, RejectsWriter, Stats, createProgress, emptyReadStats } from "@transllm/core";
import { BinaryFileWriter } from "./binary-file.js";
import { DOC_FLAG_EMPTY, DOC_FLAG_SHORT, DOC_RECORD_BYTES, hasherConfig, layout } from "./dedup-config.js";
import type { DedupConfig } from "./dedup-config.js";
import type { HashedBatch } from "./document-hasher.js";
import { HashPool } from "./hash-pool.js";
import { filesOfRank, readDocuments } from "./read-documents.js";
import { encodeSignatureHeader } from "./signature-file.js";
import { RUN_RECORD_WORDS, writeSortedRun } from "./sorted-runs.js";

/** What the signatures stage of one rank records in its completion marker. */
export interface SignaturesDone {
	rank: number;
	worldSize: number;
	documents: number;
	runs: number;
	stats: ReturnType<Stats["toJSON"]>;
}

async function removeRuns(outDir: string, bands: number, rank: number): Promise<void> {
	const prefix = `${String(rank).padStart(5, "0")}-`;
	for (let b = 0; b < bands; b++) {
		const dir = layout.bandDir(outDir, b);
		const names = await readdir(dir).catch(() => [] as string[]);
		await Promise.all(names.filter((name) => name.startsWith(prefix)).map((name) => rm(join(dir, name), { force: true })));
	}
}

export function signaturesMarker(rank: number): string {
	return `signatures-${rank}`;
}

/**
 * Stage 1 (datatrove's MinhashDedupSignature): streams the rank's documents, hashes them on the worker pool
 * and writes, in document order, the signatures, per-document metadata (keep priority, shingle count, short
 * or empty flags), ids, optionally the shingle sets, and for every band a series of sorted runs of
 * (band key, document). Band tables never exceed `memoryLimitMb`: when full they are radix-sorted and spilled.
 * Text is dropped as soon as it is hashed.
 */
export async function runSignaturesStage(params: {
	config: DedupConfig;
	outDir: string;
	rank: number;
	workers: number;
	memoryLimitMb: number;
	onBadRecord: "error" | "skip";
	batchSize: number;
	progress: boolean;
}): Promise<SignaturesDone> {
	const { config, outDir, rank } = params;
	const completions = new Completions(outDir);
	const done = await completions.read<SignaturesDone>(signaturesMarker(rank));
	if (done) return done;
	const worldSize = config.signatureWorldSize;
	const { bands } = config;
	const stats = new Stats();
	const readStats = emptyReadStats();
	const rejects = await RejectsWriter.open(layout.kept(outDir, rank), { resume: true });
	// Band records for (bands + 1 scratch) tables of 12 bytes per document fill half of the memory budget.
	const runDocuments = Math.max(1024, Math.floor((params.memoryLimitMb * 1048576 * 0.5) / ((bands + 1) * RUN_RECORD_WORDS * 4)));
	const tables = Array.from({ length: bands }, () => new Uint32Array(runDocuments * RUN_RECORD_WORDS));
	const scratch = new Uint32Array(runDocuments * RUN_RECORD_WORDS);
	let inRun = 0;
	let runs = 0;
	const spill = (): void => {
		if (inRun === 0) return;
		for (let b = 0; b < bands; b++) writeSortedRun(layout.run(outDir, b, rank, runs), tables[b] as Uint32Array, inRun, scratch);
		runs += 1;
		inRun = 0;
	};
	await removeRuns(outDir, bands, rank); // runs of an interrupted attempt (possibly with another memory limit)
	const signatures = new BinaryFileWriter(layout.signatures(outDir, rank));
	signatures.write(encodeSignatureHeader(config, 0));
	const docs = new BinaryFileWriter(layout.docs(outDir, rank));
	const ids = new BinaryFileWriter(layout.ids(outDir, rank));
	const exact = config.verify === "exact";
	const shingles = exact ? new BinaryFileWriter(layout.shingles(outDir, rank)) : undefined;
	const shingleIndex = exact ? new BinaryFileWriter(layout.shingleIndex(outDir, rank)) : undefined;
	let shingleOffset = 0;
	shingleIndex?.writeWords(new Float64Array([0]));
	const record = new DataView(new ArrayBuffer(DOC_RECORD_BYTES));
	const recordBytes = new Uint8Array(record.buffer);
	let documents = 0;

	const write = (batch: HashedBatch, meta: { id: string; priority: number }[]): void => {
		signatures.writeWords(batch.signatures);
		const idLines: string[] = [];
		for (let d = 0; d < batch.count; d++) {
			const local = documents++;
			const shingleCount = batch.shingles[d] as number;
			const flags = shingleCount > 0 ? 0 : (batch.units[d] as number) > 0 ? DOC_FLAG_SHORT : DOC_FLAG_EMPTY;
			if (flags === DOC_FLAG_SHORT) stats.count("short_documents");
			else if (flags === DOC_FLAG_EMPTY) stats.count("empty_documents");
			stats.observe("shingles", shingleCount);
			record.setFloat64(0, (meta[d] as { priority: number }).priority, true);
			record.setUint32(8, shingleCount, true);
			record.setUint32(12, flags, true);
			docs.write(recordBytes);
			idLines.push(JSON.stringify((meta[d] as { id: string }).id));
			if (flags !== 0) continue; // no shingle, no band: a short or empty document is kept, never clustered
			for (let b = 0; b < bands; b++) {
				const table = tables[b] as Uint32Array;
				const at = inRun * RUN_RECORD_WORDS;
				const key = (d * bands + b) * 2;
				table[at] = batch.bandKeys[key] as number;
				table[at + 1] = batch.bandKeys[key + 1] as number;
				table[at + 2] = local;
			}
			inRun += 1;
			if (inRun === runDocuments) spill();
		}
		ids.write(Buffer.from(`${idLines.join("\n")}\n`, "utf8"));
		if (shingles && shingleIndex && batch.sets && batch.setOffsets) {
			shingles.writeWords(batch.sets);
			const offsets = new Float64Array(batch.count);
			for (let d = 0; d < batch.count; d++) offsets[d] = shingleOffset + (batch.setOffsets[d + 1] as number);
			shingleOffset += batch.sets.length;
			shingleIndex.writeWords(offsets);
		}
	};

	const pool = new HashPool(hasherConfig(config), params.workers);
	const progress = createProgress({ label: `dedup signatures rank ${rank}/${worldSize}`, unit: "docs", silent: !params.progress });
	const inFlight: { result: Promise<HashedBatch>; meta: { id: string; priority: number }[] }[] = [];
	try {
		let texts: string[] = [];
		let meta: { id: string; priority: number }[] = [];
		const dispatch = async (): Promise<void> => {
			inFlight.push({ result: pool.hash(texts), meta });
			texts = [];
			meta = [];
			while (inFlight.length > pool.size * 2) {
				const next = inFlight.shift() as (typeof inFlight)[number];
				write(await next.result, next.meta);
				progress.tick(next.meta.length);
			}
		};
		for await (const document of readDocuments({
			files: filesOfRank(config.inputs, rank, worldSize),
			config,
			onBadRecord: params.onBadRecord,
			rejects,
			stats: readStats,
		})) {
			texts.push(document.text);
			meta.push({ id: document.id, priority: document.priority });
			if (texts.length >= params.batchSize) await dispatch();
		}
		if (texts.length > 0) await dispatch();
		for (const next of inFlight.splice(0)) {
			write(await next.result, next.meta);
			progress.tick(next.meta.length);
		}
	} catch (error) {
		for (const writer of [signatures, docs, ids, shingles, shingleIndex]) writer?.abort();
		await Promise.allSettled(inFlight.map((job) => job.result));
		throw error;
	} finally {
		await pool.close();
		await rejects.close();
	}
	spill();
	signatures.patch(24, encodeSignatureHeader(config, documents).subarray(24, 32));
	for (const writer of [signatures, docs, ids, shingles, shingleIndex]) writer?.finish();
	progress.done();
	stats.count("documents", documents);
	stats.count("rejected", readStats.rejected);
	stats.count("input_bytes", readStats.bytes);
	const info: SignaturesDone = { rank, worldSize, documents, runs, stats: stats.toJSON() };
	await completions.markDone(signaturesMarker(rank), info);
	return info;
}
