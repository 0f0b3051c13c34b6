import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import type { ChatModel } from "../src/chat-model.js";
import { buildLlamaFixture, readLlamaReference, referenceForward } from "../src/fixture/index.js";
import { tempDir } from "./graph-test-helpers.js";
import { Tensor } from "onnxruntime-node";
import { KvCacheBuffers } from "../src/kv-cache-buffers.js";
import type { ModelInfo } from "../src/model-info.js";

/** Greedy continuation by the pure-TS reference (no KV cache): one full forward pass per token. */
async function referenceGreedy(dir: string, promptIds: number[], steps: number): Promise<number[]> {
	const { arch, weights } = await readLlamaReference(dir);
	const ids = [...promptIds];
	for (let step = 0; step < steps; step++) {
		const { logits, vocab } = referenceForward({ arch, weights, inputIds: [ids] });
		const last = logits.subarray((ids.length - 1) * vocab, ids.length * vocab);
		let best = 0;
		for (let i = 1; i < vocab; i++) if ((last[i] as number) > (last[best] as number)) best = i;
		ids.push(best);
	}
	return ids.slice(promptIds.length);
}

describe("host decode loop with the KV cache kept in place (KvCacheBuffers)", () => {
	let dir: string;
	let model: ChatModel;

	beforeAll(async () => {
		dir = await tempDir("kv-cache-buffers");
		await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 5 });
		model = await loadModel(dir, { worker: false, executionProvider: "cpu" });
	}, 60_000);
	afterAll(async () => {
		await model?.dispose();
	});

	it("should keep the greedy tokens of the reference forward pass across cache growth, batched with left padding", async () => {
		expect(model.hostKvCache).toBe("in-place");
		const prompts = ["Everyone has the right to life, liberty and security of person.", "All human beings", "No one shall be held in slavery"];
		// 40 tokens: the buffers grow twice (16 columns at a time) while the rows decode together.
		const results = await model.generate({ prompts, maxNewTokens: 40, batchSize: 3 });
		for (const [index, prompt] of prompts.entries()) {
			const result = results[index]!;
			const expected = await referenceGreedy(dir, model.tokenizer.encode(prompt), 40);
			expect(result.tokenIds).toEqual(expected.slice(0, result.tokenIds.length));
			if (result.finishReason === "eos") expect(model.eosTokenIds).toContain(expected[result.tokenIds.length]);
			else expect(result.tokenIds.length).toBe(40);
		}
	}, 60_000);

	it("should give seeded samples and log-probabilities that do not depend on the batch size", async () => {
		const prompts = ["All human beings are born free", "Everyone has the right to education", "No one"];
		const settings = { prompts, maxNewTokens: 24, temperature: 0.9, topK: 40, seed: 3, logprobs: true } as const;
		const batched = await model.generate({ ...settings, batchSize: 3 });
		const single = await model.generate({ ...settings, batchSize: 1 });
		for (const [index, result] of batched.entries()) {
			expect(result.tokenIds).toEqual(single[index]!.tokenIds);
			for (const [t, value] of result.tokenLogprobs!.entries()) expect(value).toBeCloseTo(single[index]!.tokenLogprobs![t]!, 4);
		}
	}, 60_000);
});

