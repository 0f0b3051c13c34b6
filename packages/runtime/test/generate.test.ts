import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { udhrParagraphs } from "@transllm/udhr-text";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { loadModel } from "../src/chat-model.js";
import { lastTokenLogits } from "../src/last-token-logits.js";
import { encodeOnnxModel, readOnnxModel } from "../src/onnx/index.js";
import type { ChatModel } from "../src/chat-model.js";
import { buildLlamaFixture, readLlamaReference, referenceForward } from "../src/fixture/index.js";
import { decoderFeeds, maxAbsDiff, tempDir } from "./graph-test-helpers.js";

const PROMPTS = [udhrParagraphs("en")[2] as string, "All human beings", (udhrParagraphs("en")[7] as string).slice(0, 120), "Everyone has the right to life"];

/** Greedy continuation by the pure-TS reference: a full forward pass per new token. */
async function referenceGreedy(dir: string, promptIds: number[], steps: number): Promise<number[]> {
	const { arch, weights } = await readLlamaReference(dir);
	const ids = [...promptIds];
	const out: number[] = [];
	for (let step = 0; step < steps; step++) {
		const { logits, vocab } = referenceForward({ arch, weights, inputIds: [ids] });
		const last = logits.subarray((ids.length - 1) * vocab, ids.length * vocab);
		let best = 0;
		for (let i = 1; i < vocab; i++) if ((last[i] as number) > (last[best] as number)) best = i;
		out.push(best);
		ids.push(best);
	}
	return out;
}

