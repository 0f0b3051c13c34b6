import type { ChatTokenizer } from "./tokenizer.js";

/**
 * The text of one generated sequence, built token by token: incremental detokenisation (prefix/read offsets,
 * as text-generation-inference does it) so that multi-byte characters split across byte-fallback tokens are
 * only emitted once complete, plus stop-string search. Text that could still become a stop string is held
 * back, so the streamed deltas always add up to the final text.
 */
export class GeneratedText {
	private readonly ids: number[] = [];
	private prefixOffset = 0;
	private readOffset = 0;
	/** Everything decoded so far (before stop-string truncation). */
	private decoded = "";
	/** How much of `decoded` has been handed out as deltas. */
	private emitted = 0;
	private readonly longestStop: number;
	/** Set when a stop string was found: the text ends before it. */
	stopped = false;

	constructor(
		private readonly tokenizer: ChatTokenizer,
		private readonly stopStrings: readonly string[],
		/** Special tokens that stay in the text (TCOT markers); every other special token is dropped. */
		private readonly keepSpecialTokens: ReadonlySet<number> = new Set(),
	) {
		this.longestStop = Math.max(0, ...stopStrings.map((s) => s.length));
	}

	/** Adds a token; returns the new text that is safe to stream (possibly ""). */
	push(id: number): string {
		if (this.stopped) return "";
		this.ids.push(id);
		const before = this.decode(this.prefixOffset, this.readOffset);
		const after = this.decode(this.prefixOffset, this.ids.length);
		// A trailing U+FFFD is an incomplete UTF-8 sequence (byte-fallback tokens): wait for the next token.
		if (after.length > before.length && !after.endsWith("\uFFFD")) {
			const searchFrom = Math.max(0, this.decoded.length - this.longestStop + 1);
			this.decoded += after.slice(before.length);
			this.prefixOffset = this.readOffset;
			this.readOffset = this.ids.length;
			const cut = this.findStop(searchFrom);
			if (cut !== undefined) {
				this.stopped = true;
				this.decoded = this.decoded.slice(0, cut);
			}
		}
		return this.take(this.stopped ? this.decoded.length : this.safeEnd());
	}

	/** Ends the sequence: returns what was held back (an unfinished stop-string prefix or partial character). */
	flush(): string {
		if (!this.stopped && this.readOffset < this.ids.length) this.decoded += this.decode(this.prefixOffset, this.ids.length).slice(this.decode(this.prefixOffset, this.readOffset).length);
		return this.take(this.decoded.length);
	}

	/** The full text so far (including any held-back tail). */
	get text(): string {
		return this.decoded;
	}

	private decode(from: number, to: number): string {
		return from >= to ? "" : this.tokenizer.decode(this.ids.slice(from, to), { skipSpecialTokens: true, keepSpecialTokens: this.keepSpecialTokens });
	}

	private findStop(from: number): number | undefined {
		let best: number | undefined;
		for (const stop of this.stopStrings) {
			if (stop === "") continue;
			const at = this.decoded.indexOf(stop, from);
			if (at >= 0 && (best === undefined || at < best)) best = at;
		}
		return best;
	}

	/** End of the text that cannot turn into a stop string any more. */
	private safeEnd(): number {
		let hold = 0;
		for (const stop of this.stopStrings) {
			for (let n = Math.min(stop.length - 1, this.decoded.length); n > hold; n--) {
				if (this.decoded.endsWith(stop.slice(0, n))) {
					hold = n;
					break;
				}
			}
		}
		return this.decoded.length - hold;
	}

	private take(end: number): string {
		if (end <= this.emitted) return "";
		const delta = this.decoded.slice(this.emitted, end);
		this.emitted = end;
		return delta;
	}
}
