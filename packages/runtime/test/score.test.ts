import { udhrParagraphs } from "@transllm/udhr-text";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import type { ChatModel } from "../src/chat-model.js";
import { buildLlamaFixture, readLlamaReference, referenceForward } from "../src/fixture/index.js";
import type { LlamaArchitecture, LlamaWeights } from "../src/fixture/index.js";
import { tempDir } from "./graph-test-helpers.js";

const EN = udhrParagraphs("en");
const PAIRS = [
	{ prompt: EN[1] as string, response: (EN[2] as string).slice(0, 90) },
	{ prompt: "Question: who is born free?", response: " All human beings." },
	{ prompt: (EN[9] as string).slice(0, 40), response: (EN[10] as string).slice(0, 150) },
];

function logSoftmax(row: Float32Array): Float64Array {
	let max = Number.NEGATIVE_INFINITY;
	for (const v of row) max = Math.max(max, v);
	let sum = 0;
	for (const v of row) sum += Math.exp(v - max);
	const lse = max + Math.log(sum);
	return Float64Array.from(row, (v) => v - lse);
}

describe("ChatModel.score / hiddenStates / logitLens", () => {
	let model: ChatModel;
	let reference: { arch: LlamaArchitecture; weights: LlamaWeights };

	beforeAll(async () => {
		const dir = await tempDir("runtime-score");
		await buildLlamaFixture({ dir, layers: 3, hidden: 64, heads: 4, kvHeads: 1, intermediate: 128, seed: 5, tiedEmbeddings: true });
		reference = await readLlamaReference(dir);
		model = await loadModel(dir, { executionProvider: "cpu" });
	});
	afterAll(async () => {
		await model?.dispose();
	});

	it("should score log P(response | prompt) as the log-softmax of the logits at the response tokens", async () => {
		const scores = await model.score({ pairs: PAIRS, batchSize: 2 });
		for (const [i, pair] of PAIRS.entries()) {
			const prompt = model.tokenizer.encode(pair.prompt);
			const response = model.tokenizer.encode(pair.response, { addSpecialTokens: false });
			const ids = [...prompt, ...response];
			const { logits, vocab } = referenceForward({ ...reference, inputIds: [ids] });
			const expected = response.map((token, j) => logSoftmax(logits.subarray((prompt.length + j - 1) * vocab, (prompt.length + j) * vocab))[token] as number);
			const score = scores[i];
			expect(score?.tokens).toBe(response.length);
			expect(score?.tokenLogprobs).toHaveLength(response.length);
			score?.tokenLogprobs.forEach((lp, j) => expect(lp).toBeCloseTo(expected[j] as number, 3));
			expect(score?.sum).toBeCloseTo(expected.reduce((a, b) => a + b, 0), 2);
			expect(score?.mean).toBeCloseTo((score?.sum ?? 0) / response.length, 6);
			expect(score?.executionProvider.name).toBe("cpu");
		}
		// Batching and padding do not change a score.
		const alone = await model.score({ pairs: PAIRS, batchSize: 1 });
		alone.forEach((s, i) => expect(s.sum).toBeCloseTo(scores[i]?.sum ?? 0, 3));
		const withEos = await model.score({ pairs: PAIRS.slice(0, 1), appendEos: true });
		expect(withEos[0]?.tokens).toBe((scores[0]?.tokens ?? 0) + 1);
		await expect(model.score({ pairs: [{ prompt: "x", response: "" }] })).rejects.toThrow(/pairs\[0\]\.response/);
	});

	it("should return every layer's residual stream at the last token, as the reference computes it", async () => {
		const prompts = [EN[3] as string, "Everyone has the right"];
		const states = await model.hiddenStates({ prompts, batchSize: 2 });
		expect(states).toHaveLength(2);
		for (const [i, prompt] of prompts.entries()) {
			const ids = model.tokenizer.encode(prompt);
			const { hiddenStates, hidden } = referenceForward({ ...reference, inputIds: [ids] });
			expect(states[i]).toHaveLength(3);
			for (let layer = 0; layer < 3; layer++) {
				const expected = (hiddenStates[layer] as Float32Array).subarray((ids.length - 1) * hidden, ids.length * hidden);
				const got = states[i]?.[layer] as Float32Array;
				expect(got).toBeInstanceOf(Float32Array);
				expect(got.length).toBe(64);
				let diff = 0;
				for (let k = 0; k < hidden; k++) diff = Math.max(diff, Math.abs((got[k] as number) - (expected[k] as number)));
				expect(diff).toBeLessThan(1e-3);
			}
		}
	});

	it("should compute the logit lens per layer: token-set mass and entropy of softmax(lm_head(norm(h)))", async () => {
		const prompt = EN[5] as string;
		const ids = model.tokenizer.encode(prompt);
		const { hiddenStates, hidden, vocab } = referenceForward({ ...reference, inputIds: [ids] });
		const norm = reference.weights.get("model.norm.weight") as Float32Array;
		const head = reference.weights.get("model.embed_tokens.weight") as Float32Array; // tied embeddings
		const lens = (layer: number): Float64Array => {
			const h = (hiddenStates[layer] as Float32Array).subarray((ids.length - 1) * hidden, ids.length * hidden);
			const rms = Math.sqrt(h.reduce((a, v) => a + v * v, 0) / hidden + reference.arch.rmsNormEps);
			const logits = new Float32Array(vocab);
			for (let t = 0; t < vocab; t++) {
				let dot = 0;
				for (let k = 0; k < hidden; k++) dot += ((h[k] as number) / rms) * (norm[k] as number) * (head[t * hidden + k] as number);
				logits[t] = dot;
			}
			return logSoftmax(logits).map(Math.exp);
		};
		const sets = [[5, 17, 300], [42], [100, 101]];
		const { probs, entropy, executionProvider } = await model.logitLens({ prompts: [prompt, "All"], tokenSets: sets });
		expect(executionProvider.name).toBe("cpu");
		expect(probs).toHaveLength(2);
		for (let layer = 0; layer < 3; layer++) {
			const p = lens(layer);
			sets.forEach((set, s) => expect(probs[0]?.[layer]?.[s]).toBeCloseTo(set.reduce((a, t) => a + (p[t] as number), 0), 4));
			expect(entropy[0]?.[layer]).toBeCloseTo(-p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0), 3);
		}
		await expect(model.logitLens({ prompts: ["x"], tokenSets: [[512]] })).rejects.toThrow(/outside the vocabulary/);
	});
});