describe("ChatModel.generate", () => {
	let dir: string;
	let model: ChatModel;

	beforeAll(async () => {
		dir = await tempDir("runtime-generate");
		await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 11 });
		model = await loadModel(dir, { worker: false, executionProvider: "cpu" });
	});
	afterAll(async () => {
		await model?.dispose();
	});

	it("should detect the architecture and I/O names from the graph", () => {
		expect(model.info).toMatchObject({ layers: 2, heads: 4, kvHeads: 2, headDim: 16, hidden: 64, vocabSize: 512, dtype: "fp32", modelType: "llama" });
		expect(model.info.ioNames.pastKeys).toEqual(["past_key_values.0.key", "past_key_values.1.key"]);
		expect(model.info.ioNames.positionIds).toBe("position_ids");
		expect(model.executionProvider).toEqual({ name: "cpu", reason: "CPU requested" });
		expect(model.chatTemplate).toContain("[INST]");
	});

	it("should compute only the last position's logits for generation, equal to the full graph's", async () => {
		expect(model.logits).toBe("last-token");
		const arch = { layers: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, vocab: 512, ropeTheta: 10000, rmsNormEps: 1e-6, tiedEmbeddings: false };
		const full = await ort.InferenceSession.create(join(dir, "model.onnx"));
		const last = await ort.InferenceSession.create(encodeOnnxModel(lastTokenLogits(await readOnnxModel(join(dir, "model.onnx")))), {
			extra: { session: { model_external_initializers_file_folder_path: dir } },
		});
		const ids = [[0, 0, 1, 75, 381, 111], [1, 9, 8, 7, 6, 5]];
		const mask = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]];
		const feeds = decoderFeeds({ arch, inputIds: ids, attentionMask: mask, positionIds: [[1, 1, 0, 1, 2, 3], [0, 1, 2, 3, 4, 5]] });
		const a = await full.run(feeds);
		const b = await last.run(feeds);
		expect(b.logits?.dims).toEqual([2, 1, 512]);
		const fullLogits = a.logits?.data as Float32Array;
		const lastRows = [0, 1].flatMap((row) => Array.from(fullLogits.subarray((row * 6 + 5) * 512, (row * 6 + 6) * 512)));
		expect(maxAbsDiff(b.logits?.data as Float32Array, lastRows)).toBeLessThan(1e-5);
		expect(maxAbsDiff(b["present.1.value"]?.data as Float32Array, a["present.1.value"]?.data as Float32Array)).toBe(0);
	});

	it("should produce the greedy tokens of the reference forward pass, feeding the KV cache back", async () => {
		const [result] = await model.generate({ prompts: [PROMPTS[0] as string], maxNewTokens: 10 });
		const promptIds = model.tokenizer.encode(PROMPTS[0] as string);
		expect(promptIds[0]).toBe(1); // BOS from the post-processor
		expect(result?.tokenIds).toEqual(await referenceGreedy(dir, promptIds, 10));
		expect(result).toMatchObject({ finishReason: "length", promptTokens: promptIds.length, executionProvider: { name: "cpu" } });
		expect(result?.text).toBe(model.tokenizer.decode(result?.tokenIds ?? [], { skipSpecialTokens: true }));
	});

	it("should give the same tokens batched with left padding as one by one", async () => {
		const batched = await model.generate({ prompts: PROMPTS, maxNewTokens: 12, batchSize: 4 });
		const single = await model.generate({ prompts: PROMPTS, maxNewTokens: 12, batchSize: 1 });
		expect(new Set(PROMPTS.map((p) => model.tokenizer.encode(p).length)).size).toBe(4); // really padded
		expect(batched.map((r) => r.tokenIds)).toEqual(single.map((r) => r.tokenIds));
		expect(batched.map((r) => r.text)).toEqual(single.map((r) => r.text));
	});

	it("should stop at a stop string, a stop token and maxNewTokens, with the finish reason", async () => {
		const [free] = await model.generate({ prompts: [PROMPTS[1] as string], maxNewTokens: 24 });
		const text = free?.text ?? "";
		const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 3);
		const [byString] = await model.generate({ prompts: [PROMPTS[1] as string], maxNewTokens: 24, stopStrings: [stop] });
		expect(byString?.finishReason).toBe("stop");
		expect(byString?.text).toBe(text.slice(0, text.indexOf(stop)));

		const ids = free?.tokenIds ?? [];
		const k = ids.findIndex((id, i) => i >= 3 && ids.indexOf(id) === i);
		const [byToken] = await model.generate({ prompts: [PROMPTS[1] as string], maxNewTokens: 24, stopTokenIds: [ids[k] as number] });
		expect(byToken).toMatchObject({ finishReason: "stop", tokenIds: ids.slice(0, k) });

		const [short] = await model.generate({ prompts: [PROMPTS[1] as string], maxNewTokens: 5 });
		expect(short).toMatchObject({ finishReason: "length", tokenIds: ids.slice(0, 5) });
	});

	it("should end with finish reason eos at an EOS id of generation_config.json", async () => {
		const [free] = await model.generate({ prompts: [PROMPTS[3] as string], maxNewTokens: 8 });
		const ids = free?.tokenIds ?? [];
		const k = ids.findIndex((id, i) => i >= 2 && ids.indexOf(id) === i);
		const eosDir = await tempDir("runtime-eos");
		await buildLlamaFixture({ dir: eosDir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 11 });
		const generationConfig = JSON.parse(await readFile(join(eosDir, "generation_config.json"), "utf8"));
		await writeFile(join(eosDir, "generation_config.json"), JSON.stringify({ ...generationConfig, eos_token_id: [2, ids[k]] }));
		const eosModel = await loadModel(eosDir, { worker: false, executionProvider: "cpu" });
		try {
			const [ended] = await eosModel.generate({ prompts: [PROMPTS[3] as string], maxNewTokens: 8 });
			expect(ended).toMatchObject({ finishReason: "eos", tokenIds: ids.slice(0, k) });
		} finally {
			await eosModel.dispose();
		}
	});

	it("should reproduce seeded sampling, independently of the batch size", async () => {
		const params = { prompts: PROMPTS.slice(0, 3), maxNewTokens: 10, temperature: 1.2, topK: 50, topP: 0.95 };
		const a = await model.generate({ ...params, seed: 5, batchSize: 3 });
		const b = await model.generate({ ...params, seed: 5, batchSize: 1 });
		const c = await model.generate({ ...params, seed: 6, batchSize: 3 });
		const greedy = await model.generate({ prompts: PROMPTS.slice(0, 3), maxNewTokens: 10 });
		expect(a.map((r) => r.tokenIds)).toEqual(b.map((r) => r.tokenIds));
		expect(a.map((r) => r.tokenIds)).not.toEqual(c.map((r) => r.tokenIds));
		expect(a.map((r) => r.tokenIds)).not.toEqual(greedy.map((r) => r.tokenIds));
	});

	it("should penalise repetition", async () => {
		const plain = await model.generate({ prompts: [PROMPTS[1] as string], maxNewTokens: 30 });
		const penalised = await model.generate({ prompts: [PROMPTS[1] as string], maxNewTokens: 30, repetitionPenalty: 5 });
		const distinct = (ids: number[]) => new Set(ids).size;
		expect(distinct(penalised[0]?.tokenIds ?? [])).toBeGreaterThan(distinct(plain[0]?.tokenIds ?? []));
	});

	it("should stream each sequence's text as it is generated", async () => {
		const streamed = new Map<number, string[]>();
		const results = await model.generate({
			prompts: PROMPTS.slice(0, 3),
			maxNewTokens: 12,
			batchSize: 3,
			onToken: (index, text) => streamed.set(index, [...(streamed.get(index) ?? []), text]),
		});
		for (const [index, result] of results.entries()) {
			expect(streamed.get(index)?.join("")).toBe(result.text);
			expect(streamed.get(index)?.length).toBeGreaterThan(3);
		}
	});

	it("should render text prompts through the chat template when asked", async () => {
		const [chat] = await model.generate({ prompts: ["Hello"], chat: true, system: "Be brief.", maxNewTokens: 2 });
		const rendered = model.tokenizer.encode("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHello [/INST]", { addSpecialTokens: false });
		expect(chat?.promptTokens).toBe(rendered.length);
		await expect(model.generate({ prompts: [""], maxNewTokens: 2 })).resolves.toHaveLength(1); // BOS alone is a prompt
	});
});
