// `exportModel` against transformers itself: tiny checkpoints built and run by the Python reference.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pythonRef } from "@transllm/python-ref";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import { exportModel } from "../src/export/index.js";
import { byteBpeTokenizerJson } from "../src/fixture/index.js";
import { decoderFeeds, maxAbsDiff, tempDir } from "./graph-test-helpers.js";

const SCRIPT = fileURLToPath(new URL("./export-reference.py", import.meta.url));
const PROMPTS = ["All human beings are born free and equal in dignity and rights.", "Everyone has the right to life"];
const MAX_NEW_TOKENS = 12;
const BASE = {
	vocab_size: 512,
	hidden_size: 64,
	intermediate_size: 128,
	num_hidden_layers: 2,
	num_attention_heads: 4,
	num_key_value_heads: 2,
	max_position_embeddings: 256,
	bos_token_id: 1,
	eos_token_id: 2,
	rms_norm_eps: 1e-6,
};

interface Case {
	name: string;
	kind: "llama" | "mistral" | "qwen2";
	config: Record<string, unknown>;
	dtype: "float32" | "bfloat16";
	shard?: string;
}

const CASES: Case[] = [
	{
		name: "Llama-3 (GQA, llama3 rope_scaling, untied, sharded fp32)",
		kind: "llama",
		config: { ...BASE, rope_theta: 500000, rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } },
		dtype: "float32",
		shard: "100KB",
	},
	{ name: "Llama-2 (MHA, tied, bf16)", kind: "llama", config: { ...BASE, num_key_value_heads: 4, tie_word_embeddings: true }, dtype: "bfloat16" },
	{ name: "Mistral (GQA, sliding window 4)", kind: "mistral", config: { ...BASE, sliding_window: 4 }, dtype: "float32" },
	{ name: "Qwen2 (qkv biases, tied, bf16)", kind: "qwen2", config: { ...BASE, tie_word_embeddings: true }, dtype: "bfloat16" },
];

interface Reference {
	ids: number[][];
	width: number;
	logits: number[];
	greedy: number[][];
}

const python = pythonRef(["torch", "transformers", "tokenizers", "safetensors"]);
if (!python.ref) console.warn(`export-transformers.test: skipped: ${python.reason}`);

describe.skipIf(!python.ref)("exportModel against transformers (float32)", () => {
	let root: string;
	let references: Reference[];

	beforeAll(async () => {
		root = await tempDir("export-hf");
		const tokenizer = byteBpeTokenizerJson(512);
		const cases = [];
		for (const [k, c] of CASES.entries()) {
			const dir = join(root, `hf-${k}`);
			cases.push({ dir, kind: c.kind, config: c.config, dtype: c.dtype, shard: c.shard ?? null });
		}
		// The tokenizer first: the script tokenizes the prompts with it, as the runtime will.
		for (const c of cases) {
			await mkdir(c.dir, { recursive: true });
			await writeFile(join(c.dir, "tokenizer.json"), JSON.stringify(tokenizer));
			await writeFile(join(c.dir, "tokenizer_config.json"), JSON.stringify({ bos_token: "<s>", eos_token: "</s>", tokenizer_class: "PreTrainedTokenizerFast" }));
		}
		const run = python.ref?.run([SCRIPT], { input: JSON.stringify({ cases, prompts: PROMPTS, max_new_tokens: MAX_NEW_TOKENS }), timeoutMs: 170_000 });
		references = JSON.parse(run?.stdout ?? "[]") as Reference[];
	}, 180_000);

	it.each(CASES.map((c, k) => [c.name, k] as const))(
		"should give transformers' logits within 1e-4 and its greedy tokens through generate: %s",
		async (_name, k) => {
			const c = CASES[k] as Case;
			const reference = references[k] as Reference;
			const dir = join(root, `hf-${k}`);
			if (c.shard) expect((await readdir(dir)).filter((f) => f.endsWith(".safetensors")).length).toBeGreaterThan(1);
			const out = join(root, `onnx-${k}`);
			const result = await exportModel({ model: dir, out, progress: false });
			expect(result).toMatchObject({ modelType: c.kind, precision: "fp32" });
			expect(result.copied).toEqual(expect.arrayContaining(["config.json", "tokenizer.json", "generation_config.json"]));

			// Logits of the left-padded batch, compared at the real (unpadded) positions.
			const { width, ids } = reference;
			const vocab = BASE.vocab_size;
			const headDim = BASE.hidden_size / BASE.num_attention_heads;
			const kvHeads = (c.config.num_key_value_heads as number) ?? BASE.num_key_value_heads;
			const inputIds = ids.map((row) => [...Array(width - row.length).fill(0), ...row]);
			const mask = ids.map((row) => [...Array(width - row.length).fill(0), ...row.map(() => 1)]);
			const positions = mask.map((row) => {
				let p = 0;
				return row.map((m) => (m ? p++ : 0));
			});
			const arch = { layers: 2, hidden: 64, heads: 4, kvHeads, headDim, intermediate: 128, vocab, ropeTheta: 0, rmsNormEps: 0, tiedEmbeddings: false };
			const session = await ort.InferenceSession.create(join(out, "model.onnx"));
			const outputs = await session.run(decoderFeeds({ arch, inputIds, attentionMask: mask, positionIds: positions }));
			const logits = outputs.logits?.data as Float32Array;
			await session.release();
			let worst = 0;
			for (let b = 0; b < ids.length; b++)
				for (let s = width - (ids[b] as number[]).length; s < width; s++) {
					const at = (b * width + s) * vocab;
					worst = Math.max(worst, maxAbsDiff(logits.subarray(at, at + vocab), reference.logits.slice(at, at + vocab)));
				}
			expect(worst).toBeLessThan(1e-4);

			const model = await loadModel(out, { worker: false, executionProvider: "cpu" });
			try {
				for (const [p, prompt] of PROMPTS.entries()) expect(model.tokenizer.encode(prompt)).toEqual(ids[p]);
				const generated = await model.generate({ prompts: PROMPTS, maxNewTokens: MAX_NEW_TOKENS });
				expect(generated.map((g) => g.tokenIds)).toEqual(reference.greedy);
				expect(reference.greedy.some((tokens) => tokens.length > 3)).toBe(true);
			} finally {
				await model.dispose();
			}
		},
		60_000,
	);
});
