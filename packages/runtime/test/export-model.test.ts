// `exportModel` on the fixtures' own Hugging Face files (config.json + model.safetensors): no Python needed.
import { readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import { exportModel } from "../src/export/index.js";
import { type LlamaFixture, buildLlamaFixture, referenceForward } from "../src/fixture/index.js";
import { blockDequantize, blockQuantize } from "../src/onnx/index.js";
import { argmax, decoderFeeds, maxAbsDiff, positionsFromMask, runtimeCli, tempDir } from "./graph-test-helpers.js";

const IDS = [
	[0, 0, 1, 75, 381, 111, 42],
	[1, 9, 8, 7, 6, 5, 300],
];
const MASK = [
	[0, 0, 1, 1, 1, 1, 1],
	[1, 1, 1, 1, 1, 1, 1],
];

async function logitsOf(fixture: LlamaFixture, modelPath: string): Promise<Float32Array> {
	const session = await ort.InferenceSession.create(modelPath);
	try {
		const fp16 = session.inputMetadata.some((m) => m.isTensor && m.type === "float16");
		const past: Record<string, ort.Tensor> = {};
		if (fp16)
			for (let i = 0; i < fixture.arch.layers; i++)
				for (const kind of ["key", "value"]) past[`present.${i}.${kind}`] = new ort.Tensor("float16", new Uint16Array(0), [IDS.length, fixture.arch.kvHeads, 0, fixture.arch.headDim]);
		const outputs = await session.run(decoderFeeds({ arch: fixture.arch, inputIds: IDS, attentionMask: MASK, positionIds: positionsFromMask(MASK), past }));
		const logits = outputs.logits as ort.Tensor;
		return logits.type === "float16" ? Float32Array.from(logits.data as Uint16Array, halfToFloat) : (logits.data as Float32Array);
	} finally {
		await session.release();
	}
}

function halfToFloat(h: number): number {
	const exponent = (h >>> 10) & 0x1f;
	const value = exponent === 0 ? (h & 0x3ff) * 2 ** -24 : (1 + (h & 0x3ff) / 1024) * 2 ** (exponent - 15);
	return h & 0x8000 ? -value : value;
}

/** Logits at the unpadded positions only (left-pad rows are not compared). */
function realPositions(logits: ArrayLike<number>, vocab: number): number[] {
	const out: number[] = [];
	for (let b = 0; b < IDS.length; b++)
		for (let s = 0; s < (IDS[b] as number[]).length; s++) if (MASK[b]?.[s]) for (let v = 0; v < vocab; v++) out.push(logits[(b * 7 + s) * vocab + v] as number);
	return out;
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

describe("exportModel (fixture checkpoints)", () => {
	let root: string;
	let fixture: LlamaFixture;
	let fp32Logits: Float32Array;

	beforeAll(async () => {
		root = await tempDir("export-model");
		fixture = await buildLlamaFixture({ dir: join(root, "hf"), layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, seed: 5 });
		fp32Logits = await logitsOf(fixture, join(fixture.dir, "model.onnx"));
	}, 60_000);

	it("should rebuild the fixture's graph from its safetensors: same logits, Optimum I/O, external data, tokenizer copied", async () => {
		const out = join(root, "fp32");
		const result = await exportModel({ model: fixture.dir, out, progress: false });
		expect(result).toMatchObject({ modelType: "llama", precision: "fp32", parameters: 2 * 64 * 512 + 2 * (2 * 64 + 64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 96) + 64 });
		expect((await readdir(out)).sort()).toEqual(["config.json", "generation_config.json", "model.onnx", "model.onnx_data", "tokenizer.json", "tokenizer_config.json"]);
		expect((await stat(join(out, "model.onnx"))).size).toBeLessThan(64 * 1024); // the weights are external
		expect(maxAbsDiff(await logitsOf(fixture, join(out, "model.onnx")), fp32Logits)).toBeLessThan(1e-5);
		expect(await readFile(join(out, "tokenizer.json"), "utf8")).toBe(await readFile(join(fixture.dir, "tokenizer.json"), "utf8"));
	});

	it("should export fp16 with the fp16 fixture's logits", async () => {
		const half = await buildLlamaFixture({ dir: join(root, "hf16"), layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, seed: 5, dtype: "fp16" });
		const out = join(root, "fp16");
		await exportModel({ model: half.dir, out, precision: "fp16", progress: false });
		expect(maxAbsDiff(await logitsOf(half, join(out, "model.onnx")), await logitsOf(half, join(half.dir, "model.onnx")))).toBe(0);
	});

	it.each([8, 4] as const)("should quantize to MatMulNBits (int%i, block 32) that onnxruntime runs as the dequantized weights", async (bits) => {
		const out = join(root, `int${bits}`);
		// accuracy_level 1: fp32 activations, so the graph must equal the dequantized weights' forward pass.
		const result = await exportModel({ model: fixture.dir, out, precision: bits === 8 ? "int8" : "int4", accuracyLevel: 1, progress: false });
		const graph = await readFile(join(out, "model.onnx"));
		expect(graph.includes(Buffer.from("MatMulNBits"))).toBe(true);
		// What the graph must compute: the reference forward pass on the block-dequantized linear weights.
		const weights = new Map(fixture.weights);
		for (const [name, values] of fixture.weights) {
			if (!/(proj|lm_head)\.weight$/.test(name)) continue;
			const [rows, columns] = name === "lm_head.weight" ? [512, 64] : name.includes("down_proj") ? [64, 96] : name.includes("_proj") && /(gate|up)_proj/.test(name) ? [96, 64] : /[kv]_proj/.test(name) ? [32, 64] : [64, 64];
			const quantized = blockQuantize({ values, rows, columns, bits, blockSize: 32 });
			weights.set(name, blockDequantize({ ...quantized, rows, columns, bits, blockSize: 32 }));
		}
		// The embedding table is stored in fp16.
		const embed = fixture.weights.get("model.embed_tokens.weight") as Float32Array;
		const { float16ToFloat32, float32ToFloat16 } = await import("../src/onnx/index.js");
		weights.set("model.embed_tokens.weight", float16ToFloat32(float32ToFloat16(embed)));
		const expected = referenceForward({ arch: fixture.arch, weights, inputIds: IDS, attentionMask: MASK });
		const logits = await logitsOf(fixture, join(out, "model.onnx"));
		expect(maxAbsDiff(realPositions(logits, 512), realPositions(expected.logits, 512))).toBeLessThan(1e-3);
		// ... and it is not the unquantized model.
		expect(maxAbsDiff(realPositions(logits, 512), realPositions(fp32Logits, 512))).toBeGreaterThan(bits === 4 ? 1e-2 : 1e-4);
		expect(result.precision).toBe(`int${bits}`);
		// The default accuracy_level 4 (int8 activations) stays close to it.
		const fast = join(root, `int${bits}-fast`);
		await exportModel({ model: fixture.dir, out: fast, precision: bits === 8 ? "int8" : "int4", progress: false });
		const fastLogits = await logitsOf(fixture, join(fast, "model.onnx"));
		expect(maxAbsDiff(realPositions(fastLogits, 512), realPositions(expected.logits, 512))).toBeLessThan(0.2); // 0.05–0.07 measured

		// The runtime loads it and still isolates the (quantized) LM head for last-position logits.
		const model = await loadModel(out, { worker: false, executionProvider: "cpu" });
		try {
			expect(model.logits).toBe("last-token");
			const prompt = (IDS[1] as number[]).slice(1);
			const [generated] = await model.generate({ prompts: [model.tokenizer.decode(prompt)], maxNewTokens: 1 });
			const promptIds = model.tokenizer.encode(model.tokenizer.decode(prompt));
			const single = referenceForward({ arch: fixture.arch, weights, inputIds: [promptIds] });
			expect(generated?.tokenIds).toEqual([argmax(single.logits, (promptIds.length - 1) * 512, 512)]);
		} finally {
			await model.dispose();
		}
	});

	it("should reject another architecture by name and leave nothing behind when an export fails", async () => {
		const other = join(root, "gpt2");
		await buildLlamaFixture({ dir: other, layers: 1, hidden: 32, heads: 2, kvHeads: 2, intermediate: 32 });
		const config = JSON.parse(await readFile(join(other, "config.json"), "utf8"));
		await writeFile(join(other, "config.json"), JSON.stringify({ ...config, model_type: "gpt2", architectures: ["GPT2LMHeadModel"] }));
		await expect(exportModel({ model: other, out: join(root, "never"), progress: false })).rejects.toThrow(/GPT2LMHeadModel .*not supported by transllm export/);

		// A checkpoint that lacks a weight fails after the output was started: no `out`, no `.partial`.
		await writeFile(join(other, "config.json"), JSON.stringify({ ...config, num_hidden_layers: 2 }));
		const out = join(root, "broken");
		await expect(exportModel({ model: other, out, progress: false })).rejects.toThrow(/no tensor model\.layers\.1\.input_layernorm\.weight/);
		expect(await exists(out)).toBe(false);
		expect(await exists(`${out}.partial`)).toBe(false);
	});

	it("should refuse to overwrite an export unless forced, via the CLI", async () => {
		const out = join(root, "cli");
		const run = runtimeCli;
		const first = await run(["export", "--model", fixture.dir, "--out", out, "--quiet"]);
		expect(first.code).toBe(0);
		expect(JSON.parse(first.stdout)).toMatchObject({ precision: "fp32", modelType: "llama" });
		const again = await run(["export", "--model", fixture.dir, "--out", out, "--precision", "int4", "--quiet"]);
		expect(again.code).not.toBe(0);
		expect(again.stderr).toMatch(/exists; pass force \(--force\)/);
		const forced = await run(["export", "--model", fixture.dir, "--out", out, "--precision", "int4", "--force", "--quiet"]);
		expect(forced.code).toBe(0);
		expect((await readFile(join(out, "model.onnx"))).includes(Buffer.from("MatMulNBits"))).toBe(true);
		expect(await readdir(root)).not.toContain(expect.stringMatching(/cli\.(partial|replaced)/));
		await rm(out, { recursive: true });
	});
});
