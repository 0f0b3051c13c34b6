import { udhrParagraphs } from "@transllm/udhr-text";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { InferenceSession } from "onnxruntime-node";
import { loadModel } from "../src/chat-model.js";
import { Engine } from "../src/engine.js";
import type { ChatModel } from "../src/chat-model.js";
import type { GenerationResult } from "../src/engine.js";
import { buildLlamaFixture } from "../src/fixture/index.js";
import { KvCacheBuffers } from "../src/kv-cache-buffers.js";
import { tempDir } from "./graph-test-helpers.js";

// Prompts of mixed lengths (3 to ~60 tokens) and answer lengths.
const PROMPTS = ["All human beings", ...udhrParagraphs("en").slice(2, 7).map((p, i) => p.slice(0, 40 + 50 * i)), "Everyone has the right to life", "No one shall be held in slavery"];
const LENGTHS = [30, 5, 17, 1, 24, 9, 40, 12];

describe("continuous batching (ChatModel.submit)", () => {
	let model: ChatModel;

	beforeAll(async () => {
		const dir = await tempDir("runtime-continuous");
		await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 5 });
		model = await loadModel(dir, { executionProvider: "cpu", maxBatch: 4 });
	}, 120_000);
	afterAll(async () => {
		await model?.dispose();
	});

	it("should give the tokens of one-by-one greedy generation while requests join and leave the running batch", async () => {
		const alone: (GenerationResult | undefined)[] = [];
		for (const [i, prompt] of PROMPTS.entries()) alone.push((await model.generate({ prompts: [prompt], maxNewTokens: LENGTHS[i] as number, batchSize: 1 }))[0]);
		// Staggered arrivals: half now, the rest while the first ones decode (they join at the next step; 4 rows at most).
		const handles = PROMPTS.slice(0, 4).map((prompt, i) => model.submit({ prompt, maxNewTokens: LENGTHS[i] as number }));
		await new Promise((resolve) => setTimeout(resolve, 20));
		handles.push(...PROMPTS.slice(4).map((prompt, i) => model.submit({ prompt, maxNewTokens: LENGTHS[i + 4] as number })));
		const results = await Promise.all(handles.map((h) => h.result));
		results.forEach((result, i) => {
			expect(result.tokenIds).toEqual(alone[i]?.tokenIds);
			expect([result.text, result.finishReason, result.promptTokens]).toEqual([alone[i]?.text, alone[i]?.finishReason, alone[i]?.promptTokens]);
		});
	});

	it("should let a short request that arrives later finish before a long running one, and stream its text", async () => {
		const finished: string[] = [];
		const long = model.submit({ prompt: PROMPTS[1] as string, maxNewTokens: 120 });
		long.result.then(() => finished.push("long"));
		let first!: () => void;
		const started = new Promise<void>((resolve) => (first = resolve));
		const streamed: string[] = [];
		const probe = model.submit({ prompt: "All human beings", maxNewTokens: 120, onToken: () => first() });
		await started;
		const short = model.submit({ prompt: PROMPTS[0] as string, maxNewTokens: 3, onToken: (text) => streamed.push(text) });
		const shortResult = await short.result;
		finished.push("short");
		await Promise.all([long.result, probe.result]);
		expect(finished).toEqual(["short", "long"]);
		expect(streamed.join("")).toBe(shortResult.text);
	});

	it("should sample as generate() does with the same seed, and stop a cancelled request with the text so far", async () => {
		const [alone] = await model.generate({ prompts: [PROMPTS[2] as string], maxNewTokens: 12, temperature: 0.8, topP: 0.9, seed: 7 });
		const sampled = await model.submit({ prompt: PROMPTS[2] as string, maxNewTokens: 12, temperature: 0.8, topP: 0.9, seed: 7 }).result;
		expect(sampled.tokenIds).toEqual(alone?.tokenIds);
		let cancel!: () => void;
		let tokens = 0;
		const handle = model.submit({ prompt: PROMPTS[3] as string, maxNewTokens: 500, onToken: () => (++tokens === 3 ? cancel() : undefined) });
		cancel = handle.cancel;
		const cancelled = await handle.result;
		expect(cancelled.finishReason).toBe("stop");
		expect(cancelled.tokenIds.length).toBeLessThan(50);
	});

	it("should keep the batch's cache in place on CPU: a decode step fetches only its own keys and values", async () => {
		const dir = await tempDir("runtime-continuous-in-place");
		await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 5 });
		const engine = await Engine.open(dir, { executionProvider: "cpu", maxBatch: 4 });
		try {
			const decoder = (engine as unknown as { decoder: InferenceSession }).decoder;
			const run = decoder.run.bind(decoder);
			const fetched: { past: number; names: string[] }[] = [];
			(decoder as { run: unknown }).run = (feeds: Record<string, { dims: readonly number[] }>, fetches: string[]) => {
				fetched.push({ past: feeds["past_key_values.0.key"]?.dims[2] ?? 0, names: fetches });
				return run(feeds as never, fetches as never);
			};
			const alone: GenerationResult[][] = [];
			for (const [i, prompt] of PROMPTS.slice(0, 3).entries()) alone.push(await engine.generate({ prompts: [prompt], maxNewTokens: LENGTHS[i] as number }));
			fetched.length = 0;
			const joined = await Promise.all(PROMPTS.slice(0, 3).map((prompt, i) => engine.submit({ prompt, maxNewTokens: LENGTHS[i] as number })));
			joined.forEach((result, i) => expect(result.tokenIds).toEqual(alone[i]?.[0]?.tokenIds));
			const steps = fetched.filter((run) => run.past > 0);
			expect(steps.length).toBeGreaterThan(10);
			for (const step of steps) {
				expect(step.names.some((name) => name.startsWith("present."))).toBe(false);
				expect(step.names).toContain("present_step.0.key");
				expect(step.names).toContain("greedy_token_ids");
			}
		} finally {
			await engine.dispose();
		}
	}, 120_000);

	it("should let a waiting request take a finished one's place in the cache kept in place, with the tokens it has alone", async () => {
		const dir = await tempDir("runtime-continuous-join-in-place");
		await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 5 });
		const engine = await Engine.open(dir, { executionProvider: "cpu", maxBatch: 2 });
		const writeRow = vi.spyOn(KvCacheBuffers.prototype, "writeRow");
		try {
			// A long prompt with a long answer keeps the batch running; short answers finish, and the short prompts
			// waiting behind them (2 rows at most) join in their places.
			const requests: [string, number][] = [
				[PROMPTS[4] as string, 40],
				[PROMPTS[0] as string, 2],
				["Everyone has the right to life", 5],
				["No one shall be held in slavery", 3],
				["All human beings are born free", 6],
			];
			const alone: GenerationResult[] = [];
			for (const [prompt, maxNewTokens] of requests) alone.push((await engine.generate({ prompts: [prompt], maxNewTokens }))[0] as GenerationResult);
			const joined = await Promise.all(requests.map(([prompt, maxNewTokens]) => engine.submit({ prompt, maxNewTokens })));
			joined.forEach((result, i) => {
				expect(result.tokenIds).toEqual(alone[i]?.tokenIds);
				expect(result.text).toBe(alone[i]?.text);
			});
			expect(writeRow.mock.calls.length).toBeGreaterThanOrEqual(2);
		} finally {
			writeRow.mockRestore();
			await engine.dispose();
		}
	}, 120_000);
});
