/** Per-example logit-lens measurements: one value per decoder layer (index 0 = layer 1). */
export interface ProbeSample {
	pEnglish: readonly number[];
	pTarget: readonly number[];
	entropy: readonly number[];
}

/** A mean with its 95% confidence band across examples. */
export interface Band {
	mean: number;
	lower: number;
	upper: number;
}

/** One layer of the curves. Layers are numbered 1…N as in PROM Eq. 2 (h_i = L_i(h_{i-1}); h_0 is the embedding). */
export interface LayerPoint {
	layer: number;
	english: Band;
	target: Band;
	entropy: Band;
}

// Two-sided 97.5% quantiles of Student's t for 1…30 degrees of freedom; 1.96 beyond.
const T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** Mean and 95% confidence interval of the mean (Student's t for small samples). */
export function band(values: readonly number[]): Band {
	const n = values.length;
	if (n === 0) return { mean: Number.NaN, lower: Number.NaN, upper: Number.NaN };
	const mean = values.reduce((s, v) => s + v, 0) / n;
	if (n === 1) return { mean, lower: mean, upper: mean };
	const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
	const half = (T_975[n - 2] ?? 1.96) * Math.sqrt(variance / n);
	return { mean, lower: mean - half, upper: mean + half };
}

/** The two curves (and the entropy) with their bands, layer by layer. */
export function layerCurves(samples: readonly ProbeSample[]): LayerPoint[] {
	const layers = samples[0]?.pEnglish.length ?? 0;
	return Array.from({ length: layers }, (_, i) => ({
		layer: i + 1,
		english: band(samples.map((s) => s.pEnglish[i] as number)),
		target: band(samples.map((s) => s.pTarget[i] as number)),
		entropy: band(samples.map((s) => s.entropy[i] as number)),
	}));
}
