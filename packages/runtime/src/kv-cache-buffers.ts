import { Tensor } from "onnxruntime-node";
import type { ModelInfo } from "./model-info.js";

type CacheData = Float32Array | Uint16Array;

/** Columns added at a time when the cache is full: one relayout per this many decode steps. */
const GROW_BY = 16;
/** Values per span from which append copies with subarray + set rather than an element loop. */
const WIDE_SPAN = 1024;

/**
 * The KV cache of a host decode loop kept in JavaScript buffers with room to grow, [batch, kv_heads, capacity,
 * head_dim] per layer: every run reads them in place as `past_key_values.*` (onnxruntime-node wraps an input's
 * buffer without copying it) and returns only its own positions' keys and values (`present_step.*`,
 * addStepCacheOutputs), written into the next free columns here. onnxruntime-node copies each fetched output into a
 * new ArrayBuffer, so fetching `present.*` instead would move the whole cache out of the session at every step
 * (measured: ~30% of a batch-32 step on the 56M fixture). Columns not written yet are masked out
 * (attention_mask 0), as left padding is, so every row attends to exactly the positions it has.
 */
export class KvCacheBuffers {
	/** Columns written. */
	length = 0;
	/** Columns the feeds have (≥ length). */
	capacity = 0;
	/** Per key/value tensor: a buffer with room for `room` columns, of which the first batch × kv_heads × capacity × head_dim values are the feed. */
	private data: CacheData[] = [];
	private room = 0;
	/** The feeds of the current capacity, made once per growth. */
	private feeds: Tensor[] | undefined;

	constructor(
		private readonly info: ModelInfo,
		private readonly batch: number,
	) {}

	/** The cache as past_key_values feeds, in decoderFeeds' order (key, value per layer), `capacity` columns long. */
	past(): Tensor[] {
		const { kvHeads, headDim, dtype } = this.info;
		const size = this.batch * kvHeads * this.capacity * headDim;
		this.feeds ??= this.data.map((data) => new Tensor(dtype === "fp16" ? "float16" : "float32", data.subarray(0, size), [this.batch, kvHeads, this.capacity, headDim]));
		return this.feeds;
	}

	/** Writes a run's `present_step.*` tensors (key, value per layer; [batch, kv_heads, steps, head_dim]) after the written columns. */
	append(steps: readonly Tensor[]): void {
		const added = (steps[0] as Tensor).dims[2] as number;
		if (this.length + added > this.capacity) this.grow(this.length + added + GROW_BY);
		const { kvHeads, headDim } = this.info;
		const span = added * headDim;
		const rows = this.batch * kvHeads;
		for (let t = 0; t < steps.length; t++) {
			const source = (steps[t] as Tensor).data as CacheData;
			const target = this.data[t] as CacheData;
			if (span >= WIDE_SPAN) {
				// A prefill's spans (prompt × head_dim values): one memcpy each.
				for (let row = 0; row < rows; row++) target.set(source.subarray(row * span, (row + 1) * span), (row * this.capacity + this.length) * headDim);
				continue;
			}
			// A decode step's spans (head_dim values): an element loop, where a view per span costs more than the copy.
			for (let row = 0; row < rows; row++) {
				const from = row * span;
				const to = (row * this.capacity + this.length) * headDim;
				for (let i = 0; i < span; i++) target[to + i] = source[from + i] as number;
			}
		}
		this.length += added;
	}

	/**
	 * Replaces batch row `slot` with row `from` of a prefill's whole cache (`present.*`, key, value per layer;
	 * [n, kv_heads, width, head_dim], every column written), aligned on the right of the written columns: a sequence
	 * joining a continuous batch in the place of a finished one, without copying the other rows. The columns before
	 * it are zeroed (masked out for it); those after the written ones are zero already.
	 */
	writeRow(slot: number, prefill: readonly Tensor[], from: number): void {
		const width = (prefill[0] as Tensor).dims[2] as number;
		if (width > this.length) throw new RangeError(`KvCacheBuffers.writeRow: a prefill of ${width} columns does not fit the ${this.length} written`);
		const { kvHeads, headDim } = this.info;
		const pad = (this.length - width) * headDim;
		for (let t = 0; t < prefill.length; t++) {
			const source = (prefill[t] as Tensor).data as CacheData;
			const target = this.data[t] as CacheData;
			for (let h = 0; h < kvHeads; h++) {
				const src = (from * kvHeads + h) * width * headDim;
				const dst = (slot * kvHeads + h) * this.capacity * headDim;
				target.fill(0, dst, dst + pad);
				target.set(source.subarray(src, src + width * headDim), dst + pad);
			}
		}
	}

	/**
	 * Widens every row to `capacity` columns. Within the buffers' room the rows move in place (last row first, so
	 * none is overwritten before it moves) and the columns freed behind them are zeroed; only past the room are new
	 * buffers, with twice the room, allocated: a generation touches its buffers' pages once and leaves no garbage
	 * per growth, where allocating at every growth cost more than the copy (page faults of fresh memory, GC).
	 */
	private grow(capacity: number): void {
		const { kvHeads, headDim, dtype } = this.info;
		const rows = this.batch * kvHeads;
		const kept = this.length * headDim;
		const from = this.capacity * headDim;
		const to = capacity * headDim;
		if (capacity > this.room) {
			this.room = 2 * capacity;
			this.data = Array.from({ length: 2 * this.info.layers }, (_, t) => {
				const data = dtype === "fp16" ? new Uint16Array(rows * this.room * headDim) : new Float32Array(rows * this.room * headDim);
				const old = this.data[t];
				if (old) for (let row = 0; row < rows; row++) data.set(old.subarray(row * from, row * from + kept), row * to);
				return data;
			});
		} else {
			for (const data of this.data) {
				for (let row = rows - 1; row > 0; row--) {
					data.copyWithin(row * to, row * from, row * from + kept);
					data.fill(0, row * to + kept, (row + 1) * to);
				}
				data.fill(0, kept, to);
			}
		}
		this.capacity = capacity;
		this.feeds = undefined;
	}
}
