import { Tensor } from "onnxruntime-node";
import type { ModelInfo } from "./model-info.js";

type CacheData = Float32Array | Uint16Array;

/** Columns added at a time when the cache is full: one relayout per this many decode steps. */
const GROW_BY = 16;

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
	/** Columns the buffers hold (≥ length). */
	capacity = 0;
	private data: CacheData[] = [];

	constructor(
		private readonly info: ModelInfo,
		private readonly batch: number,
	) {}

	/** The cache as past_key_values feeds, in decoderFeeds' order (key, value per layer), `capacity` columns long. */
	past(): Tensor[] {
		const { kvHeads, headDim, dtype } = this.info;
		return this.data.map((data) => new Tensor(dtype === "fp16" ? "float16" : "float32", data, [this.batch, kvHeads, this.capacity, headDim]));
	}

	/** Writes a run's `present_step.*` tensors (key, value per layer; [batch, kv_heads, steps, head_dim]) after the written columns. */
	append(steps: readonly Tensor[]): void {
		const added = (steps[0] as Tensor).dims[2] as number;
		if (this.length + added > this.capacity) this.grow(this.length + added + GROW_BY);
		const { kvHeads, headDim } = this.info;
		const span = added * headDim;
		steps.forEach((step, t) => {
			const source = step.data as CacheData;
			const target = this.data[t] as CacheData;
			for (let row = 0; row < this.batch * kvHeads; row++) {
				// An element loop, not subarray + set: a decode step copies batch × kv_heads spans of head_dim values,
				// where creating a view per span costs more than the copy.
				const from = row * span;
				const to = (row * this.capacity + this.length) * headDim;
				for (let i = 0; i < span; i++) target[to + i] = source[from + i] as number;
			}
		});
		this.length += added;
	}

	private grow(capacity: number): void {
		const { kvHeads, headDim, dtype } = this.info;
		const tensors = 2 * this.info.layers;
		const next: CacheData[] = [];
		for (let t = 0; t < tensors; t++) {
			const data = dtype === "fp16" ? new Uint16Array(this.batch * kvHeads * capacity * headDim) : new Float32Array(this.batch * kvHeads * capacity * headDim);
			const old = this.data[t];
			if (old) for (let row = 0; row < this.batch * kvHeads; row++) data.set(old.subarray(row * this.capacity * headDim, (row * this.capacity + this.length) * headDim), row * capacity * headDim);
			next.push(data);
		}
		this.data = next;
		this.capacity = capacity;
	}
}
