import { Tensor } from "onnxruntime-node";
import type { InferenceSession } from "onnxruntime-node";
import { chooseNext, decoderFeeds, generationFetches, noExtraFeeds, presentCache, scoresOutput, stepCacheNames } from "./host-decode.js";
import type { ExtraFeeds } from "./host-decode.js";
import { KvCacheBuffers } from "./kv-cache-buffers.js";
import type { ModelInfo } from "./model-info.js";
import type { SequenceState } from "./sequence-state.js";
import { int64Tensor, leftPad } from "./tensors.js";

/** A sequence in the running batch: its attention mask over the batch's written KV columns, its next position and input token. */
interface Row {
	sequence: SequenceState;
	mask: number[];
	position: number;
	next: number;
	done(): void;
	retired?: boolean;
}

type CacheData = Float32Array | Uint16Array;

/** Unattended columns below which the cache is not copied to drop them: a short batch would otherwise be copied every few steps (a chosen floor, not a measured one). */
const MIN_TRIM = 32;

/** The batch's cache as the session reads it: `capacity` columns, of which the first `length` are written. */
interface BatchCache {
	readonly length: number;
	readonly capacity: number;
	past(): Tensor[];
}

/** A cache fetched whole from the session (`present.*`), every column written: where the step cache cannot be used. */
class FetchedCache implements BatchCache {
	readonly length: number;
	readonly capacity: number;
	constructor(private readonly tensors: Tensor[]) {
		this.length = this.capacity = (tensors[0] as Tensor).dims[2] as number;
	}
	past(): Tensor[] {
		return this.tensors;
	}
}

/**
 * Continuous batching (as vLLM schedules, without paging): requests join the running batch at the next decode step
 * instead of waiting for it to finish, and finished sequences leave it. A joining group is prefilled on its own
 * (left-padded); with the cache kept in place each joining row takes the place of a finished one, its prefill
 * aligned on the right of the written columns (left-padded with masked ones), and otherwise the caches are merged
 * by one copy, left-padding the shorter side. Finished rows and columns no row attends to any more are dropped
 * by a copy once they outnumber the live ones. Every row keeps its own
 * `position_ids` and mask, so a row sees exactly what it would see generated alone. With `stepCache` (the engine's
 * choice: CPU, a graph with `present_step.*`, no sliding window) the cache stays between joins in `KvCacheBuffers`
 * that the session reads in place, and a decode step brings out only its own position's keys and values; otherwise
 * every run's whole `present.*` is fetched and fed back.
 */
export class ContinuousBatcher {
	private rows: Row[] = [];
	private cache: BatchCache | undefined;
	private readonly pending: Row[] = [];
	private running = false;
	/** A prefill's whole cache (present.*), which its rows bring into the batch's when they join. */
	private readonly presentNames: string[];
	/** A decode step's own keys and values (present_step.*), with the step cache. */
	private readonly stepNames: string[] | undefined;

