import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { buildLlamaFixture, type LlamaFixture } from "../src/fixture/index.js";
import { wrapDecoderInLoop } from "../src/graph/index.js";
import { type OnnxModel, readOnnxModel, writeOnnxModel } from "../src/onnx/index.js";
import { argmax, decoderFeeds, int64, positionsFromMask, presents, tempDir } from "./graph-test-helpers.js";

const IDS = [
	[0, 0, 0, 1, 75, 381],
	[1, 111, 114, 415, 347, 20],
];
const MASK = [
	[0, 0, 0, 1, 1, 1],
	[1, 1, 1, 1, 1, 1],
];
const VOCAB = 512;

/** Greedy decoding with a host loop over the plain decoder: the reference the in-graph Loop must reproduce. */
async function hostGreedy(session: ort.InferenceSession, fixture: LlamaFixture, steps: number): Promise<number[][]> {
	const tokens: number[][] = IDS.map(() => []);
	let mask = MASK.map((m) => [...m]);
	let positions = positionsFromMask(MASK);
	let inputIds = IDS;
	let past: Record<string, ort.Tensor> | undefined;
	for (let step = 0; step < steps; step++) {
		const out = await session.run(
			decoderFeeds({ arch: fixture.arch, inputIds, attentionMask: mask, positionIds: positions, past }),
		);
		const logits = out.logits!.data as Float32Array;
		const seq = inputIds[0]!.length;
		const next = IDS.map((_, b) => argmax(logits, (b * seq + seq - 1) * VOCAB, VOCAB));
		next.forEach((t, b) => tokens[b]!.push(t));
		positions = positions.map((p) => [p[p.length - 1]! + 1]);
		mask = mask.map((m) => [...m, 1]);
		inputIds = next.map((t) => [t]);
		past = presents(out);
	}
	return tokens;
}

function rows(tensor: ort.Tensor): number[][] {
	const [batch, width] = tensor.dims as [number, number];
	const data = tensor.data as BigInt64Array;
	return Array.from({ length: batch }, (_, b) => Array.from(data.subarray(b * width, (b + 1) * width), Number));
}

