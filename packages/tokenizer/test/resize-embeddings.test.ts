import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError, SeededRng } from "@transllm/core";
import { decodeFloats } from "../src/float-codec.js";
import type { FloatDtype } from "../src/float-codec.js";
import { resizeEmbeddings } from "../src/resize-embeddings.js";
import { readSafetensorsHeader } from "../src/safetensors.js";
import { safetensorsBytes, tempDir } from "./fixtures.js";
import type { Tensor } from "./fixtures.js";

// Checkpoints are written with a minimal independent writer (fixtures.ts) and read back with an independent
// parser, so the code under test never checks itself.
async function parse(file: string): Promise<Record<string, { dtype: FloatDtype; shape: number[]; bytes: Buffer }>> {
	const data = await readFile(file);
	const length = Number(data.readBigUInt64LE(0));
	const header = JSON.parse(data.subarray(8, 8 + length).toString()) as Record<string, { dtype: FloatDtype; shape: number[]; data_offsets: [number, number] }>;
	const out: Record<string, { dtype: FloatDtype; shape: number[]; bytes: Buffer }> = {};
	for (const [name, entry] of Object.entries(header)) {
		if (name === "__metadata__") continue;
		out[name] = { dtype: entry.dtype, shape: entry.shape, bytes: data.subarray(8 + length + entry.data_offsets[0], 8 + length + entry.data_offsets[1]) };
	}
	return out;
}

function randomMatrix(rows: number, cols: number, seed: string): Float32Array {
	const rng = new SeededRng(seed);
	return Float32Array.from({ length: rows * cols }, () => rng.normal(0, 1));
}

const VOCAB = 300;
const HIDDEN = 16;
const row = (values: Float32Array, id: number): Float32Array => values.subarray(id * HIDDEN, (id + 1) * HIDDEN);
const tokens = [
	{ id: 300, baseIds: [5, 17, 42] },
	{ id: 301, baseIds: [299] },
	{ id: 302, baseIds: [] }, // a special token
];

async function checkpoint(dtype: FloatDtype, options: { tied?: boolean; sharded?: boolean } = {}): Promise<{ dir: string; embed: Float32Array; head: Float32Array; norm: Float32Array }> {
	const dir = await tempDir(`ckpt-${dtype}`);
	const embed = randomMatrix(VOCAB, HIDDEN, "embed");
	const head = randomMatrix(VOCAB, HIDDEN, "head");
	const norm = randomMatrix(1, HIDDEN, "norm");
	const layer = randomMatrix(HIDDEN, HIDDEN, "layer");
	await writeFile(join(dir, "config.json"), JSON.stringify({ model_type: "llama", vocab_size: VOCAB, hidden_size: HIDDEN, tie_word_embeddings: options.tied ?? false }));
	const all: Record<string, Tensor> = {
		"model.embed_tokens.weight": { dtype, shape: [VOCAB, HIDDEN], values: embed },
		"model.layers.0.mlp.down_proj.weight": { dtype, shape: [HIDDEN, HIDDEN], values: layer },
		"model.norm.weight": { dtype, shape: [HIDDEN], values: norm },
	};
	if (!options.tied) all["lm_head.weight"] = { dtype, shape: [VOCAB, HIDDEN], values: head };
	if (!options.sharded) await writeFile(join(dir, "model.safetensors"), safetensorsBytes(all));
	else {
		const names = Object.keys(all);
		const first = Object.fromEntries(names.slice(0, 2).map((n) => [n, all[n] as Tensor]));
		const second = Object.fromEntries(names.slice(2).map((n) => [n, all[n] as Tensor]));
		const files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
		const a = safetensorsBytes(first);
		const b = safetensorsBytes(second);
		await writeFile(join(dir, files[0] as string), a);
		await writeFile(join(dir, files[1] as string), b);
		const weightMap = Object.fromEntries(names.map((n, i) => [n, files[i < 2 ? 0 : 1]]));
		await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 12345 }, weight_map: weightMap }));
	}
	return { dir, embed, head, norm };
}

const meanOf = (values: Float32Array, ids: number[]): Float32Array => {
	const out = new Float32Array(HIDDEN);
	for (const id of ids) row(values, id).forEach((v, i) => (out[i] = (out[i] as number) + v / ids.length));
	return out;
};

