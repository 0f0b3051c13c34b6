import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TransllmError } from "@transllm/core";
import { udhrParagraphs } from "@transllm/udhr-text";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import { buildLlamaFixture } from "../src/fixture/index.js";
import { DataType, GraphBuilder, makeValueInfo, writeOnnxModel } from "../src/onnx/index.js";
import type { OnnxGraph } from "../src/onnx/index.js";
import { tempDir } from "./graph-test-helpers.js";

const FIXTURE = { layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 3 };

describe("loadModel", () => {
	let dir: string;

	beforeAll(async () => {
		dir = await tempDir("runtime-load");
		await buildLlamaFixture({ dir, ...FIXTURE });
	});

	it("should fall back to CPU under auto and say why, and refuse when CUDA is demanded", async () => {
		// This machine has no CUDA provider library (onnxruntime-node installed without ONNXRUNTIME_NODE_INSTALL=cuda12).
		const model = await loadModel(dir, { worker: false, executionProvider: "auto" });
		try {
			expect(model.executionProvider.name).toBe("cpu");
			expect(model.executionProvider.reason).toMatch(/^auto: CUDA unavailable \(.+\); running on CPU/);
			expect(model.executionProvider.reason).toContain("ONNXRUNTIME_NODE_INSTALL=cuda12");
			const [result] = await model.generate({ prompts: ["Hello"], maxNewTokens: 2 });
			expect(result?.executionProvider).toEqual(model.executionProvider);
		} finally {
			await model.dispose();
		}
		const demanded = loadModel(dir, { worker: false, executionProvider: "cuda" });
		await expect(demanded).rejects.toThrow(/CUDA execution provider requested but unavailable: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
		await expect(loadModel(dir, { executionProvider: "cuda" })).rejects.toSatisfy((error) => TransllmError.isInstance(error) && error.code === "E_MODEL");
	});

	it("should run in a worker thread that leaves the event loop free, with the same results", async () => {
		const prompts = udhrParagraphs("en").slice(0, 8);
		const local = await loadModel(dir, { worker: false, executionProvider: "cpu" });
		const expected = await local.generate({ prompts, maxNewTokens: 64 });
		await local.dispose();

		const model = await loadModel(dir, { executionProvider: "cpu" });
		try {
			let ticks = 0;
			const timer = setInterval(() => ticks++, 1);
			const streamed: string[] = [];
			const results = await model.generate({ prompts, maxNewTokens: 64, onToken: (index, text) => index === 0 && streamed.push(text) });
			clearInterval(timer);
			expect(results.map((r) => r.tokenIds)).toEqual(expected.map((r) => r.tokenIds));
			expect(streamed.join("")).toBe(results[0]?.text);
			// 64 decoder runs over 8 prompts: the timer kept firing while the worker computed.
			expect(ticks).toBeGreaterThan(5);
			expect(model.tokenizer.decode(model.tokenizer.encode("free and equal", { addSpecialTokens: false }))).toBe("free and equal");
			await expect(model.generate({ prompts: ["x"], topP: 2 })).rejects.toThrow(/topP must be in \(0, 1\]/);
		} finally {
			await model.dispose();
		}
		await expect(model.generate({ prompts: ["x"] })).rejects.toThrow(/disposed/);
	});

	it("should run an fp16 export (half-precision KV cache and logits)", async () => {
		const half = await tempDir("runtime-fp16");
		await buildLlamaFixture({ dir: half, ...FIXTURE, dtype: "fp16" });
		const model = await loadModel(half, { worker: false, executionProvider: "cpu", chunkSteps: 3 });
		try {
			expect(model.info.dtype).toBe("fp16");
			const prompts = udhrParagraphs("en").slice(0, 3);
			const batched = await model.generate({ prompts, maxNewTokens: 8, batchSize: 3 });
			const inGraph = await model.generate({ prompts, maxNewTokens: 8, batchSize: 3, decodeLoop: "graph" });
			expect(batched.every((r) => r.tokenIds.length === 8)).toBe(true);
			expect(inGraph.map((r) => r.tokenIds)).toEqual(batched.map((r) => r.tokenIds));
			const [score] = await model.score({ pairs: [{ prompt: prompts[0] as string, response: batched[0]?.text as string }] });
			expect(score?.sum).toBeLessThan(0);
			expect(Number.isFinite(score?.sum)).toBe(true);
		} finally {
			await model.dispose();
		}
	});

	it("should load the transformers.js layout (onnx/model.onnx + external data) and keep all-positions logits when the head is fused", async () => {
		const fused = await tempDir("runtime-fused");
		await buildLlamaFixture({ dir: fused, ...FIXTURE, norms: "fused" });
		await rm(join(fused, "model.onnx"));
		await rm(join(fused, "model.onnx_data"));
		const model = await loadModel(fused, { worker: false, executionProvider: "cpu", chunkSteps: 4 });
		try {
			expect(model.files.onnx).toBe(join(fused, "onnx", "model.onnx"));
			expect(model.logits).toMatch(/^all-positions \(.*fused/);
			const prompts = udhrParagraphs("en").slice(0, 3);
			const host = await model.generate({ prompts, maxNewTokens: 6 });
			const graph = await model.generate({ prompts, maxNewTokens: 6, decodeLoop: "graph" });
			expect(graph.map((r) => r.tokenIds)).toEqual(host.map((r) => r.tokenIds));
			expect(host.every((r) => r.tokenIds.length === 6)).toBe(true);
		} finally {
			await model.dispose();
		}
	});

	it("should name the directory and the missing file", async () => {
		const empty = await tempDir("runtime-empty");
		await expect(loadModel(join(empty, "nope"), { worker: false })).rejects.toThrow(/model directory not found/);
		await writeFile(join(empty, "config.json"), "{}");
		await expect(loadModel(empty, { worker: false })).rejects.toThrow(/missing tokenizer\.json/);
	});

	it("should explain an unsupported graph (no KV cache)", async () => {
		const bad = await tempDir("runtime-unsupported");
		await buildLlamaFixture({ dir: bad, ...FIXTURE });
		await rm(join(bad, "onnx"), { recursive: true });
		const graph: OnnxGraph = { name: "no_cache", node: [], initializer: [], input: [], output: [] };
		const b = new GraphBuilder(graph);
		graph.input?.push(makeValueInfo("input_ids", DataType.INT64, ["batch", "seq"]), makeValueInfo("attention_mask", DataType.INT64, ["batch", "seq"]));
		b.node("Cast", ["input_ids"], { outputs: ["logits"], attributes: { to: { int: DataType.FLOAT } } });
		graph.output?.push(makeValueInfo("logits", DataType.FLOAT, ["batch", "seq"]));
		await writeOnnxModel({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }], graph }, join(bad, "model.onnx"));
		await rm(join(bad, "model.onnx_data"), { force: true });
		await mkdir(bad, { recursive: true });
		await expect(loadModel(bad, { worker: false, executionProvider: "cpu" })).rejects.toThrow(/model\.onnx: unsupported graph: no past_key_values.*text-generation-with-past/);
	});
});