	constructor(
		private readonly session: InferenceSession,
		private readonly info: ModelInfo,
		private readonly padId: number,
		private readonly maxBatch: number,
		private readonly extra: ExtraFeeds = noExtraFeeds,
		stepCache = false,
	) {
		this.presentNames = generationFetches(info).slice(1);
		this.stepNames = stepCache ? stepCacheNames(info) : undefined;
	}

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
					this.cache = undefined;
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
				this.cache = undefined;
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
		this.cache = undefined;
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
		if (joining.length === 0) {
			this.retire();
			return;
		}
		// Finished rows are resolved, but stay for the joining rows to take their places.
		this.resolveFinished();
		const padded = leftPad(
			joining.map((row) => row.sequence.promptIds),
			this.padId,
		);
		const scores = this.scores(joining);
		const outputs = await this.session.run(decoderFeeds(this.info, padded, undefined, joining.length, this.extra), [scores.name, ...this.presentNames]);
		const scored = outputs[scores.name] as Tensor;
		joining.forEach((row, b) => {
			const id = chooseNext(row.sequence, scored, b, scores.greedy, this.info.vocabSize);
			row.sequence.accept(id);
			row.next = id;
			row.mask = [...(padded.mask[b] as number[])];
			row.position = (padded.lastPosition[b] as number) + 1;
		});
		const prefilled = { tensors: presentCache(this.info, outputs), length: padded.length };
		const staying = this.rows.filter((row) => !row.sequence.done);
		if (!this.cache || staying.length === 0) {
			this.rows = joining;
			this.cache = this.cacheOf(prefilled.tensors);
			return;
		}
		if (this.joinInPlace(joining, prefilled)) return;
		// One copy of the cache both drops the finished rows and adds the joining ones.
		const index = new Map(this.rows.map((row, i) => [row, i]));
		const count = this.rows.length;
		this.rebuild([...staying, ...joining], [this.written(), prefilled], [count, joining.length], (row, i) => (i < staying.length ? (index.get(row) as number) : count + i - staying.length));
	}

	/**
	 * Joining rows take the places of finished ones in the cache kept in place, each prefill aligned on the right of
	 * the written columns: nothing else is copied. Not possible when a prompt is longer than the written columns or
	 * fewer rows have finished than join (the batch then grows by a rebuild).
	 */
	private joinInPlace(joining: Row[], prefilled: { tensors: Tensor[]; length: number }): boolean {
		const cache = this.cache;
		if (!(cache instanceof KvCacheBuffers) || prefilled.length > cache.length) return false;
		const free = this.rows.flatMap((row, i) => (row.sequence.done ? [i] : []));
		if (free.length < joining.length) return false;
		joining.forEach((row, b) => {
			const slot = free[b] as number;
			cache.writeRow(slot, prefilled.tensors, b);
			row.mask = [...new Array<number>(cache.length - prefilled.length).fill(0), ...row.mask];
			this.rows[slot] = row;
		});
		return true;
	}

	/** Greedy ids from the graph when every live row is greedy (a shared decoder), else the logits. */
	private scores(rows: Row[]): { name: string; greedy: boolean } {
		return scoresOutput(
			this.session,
			this.info,
			rows.map((row) => row.sequence),
		);
	}

	/** The batch's cache as a rebuild source: its feeds, of which the first `length` columns are written. */
	private written(): { tensors: Tensor[]; length: number } {
		const cache = this.cache as BatchCache;
		return { tensors: cache.past(), length: cache.length };
	}

	/** The batch cache holding `tensors` ([batch, kv_heads, length, head_dim] per key/value, every column written). */
	private cacheOf(tensors: Tensor[]): BatchCache {
		if (!this.stepNames) return new FetchedCache(tensors);
		const cache = new KvCacheBuffers(this.info, (tensors[0] as Tensor).dims[0] as number);
		cache.append(tensors);
		return cache;
	}

	/** One decode step for every running row. */
	private async step(): Promise<void> {
		const cache = this.cache as BatchCache;
		const batch = this.rows.length;
		// Each row's mask over the written columns, zeros over the columns not written yet, one for the new token.
		const { length, capacity } = cache;
		const width = capacity + 1;
		const mask = new BigInt64Array(batch * width);
		this.rows.forEach((row, r) => {
			for (let i = 0; i < length; i++) if (row.mask[i] === 1) mask[r * width + i] = 1n;
			mask[r * width + capacity] = 1n;
		});
		const inputs = {
			inputIds: int64Tensor(
				this.rows.map((row) => row.next),
				[batch, 1],
			),
			attentionMask: new Tensor("int64", mask, [batch, width]),
			positionIds: int64Tensor(
				this.rows.map((row) => row.position),
				[batch, 1],
			),
		};
		const scores = this.scores(this.rows);
		const outputs = await this.session.run(decoderFeeds(this.info, inputs, cache.past(), batch, this.extra), [scores.name, ...(this.stepNames ?? this.presentNames)]);
		const scored = outputs[scores.name] as Tensor;
		this.rows.forEach((row, r) => {
			if (row.sequence.done) return;
			const id = chooseNext(row.sequence, scored, r, scores.greedy, this.info.vocabSize);
			row.sequence.accept(id);
			row.next = id;
			row.position += 1;
		});
		if (cache instanceof KvCacheBuffers && this.stepNames) cache.append(this.stepNames.map((name) => outputs[name] as Tensor));
		else this.cache = new FetchedCache(presentCache(this.info, outputs));
		for (const row of this.rows) row.mask.push(1);
	}

	/**
	 * Finished (or cancelled) sequences are resolved at once; their rows stay for joining rows to take their places,
	 * or leave when the cache is next rebuilt: now, when they outnumber the live rows or the columns no live row
	 * attends to outnumber the attended ones (copying the whole cache at every finish would cost more than the rows'
	 * and columns' wasted compute).
	 */
	private retire(): void {
		this.resolveFinished();
		const live = this.live();
		if (live === 0 || !this.cache) return;
		if (this.rows.length - live <= live) {
			// Columns on the left that no live row attends to (rows that joined in place leave them behind) are
			// dropped once they are as many as the attended ones: attention reads every column at every step.
			let attended = 0;
			for (const row of this.rows) if (!row.sequence.done) attended = Math.max(attended, row.mask.length - row.mask.indexOf(1));
			if (this.cache.length - attended < Math.max(attended, MIN_TRIM)) return;
		}
		const index = new Map(this.rows.map((row, i) => [row, i]));
		this.rebuild(
			this.rows.filter((row) => !row.sequence.done),
			[this.written()],
			[this.rows.length],
			(row) => index.get(row) as number,
		);
	}

	/** Resolves every finished (or cancelled) sequence once; their rows stay until they are replaced or dropped. */
	private resolveFinished(): void {
		for (const row of this.rows) {
			if (row.sequence.done && !row.retired) {
				row.retired = true;
				row.done();
			}
		}
	}

	/**
	 * Builds the batch cache for `rows` from `sources` (each [n_i, kv_heads, width_i, head_dim] per key/value tensor,
	 * rows in order, of which the first `length_i` columns are written), aligned on the right of the written columns:
	 * the new length is the longest mask after dropping the columns that no kept row attends to.
	 */
	private rebuild(rows: Row[], sources: { tensors: Tensor[]; length: number }[], counts: number[], sourceRow: (row: Row, i: number) => number = (_row, i) => i): void {
		const { kvHeads, headDim } = this.info;
		// Columns every row masks on the left can go.
		const length = Math.max(...rows.map((row) => row.mask.length - row.mask.indexOf(1)));
		const starts: number[] = [];
		counts.reduce((start, count) => (starts.push(start), start + count), 0);
		const merged: Tensor[] = [];
		for (let t = 0; t < 2 * this.info.layers; t++) {
			const first = (sources[0] as { tensors: Tensor[] }).tensors[t] as Tensor;
			const data: CacheData = first.type === "float16" ? new Uint16Array(rows.length * kvHeads * length * headDim) : new Float32Array(rows.length * kvHeads * length * headDim);
			rows.forEach((row, r) => {
				const at = sourceRow(row, r);
				let s = starts.length - 1;
				while ((starts[s] as number) > at) s -= 1;
				const { tensors, length: written } = sources[s] as { tensors: Tensor[]; length: number };
				const source = tensors[t] as Tensor;
				const local = at - (starts[s] as number);
				const width = source.dims[2] as number;
				const keep = Math.min(length, written);
				const src = source.data as CacheData;
				for (let h = 0; h < kvHeads; h++) {
					const from = ((local * kvHeads + h) * width + (written - keep)) * headDim;
					const to = ((r * kvHeads + h) * length + (length - keep)) * headDim;
					data.set(src.subarray(from, from + keep * headDim), to);
				}
			});
			merged.push(new Tensor(first.type as "float32" | "float16", data, [rows.length, kvHeads, length, headDim]));
		}
		for (const row of rows) {
			const current = row.mask.length;
			row.mask = current >= length ? row.mask.slice(current - length) : [...new Array<number>(length - current).fill(0), ...row.mask];
		}
		this.rows = rows;
		this.cache = this.cacheOf(merged);
	}
}
