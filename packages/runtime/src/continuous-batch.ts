import { Tensor } from "onnxruntime-node";
import type { InferenceSession } from "onnxruntime-node";
import { decoderFeeds, generationFetches, noExtraFeeds, presentCache } from "./host-decode.js";
import type { ExtraFeeds } from "./host-decode.js";
import type { ModelInfo } from "./model-info.js";
import type { SequenceState } from "./sequence-state.js";
import { floatData, int64Tensor, leftPad } from "./tensors.js";

/** A sequence in the running batch: its attention mask over the batch's KV columns, its next position and input token. */
interface Row {
	sequence: SequenceState;
	mask: number[];
	position: number;
	next: number;
	done(): void;
	retired?: boolean;
}

type CacheData = Float32Array | Uint16Array;

/**
 * Continuous batching (as vLLM schedules, without paging): requests join the running batch at the next decode step
 * instead of waiting for it to finish, and finished sequences leave it. A joining group is prefilled on its own
 * (left-padded), its KV cache merged into the batch's by left-padding the shorter side with masked columns; a
 * leaving row is dropped, and columns no row attends to any more are trimmed. Every row keeps its own
 * `position_ids` and mask, so a row sees exactly what it would see generated alone.
 */
export class ContinuousBatcher {
	private rows: Row[] = [];
	private past: Tensor[] | undefined;
	private readonly pending: Row[] = [];
	private running = false;

	constructor(
		private readonly session: InferenceSession,
		private readonly info: ModelInfo,
		private readonly padId: number,
		private readonly maxBatch: number,
		private readonly extra: ExtraFeeds = noExtraFeeds,
	) {}

	/** Sequences running or waiting. */
	get size(): number {
		return this.rows.length + this.pending.length;
	}

	/** Adds a sequence; resolves once it is finished (EOS, stop, length or cancel()). */
	submit(sequence: SequenceState): Promise<void> {
		if (sequence.done) return Promise.resolve();
		return new Promise<void>((resolve, reject) => {
			this.pending.push({ sequence, mask: [], position: 0, next: this.padId, done: resolve });
			if (!this.running) {
				this.running = true;
				void this.loop().catch((error: unknown) => {
					// A failed run fails every sequence it held; the batcher starts afresh for later requests.
					for (const row of [...this.rows, ...this.pending]) row.sequence.cancel();
					this.rows = [];
					this.pending.length = 0;
					this.past = undefined;
					this.running = false;
					reject(error);
				});
			}
		});
	}

	private async loop(): Promise<void> {
		while (this.live() > 0 || this.pending.length > 0) {
			const free = this.maxBatch - this.live();
			if (this.pending.length > 0 && free > 0) await this.admit(this.pending.splice(0, free));
			this.retire();
			if (this.live() === 0) {
				this.rows = [];
				this.past = undefined;
				continue;
			}
			await this.step();
			this.retire();
			// Let requests that arrived during the step reach the queue before the next one.
			await new Promise<void>((resolve) => setImmediate(resolve));
		}
		// A sequence cancelled while the loop yielded is resolved here.
		this.retire();
		this.rows = [];
		this.past = undefined;
		this.running = false;
	}

	/** Rows still generating (finished rows stay in the batch, ignored, until the cache is rebuilt anyway). */
	private live(): number {
		let count = 0;
		for (const row of this.rows) if (!row.sequence.done) count += 1;
		return count;
	}

	/** Prefills joining sequences together and merges their cache into the batch's. */
	private async admit(joining: Row[]): Promise<void> {
		joining = joining.filter((row) => (row.sequence.done ? (row.done(), false) : true));
		this.retire();
		if (joining.length === 0) return;
		const padded = leftPad(
			joining.map((row) => row.sequence.promptIds),
			this.padId,
		);
		const outputs = await this.session.run(decoderFeeds(this.info, padded, undefined, joining.length, this.extra), generationFetches(this.info));
		const logits = outputs[this.info.ioNames.logits] as Tensor;
		const [, steps = 1, vocab = this.info.vocabSize] = logits.dims;
		joining.forEach((row, b) => {
			const id = row.sequence.choose(floatData(logits, (b * steps + steps - 1) * vocab, vocab));
			row.sequence.accept(id);
			row.next = id;
			row.mask = [...(padded.mask[b] as number[])];
			row.position = (padded.lastPosition[b] as number) + 1;
		});
		const cache = presentCache(this.info, outputs);
		const staying = this.rows.filter((row) => !row.sequence.done);
		if (!this.past || staying.length === 0) {
			this.rows = joining;
			this.past = cache;
			return;
		}
		// One copy of the cache both drops the finished rows and adds the joining ones.
		const index = new Map(this.rows.map((row, i) => [row, i]));
		const count = this.rows.length;
		this.rebuild([...staying, ...joining], [this.past, cache], [count, joining.length], (row, i) => (i < staying.length ? (index.get(row) as number) : count + i - staying.length));
	}