describe("wrapDecoderInLoop", () => {
	let fixture: LlamaFixture;
	let model: OnnxModel;
	let host: number[][];

	beforeAll(async () => {
		fixture = await buildLlamaFixture({
			dir: await tempDir("loop"),
			layers: 2,
			hidden: 64,
			heads: 4,
			kvHeads: 2,
			intermediate: 96,
			seed: 9,
		});
		model = await readOnnxModel(join(fixture.dir, "model.onnx"));
		host = await hostGreedy(await ort.InferenceSession.create(join(fixture.dir, "model.onnx")), fixture, 8);
	});

	it("should produce exactly the greedy tokens of the host loop, chunk after chunk", async () => {
		const path = join(fixture.dir, "loop.onnx");
		await writeOnnxModel(wrapDecoderInLoop(model, { chunkSteps: 4 }), path);
		const session = await ort.InferenceSession.create(path);
		expect(session.outputNames).toEqual([
			"tokens",
			"next_attention_mask",
			"next_position_ids",
			"present.0.key",
			"present.0.value",
			"present.1.key",
			"present.1.value",
		]);
		const first = await session.run(
			decoderFeeds({ arch: fixture.arch, inputIds: IDS, attentionMask: MASK, positionIds: positionsFromMask(MASK) }),
		);
		expect(first.tokens!.dims).toEqual([2, 4]);
		expect(first.next_attention_mask!.dims).toEqual([2, 10]);
		expect(first["present.1.value"]!.dims).toEqual([2, 2, 9, 16]);
		expect(rows(first.next_position_ids!)).toEqual([[6], [9]]);
		const firstTokens = rows(first.tokens!);
		const second = await session.run({
			...Object.fromEntries(
				Object.entries(presents(first)).map(([name, tensor]) => [name.replace("present.", "past_key_values."), tensor]),
			),
			input_ids: int64(firstTokens.map((r) => [r[3]!])),
			attention_mask: first.next_attention_mask!,
			position_ids: first.next_position_ids!,
		});
		const tokens = firstTokens.map((r, b) => [...r, ...rows(second.tokens!)[b]!]);
		expect(tokens).toEqual(host);
		// Not a degenerate fixture: the sequences differ and do not repeat one token.
		expect(new Set(host.flat()).size).toBeGreaterThan(3);
	});

	it("should sample in the graph: greedy at temperature 0 or top_k 1, within the top k otherwise, and reproducible by seed", async () => {
		const path = join(fixture.dir, "loop-sample.onnx");
		await writeOnnxModel(wrapDecoderInLoop(model, { chunkSteps: 8, sampling: "sample", seed: 42 }), path);
		const prefill = decoderFeeds({
			arch: fixture.arch,
			inputIds: IDS,
			attentionMask: MASK,
			positionIds: positionsFromMask(MASK),
		});
		const run = async (session: ort.InferenceSession, temperature: number, topK: number): Promise<number[][]> =>
			rows(
				(
					await session.run({
						...prefill,
						temperature: new ort.Tensor("float32", Float32Array.from([temperature]), []),
						top_k: new ort.Tensor("int64", BigInt64Array.from([BigInt(topK)]), []),
					})
				).tokens!,
			);
		const a = await ort.InferenceSession.create(path);
		expect(await run(a, 0, 0)).toEqual(host);
		expect(await run(a, 1.5, 1)).toEqual(host);
		const sampledA = await run(a, 1, 3);
		const b = await ort.InferenceSession.create(path);
		await run(b, 0, 0);
		await run(b, 1.5, 1);
		expect(await run(b, 1, 3)).toEqual(sampledA);
		// Each sampled token is among the 3 most likely continuations of what was sampled before it.
		const plain = await ort.InferenceSession.create(join(fixture.dir, "model.onnx"));
		const sequences = IDS.map((ids, row) => [...ids, ...sampledA[row]!]);
		const mask = MASK.map((m) => [...m, ...Array(8).fill(1)]);
		const out = await plain.run(
			decoderFeeds({
				arch: fixture.arch,
				inputIds: sequences,
				attentionMask: mask,
				positionIds: positionsFromMask(mask),
			}),
		);
		const logits = out.logits!.data as Float32Array;
		for (let row = 0; row < 2; row++) {
			for (let s = 0; s < 8; s++) {
				const at = (row * 14 + 5 + s) * VOCAB;
				const chosen = logits[at + sampledA[row]![s]!]!;
				let higher = 0;
				for (let t = 0; t < VOCAB; t++) if (logits[at + t]! > chosen) higher++;
				expect(higher).toBeLessThan(3);
			}
		}
		expect(sampledA).not.toEqual(host);
	});

	it("should stop early once every sequence has produced an end-of-sequence token", async () => {
		// Row 0 ends at its 2nd token, row 1 at its 3rd (unless it emits row 0's end token sooner).
		const eos = [host[0]![1]!, host[1]![2]!];
		const firstEnd = (row: number[]): number => row.findIndex((t) => eos.includes(t));
		const steps = Math.max(firstEnd(host[0]!), firstEnd(host[1]!)) + 1;
		const path = join(fixture.dir, "loop-eos.onnx");
		await writeOnnxModel(wrapDecoderInLoop(model, { chunkSteps: 8, eosTokenIds: eos }), path);
		const session = await ort.InferenceSession.create(path);
		const out = await session.run(
			decoderFeeds({ arch: fixture.arch, inputIds: IDS, attentionMask: MASK, positionIds: positionsFromMask(MASK) }),
		);
		expect(steps).toBeLessThanOrEqual(3);
		expect(rows(out.tokens!)).toEqual(host.map((r) => r.slice(0, steps)));
		expect(Array.from(out.finished!.data as Uint8Array)).toEqual([1, 1]);
		expect(out.next_attention_mask!.dims).toEqual([2, 6 + steps]);
		expect(out["present.0.key"]!.dims).toEqual([2, 2, 5 + steps, 16]);
		// A token no sequence produces never stops the chunk.
		const absent = Array.from({ length: VOCAB }, (_, t) => t).find((t) => !host.flat().includes(t)) as number;
		await writeOnnxModel(wrapDecoderInLoop(model, { chunkSteps: 8, eosTokenIds: [absent] }), path);
		const never = await (
			await ort.InferenceSession.create(path)
		).run(
			decoderFeeds({ arch: fixture.arch, inputIds: IDS, attentionMask: MASK, positionIds: positionsFromMask(MASK) }),
		);
		expect(rows(never.tokens!)).toEqual(host);
		expect(Array.from(never.finished!.data as Uint8Array)).toEqual([0, 0]);
	});

	it("should refuse decoders it cannot loop", () => {
		expect(() => wrapDecoderInLoop(model, { chunkSteps: 0 })).toThrow(/chunkSteps must be a positive integer/);
		const merged = {
			...model,
			graph: {
				...model.graph!,
				input: [...model.graph!.input!, { name: "use_cache_branch", type: { tensorType: { elemType: 9 } } }],
			},
		};
		expect(() => wrapDecoderInLoop(merged, { chunkSteps: 2 })).toThrow(/use_cache_branch/);
	});
});
