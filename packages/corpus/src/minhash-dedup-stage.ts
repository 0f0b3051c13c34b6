import { TransllmError } from "@transllm/core";
import type { DedupOptions } from "@transllm/dedup";
import { runDedup } from "@transllm/dedup";
import type { DedupStage } from "./clean-corpus.js";

/** MinHash settings of the dedup step (threshold, numPerm, ngram, lang, keep …); inputs and folders come from `cleanCorpus`. */
export type MinhashDedupOptions = Omit<DedupOptions, "inputs" | "outDir" | "textField" | "idField" | "resume" | "overwrite" | "progress" | "stage" | "rank" | "worldSize">;

/**
 * The dedup step of `cleanCorpus` through @transllm/dedup's `runDedup`: MinHashLSH near-duplicate removal
 * "following GPT-3", as TransLLM deduplicates after the sensitive-word filter
 * (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 3.1). Documents are named by shard file and line (ids of
 * different input files may collide); the kept files are the pipeline's output.
 */
export function minhashDedupStage(options: MinhashDedupOptions = {}): DedupStage {
	return async ({ inputs, outDir, resume, silent }) => {
		const result = await runDedup({ ...options, inputs, outDir, textField: "text", resume, progress: !silent });
		const stats = result.stats;
		if (!stats) throw new TransllmError("E_CHECK_FAILED", `dedup in ${outDir} returned before its last stage finished`);
		return {
			outputs: result.outputs.kept,
			stats: {
				documents: stats.documents,
				kept: stats.kept,
				removed: stats.removed,
				clusters: stats.clusters,
				candidatePairs: stats.candidatePairs,
				shortDocuments: stats.shortDocuments,
				seconds: Object.values(stats.seconds).reduce((sum, s) => sum + s, 0),
			},
		};
	};
}