describe("KvCacheBuffers", () => {
	it("should hold every appended column in order, zeros in the unwritten ones, across in-place and reallocating growth", () => {
		const [batch, kvHeads, headDim, layers] = [3, 2, 4, 1];
		const info = { layers, kvHeads, headDim, dtype: "fp32" } as ModelInfo;
		const cache = new KvCacheBuffers(info, batch);
		// value(t, row, column, i): distinct per tensor, row (batch × kv head), column and element
		const value = (t: number, row: number, column: number, i: number) => t * 1e6 + row * 1e4 + column * 10 + i + 1;
		const step = (t: number, first: number, columns: number) => {
			const data = new Float32Array(batch * kvHeads * columns * headDim);
			for (let row = 0; row < batch * kvHeads; row++) for (let c = 0; c < columns; c++) for (let i = 0; i < headDim; i++) data[(row * columns + c) * headDim + i] = value(t, row, first + c, i);
			return new Tensor("float32", data, [batch, kvHeads, columns, headDim]);
		};
		// A prefill of 300 columns (wide spans: set), then single columns (element loop) through growths: room for
		// 2 × 316 columns is allocated first, widened in place until 632, then reallocated.
		const appends = [300, ...Array.from({ length: 360 }, () => 1)];
		const capacities = new Set<number>();
		for (const added of appends) {
			const first = cache.length;
			cache.append([step(0, first, added), step(1, first, added)]);
			const past = cache.past();
			capacities.add(cache.capacity);
			for (const [t, tensor] of past.entries()) {
				expect(tensor.dims).toEqual([batch, kvHeads, cache.capacity, headDim]);
				const data = tensor.data as Float32Array;
				expect(data.length).toBe(batch * kvHeads * cache.capacity * headDim);
				for (let row = 0; row < batch * kvHeads; row++) {
					for (let c = 0; c < cache.capacity; c++) {
						const at = (row * cache.capacity + c) * headDim;
						// every element of the last column written and of the first unwritten one; the first element elsewhere
						if (c === cache.length - 1 || c === cache.length) for (let i = 0; i < headDim; i++) expect(data[at + i]).toBe(c < cache.length ? value(t, row, c, i) : 0);
						else if (data[at] !== (c < cache.length ? value(t, row, c, 0) : 0)) expect({ t, row, c, got: data[at] }).toBeUndefined();
					}
				}
			}
		}
		expect(cache.length).toBe(660);
		expect(capacities.size).toBeGreaterThan(20);
		expect(Math.max(...capacities)).toBeGreaterThan(632);
	});

	it("should put a prefill's row in one batch row, aligned on the right of the written columns, and touch no other row", () => {
		const [batch, kvHeads, headDim] = [3, 2, 4];
		const info = { layers: 1, kvHeads, headDim, dtype: "fp32" } as ModelInfo;
		const cache = new KvCacheBuffers(info, batch);
		const filled = (rows: number, columns: number, offset: number) => {
			const data = new Float32Array(rows * kvHeads * columns * headDim).map((_, i) => offset + i + 1);
			return new Tensor("float32", data, [rows, kvHeads, columns, headDim]);
		};
		const before = [filled(batch, 10, 0), filled(batch, 10, 1e5)];
		cache.append(before);
		// Row 1 of a 2-row prefill of 6 columns replaces batch row 2.
		const prefill = [filled(2, 6, 5e5), filled(2, 6, 7e5)];
		cache.writeRow(2, prefill, 1);
		const { capacity } = cache;
		for (const [t, tensor] of cache.past().entries()) {
			const data = tensor.data as Float32Array;
			const old = (before[t] as Tensor).data as Float32Array;
			const joined = (prefill[t] as Tensor).data as Float32Array;
			for (let b = 0; b < batch; b++) {
				for (let h = 0; h < kvHeads; h++) {
					const row = (at: number) => Array.from(data.subarray(((b * kvHeads + h) * capacity + at) * headDim, ((b * kvHeads + h) * capacity + at + 1) * headDim));
					for (let c = 0; c < capacity; c++) {
						let expected: number[];
						if (c >= 10) expected = new Array<number>(headDim).fill(0);
						else if (b < 2) expected = Array.from(old.subarray(((b * kvHeads + h) * 10 + c) * headDim, ((b * kvHeads + h) * 10 + c + 1) * headDim));
						else if (c < 4) expected = new Array<number>(headDim).fill(0);
						else expected = Array.from(joined.subarray(((1 * kvHeads + h) * 6 + c - 4) * headDim, ((1 * kvHeads + h) * 6 + c - 3) * headDim));
						expect(row(c)).toEqual(expected);
					}
				}
			}
		}
		expect(() => cache.writeRow(0, [filled(1, 11, 0), filled(1, 11, 0)], 0)).toThrow(/11 columns does not fit the 10 written/);
	});
});
