import { InputError, getLanguage } from "@transllm/core";
import { layerCurves } from "./layer-curves.js";
import type { LayerPoint } from "./layer-curves.js";
import type { ProbePrompt, ProbeTask } from "./prompts.js";
import { regulationDecision } from "./regulation-decision.js";
import type { RegulationDecision } from "./regulation-decision.js";
import { runProbe } from "./run-probe.js";
import type { LogitLensModel, ProbeRun } from "./run-probe.js";
import type { ProbeVocabulary } from "./token-sets.js";

/** The JSON report of one probed language. */
export interface ProbeReport {
	lang: string;
	languageName: string;
	task: ProbeTask;
	layers: number;
	examples: { prompts: number; used: number; skipped: ProbeRun["skipped"] };
	/** Layers 1…N: mean P(en), P(target) and entropy with 95% confidence bands. */
	curves: LayerPoint[];
	decision: RegulationDecision;
	skippedExamples: ProbeRun["skippedExamples"];
}

/** Probes one language: logit lens over the prompts, per-layer curves with bands, and PROM's decision. */
export async function probeLanguage(params: {
	model: LogitLensModel;
	vocabulary: ProbeVocabulary;
	prompts: readonly ProbePrompt[];
	lang: string;
	task: ProbeTask;
	pivotLayer?: number;
	range?: { from: number; to: number };
	lambda?: number;
	batchSize?: number;
	silent?: boolean;
}): Promise<ProbeReport> {
	const run = await runProbe({ model: params.model, vocabulary: params.vocabulary, prompts: params.prompts, batchSize: params.batchSize, silent: params.silent });
	if (run.samples.length === 0) {
		// Bad input, not a crash: name the lexicon (origins are `file:line`) and why every example was skipped.
		const file = /^(.*):\d+$/.exec(params.prompts[0]?.origin ?? "")?.[1];
		throw new InputError(`no example of ${params.lang} could be probed (skipped: ${JSON.stringify(run.skipped)}); check the lexicon and the tokenizer`, file ? { file } : {});
	}
	const curves = layerCurves(run.samples);
	return {
		lang: params.lang,
		languageName: getLanguage(params.lang).englishName,
		task: params.task,
		layers: params.model.info.layers,
		examples: { prompts: params.prompts.length, used: run.used.length, skipped: run.skipped },
		curves,
		decision: regulationDecision(curves, { pivotLayer: params.pivotLayer, range: params.range, lambda: params.lambda }),
		skippedExamples: run.skippedExamples,
	};
}
