import { SeededRng } from "@transllm/core";
import { binomialTest } from "./significance.js";

/** The outcome of one judged question turn for model A: +1 win, 0 tie, −1 loss. */
export type Outcome = 1 | 0 | -1;

export interface WinTieLoss {
	n: number;
	/** Percentages (the paper's tables). */
	win: number;
	tie: number;
	loss: number;
	/** Δ = win − loss, in points (Table 1). */
	delta: number;
	/** Bootstrap 95% interval of Δ over questions. */
	low: number;
	high: number;
	/** Two-sided binomial test of wins against losses, ties left out (App. C.1), and whether p < 0.05. */
	p: number;
	significant: boolean;
}

/**
 * Win / tie / loss percentages and Δ = win − loss (paper Sec. 3.1: "We use Δ to denote the gap between the win and
 * loss rate calculated with the tie"), with a percentile bootstrap 95% interval of Δ: `samples` resamples of the
 * questions with replacement (seeded, so reruns agree), the 2.5th and 97.5th percentiles (nearest rank).
 */
export function winTieLoss(outcomes: readonly Outcome[], options: { samples?: number; seed?: number | string } = {}): WinTieLoss {
	const n = outcomes.length;
	if (n === 0) return { n: 0, win: 0, tie: 0, loss: 0, delta: 0, low: 0, high: 0, p: 1, significant: false };
	const wins = outcomes.filter((o) => o === 1).length;
	const losses = outcomes.filter((o) => o === -1).length;
	const pct = (k: number): number => (100 * k) / n;
	const samples = options.samples ?? 1000;
	const rng = new SeededRng(options.seed ?? 0);
	const deltas: number[] = [];
	for (let s = 0; s < samples; s++) {
		let sum = 0;
		for (let i = 0; i < n; i++) sum += outcomes[rng.int(n)] as number;
		deltas.push((100 * sum) / n);
	}
	deltas.sort((a, b) => a - b);
	const at = (q: number): number => deltas[Math.min(samples - 1, Math.max(0, Math.ceil(q * samples) - 1))] as number;
	const { p, significant } = binomialTest(wins, losses);
	return { n, win: pct(wins), tie: pct(n - wins - losses), loss: pct(losses), delta: (100 * (wins - losses)) / n, low: samples ? at(0.025) : 0, high: samples ? at(0.975) : 0, p, significant };
}
