import { InputError } from "@transllm/core";

// The CLO objective of `../shared/papers/004_804f498cca6890cb.txt` (Sec. 3.2 Eq. 3–7; App. A Eq. 8–12; App. B).
// Notation: x_en, y_en are the English query and answer, x_t, y_t their translations (the paper's ℓ).

/** The log-probability of one response given one prompt: the sum over its tokens, and how many tokens. */
export interface SequenceLogprob {
	/** Σ log π(y_k | x, y_<k) over the response tokens. */
	sum: number;
	/** Number of response tokens scored. */
	tokens: number;
}

/** The four conditionals CLO needs from one model (policy or reference) for one pair. */
export interface CloConditionals {
	/** log π(y_en | x_en): the English row's chosen answer. */
	enGivenEn: SequenceLogprob;
	/** log π(y_t | x_en): the English row's rejected answer. */
	targetGivenEn: SequenceLogprob;
	/** log π(y_t | x_t): the target row's chosen answer. */
	targetGivenTarget: SequenceLogprob;
	/** log π(y_en | x_t): the target row's rejected answer. */
	enGivenTarget: SequenceLogprob;
}

/** Policy (π_θatt) and reference (π_ref) log-probabilities of one English pair and its translation. */
export interface CloPairLogprobs {
	pairId?: string;
	policy: CloConditionals;
	reference: CloConditionals;
}

/**
 * How −log π_θ(y_t | x_t) of Eq. 9 is reduced over the response tokens. The paper writes the sequence
 * log-probability; LLaMA-Factory's `pref_ftx` and TRL's `sft`/`rpo_alpha` terms use the per-token mean
 * (see README, "Where the paper is ambiguous").
 */
export type SftReduction = "token-mean" | "sum";

export interface CloObjectiveOptions {
	/** β of Eq. 11–12 (App. B: 0.1). */
	beta?: number;
	/** λ of Eq. 8 (App. B: 0.5). */
	lambda?: number;
	/** Reduction of the NLL of Eq. 9 over tokens (default `token-mean`). */
	sftReduction?: SftReduction;
}

export interface CloObjective {
	/** L_CLO = λ·L_SFT + (1−λ)·L_CL (Eq. 8). */
	lClo: number;
	/** L_SFT (Eq. 9): mean over the N pairs of the target rows' NLL only. */
	lSft: number;
	/** L_CL (Eq. 10): −(1/N) Σ_i [log σ(z_en⁽ⁱ⁾) + log σ(z_t⁽ⁱ⁾)]. */
	lCl: number;
	/** z_en⁽ⁱ⁾ of Eq. 11, per pair. */
	zEn: number[];
	/** z_t⁽ⁱ⁾ of Eq. 12, per pair. */
	zT: number[];
	/** Fraction of the 2N comparisons with z > 0 (the chosen answer's implicit reward beats the rejected one's). */
	accuracy: number;
	/** Fraction of pairs with z_en > 0. */
	accuracyEn: number;
	/** Fraction of pairs with z_t > 0. */
	accuracyT: number;
	/** N, the number of pairs. */
	pairs: number;
	beta: number;
	lambda: number;
	sftReduction: SftReduction;
}

/** CLO's defaults from App. B: β = 0.1, λ = 0.5. */
export const CLO_DEFAULTS = { beta: 0.1, lambda: 0.5, sftReduction: "token-mean" as SftReduction };

/**
 * log σ(z), exact for every finite z: −log1p(e^−z) for z ≥ 0 and z − log1p(e^z) for z < 0, so that neither
 * branch overflows (naively log(1/(1+e^1000)) is log 0 = −∞) nor rounds 1 + e^−40 to 1.
 */
export function logSigmoid(z: number): number {
	return z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
}

const FIELDS = ["enGivenEn", "targetGivenEn", "targetGivenTarget", "enGivenTarget"] as const;

