import { closeSync, openSync, statSync } from "node:fs";
import { Completions, writeFileAtomic } from "@transllm/core";
import { BinaryFileWriter, readExactly } from "./binary-file.js";
import { layout } from "./dedup-config.js";
import type { DedupConfig } from "./dedup-config.js";
import { DocStore, readIds, readPriorities } from "./doc-store.js";
import type { DocSource } from "./doc-sources.js";
import { UnionFind } from "./union-find.js";

/** What the clusters stage records in its completion marker. */
export interface ClustersDone {
	documents: number;
	candidatePairs: number;
	verifications: number;
	rejectedCandidates: number;
	edges: number;
	clusters: number;
	removed: number;
	oversizedClusters: number;
	largestCluster: number;
}

export const CLUSTERS_MARKER = "clusters";

/**
 * Stage 3 (datatrove's MinhashDedupCluster), one task: reads every band's candidate pairs, verifies each pair
 * whose documents are not yet in one cluster (exact Jaccard of the shingle sets, or the signature estimate)
 * and unions only verified edges. Then each cluster keeps one document by the keep policy (an `against`
 * document always wins), and clusters/removed.bin lists every other member as little-endian
 * (doc u32, keeper u32, cluster u32, similarity f32), sorted by doc. Memory: about 20 bytes per document.
 */
export async function runClustersStage(params: { config: DedupConfig; outDir: string; sources: readonly DocSource[] }): Promise<ClustersDone> {
	const { config, outDir, sources } = params;
	const completions = new Completions(outDir);
	const done = await completions.read<ClustersDone>(CLUSTERS_MARKER);
	if (done) return done;
	const last = sources[sources.length - 1];
	const total = last ? last.offset + last.documents : 0;
	const unionFind = new UnionFind(total);
	const store = new DocStore(sources, config.numPerm, config.verify === "exact");
	const similarity = (a: number, b: number): number => (config.verify === "exact" ? store.exact(a, b) : store.estimated(a, b));
	const info: ClustersDone = { documents: total, candidatePairs: 0, verifications: 0, rejectedCandidates: 0, edges: 0, clusters: 0, removed: 0, oversizedClusters: 0, largestCluster: 0 };
	// A pair that failed verification comes back from other bands: remember it (keys exact while total² < 2^53).
	const rejected = total < 94_000_000 ? new Set<number>() : undefined;
	const edges = new BinaryFileWriter(layout.edges(outDir));
	const edge = new Uint32Array(3);
	const edgeSimilarity = new Float32Array(edge.buffer, 8, 1);
	const chunk = new Uint32Array(1 << 16);
	try {
		for (let band = 0; band < config.bands; band++) {
			const path = layout.candidates(outDir, band);
			const size = statSync(path).size;
			const fd = openSync(path, "r");
			try {
				for (let position = 0; position < size; position += chunk.byteLength) {
					const bytes = Math.min(chunk.byteLength, size - position);
					readExactly(fd, new Uint8Array(chunk.buffer, 0, bytes), position, path);
					for (let i = 0; i < bytes / 4; i += 2) {
						const a = chunk[i] as number;
						const b = chunk[i + 1] as number;
						info.candidatePairs += 1;
						if (unionFind.find(a) === unionFind.find(b)) continue;
						const key = a * total + b;
						if (rejected?.has(key)) continue;
						info.verifications += 1;
						const value = similarity(a, b);
						if (value < config.threshold) {
							info.rejectedCandidates += 1;
							rejected?.add(key);
							continue;
						}
						unionFind.union(a, b);
						edge[0] = a;
						edge[1] = b;
						edgeSimilarity[0] = value;
						edges.writeWords(edge);
						info.edges += 1;
					}
				}
			} finally {
				closeSync(fd);
			}
		}
		edges.finish();
		// Keeper of each cluster: highest priority, ties to the earliest document.
		const priorities = readPriorities(sources, total);
		const sizes = new Uint32Array(total);
		const keeper = new Int32Array(total).fill(-1);
		for (let doc = 0; doc < total; doc++) {
			const root = unionFind.find(doc);
			sizes[root] = (sizes[root] as number) + 1;
			const best = keeper[root] as number;
			if (best === -1 || (priorities[doc] as number) > (priorities[best] as number)) keeper[root] = doc;
		}
		const oversized: string[] = [];
		for (let doc = 0; doc < total; doc++) {
			const size = sizes[doc] as number;
			if (size < 2) continue;
			info.clusters += 1;
			if (size > info.largestCluster) info.largestCluster = size;
			if (size > config.maxClusterSize) {
				info.oversizedClusters += 1;
				oversized.push(JSON.stringify({ cluster: doc, size, keeper: keeper[doc] }));
			}
		}
		const removed = new BinaryFileWriter(layout.removed(outDir));
		const entry = new Uint32Array(4);
		const entrySimilarity = new Float32Array(entry.buffer, 12, 1);
		const keepers = new Set<number>();
		let sourceIndex = 0;
		for (let doc = 0; doc < total; doc++) {
			while ((sources[sourceIndex] as DocSource).offset + (sources[sourceIndex] as DocSource).documents <= doc) sourceIndex += 1;
			if ((sources[sourceIndex] as DocSource).reference) continue;
			const root = unionFind.find(doc);
			if ((sizes[root] as number) < 2) continue;
			const kept = keeper[root] as number;
			if (kept === doc) continue;
			entry[0] = doc;
			entry[1] = kept;
			entry[2] = root;
			entrySimilarity[0] = similarity(doc, kept);
			removed.writeWords(entry);
			keepers.add(kept);
			info.removed += 1;
		}
		removed.finish();
		const ids = await readIds(sources, keepers);
		const keeperLines = [...keepers].sort((x, y) => x - y).map((doc) => JSON.stringify({ doc, id: ids.get(doc) }));
		await writeFileAtomic(layout.keepers(outDir), keeperLines.length > 0 ? `${keeperLines.join("\n")}\n` : "");
		await writeFileAtomic(layout.oversized(outDir), oversized.length > 0 ? `${oversized.join("\n")}\n` : "");
	} finally {
		store.close();
	}
	await completions.markDone(CLUSTERS_MARKER, info);
	return info;
}
