import { createProgress } from "@transllm/core";
import type { ProbeSample } from "./layer-curves.js";
import type { ProbePrompt } from "./prompts.js";
import { skipReason, wordTokenSet } from "./token-sets.js";
import type { ProbeVocabulary, SkipReason } from "./token-sets.js";

/**
 * What the probe needs of a model: its depth and a logit lens — for every decoder layer, the last position's
 * residual stream through the final norm and the unembedding, softmax summed over token sets
 * (@transllm/runtime's `ChatModel.logitLens`, computed in the graph).
 */
export interface LogitLensModel {
	info: { layers: number };
	logitLens(params: { prompts: string[]; tokenSets: number[][] }): Promise<{ probs: number[][][]; entropy: number[][] }>;
}

export interface ProbeRun {
	samples: ProbeSample[];
	/** The prompts that were measured, with their token sets. */
	used: (ProbePrompt & { enSet: number[]; targetSet: number[] })[];
	/** Skipped examples per reason (Wendler's filter and empty sets). */
	skipped: Partial<Record<SkipReason, number>>;
	skippedExamples: { origin: string; en: string; target: string; reason: SkipReason }[];
}

/** Runs the logit lens over the prompts in batches; each prompt's English and target sets are two columns. */
export async function runProbe(params: { model: LogitLensModel; vocabulary: ProbeVocabulary; prompts: readonly ProbePrompt[]; batchSize?: number; silent?: boolean }): Promise<ProbeRun> {
	const batchSize = params.batchSize ?? 8;
	const run: ProbeRun = { samples: [], used: [], skipped: {}, skippedExamples: [] };
	for (const prompt of params.prompts) {
		const enSet = wordTokenSet(prompt.en, params.vocabulary);
		const targetSet = wordTokenSet(prompt.target, params.vocabulary);
		const reason = skipReason(prompt.en, prompt.target, enSet, targetSet);
		if (reason) {
			run.skipped[reason] = (run.skipped[reason] ?? 0) + 1;
			run.skippedExamples.push({ origin: prompt.origin, en: prompt.en, target: prompt.target, reason });
		} else run.used.push({ ...prompt, enSet, targetSet });
	}
	const progress = createProgress({ label: "logit lens", total: run.used.length, unit: "prompts", silent: params.silent });
	for (let start = 0; start < run.used.length; start += batchSize) {
		const batch = run.used.slice(start, start + batchSize);
		const { probs, entropy } = await params.model.logitLens({
			prompts: batch.map((item) => item.prompt),
			tokenSets: batch.flatMap((item) => [item.enSet, item.targetSet]),
		});
		batch.forEach((_, i) => {
			const layers = probs[i] as number[][];
			run.samples.push({
				pEnglish: layers.map((sets) => sets[2 * i] as number),
				pTarget: layers.map((sets) => sets[2 * i + 1] as number),
				entropy: entropy[i] as number[],
			});
		});
		progress.tick(batch.length);
	}
	progress.done();
	return run;
}