describe("resizeEmbeddings", () => {
	it("should grow untied fp32 embed_tokens and lm_head with sub-token means, keep old rows and other tensors, pad to 64", async () => {
		const { dir, embed, head } = await checkpoint("F32");
		const out = await tempDir("out-f32");
		const result = await resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 303, tokens, init: "mean", padToMultipleOf: 64 });
		expect(result).toMatchObject({ oldVocabSize: 300, newVocabSize: 320, tied: false });
		const before = await parse(join(dir, "model.safetensors"));
		const after = await parse(join(out, "model.safetensors"));
		for (const name of ["model.embed_tokens.weight", "lm_head.weight"]) {
			expect(after[name]?.shape).toEqual([320, HIDDEN]);
			expect(after[name]?.bytes.subarray(0, VOCAB * HIDDEN * 4).equals(before[name]?.bytes as Buffer)).toBe(true);
		}
		expect(after["model.norm.weight"]?.bytes.equals(before["model.norm.weight"]?.bytes as Buffer)).toBe(true);
		expect(after["model.layers.0.mlp.down_proj.weight"]?.bytes.equals(before["model.layers.0.mlp.down_proj.weight"]?.bytes as Buffer)).toBe(true);
		const newEmbed = decodeFloats(after["model.embed_tokens.weight"]?.bytes as Buffer, "F32");
		const newHead = decodeFloats(after["lm_head.weight"]?.bytes as Buffer, "F32");
		for (let i = 0; i < HIDDEN; i++) {
			expect(row(newEmbed, 300)[i]).toBeCloseTo(meanOf(embed, [5, 17, 42])[i] as number, 5);
			expect(row(newHead, 300)[i]).toBeCloseTo(meanOf(head, [5, 17, 42])[i] as number, 5);
			expect(row(newEmbed, 301)[i]).toBeCloseTo(row(embed, 299)[i] as number, 6);
			// No decomposition (special token, padding): the mean of all old rows.
			const all = meanOf(embed, Array.from({ length: VOCAB }, (_, id) => id));
			expect(row(newEmbed, 302)[i]).toBeCloseTo(all[i] as number, 4);
			expect(row(newEmbed, 319)[i]).toBeCloseTo(all[i] as number, 4);
		}
		const config = JSON.parse(await readFile(join(out, "config.json"), "utf8"));
		expect(config).toMatchObject({ vocab_size: 320, model_type: "llama", hidden_size: HIDDEN });
	});

	it("should apply EEVE to untied fp16: input rows are sub-token means, output rows the first sub-token's row", async () => {
		const { dir } = await checkpoint("F16");
		const out = await tempDir("out-f16");
		await resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 303, tokens, init: "eeve" });
		const before = await parse(join(dir, "model.safetensors"));
		const after = await parse(join(out, "model.safetensors"));
		const rowBytes = HIDDEN * 2;
		const head = after["lm_head.weight"]?.bytes as Buffer;
		expect(head.subarray(300 * rowBytes, 301 * rowBytes).equals((before["lm_head.weight"]?.bytes as Buffer).subarray(5 * rowBytes, 6 * rowBytes))).toBe(true);
		const oldEmbed = decodeFloats(before["model.embed_tokens.weight"]?.bytes as Buffer, "F16");
		const newEmbed = decodeFloats(after["model.embed_tokens.weight"]?.bytes as Buffer, "F16");
		for (let i = 0; i < HIDDEN; i++) expect(row(newEmbed, 300)[i]).toBeCloseTo(meanOf(oldEmbed, [5, 17, 42])[i] as number, 2);
		expect(after["lm_head.weight"]?.shape).toEqual([303, HIDDEN]);
	});

	it("should grow a tied, sharded bf16 checkpoint with normal(0, 0.02) rows and update the index", async () => {
		const { dir } = await checkpoint("BF16", { tied: true, sharded: true });
		const out = await tempDir("out-bf16");
		const many = Array.from({ length: 200 }, (_, i) => ({ id: 300 + i, baseIds: [i] }));
		const result = await resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 500, tokens: many, init: "normal", seed: 7 });
		expect(result).toMatchObject({ tied: true, newVocabSize: 500, resized: ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] });
		const after = await parse(join(out, "model-00001-of-00002.safetensors"));
		expect(Object.keys(after).sort()).toEqual(["model.embed_tokens.weight", "model.layers.0.mlp.down_proj.weight"]);
		const values = decodeFloats((after["model.embed_tokens.weight"]?.bytes as Buffer).subarray(300 * HIDDEN * 2), "BF16");
		const meanValue = values.reduce((a, b) => a + b, 0) / values.length;
		const std = Math.sqrt(values.reduce((a, b) => a + (b - meanValue) ** 2, 0) / values.length);
		expect(Math.abs(meanValue)).toBeLessThan(0.002);
		expect(std).toBeGreaterThan(0.018);
		expect(std).toBeLessThan(0.022);
		const index = JSON.parse(await readFile(join(out, "model.safetensors.index.json"), "utf8"));
		expect(index.metadata.total_size).toBe(12345 + 200 * HIDDEN * 2);
		expect(Object.keys(index.weight_map)).toHaveLength(3);
		// The same seed gives the same rows.
		const again = await tempDir("out-bf16-again");
		await resizeEmbeddings({ checkpoint: dir, outDir: again, vocabSize: 500, tokens: many, init: "normal", seed: 7 });
		expect((await readFile(join(again, "model-00001-of-00002.safetensors"))).equals(await readFile(join(out, "model-00001-of-00002.safetensors")))).toBe(true);
	});

	it("should give a tied checkpoint that still stores lm_head the same new rows in both", async () => {
		const { dir } = await checkpoint("F32");
		const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
		await writeFile(join(dir, "config.json"), JSON.stringify({ ...config, tie_word_embeddings: true }));
		const out = await tempDir("out-tied-head");
		const result = await resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 303, tokens, init: "normal", seed: 3 });
		expect(result.tied).toBe(true);
		const after = await parse(join(out, "model.safetensors"));
		const rows = (name: string): Buffer => (after[name]?.bytes as Buffer).subarray(VOCAB * HIDDEN * 4);
		expect(after["lm_head.weight"]?.shape).toEqual([303, HIDDEN]);
		expect(rows("lm_head.weight").equals(rows("model.embed_tokens.weight"))).toBe(true);
	});

	it("should refuse an id map entry past the extended vocabulary instead of dropping its row", async () => {
		const { dir } = await checkpoint("F32");
		const out = await tempDir("out-bad-map");
		await expect(resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 302, tokens, padToMultipleOf: 64 })).rejects.toThrow(/id map entry 302 is outside the extended vocabulary of 302 tokens/);
	});

	it("should keep shards already written when resuming", async () => {
		const { dir } = await checkpoint("F32", { sharded: true });
		const out = await tempDir("out-resume");
		await resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 303, tokens });
		await writeFile(join(out, "model-00002-of-00002.safetensors"), "kept");
		const result = await resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 303, tokens, resume: true });
		expect(result.skipped).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
		expect(await readFile(join(out, "model-00002-of-00002.safetensors"), "utf8")).toBe("kept");
	});

	it("should refuse to resume with another initialisation or seed, naming it (issue 16 point 1)", async () => {
		const { dir } = await checkpoint("F32", { sharded: true });
		const out = await tempDir("out-resume-mixed");
		await resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 303, tokens, seed: "1" });
		await expect(resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 303, tokens, seed: "2", resume: true })).rejects.toThrow(/with other settings than it was started with: seed "1" → "2"/);
		await expect(resizeEmbeddings({ checkpoint: dir, outDir: out, vocabSize: 303, tokens, seed: "1", init: "mean", resume: true })).rejects.toThrow(/init "normal" → "mean"/);
	});

	it("should refuse malformed safetensors with the file and tensor named", async () => {
		const dir = await tempDir("malformed");
		const huge = Buffer.alloc(16);
		huge.writeBigUInt64LE(BigInt(2 ** 40));
		await writeFile(join(dir, "huge.safetensors"), huge);
		await expect(readSafetensorsHeader(join(dir, "huge.safetensors"))).rejects.toThrow(/huge\.safetensors field "header": header of 1099511627776 bytes exceeds/);
		const good = safetensorsBytes({ w: { dtype: "F32", shape: [2, 2], values: new Float32Array(4) } });
		const length = Number(good.readBigUInt64LE(0));
		const header = good.subarray(8, 8 + length).toString().replace("[0,16]", "[0,64]");
		const bad = Buffer.concat([good.subarray(0, 8), Buffer.from(header), good.subarray(8 + length)]);
		await writeFile(join(dir, "offsets.safetensors"), bad);
		const error = await readSafetensorsHeader(join(dir, "offsets.safetensors")).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(InputError);
		expect((error as InputError).message).toMatch(/offsets\.safetensors field "w": data_offsets \[0, 64\] out of range \(data section is 16 bytes\)/);
		const short = Buffer.alloc(8);
		short.writeBigUInt64LE(100n);
		await writeFile(join(dir, "short.safetensors"), short);
		await expect(readSafetensorsHeader(join(dir, "short.safetensors"))).rejects.toThrow(/runs past the end/);
	});
});
