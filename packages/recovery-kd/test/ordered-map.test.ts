import { describe, expect, it } from "vitest";
import { SeededRng } from "@transllm/core";
import { mapOrdered, MicroBatcher, Semaphore } from "../src/index.js";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("mapOrdered", () => {
	it("should yield in input order whatever order tasks finish in, with at most `concurrency` in flight", async () => {
		const rng = new SeededRng(3);
		const delays = Array.from({ length: 60 }, () => rng.int(15));
		let inFlight = 0;
		let peak = 0;
		const seen: number[] = [];
		async function* source() {
			for (let i = 0; i < delays.length; i++) yield i;
		}
		for await (const outcome of mapOrdered(
			source(),
			async (i) => {
				inFlight += 1;
				peak = Math.max(peak, inFlight);
				await delay(delays[i] as number);
				inFlight -= 1;
				return i * 2;
			},
			{ concurrency: 8 },
		)) {
			expect(outcome.ok).toBe(true);
			if (outcome.ok) seen.push(outcome.value);
		}
		expect(seen).toEqual(delays.map((_, i) => i * 2));
		expect(peak).toBe(8);
	});

	it("should yield a failed task at its position and go on", async () => {
		const outcomes = [];
		for await (const outcome of mapOrdered([1, 2, 3, 4], async (x) => {
			await delay(5 - x);
			if (x === 2) throw new Error("two");
			return x;
		}, { concurrency: 4 })) outcomes.push(outcome.ok ? outcome.value : (outcome.error as Error).message);
		expect(outcomes).toEqual([1, "two", 3, 4]);
	});

	it("should rethrow an error of the source after the items before it", async () => {
		async function* source() {
			yield 1;
			yield 2;
			throw new Error("bad line 3");
		}
		const seen: number[] = [];
		const run = async () => {
			for await (const outcome of mapOrdered(source(), async (x) => x, { concurrency: 2 })) if (outcome.ok) seen.push(outcome.value);
		};
		await expect(run()).rejects.toThrow("bad line 3");
		expect(seen).toEqual([1, 2]);
	});
});

describe("MicroBatcher", () => {
	it("should batch concurrent requests with the same key and keep others apart", async () => {
		const batches: string[][] = [];
		const batcher = new MicroBatcher<{ text: string; key: string }, string>(
			async (batch) => {
				batches.push(batch.map((r) => r.text));
				await delay(2);
				return batch.map((r) => r.text.toUpperCase());
			},
			{ maxBatch: 3, keyOf: (r) => r.key },
		);
		const results = await Promise.all(["a", "b", "c", "d", "e"].map((text, i) => batcher.submit({ text, key: i === 1 ? "other" : "same" })));
		expect(results).toEqual(["A", "B", "C", "D", "E"]);
		expect(batches).toEqual([["a", "c", "d"], ["b"], ["e"]]);
	});

	it("should give the error of a failed batch only to the request at fault", async () => {
		const batcher = new MicroBatcher<string, string>(
			async (batch) => {
				if (batch.includes("")) throw new Error("empty prompt");
				return batch.map((text) => text.toUpperCase());
			},
			{ maxBatch: 4, keyOf: () => "same" },
		);
		const results = await Promise.allSettled(["a", "", "c"].map((text) => batcher.submit(text)));
		expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual(["A", "empty prompt", "C"]);
	});
});

describe("Semaphore", () => {
	it("should run at most `size` tasks at once", async () => {
		const semaphore = new Semaphore(2);
		let active = 0;
		let peak = 0;
		await Promise.all(
			Array.from({ length: 7 }, () =>
				semaphore.run(async () => {
					active += 1;
					peak = Math.max(peak, active);
					await delay(3);
					active -= 1;
				}),
			),
		);
		expect(peak).toBe(2);
	});
});
