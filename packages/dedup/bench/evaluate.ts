import { readFileSync } from "node:fs";
import { Shingler } from "../src/index.js";
import { layout } from "../src/index.js";
import { jaccardOfSets, shingleStrings } from "./generate-corpus.js";
import type { Corpus } from "./generate-corpus.js";

export interface Accuracy {
	/** Planted pairs with exact Jaccard ≥ threshold. */
	truePairs: number;
	/** Of those, the share that ended in one cluster. */
	recall: number;
	/** Verified edges (pairs merged). */
	edges: number;
	/** Share of merged edges whose exact Jaccard ≥ threshold. */
	precision: number;
	/** Share of co-clustered pairs whose exact Jaccard ≥ threshold (transitive merges count against it). */
	clusterPairPrecision: number;
	/** Recall per exact-Jaccard bin (the measured S-curve of the whole pipeline). */
	recallByJaccard: { from: number; to: number; pairs: number; found: number }[];
}

/**
 * Precision and recall of a single-rank run over a generated corpus, against exact Jaccard of shingle strings
 * (documents are numbered in input order).
 */
export function evaluateRun(outDir: string, corpus: Corpus, threshold: number, ngram = 5): Accuracy {
	const shingler = new Shingler({ ngram });
	const sets = new Map<number, Set<string>>();
	const setOf = (doc: number): Set<string> => {
		let set = sets.get(doc);
		if (!set) {
			set = shingleStrings(corpus.documents[doc]?.text ?? "", shingler);
			sets.set(doc, set);
		}
		return set;
	};
	const cluster = new Map<number, number>();
	const removed = new Uint32Array(new Uint8Array(readFileSync(layout.removed(outDir))).buffer);
	for (let i = 0; i < removed.length; i += 4) {
		cluster.set(removed[i] as number, removed[i + 2] as number);
		cluster.set(removed[i + 1] as number, removed[i + 2] as number);
	}
	const clusterOf = (doc: number): number => cluster.get(doc) ?? -1 - doc;
	const bins = Array.from({ length: 10 }, (_, i) => ({ from: 0.5 + i * 0.05, to: 0.55 + i * 0.05, pairs: 0, found: 0 }));
	let truePairs = 0;
	let found = 0;
	for (const pair of corpus.pairs) {
		const same = clusterOf(pair.a) === clusterOf(pair.b);
		if (pair.jaccard >= threshold) {
			truePairs += 1;
			if (same) found += 1;
		}
		const bin = bins.find((b) => pair.jaccard >= b.from && (pair.jaccard < b.to || (b.to >= 1 && pair.jaccard <= 1)));
		if (bin) {
			bin.pairs += 1;
			if (same) bin.found += 1;
		}
	}
	const edgeWords = new Uint32Array(new Uint8Array(readFileSync(layout.edges(outDir))).buffer);
	let edges = 0;
	let goodEdges = 0;
	for (let i = 0; i < edgeWords.length; i += 3) {
		edges += 1;
		if (jaccardOfSets(setOf(edgeWords[i] as number), setOf(edgeWords[i + 1] as number)) >= threshold) goodEdges += 1;
	}
	const members = new Map<number, number[]>();
	for (const [doc, id] of cluster) members.set(id, [...(members.get(id) ?? []), doc]);
	let coPairs = 0;
	let goodCoPairs = 0;
	for (const docs of members.values()) {
		for (let i = 0; i < docs.length; i++) {
			for (let j = i + 1; j < docs.length; j++) {
				coPairs += 1;
				if (jaccardOfSets(setOf(docs[i] as number), setOf(docs[j] as number)) >= threshold) goodCoPairs += 1;
			}
		}
	}
	return {
		truePairs,
		recall: truePairs > 0 ? found / truePairs : 1,
		edges,
		precision: edges > 0 ? goodEdges / edges : 1,
		clusterPairPrecision: coPairs > 0 ? goodCoPairs / coPairs : 1,
		recallByJaccard: bins,
	};
}
