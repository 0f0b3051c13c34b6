import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { udhrParagraphs } from "@transllm/udhr-text";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import type { ChatModel } from "../src/chat-model.js";
import { buildLlamaFixture } from "../src/fixture/index.js";
import { tempDir } from "./graph-test-helpers.js";

describe("generate with the decode loop in the graph", () => {
	let model: ChatModel;
	let dir: string;

	beforeAll(async () => {
		dir = await tempDir("runtime-loop");
		await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 9 });
		model = await loadModel(dir, { worker: false, executionProvider: "cpu", chunkSteps: 4 });
	});
	afterAll(async () => {
		await model?.dispose();
	});

	it("should produce exactly the host loop's greedy tokens, batched with padding, across chunk boundaries", async () => {
		const prompts = [...udhrParagraphs("en").slice(0, 3), "Everyone", (udhrParagraphs("de")[2] as string).slice(0, 60)];
		const host = await model.generate({ prompts, maxNewTokens: 14, batchSize: 3, decodeLoop: "host" });
		const graph = await model.generate({ prompts, maxNewTokens: 14, batchSize: 3, decodeLoop: "graph" });
		expect(graph.map((r) => r.tokenIds)).toEqual(host.map((r) => r.tokenIds));
		expect(graph.map((r) => r.finishReason)).toEqual(host.map((r) => r.finishReason));
		expect(host[0]?.tokenIds).toHaveLength(14);

		const stop = host[1]?.text.slice(5, 8) as string;
		const stopped = await model.generate({ prompts, maxNewTokens: 14, stopStrings: [stop], decodeLoop: "graph" });
		const stoppedHost = await model.generate({ prompts, maxNewTokens: 14, stopStrings: [stop], decodeLoop: "host" });
		expect(stopped.map((r) => [r.text, r.finishReason])).toEqual(stoppedHost.map((r) => [r.text, r.finishReason]));
		expect(stopped[1]?.finishReason).toBe("stop");
	});

	it("should sample in the graph with each prompt's seeded stream: the host loop's tokens, whatever the batch", async () => {
		const prompts = [...udhrParagraphs("en").slice(0, 2), "Everyone", (udhrParagraphs("fr")[1] as string).slice(0, 80)];
		for (const settings of [
			{ temperature: 0.8, topK: 40, topP: 0.9, seed: 7 },
			{ temperature: 1.3, topK: 0, topP: 1, seed: "run-2" },
		]) {
			const host = await model.generate({ prompts, maxNewTokens: 11, batchSize: 4, decodeLoop: "host", ...settings });
			const graph = await model.generate({ prompts, maxNewTokens: 11, batchSize: 4, decodeLoop: "graph", ...settings });
			const alone = await model.generate({ prompts, maxNewTokens: 11, batchSize: 1, decodeLoop: "graph", ...settings });
			expect(graph.map((r) => r.tokenIds)).toEqual(host.map((r) => r.tokenIds));
			expect(alone.map((r) => r.tokenIds)).toEqual(graph.map((r) => r.tokenIds));
			expect(graph.map((r) => r.finishReason)).toEqual(host.map((r) => r.finishReason));
		}
		// Sampling, not argmax: another seed changes the tokens.
		const [a] = await model.generate({ prompts: ["Everyone"], maxNewTokens: 11, decodeLoop: "graph", temperature: 1.3, seed: 1 });
		const [b] = await model.generate({ prompts: ["Everyone"], maxNewTokens: 11, decodeLoop: "graph", temperature: 1.3, seed: 2 });
		expect(a?.tokenIds).not.toEqual(b?.tokenIds);
	});

	it("should end rows at the model's EOS inside a chunk, like the host loop", async () => {
		const prompts = udhrParagraphs("en").slice(3, 6);
		const free = await model.generate({ prompts, maxNewTokens: 10 });
		const ids = free[0]?.tokenIds ?? [];
		const k = ids.findIndex((id, i) => i >= 2 && ids.indexOf(id) === i);
		const config = JSON.parse(await readFile(join(dir, "generation_config.json"), "utf8"));
		await writeFile(join(dir, "generation_config.json"), JSON.stringify({ ...config, eos_token_id: [2, ids[k]] }));
		const eosModel = await loadModel(dir, { worker: false, executionProvider: "cpu", chunkSteps: 4 });
		try {
			const host = await eosModel.generate({ prompts, maxNewTokens: 10 });
			const graph = await eosModel.generate({ prompts, maxNewTokens: 10, decodeLoop: "graph" });
			expect(host[0]).toMatchObject({ finishReason: "eos", tokenIds: ids.slice(0, k) });
			expect(graph.map((r) => [r.tokenIds, r.finishReason])).toEqual(host.map((r) => [r.tokenIds, r.finishReason]));
		} finally {
			await eosModel.dispose();
			await writeFile(join(dir, "generation_config.json"), JSON.stringify(config));
		}
	});

	it("should refuse the options the in-graph loop cannot honour (repetition penalty, log-probabilities)", async () => {
		await expect(model.generate({ prompts: ["x"], temperature: 0.7, repetitionPenalty: 1.1, decodeLoop: "graph" })).rejects.toThrow(/decodeLoop "graph"/);
		await expect(model.generate({ prompts: ["x"], logprobs: true, decodeLoop: "graph" })).rejects.toThrow(/decodeLoop "host"/);
	});
});
