import { ConfigError } from "@transllm/core";
import type { SeededRng } from "@transllm/core";

/** How the next token is chosen. `temperature` 0 is greedy search (TransLLM App. A.1 uses greedy for every experiment). */
export interface SamplingOptions {
	/** 0 (default) = greedy; > 0 samples from softmax(logits / temperature). */
	temperature?: number;
	/** Keep the k most likely tokens before sampling (0 = off). */
	topK?: number;
	/** Nucleus sampling: keep the smallest set of tokens whose probability reaches p (1 = off). */
	topP?: number;
	/** CTRL repetition penalty over the prompt and the generated tokens (1 = off), as Hugging Face applies it. */
	repetitionPenalty?: number;
}

export interface ResolvedSampling {
	temperature: number;
	topK: number;
	topP: number;
	repetitionPenalty: number;
}

/** Checks sampling options and fills the defaults (greedy, no top-k/top-p, no penalty). */
export function resolveSampling(options: SamplingOptions): ResolvedSampling {
	const resolved = { temperature: options.temperature ?? 0, topK: options.topK ?? 0, topP: options.topP ?? 1, repetitionPenalty: options.repetitionPenalty ?? 1 };
	if (!(resolved.temperature >= 0)) throw new ConfigError(`temperature must be ≥ 0, got ${options.temperature}`);
	if (!Number.isInteger(resolved.topK) || resolved.topK < 0) throw new ConfigError(`topK must be an integer ≥ 0, got ${options.topK}`);
	if (!(resolved.topP > 0 && resolved.topP <= 1)) throw new ConfigError(`topP must be in (0, 1], got ${options.topP}`);
	if (!(resolved.repetitionPenalty > 0)) throw new ConfigError(`repetitionPenalty must be > 0, got ${options.repetitionPenalty}`);
	return resolved;
}

/**
 * CTRL's repetition penalty (Keskar et al. 2019) the way transformers' RepetitionPenaltyLogitsProcessor applies
 * it: a seen token's logit is divided by the penalty when positive and multiplied when negative. In place.
 */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
	if (penalty === 1) return;
	for (const id of seen) {
		const value = logits[id] as number;
		logits[id] = value > 0 ? value / penalty : value * penalty;
	}
}

/** Index of the largest logit (the first on ties, as torch.argmax). */
export function argmax(logits: Float32Array): number {
	let best = 0;
	let bestValue = logits[0] as number;
	for (let i = 1; i < logits.length; i++) {
		const value = logits[i] as number;
		if (value > bestValue) {
			bestValue = value;
			best = i;
		}
	}
	return best;
}

/**
 * Chooses the next token from one row of logits (already penalised): greedy when temperature is 0, otherwise
 * temperature → top-k → top-p → a draw from `rng`, in transformers' warper order.
 */
export function sampleToken(logits: Float32Array, sampling: ResolvedSampling, rng: SeededRng | undefined): number {
	if (sampling.temperature === 0) return argmax(logits);
	if (!rng) throw new ConfigError("sampling (temperature > 0) needs a seed");
	const vocab = logits.length;
	let candidates: Uint32Array;
	if (sampling.topK > 0 && sampling.topK < vocab) {
		candidates = topKIndices(logits, sampling.topK);
	} else {
		candidates = new Uint32Array(vocab);
		for (let i = 0; i < vocab; i++) candidates[i] = i;
		candidates.sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
	}
	// Softmax of logits / T over the candidates, which are sorted by logit, most likely first.
	const max = (logits[candidates[0] as number] as number) / sampling.temperature;
	const weights = new Float64Array(candidates.length);
	let total = 0;
	for (let i = 0; i < candidates.length; i++) {
		const w = Math.exp((logits[candidates[i] as number] as number) / sampling.temperature - max);
		weights[i] = w;
		total += w;
	}
	let keep = candidates.length;
	if (sampling.topP < 1) {
		// Keep the smallest prefix whose mass reaches top_p (at least one token), as TopPLogitsWarper does.
		let mass = 0;
		for (let i = 0; i < candidates.length; i++) {
			mass += (weights[i] as number) / total;
			if (mass >= sampling.topP) {
				keep = i + 1;
				break;
			}
		}
		total = 0;
		for (let i = 0; i < keep; i++) total += weights[i] as number;
	}
	let draw = rng.float() * total;
	for (let i = 0; i < keep; i++) {
		draw -= weights[i] as number;
		if (draw < 0) return candidates[i] as number;
	}
	return candidates[keep - 1] as number;
}

/** The k largest logits' indices, sorted by logit (descending, lower index first on ties). */
function topKIndices(logits: Float32Array, k: number): Uint32Array {
	// A sorted insertion buffer: O(V·k) worst case but O(V) in practice, with no allocation per token.
	const ids = new Uint32Array(k);
	const values = new Float32Array(k).fill(Number.NEGATIVE_INFINITY);
	let filled = 0;
	for (let i = 0; i < logits.length; i++) {
		const value = logits[i] as number;
		if (filled === k && value <= (values[k - 1] as number)) continue;
		let j = filled < k ? filled++ : k - 1;
		while (j > 0 && (values[j - 1] as number) < value) {
			values[j] = values[j - 1] as number;
			ids[j] = ids[j - 1] as number;
			j--;
		}
		values[j] = value;
		ids[j] = i;
	}
	return ids.subarray(0, filled);
}
