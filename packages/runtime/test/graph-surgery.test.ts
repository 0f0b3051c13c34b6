import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { buildLlamaFixture, type LlamaFixture, referenceForward } from "../src/fixture/index.js";
import {
	addHiddenStateOutputs,
	addLogitLensOutputs,
	addScoringOutputs,
	addStepCacheOutputs,
	findDecoderLayers,
	foldGroupedQueryAttention,
	keepOutputs,
	UnsupportedGraphError,
} from "../src/graph/index.js";
import { type OnnxModel, readOnnxModel, writeOnnxModel } from "../src/onnx/index.js";
import { decoderFeeds, int64, maxAbsDiff, positionsFromMask, presents, tempDir } from "./graph-test-helpers.js";

async function sessionFor(model: OnnxModel, fixture: LlamaFixture, name: string): Promise<ort.InferenceSession> {
	const path = join(fixture.dir, `${name}.onnx`);
	await writeOnnxModel(model, path, { sourceDir: fixture.dir });
	return ort.InferenceSession.create(path);
}

const IDS = [
	[0, 0, 1, 75, 381],
	[1, 111, 114, 415, 347],
];
const MASK = [
	[0, 0, 1, 1, 1],
	[1, 1, 1, 1, 1],
];

/** softmax(lm_head(final_norm(h))) of the reference weights, for one hidden vector. */
function lensDistribution(fixture: LlamaFixture, h: Float32Array): Float64Array {
	const { hidden, vocab, rmsNormEps } = fixture.arch;
	const gain = fixture.weights.get("model.norm.weight")!;
	const head = fixture.weights.get(fixture.arch.tiedEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight")!;
	let sum = 0;
	for (const v of h) sum += v * v;
	const inverse = 1 / Math.sqrt(sum / hidden + rmsNormEps);
	const logits = new Float64Array(vocab);
	for (let t = 0; t < vocab; t++) {
		let acc = 0;
		for (let i = 0; i < hidden; i++) acc += gain[i]! * h[i]! * inverse * head[t * hidden + i]!;
		logits[t] = acc;
	}
	const max = Math.max(...logits);
	let z = 0;
	for (let t = 0; t < vocab; t++) z += Math.exp(logits[t]! - max);
	return logits.map((l) => Math.exp(l - max) / z);
}

describe("graph surgery", () => {
	let fixture: LlamaFixture;
	let model: OnnxModel;
	let plain: ort.InferenceSession;
	let feeds: Record<string, ort.Tensor>;

	beforeAll(async () => {
		fixture = await buildLlamaFixture({
			dir: await tempDir("surgery"),
			layers: 3,
			hidden: 64,
			heads: 4,
			kvHeads: 2,
			intermediate: 96,
			seed: 5,
		});
		model = await readOnnxModel(join(fixture.dir, "model.onnx"));
		plain = await ort.InferenceSession.create(join(fixture.dir, "model.onnx"));
		feeds = decoderFeeds({
			arch: fixture.arch,
			inputIds: IDS,
			attentionMask: MASK,
			positionIds: positionsFromMask(MASK),
		});
	});

	it("should find the residual stream after every layer by graph structure", () => {
		const found = findDecoderLayers(model);
		expect(found).toEqual({
			layers: 3,
			layerOutputs: [
				"/model/layers.0/Add_1_output_0",
				"/model/layers.1/Add_1_output_0",
				"/model/layers.2/Add_1_output_0",
			],
			finalNormInput: "/model/layers.2/Add_1_output_0",
			logits: "logits",
			method: "structure",
		});
	});

	it("should find the layers without names, fall back to names, and explain a graph it cannot read", () => {
		// Structure alone: rename every node and internal value.
		const names = new Map<string, string>();
		const anon = (v: string): string => {
			if (
				!v ||
				v === "logits" ||
				/^(input_ids|attention_mask|position_ids|past_key_values|present|model\.)/.test(v) ||
				v.startsWith("/model/const") ||
				v.startsWith("/model/rotary_emb/inv")
			)
				return v;
			if (!names.has(v)) names.set(v, `v${names.size}`);
			return names.get(v)!;
		};
		const graph = model.graph!;
		const anonymous: OnnxModel = {
			...model,
			graph: {
				...graph,
				node: graph.node!.map((n, k) => ({
					...n,
					name: `n${k}`,
					input: n.input!.map(anon),
					output: n.output!.map(anon),
				})),
			},
		};
		const found = findDecoderLayers(anonymous);
		expect(found.method).toBe("structure");
		expect(found.layerOutputs).toEqual([0, 1, 2].map((i) => names.get(`/model/layers.${i}/Add_1_output_0`)));
		// Per-head query/key norms (as in Qwen3) are not residual-stream norms.
		const qkNorms = graph.node!.flatMap((n) =>
			/^\/model\/layers\.\d+\/self_attn\/Transpose(_1)?$/.test(n.name ?? "")
				? [
						{
							name: `${n.name}/qk_norm/Pow`,
							opType: "Pow",
							input: [n.output![0]!, "/model/const_two"],
							output: [`${n.name}/qk_norm/sq`],
						},
						{
							name: `${n.name}/qk_norm/ReduceMean`,
							opType: "ReduceMean",
							input: [`${n.name}/qk_norm/sq`],
							output: [`${n.name}/qk_norm/mean`],
						},
					]
				: [],
		);
		expect(qkNorms).toHaveLength(12);
		expect(findDecoderLayers({ ...model, graph: { ...graph, node: [...graph.node!, ...qkNorms] } })).toMatchObject({
			method: "structure",
			layerOutputs: findDecoderLayers(model).layerOutputs,
		});
		// Break one norm's pattern: the torch.onnx names still locate the layers.
		const broken = (m: OnnxModel): OnnxModel => ({
			...m,
			graph: {
				...m.graph!,
				node: m.graph!.node!.map((n) =>
					n.name === "/model/norm/Pow" || n.name === names.get("/model/norm/Pow") ? { ...n, opType: "Abs" } : n,
				),
			},
		});
		const byNames = findDecoderLayers(broken(model));
		expect(byNames.method).toBe("names");
		expect(byNames.layerOutputs[2]).toBe("/model/layers.2/Add_1_output_0");
		const anonymousBroken = {
			...anonymous,
			graph: {
				...anonymous.graph!,
				node: anonymous.graph!.node!.map((n) =>
					n.opType === "Pow" && n.input![0] === names.get("/model/layers.2/Add_1_output_0")
						? { ...n, opType: "Abs" }
						: n,
				),
			},
		};
		expect(() => findDecoderLayers(anonymousBroken)).toThrow(/expected 7 RMSNorms .* for 3 layers, found 6/);
		expect(() =>
			findDecoderLayers({ ...model, graph: { ...graph, output: graph.output!.filter((o) => o.name !== "logits") } }),
		).toThrow(UnsupportedGraphError);
		expect(() => addScoringOutputs({ ...model, opsetImport: [{ domain: "", version: 11 }] })).toThrow(
			/opset 11; graph surgery needs opset 13/,
		);
	});

	it("should output the hidden states of every layer, equal to the reference's", async () => {
		const edited = addHiddenStateOutputs(model);
		expect(model.graph!.output!.length).toBe(7); // the input model is unchanged
		const session = await sessionFor(edited, fixture, "hidden");
		const out = await session.run(feeds);
		const reference = referenceForward({
			arch: fixture.arch,
			weights: fixture.weights,
			inputIds: IDS,
			attentionMask: MASK,
		});
		for (let i = 0; i < 3; i++) {
			const states = out[`hidden_states.${i}`]!;
			expect(states.dims).toEqual([2, 5, 64]);
			// Compare the real (unpadded) positions; pads see only themselves and differ by design.
			for (const [b, start] of [
				[0, 2],
				[1, 0],
			] as const) {
				const from = (b * 5 + start) * 64;
				const to = (b + 1) * 5 * 64;
				expect(
					maxAbsDiff((states.data as Float32Array).subarray(from, to), reference.hiddenStates[i]!.subarray(from, to)),
				).toBeLessThan(1e-4);
			}
		}
		const lastOnly = await (
			await sessionFor(addHiddenStateOutputs(model, { positions: "last" }), fixture, "hidden-last")
		).run(feeds);
		expect(lastOnly["hidden_states.1"]!.dims).toEqual([2, 64]);
		expect(Array.from(lastOnly["hidden_states.1"]!.data as Float32Array)).toEqual([
			...(out["hidden_states.1"]!.data as Float32Array).subarray(4 * 64, 5 * 64),
			...(out["hidden_states.1"]!.data as Float32Array).subarray(9 * 64, 10 * 64),
		]);
	});

	it("should score target tokens in the graph as the log-softmax of the plain model's logits", async () => {
		const session = await sessionFor(addScoringOutputs(model), fixture, "scoring");
		expect(session.inputNames).toContain("target_ids");
		expect(session.outputNames).not.toContain("logits");
		const targets = IDS.map((row) => [...row.slice(1), 0]);
		const out = await session.run({ ...feeds, target_ids: int64(targets) });
		const logits = (await plain.run(feeds)).logits!.data as Float32Array;
		const expected: number[] = [];
		for (let b = 0; b < 2; b++) {
			for (let s = 0; s < 5; s++) {
				const rowLogits = Array.from(logits.subarray((b * 5 + s) * 512, (b * 5 + s + 1) * 512));
				const max = Math.max(...rowLogits);
				const logZ = max + Math.log(rowLogits.reduce((acc, l) => acc + Math.exp(l - max), 0));
				expected.push(rowLogits[targets[b]![s]!]! - logZ);
			}
		}
		expect(out.token_logprobs!.dims).toEqual([2, 5]);
		expect(maxAbsDiff(out.token_logprobs!.data as Float32Array, expected)).toBeLessThan(1e-4);
		expect(Math.max(...(out.token_logprobs!.data as Float32Array))).toBeLessThan(0);
		const keep = await sessionFor(
			addScoringOutputs(addHiddenStateOutputs(model), { keepLogits: true }),
			fixture,
			"scoring-keep",
		);
		expect(keep.outputNames).toEqual(expect.arrayContaining(["logits", "token_logprobs", "hidden_states.2"]));
		// Only the scores leave the session: no logits, no KV cache.
		const only = await sessionFor(keepOutputs(addScoringOutputs(model), ["token_logprobs"]), fixture, "scoring-only");
		expect(only.outputNames).toEqual(["token_logprobs"]);
		const onlyOut = await only.run({ ...feeds, target_ids: int64(targets) });
		expect(Array.from(onlyOut.token_logprobs!.data as Float32Array)).toEqual(
			Array.from(out.token_logprobs!.data as Float32Array),
		);
		expect(() => keepOutputs(model, ["logits", "scores"])).toThrow(/no graph output "scores"/);
	});

	it("should compute the logit lens in the graph like the reference", async () => {
		const session = await sessionFor(addLogitLensOutputs(model), fixture, "lens");
		const sets = 3;
		const mask = new Float32Array(512 * sets);
		const members = [[5, 77, 300], [1, 2], Array.from({ length: 512 }, (_, t) => t)];
		members.forEach((tokens, set) => tokens.forEach((t) => (mask[t * sets + set] = 1)));
		const out = await session.run({ ...feeds, lens_token_sets: new ort.Tensor("float32", mask, [512, sets]) });
		expect(out.lens_probs!.dims).toEqual([2, 3, sets]);
		expect(out.lens_entropy!.dims).toEqual([2, 3]);
		const reference = referenceForward({
			arch: fixture.arch,
			weights: fixture.weights,
			inputIds: IDS,
			attentionMask: MASK,
		});
		for (let b = 0; b < 2; b++) {
			for (let layer = 0; layer < 3; layer++) {
				const h = reference.hiddenStates[layer]!.subarray((b * 5 + 4) * 64, (b * 5 + 5) * 64);
				const p = lensDistribution(fixture, h);
				const probs = out.lens_probs!.data as Float32Array;
				members.forEach((tokens, set) => {
					const expected = tokens.reduce((acc, t) => acc + p[t]!, 0);
					expect(probs[(b * 3 + layer) * sets + set]).toBeCloseTo(expected, 5);
				});
				const entropy = -p.reduce((acc, q) => acc + (q > 0 ? q * Math.log(q) : 0), 0);
				expect((out.lens_entropy!.data as Float32Array)[b * 3 + layer]).toBeCloseTo(entropy, 4);
			}
		}
		// A head that slices the last position cannot be applied to [batch, layers, hidden]: a clear refusal.
		const graph = model.graph!;
		const sliced: OnnxModel = {
			...model,
			graph: {
				...graph,
				node: [
					...graph.node!.filter((n) => n.name !== "/lm_head/MatMul"),
					{
						name: "/slice_last",
						opType: "Gather",
						input: ["/model/norm/Mul_1_output_0", "/model/const_one"],
						output: ["last"],
						attribute: [{ name: "axis", type: 2, i: 1 }],
					},
					{ ...graph.node!.find((n) => n.name === "/lm_head/MatMul")!, input: ["last", "lm_head.weight.T"] },
				],
			},
		};
		expect(() => addLogitLensOutputs(sliced)).toThrow(/has a Gather node \(\/slice_last\)/);
		// The last layer's lens is the model's own next-token distribution.
		const logits = (await plain.run(feeds)).logits!.data as Float32Array;
		const last = Array.from(logits.subarray(4 * 512, 5 * 512));
		const max = Math.max(...last);
		const z = last.reduce((acc, l) => acc + Math.exp(l - max), 0);
		expect((out.lens_probs!.data as Float32Array)[2 * sets + 0]).toBeCloseTo(
			[5, 77, 300].reduce((acc, t) => acc + Math.exp(last[t]! - max) / z, 0),
			5,
		);
	});
	it("should output each run's own keys and values as present_step.*, renamed where they are made (no copy node)", async () => {
		const before = JSON.stringify(model.graph!.node);
		const stepped = addStepCacheOutputs(model);
		expect(JSON.stringify(model.graph!.node)).toBe(before); // the caller's model is left as it was
		expect(stepped.graph!.node!.filter((n) => n.opType === "Identity")).toHaveLength(0);
		const session = await sessionFor(stepped, fixture, "stepped");
		const first = await plain.run(feeds);
		const mask = MASK.map((row) => [...row, 1]);
		const step = decoderFeeds({ arch: fixture.arch, inputIds: [[42], [7]], attentionMask: mask, positionIds: positionsFromMask(mask).map((row) => row.slice(-1)), past: presents(first) });
		const [expected, got] = [await plain.run(step), await session.run(step)];
		const { kvHeads, headDim } = fixture.arch;
		const columns = mask[0]!.length;
		for (const name of ["present.0.key", "present.2.value"]) {
			const full = expected[name]!.data as Float32Array;
			const last = Array.from({ length: 2 * kvHeads }, (_, row) => Array.from(full.subarray((row * columns + columns - 1) * headDim, (row * columns + columns) * headDim))).flat();
			expect(Array.from(got[name.replace("present.", "present_step.")]!.data as Float32Array)).toEqual(last);
			expect(maxAbsDiff(got[name]!.data as Float32Array, full)).toBe(0);
		}
	});

	it("should fold grouped-query attention without repeat_kv's Expand: same logits and cache, prefill and cached step; MHA graphs unchanged", async () => {
		const folded = foldGroupedQueryAttention(model);
		const ops = (m: OnnxModel) => m.graph!.node!.map((n) => n.opType);
		expect(ops(model).filter((op) => op === "Expand")).toHaveLength(2 * 3);
		expect(ops(folded)).not.toContain("Expand");
		expect(folded.graph!.initializer!.map((t) => t.name)).not.toContain("/model/const_repeat_kv");
		const session = await sessionFor(folded, fixture, "folded");
		const first = await plain.run(feeds);
		const ours = await session.run(feeds);
		expect(maxAbsDiff(ours.logits!.data as Float32Array, first.logits!.data as Float32Array)).toBeLessThan(1e-5);
		// One cached step: the cache of the prefill, one new token per row.
		const mask = MASK.map((row) => [...row, 1]);
		const step = decoderFeeds({ arch: fixture.arch, inputIds: [[42], [7]], attentionMask: mask, positionIds: positionsFromMask(mask).map((row) => row.slice(-1)), past: presents(first) });
		const [expected, got] = [await plain.run(step), await session.run(step)];
		for (const name of ["logits", "present.2.key", "present.2.value"]) expect(maxAbsDiff(got[name]!.data as Float32Array, expected[name]!.data as Float32Array)).toBeLessThan(1e-5);
		// Multi-head attention (as many KV heads as heads) has no repeat_kv: the model comes back as it was.
		const mha = await buildLlamaFixture({ dir: await tempDir("surgery-mha"), layers: 1, hidden: 32, heads: 2, kvHeads: 2, intermediate: 48, seed: 6 });
		const mhaModel = await readOnnxModel(join(mha.dir, "model.onnx"));
		expect(foldGroupedQueryAttention(mhaModel)).toBe(mhaModel);
	});
});

describe("graph surgery on fused RMSNorms (onnxruntime-genai style)", () => {
	it("should read the residual stream from SkipSimplifiedLayerNormalization sums, naming the one left out", async () => {
		const fixture = await buildLlamaFixture({
			dir: await tempDir("surgery-fused"),
			layers: 2,
			hidden: 32,
			heads: 4,
			kvHeads: 2,
			intermediate: 64,
			vocab: 300,
			norms: "fused",
			seed: 2,
		});
		const model = await readOnnxModel(join(fixture.dir, "model.onnx"));
		expect(model.graph!.node!.filter((n) => n.opType === "SkipSimplifiedLayerNormalization")).toHaveLength(4);
		const found = findDecoderLayers(addHiddenStateOutputs(model));
		expect(found.layerOutputs).toEqual([
			"/model/layers.0/residual_sum",
			"/model/norm/SkipLayerNorm/input_skip_bias_sum",
		]);
		expect(found.finalSkipNorm).toMatchObject({ gamma: "model.norm.weight" });
		const ids = [[1, 60, 61, 62]];
		const feeds = decoderFeeds({
			arch: fixture.arch,
			inputIds: ids,
			attentionMask: [[1, 1, 1, 1]],
			positionIds: [[0, 1, 2, 3]],
		});
		const reference = referenceForward({ arch: fixture.arch, weights: fixture.weights, inputIds: ids });
		const hidden = await (await sessionFor(addHiddenStateOutputs(model), fixture, "fused-hidden")).run(feeds);
		expect(maxAbsDiff(hidden.logits!.data as Float32Array, reference.logits)).toBeLessThan(2e-4);
		for (let i = 0; i < 2; i++)
			expect(maxAbsDiff(hidden[`hidden_states.${i}`]!.data as Float32Array, reference.hiddenStates[i]!)).toBeLessThan(
				1e-4,
			);
		const everything = new Float32Array(300).fill(1);
		const lens = await (
			await sessionFor(addLogitLensOutputs(model), fixture, "fused-lens")
		).run({ ...feeds, lens_token_sets: new ort.Tensor("float32", everything, [300, 1]) });
		for (let layer = 0; layer < 2; layer++) {
			expect((lens.lens_probs!.data as Float32Array)[layer]).toBeCloseTo(1, 5);
			const p = lensDistribution(fixture, reference.hiddenStates[layer]!.subarray(3 * 32, 4 * 32));
			const entropy = -p.reduce((acc, q) => acc + (q > 0 ? q * Math.log(q) : 0), 0);
			expect((lens.lens_entropy!.data as Float32Array)[layer]).toBeCloseTo(entropy, 4);
		}
	});
});