	/** One decode step for every running row. */
	private async step(): Promise<void> {
		const batch = this.rows.length;
		for (const row of this.rows) row.mask.push(1);
		const length = (this.rows[0] as Row).mask.length;
		const mask = new Array<number>(batch * length);
		this.rows.forEach((row, r) => {
			for (let i = 0; i < length; i++) mask[r * length + i] = row.mask[i] as number;
		});
		const inputs = {
			inputIds: int64Tensor(
				this.rows.map((row) => row.next),
				[batch, 1],
			),
			attentionMask: int64Tensor(mask, [batch, length]),
			positionIds: int64Tensor(
				this.rows.map((row) => row.position),
				[batch, 1],
			),
		};
		const outputs = await this.session.run(decoderFeeds(this.info, inputs, this.past, batch, this.extra), generationFetches(this.info));
		const logits = outputs[this.info.ioNames.logits] as Tensor;
		const [, steps = 1, vocab = this.info.vocabSize] = logits.dims;
		this.rows.forEach((row, r) => {
			if (row.sequence.done) return;
			const id = row.sequence.choose(floatData(logits, (r * steps + steps - 1) * vocab, vocab));
			row.sequence.accept(id);
			row.next = id;
			row.position += 1;
		});
		this.past = presentCache(this.info, outputs);
	}

	/**
	 * Finished (or cancelled) sequences are resolved at once; their rows leave the batch when the cache is next
	 * rebuilt (a join), or now when they outnumber the live rows: copying the whole cache at every finish would cost
	 * more than the rows' wasted compute.
	 */
	private retire(): void {
		for (const row of this.rows) {
			if (row.sequence.done && !row.retired) {
				row.retired = true;
				row.done();
			}
		}
		const live = this.live();
		if (live === 0 || !this.past || this.rows.length - live <= live) return;
		const index = new Map(this.rows.map((row, i) => [row, i]));
		this.rebuild(
			this.rows.filter((row) => !row.sequence.done),
			[this.past],
			[this.rows.length],
			(row) => index.get(row) as number,
		);
	}

	/**
	 * Builds the batch cache for `rows` from `sources` (each [n_i, kv_heads, L_i, head_dim], rows in order), aligned
	 * on the right: the new length is the longest mask after dropping the columns that no kept row attends to.
	 */
	private rebuild(rows: Row[], sources: Tensor[][], counts: number[], sourceRow: (row: Row, i: number) => number = (_row, i) => i): void {
		const { kvHeads, headDim } = this.info;
		// Columns every row masks on the left can go.
		const length = Math.max(...rows.map((row) => row.mask.length - row.mask.indexOf(1)));
		const starts: number[] = [];
		counts.reduce((start, count) => (starts.push(start), start + count), 0);
		const next: Tensor[] = [];
		for (let t = 0; t < 2 * this.info.layers; t++) {
			const first = (sources[0] as Tensor[])[t] as Tensor;
			const data: CacheData = first.type === "float16" ? new Uint16Array(rows.length * kvHeads * length * headDim) : new Float32Array(rows.length * kvHeads * length * headDim);
			rows.forEach((row, r) => {
				const at = sourceRow(row, r);
				let s = starts.length - 1;
				while ((starts[s] as number) > at) s -= 1;
				const source = (sources[s] as Tensor[])[t] as Tensor;
				const local = at - (starts[s] as number);
				const sourceLength = source.dims[2] as number;
				const keep = Math.min(length, sourceLength);
				const src = source.data as CacheData;
				for (let h = 0; h < kvHeads; h++) {
					const from = ((local * kvHeads + h) * sourceLength + (sourceLength - keep)) * headDim;
					const to = ((r * kvHeads + h) * length + (length - keep)) * headDim;
					data.set(src.subarray(from, from + keep * headDim), to);
				}
			});
			next.push(new Tensor(first.type as "float32" | "float16", data, [rows.length, kvHeads, length, headDim]));
		}
		for (const row of rows) {
			const current = row.mask.length;
			row.mask = current >= length ? row.mask.slice(current - length) : [...new Array<number>(length - current).fill(0), ...row.mask];
		}
		this.rows = rows;
		this.past = next;
	}
}
