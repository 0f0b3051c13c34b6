import { ConfigError } from "@transllm/core";

export interface PlanBandsOptions {
	/** Jaccard similarity above which two documents are duplicates (default 0.8). */
	threshold?: number;
	/** Signature length (default 128); bands × rows ≤ numPerm. */
	numPerm?: number;
	/**
	 * Weight of false negatives (duplicate pairs never compared) in the error being minimised (default 0.98).
	 * Every candidate is verified before it is merged, so a false positive only costs one comparison while a
	 * false negative is a missed duplicate: the default leans on recall. `0.5` reproduces datasketch's choice.
	 */
	falseNegativeWeight?: number;
	/** Weight of false positives (default 1 − falseNegativeWeight). */
	falsePositiveWeight?: number;
}

/** A banding of the signature: `bands` bands of `rows` slots each. */
export interface LshPlan {
	threshold: number;
	numPerm: number;
	bands: number;
	rows: number;
	falseNegativeWeight: number;
	falsePositiveWeight: number;
	/** ∫_0^t P(candidate | s) ds: area of false candidates below the threshold. */
	falsePositiveArea: number;
	/** ∫_t^1 (1 − P(candidate | s)) ds: area of missed pairs above the threshold. */
	falseNegativeArea: number;
	/** P(candidate | J = threshold). */
	candidateProbabilityAtThreshold: number;
}

/** P(two documents become candidates | Jaccard s) = 1 − (1 − s^rows)^bands (Leskovec et al., MMDS Ch. 3.4). */
export function candidateProbability(similarity: number, bands: number, rows: number): number {
	return 1 - (1 - similarity ** rows) ** bands;
}

function integrate(f: (s: number) => number, from: number, to: number): number {
	const steps = 1000;
	const width = (to - from) / steps;
	let area = 0;
	for (let i = 0; i < steps; i++) area += f(from + (i + 0.5) * width) * width;
	return area;
}

/**
 * Chooses bands × rows for a threshold: the pair minimising the weighted areas of false positives and false
 * negatives under the S-curve, the criterion of datasketch's `MinHashLSH` (the tool the TransLLM paper cites
 * for its MinHashLSH, `../shared/papers/000_1ce36f3811662daf.txt` Sec. 3.1, footnote 5).
 */
export function planBands(options: PlanBandsOptions = {}): LshPlan {
	const threshold = options.threshold ?? 0.8;
	const numPerm = options.numPerm ?? 128;
	const falseNegativeWeight = options.falseNegativeWeight ?? 0.98;
	const falsePositiveWeight = options.falsePositiveWeight ?? Math.round((1 - falseNegativeWeight) * 1e9) / 1e9;
	if (!(threshold > 0 && threshold < 1)) throw new ConfigError(`threshold must be in (0, 1), got ${threshold}`);
	if (!Number.isInteger(numPerm) || numPerm < 2) throw new ConfigError(`numPerm must be an integer ≥ 2, got ${numPerm}`);
	if (falseNegativeWeight < 0 || falsePositiveWeight < 0 || falseNegativeWeight + falsePositiveWeight <= 0) {
		throw new ConfigError("false negative / false positive weights must be ≥ 0 and not both 0");
	}
	let best: LshPlan | undefined;
	let bestError = Number.POSITIVE_INFINITY;
	for (let bands = 1; bands <= numPerm; bands++) {
		for (let rows = 1; rows <= Math.floor(numPerm / bands); rows++) {
			const falsePositiveArea = integrate((s) => candidateProbability(s, bands, rows), 0, threshold);
			const falseNegativeArea = integrate((s) => 1 - candidateProbability(s, bands, rows), threshold, 1);
			const error = falsePositiveWeight * falsePositiveArea + falseNegativeWeight * falseNegativeArea;
			if (error < bestError - 1e-12) {
				bestError = error;
				best = {
					threshold,
					numPerm,
					bands,
					rows,
					falseNegativeWeight,
					falsePositiveWeight,
					falsePositiveArea,
					falseNegativeArea,
					candidateProbabilityAtThreshold: candidateProbability(threshold, bands, rows),
				};
			}
		}
	}
	return best as LshPlan;
}

/** The S-curve P(candidate | J) at the given similarities (default 0, 0.05, …, 1). */
export function sCurve(bands: number, rows: number, points: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20)): { similarity: number; probability: number }[] {
	return points.map((similarity) => ({ similarity, probability: candidateProbability(similarity, bands, rows) }));
}
