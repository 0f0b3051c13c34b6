import type { SeededRng } from "@transllm/core";
import { GeneratedText } from "./generated-text.js";
import { applyRepetitionPenalty, sampleToken } from "./sampling.js";
import type { ResolvedSampling } from "./sampling.js";
import type { ChatTokenizer } from "./tokenizer.js";

/** Why a sequence ended: an EOS token of the model, a stop token or stop string, or maxNewTokens. */
export type FinishReason = "stop" | "length" | "eos";

export interface SequenceLimits {
	maxNewTokens: number;
	eosTokenIds: ReadonlySet<number>;
	stopTokenIds: ReadonlySet<number>;
	stopStrings: readonly string[];
	/** Special token ids kept in the text (TCOT markers). */
	keepSpecialTokens?: ReadonlySet<number>;
	/** Record each generated token's log-probability. */
	logprobs?: boolean;
}

/**
 * One prompt being generated: its tokens, text, stop checks and finish reason. The EOS or stop token that ends
 * a sequence is not part of `tokenIds` (so `tokenIds` decode to `text`); a stop string is cut from `text`.
 */
export class SequenceState {
	readonly tokenIds: number[] = [];
	/** log P(token) of each of tokenIds (with `logprobs`). */
	readonly tokenLogprobs: number[] = [];
	finishReason: FinishReason | undefined;
	private lastLogprob = 0;
	private readonly text: GeneratedText;
	private readonly seen: Set<number> | undefined;

	constructor(
		/** Position of the prompt in the caller's list. */
		readonly index: number,
		readonly promptIds: readonly number[],
		tokenizer: ChatTokenizer,
		private readonly limits: SequenceLimits,
		private readonly sampling: ResolvedSampling,
		private readonly rng: SeededRng | undefined,
		private readonly onToken: ((index: number, text: string) => void) | undefined,
	) {
		this.text = new GeneratedText(tokenizer, limits.stopStrings, limits.keepSpecialTokens);
		if (sampling.repetitionPenalty !== 1) this.seen = new Set(promptIds);
		if (limits.maxNewTokens === 0) this.finish("length");
	}

	/** Whether the next token is the argmax of the logits (greedy, no repetition penalty, no log-probabilities). */
	get greedy(): boolean {
		return this.sampling.temperature === 0 && !this.seen && !this.limits.logprobs;
	}

	get done(): boolean {
		return this.finishReason !== undefined;
	}

	/** Chooses the next token from this sequence's row of logits (modified in place by the penalty). */
	choose(logits: Float32Array): number {
		if (this.seen) applyRepetitionPenalty(logits, this.seen, this.sampling.repetitionPenalty);
		const id = sampleToken(logits, this.sampling, this.rng);
		// The model's distribution (after the repetition penalty, before temperature and top-k/top-p), as vLLM reports it.
		if (this.limits.logprobs) this.lastLogprob = (logits[id] as number) - logSumExp(logits);
		return id;
	}

	/**
	 * The next `count` uniform draws of this sequence's stream, one per token, as choose() would take them (the
	 * in-graph sampling loop samples with them); zeros for a finished or greedy sequence.
	 */
	draws(count: number): number[] {
		return Array.from({ length: count }, () => (this.rng && !this.done ? this.rng.float() : 0));
	}

	/** Takes the chosen token: streams its text and decides whether the sequence is finished. */
	accept(id: number): void {
		if (this.done) return;
		if (this.limits.eosTokenIds.has(id)) return this.finish("eos");
		if (this.limits.stopTokenIds.has(id)) return this.finish("stop");
		this.tokenIds.push(id);
		if (this.limits.logprobs) this.tokenLogprobs.push(this.lastLogprob);
		this.seen?.add(id);
		this.emit(this.text.push(id));
		if (this.text.stopped) return this.finish("stop");
		if (this.tokenIds.length >= this.limits.maxNewTokens) this.finish("length");
	}

	/** Ends the sequence now (a client went away, Ctrl-C): finish reason "stop", the text so far. */
	cancel(): void {
		if (!this.done) this.finish("stop");
	}

	private finish(reason: FinishReason): void {
		this.finishReason = reason;
		this.emit(this.text.flush());
	}

	private emit(delta: string): void {
		if (delta !== "" && this.onToken) this.onToken(this.index, delta);
	}

	get result(): { text: string; tokenIds: number[]; finishReason: FinishReason; tokenLogprobs?: number[] } {
		return { text: this.text.text, tokenIds: this.tokenIds, finishReason: this.finishReason ?? "length", ...(this.limits.logprobs ? { tokenLogprobs: this.tokenLogprobs } : {}) };
	}
}

function logSumExp(logits: Float32Array): number {
	let max = Number.NEGATIVE_INFINITY;
	for (let i = 0; i < logits.length; i++) if ((logits[i] as number) > max) max = logits[i] as number;
	let sum = 0;
	for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
	return max + Math.log(sum);
}
