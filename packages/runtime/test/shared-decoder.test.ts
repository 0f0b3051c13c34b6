import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLlamaFixture, type LlamaFixture } from "../src/fixture/index.js";
import { addHiddenStateOutputs, addLogitLensOutputs, addScoringOutputs, keepOutputs } from "../src/graph/index.js";
import { lastTokenLogits } from "../src/last-token-logits.js";
import { loadModel, type ChatModel } from "../src/index.js";
import { type OnnxModel, readOnnxModel, writeOnnxModel } from "../src/onnx/index.js";
import { sharedDecoder } from "../src/shared-decoder.js";
import { decoderFeeds, int64, maxAbsDiff, positionsFromMask, presents, tempDir } from "./graph-test-helpers.js";

const IDS = [
	[0, 0, 1, 75, 381],
	[1, 111, 114, 415, 347],
];
const MASK = [
	[0, 0, 1, 1, 1],
	[1, 1, 1, 1, 1],
];

describe("sharedDecoder", () => {
	let fixture: LlamaFixture;
	let model: OnnxModel;
	let shared: ort.InferenceSession;
	const sessions: ort.InferenceSession[] = [];
	const sessionFor = async (edited: OnnxModel, name: string): Promise<ort.InferenceSession> => {
		const path = join(fixture.dir, `${name}.onnx`);
		await writeOnnxModel(edited, path, { sourceDir: fixture.dir });
		const session = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
		sessions.push(session);
		return session;
	};
	const feeds = (past?: Record<string, ort.Tensor>, ids = IDS, mask = MASK, positions = positionsFromMask(MASK)) =>
		decoderFeeds({ arch: fixture.arch, inputIds: ids, attentionMask: mask, positionIds: positions, ...(past ? { past } : {}) });
	const idle = (batch: number, vocab: number) => ({
		target_ids: new ort.Tensor("int64", new BigInt64Array(0), [batch, 0]),
		lens_token_sets: new ort.Tensor("float32", new Float32Array(0), [vocab, 0]),
	});

	beforeAll(async () => {
		fixture = await buildLlamaFixture({ dir: await tempDir("shared-decoder"), layers: 3, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, vocab: 600 });
		model = await readOnnxModel(join(fixture.dir, "model.onnx"));
		shared = await sessionFor(sharedDecoder(model), "shared");
	}, 60_000);
	afterAll(async () => {
		for (const session of sessions) await session.release();
	});

	it("should give generation the last position's logits and the KV cache of lastTokenLogits, prefill and decode step", async () => {
		const last = await sessionFor(lastTokenLogits(model), "last");
		const vocab = fixture.arch.vocab;
		const ours = await shared.run({ ...feeds(), ...idle(2, vocab) });
		const theirs = await last.run(feeds());
		expect(ours.logits!.dims).toEqual([2, 1, vocab]);
		expect(maxAbsDiff(ours.logits!.data as Float32Array, theirs.logits!.data as Float32Array)).toBeLessThan(1e-5);
		for (const name of Object.keys(presents(theirs))) expect(maxAbsDiff(ours[name]!.data as Float32Array, theirs[name]!.data as Float32Array)).toBeLessThan(1e-5);
		// A decode step on the cache each produced.
		const stepMask = MASK.map((row) => [...row, 1]);
		const step = (past: Record<string, ort.Tensor>) => feeds(past, [[5], [6]], stepMask, [[3], [5]]);
		const ourStep = await shared.run({ ...step(presents(ours as Record<string, ort.Tensor>)), ...idle(2, vocab) });
		const theirStep = await last.run(step(presents(theirs as Record<string, ort.Tensor>)));
		expect(maxAbsDiff(ourStep.logits!.data as Float32Array, theirStep.logits!.data as Float32Array)).toBeLessThan(1e-5);
		// greedy_token_ids: the argmax of each row's logits.
		const rows = ourStep.logits!.data as Float32Array;
		const argmax = [0, 1].map((row) => {
			const slice = Array.from(rows.subarray(row * vocab, (row + 1) * vocab));
			return slice.indexOf(Math.max(...slice));
		});
		expect(Array.from(ourStep.greedy_token_ids!.data as BigInt64Array, Number)).toEqual(argmax);
		// Idle heads are empty, not computed.
		expect(ours.token_logprobs!.dims).toEqual([2, 0]);
		expect(ours.lens_probs!.dims).toEqual([2, 0, 0]);
	});

	it("should score, give hidden states and the logit lens as the per-capability surgeries do", async () => {
		const vocab = fixture.arch.vocab;
		const targets = int64(IDS.map((row) => [...row.slice(1), 0]));
		const scoring = await sessionFor(keepOutputs(addScoringOutputs(model), ["token_logprobs"]), "scoring");
		const ourScores = await shared.run({ ...feeds(), target_ids: targets, lens_token_sets: idle(2, vocab).lens_token_sets }, ["token_logprobs"]);
		const theirScores = await scoring.run({ ...feeds(), target_ids: targets });
		expect(ourScores.token_logprobs!.dims).toEqual([2, 5]);
		expect(maxAbsDiff(ourScores.token_logprobs!.data as Float32Array, theirScores.token_logprobs!.data as Float32Array)).toBeLessThan(1e-5);

		const names = Array.from({ length: fixture.arch.layers }, (_, i) => `hidden_states.${i}`);
		const hidden = await sessionFor(keepOutputs(addHiddenStateOutputs(model, { positions: "last" }), names), "hidden");
		const ourStates = await shared.run({ ...feeds(), ...idle(2, vocab) }, names);
		const theirStates = await hidden.run(feeds());
		for (const name of names) expect(maxAbsDiff(ourStates[name]!.data as Float32Array, theirStates[name]!.data as Float32Array)).toBeLessThan(1e-6);

		const sets = new Float32Array(vocab * 2);
		for (const id of [3, 75, 381]) sets[id * 2] = 1;
		for (const id of [111, 114]) sets[id * 2 + 1] = 1;
		const tokenSets = new ort.Tensor("float32", sets, [vocab, 2]);
		const lens = await sessionFor(keepOutputs(addLogitLensOutputs(model), ["lens_probs", "lens_entropy"]), "lens");
		const ourLens = await shared.run({ ...feeds(), target_ids: idle(2, vocab).target_ids, lens_token_sets: tokenSets }, ["lens_probs", "lens_entropy"]);
		const theirLens = await lens.run({ ...feeds(), lens_token_sets: tokenSets });
		expect(ourLens.lens_probs!.dims).toEqual([2, fixture.arch.layers, 2]);
		expect(maxAbsDiff(ourLens.lens_probs!.data as Float32Array, theirLens.lens_probs!.data as Float32Array)).toBeLessThan(1e-5);
		expect(maxAbsDiff(ourLens.lens_entropy!.data as Float32Array, theirLens.lens_entropy!.data as Float32Array)).toBeLessThan(1e-5);
	});

	it("should serve generate, score, hidden states and the lens of a loaded model from one session", async () => {
		const loaded: ChatModel = await loadModel(fixture.dir, { executionProvider: "cpu", worker: false });
		try {
			expect(loaded.sessions).toBe("shared");
			const [generated] = await loaded.generate({ prompts: ["Everyone has the right"], maxNewTokens: 4 });
			expect(generated!.tokenIds.length + (generated!.finishReason === "eos" ? 1 : 0)).toBeGreaterThan(0);
			const [score] = await loaded.score({ pairs: [{ prompt: "Everyone has the right", response: "to life" }] });
			expect(Number.isFinite(score!.sum)).toBe(true);
		} finally {
			await loaded.dispose();
		}
	});
});
