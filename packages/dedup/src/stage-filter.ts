import { closeSync, createReadStream, openSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { Completions, JsonlWriter, RejectsWriter, createProgress, partialPathFor } from "@transllm/core";
import { readExactly } from "./binary-file.js";
import { layout } from "./dedup-config.js";
import type { DedupConfig } from "./dedup-config.js";
import type { DocSource } from "./doc-sources.js";
import { filesOfRank, readDocuments } from "./read-documents.js";

/** One line of the removed-documents manifest (removed/<rank>.jsonl). */
export interface RemovedDocument {
	id: string;
	/** Cluster id: the global number of the cluster's first document. */
	cluster: number;
	/** Id of the document kept in its place. */
	kept_id: string;
	/** Jaccard similarity to the kept document (exact or estimated, as `verify`). */
	similarity: number;
	/** Present (true) when the cluster is larger than maxClusterSize. */
	oversized?: true;
}

export interface FilterDone {
	rank: number;
	kept: number;
	removed: number;
}

export function filterMarker(rank: number): string {
	return `filter-${rank}`;
}

/**
 * Stage 4 (datatrove's MinhashDedupFilter), one task per signatures rank: streams the rank's input again and
 * writes every document that is not removed to kept/<rank>.jsonl (unchanged), and a manifest line for every
 * removed one. Both outputs are atomic; an interrupted rank is redone.
 */
export async function runFilterStage(params: { config: DedupConfig; outDir: string; source: DocSource; onBadRecord: "error" | "skip"; progress: boolean }): Promise<FilterDone> {
	const { config, outDir, source } = params;
	const rank = source.rank;
	const completions = new Completions(outDir);
	const done = await completions.read<FilterDone>(filterMarker(rank));
	if (done) return done;
	// Removed documents of this rank, from the sorted clusters/removed.bin.
	const removedPath = layout.removed(outDir);
	const size = statSync(removedPath).size;
	const entries = new Map<number, { keeper: number; cluster: number; similarity: number }>();
	const fd = openSync(removedPath, "r");
	const chunk = new Uint32Array(4 * 16384);
	const similarities = new Float32Array(chunk.buffer);
	try {
		for (let position = 0; position < size; position += chunk.byteLength) {
			const bytes = Math.min(chunk.byteLength, size - position);
			readExactly(fd, new Uint8Array(chunk.buffer, 0, bytes), position, removedPath);
			for (let i = 0; i < bytes / 4; i += 4) {
				const doc = chunk[i] as number;
				if (doc >= source.offset && doc < source.offset + source.documents) {
					entries.set(doc - source.offset, { keeper: chunk[i + 1] as number, cluster: chunk[i + 2] as number, similarity: similarities[i + 3] as number });
				}
			}
		}
	} finally {
		closeSync(fd);
	}
	const keeperIds = new Map<number, string>();
	const oversized = new Set<number>();
	for await (const line of createInterface({ input: createReadStream(layout.keepers(outDir)), crlfDelay: Number.POSITIVE_INFINITY })) {
		if (!line) continue;
		const { doc, id } = JSON.parse(line) as { doc: number; id: string };
		keeperIds.set(doc, id);
	}
	for await (const line of createInterface({ input: createReadStream(layout.oversized(outDir)), crlfDelay: Number.POSITIVE_INFINITY })) {
		if (line) oversized.add((JSON.parse(line) as { cluster: number }).cluster);
	}
	const keptPath = layout.kept(outDir, rank);
	const manifestPath = layout.manifest(outDir, rank);
	await rm(partialPathFor(keptPath), { force: true });
	await rm(partialPathFor(manifestPath), { force: true });
	const kept = await JsonlWriter.open<Record<string, unknown>>(keptPath, { overwrite: true });
	const manifest = await JsonlWriter.open<RemovedDocument>(manifestPath, { overwrite: true });
	const rejects = await RejectsWriter.open(keptPath, { resume: true });
	const progress = createProgress({ label: `dedup filter rank ${rank}`, total: source.documents, unit: "docs", silent: !params.progress });
	let local = 0;
	try {
		for await (const document of readDocuments({ files: filesOfRank(config.inputs, rank, config.signatureWorldSize), config, onBadRecord: params.onBadRecord, rejects })) {
			const entry = entries.get(local);
			if (entry) {
				const line: RemovedDocument = { id: document.id, cluster: entry.cluster, kept_id: keeperIds.get(entry.keeper) ?? String(entry.keeper), similarity: Math.round(entry.similarity * 1e4) / 1e4 };
				if (oversized.has(entry.cluster)) line.oversized = true;
				await manifest.write(line);
			} else await kept.write(document.record);
			local += 1;
			progress.tick();
		}
	} finally {
		await rejects.close();
	}
	if (local !== source.documents) {
		await kept.close();
		await manifest.close();
		throw new Error(`rank ${rank}: the input now holds ${local} documents but ${source.documents} were signed; the input changed since the signatures stage`);
	}
	const info: FilterDone = { rank, kept: await kept.finish(), removed: await manifest.finish() };
	progress.done();
	await completions.markDone(filterMarker(rank), info);
	return info;
}
