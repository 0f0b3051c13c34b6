import { ConfigError } from "@transllm/core";
import type { LayerPoint } from "./layer-curves.js";

/** PROM's hyper-parameters for Llama-2-7B (../shared/papers/003_1fd9d4be5b8f566c.txt Sec. 3.1 and Table 4). */
export const PROM_DEFAULTS = { pivotLayer: 24, layersOfLlama2_7b: 32, labelSmoothing: 0.1, lambda: 0.1 } as const;

/**
 * The pivot layer for a model of `layers` decoder layers: PROM's n = 24 for Llama-2-7B's 32 layers, kept at the
 * same relative depth (round(24/32 · N)) for other depths — our choice; the paper tunes n only for Llama-2-7B.
 */
export function defaultPivotLayer(layers: number): number {
	return Math.max(1, Math.min(layers - 1, Math.round((PROM_DEFAULTS.pivotLayer / PROM_DEFAULTS.layersOfLlama2_7b) * layers)));
}

export interface RegulationDecision {
	/** λ for Eq. 3: the configured value when English is the pivot, 0 otherwise. */
	lambda: number;
	pivoted: boolean;
	pivotLayer: number;
	/** Layers averaged over (inclusive, 1-based). */
	range: { from: number; to: number };
	meanEnglish: number;
	meanTarget: number;
	/** The layer below the last where the English version is most probable. */
	suggestedPivotLayer: number;
	rule: string;
}

/**
 * PROM Sec. 2.3: "setting λ = 0 if mean P(n, e) < mean P(n, t)", where P(n, l) is the probability of the
 * language-l version of the next token at layer n. The paper's bar is ambiguous about what is averaged; we
 * average over the probe's examples at the pivot layer n, or over examples and the layers of `range` when one is
 * given (stated in the report), and keep λ when the English mean is at least the target mean.
 */
export function regulationDecision(curves: readonly LayerPoint[], options: { pivotLayer?: number; range?: { from: number; to: number }; lambda?: number } = {}): RegulationDecision {
	const layers = curves.length;
	if (layers < 2) throw new ConfigError("the probe needs at least two decoder layers");
	const pivotLayer = options.pivotLayer ?? defaultPivotLayer(layers);
	const range = options.range ?? { from: pivotLayer, to: pivotLayer };
	if (range.from < 1 || range.to > layers || range.from > range.to) throw new ConfigError(`layer range ${range.from}–${range.to} is outside 1–${layers}`);
	if (pivotLayer < 1 || pivotLayer > layers) throw new ConfigError(`pivot layer ${pivotLayer} is outside 1–${layers}`);
	const inRange = curves.filter((point) => point.layer >= range.from && point.layer <= range.to);
	const meanEnglish = inRange.reduce((s, p) => s + p.english.mean, 0) / inRange.length;
	const meanTarget = inRange.reduce((s, p) => s + p.target.mean, 0) / inRange.length;
	const pivoted = !(meanEnglish < meanTarget);
	let suggestedPivotLayer = 1;
	for (const point of curves.slice(0, -1)) {
		if (point.english.mean >= (curves[suggestedPivotLayer - 1] as LayerPoint).english.mean) suggestedPivotLayer = point.layer;
	}
	return {
		lambda: pivoted ? (options.lambda ?? PROM_DEFAULTS.lambda) : 0,
		pivoted,
		pivotLayer,
		range,
		meanEnglish,
		meanTarget,
		suggestedPivotLayer,
		rule: "λ = 0 if mean P(n, en) < mean P(n, target), else the configured λ (PROM Sec. 2.3); means over examples and the stated layer range",
	};
}