function checkPair(pair: CloPairLogprobs, index: number, sftReduction: SftReduction): void {
	const where = `pair ${pair.pairId !== undefined ? `"${pair.pairId}"` : index + 1}`;
	for (const model of ["policy", "reference"] as const) {
		const conditionals = pair[model] as CloConditionals | undefined;
		if (!conditionals) throw new InputError(`${where}: missing ${model} log-probabilities`, { field: model });
		for (const field of FIELDS) {
			const value = conditionals[field] as SequenceLogprob | undefined;
			if (!value || !Number.isFinite(value.sum)) {
				throw new InputError(`${where}: ${model}.${field}.sum must be a finite log-probability, got ${String(value?.sum)}`, { field: `${model}.${field}.sum` });
			}
			if (value.sum > 1e-9) throw new InputError(`${where}: ${model}.${field}.sum is a log-probability and cannot be positive (${value.sum})`, { field: `${model}.${field}.sum` });
		}
	}
	const target = pair.policy.targetGivenTarget;
	if (sftReduction === "token-mean" && !(Number.isInteger(target.tokens) && target.tokens > 0)) {
		throw new InputError(`${where}: policy.targetGivenTarget.tokens must be a positive integer for the token-mean NLL, got ${String(target.tokens)}`, {
			field: "policy.targetGivenTarget.tokens",
		});
	}
}

/** log π_θ(y|x) − log π_ref(y|x) for one conditional. */
function logRatio(pair: CloPairLogprobs, field: (typeof FIELDS)[number]): number {
	return pair.policy[field].sum - pair.reference[field].sum;
}

/**
 * The CLO objective over one batch of N pairs (App. A, Eq. 8–12), from the per-sequence log-probabilities of
 * the policy π_θatt and the reference π_ref. Every sum is over pairs i = 1..N, each pair contributing its
 * English row (z_en) and its target row (z_t), which is why both rows must share a batch in training.
 */
export function cloObjective(pairs: readonly CloPairLogprobs[], options: CloObjectiveOptions = {}): CloObjective {
	const beta = options.beta ?? CLO_DEFAULTS.beta;
	const lambda = options.lambda ?? CLO_DEFAULTS.lambda;
	const sftReduction = options.sftReduction ?? CLO_DEFAULTS.sftReduction;
	if (!(Number.isFinite(beta) && beta > 0)) throw new InputError(`beta must be a positive number, got ${beta}`, { field: "beta" });
	if (!(Number.isFinite(lambda) && lambda >= 0 && lambda <= 1)) throw new InputError(`lambda must lie in [0, 1], got ${lambda}`, { field: "lambda" });
	if (pairs.length === 0) throw new InputError("the CLO objective needs at least one pair");
	const zEn: number[] = [];
	const zT: number[] = [];
	let sft = 0;
	let cl = 0;
	let winsEn = 0;
	let winsT = 0;
	pairs.forEach((pair, index) => {
		checkPair(pair, index, sftReduction);
		// Eq. 11: z_en = β( log π_θ(y_en|x_en)/π_ref(y_en|x_en) − log π_θ(y_t|x_en)/π_ref(y_t|x_en) )
		const en = beta * (logRatio(pair, "enGivenEn") - logRatio(pair, "targetGivenEn"));
		// Eq. 12: z_t = β( log π_θ(y_t|x_t)/π_ref(y_t|x_t) − log π_θ(y_en|x_t)/π_ref(y_en|x_t) )
		const t = beta * (logRatio(pair, "targetGivenTarget") - logRatio(pair, "enGivenTarget"));
		zEn.push(en);
		zT.push(t);
		// Eq. 10: the two DPO terms of a pair are added, then averaged over pairs.
		cl -= logSigmoid(en) + logSigmoid(t);
		// Eq. 9: the NLL of the target rows only (Sec. 7.2: adding the English NLL biases towards English).
		const target = pair.policy.targetGivenTarget;
		sft -= sftReduction === "sum" ? target.sum : target.sum / target.tokens;
		if (en > 0) winsEn += 1;
		if (t > 0) winsT += 1;
	});
	const n = pairs.length;
	const lSft = sft / n;
	const lCl = cl / n;
	return {
		// Eq. 8 (= Eq. 3)
		lClo: lambda * lSft + (1 - lambda) * lCl,
		lSft,
		lCl,
		zEn,
		zT,
		accuracy: (winsEn + winsT) / (2 * n),
		accuracyEn: winsEn / n,
		accuracyT: winsT / n,
		pairs: n,
		beta,
		lambda,
		sftReduction,
	};
}
