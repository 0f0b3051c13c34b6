import { SeededRng } from "@transllm/core";
import { describe, expect, it } from "vitest";
import { applyRepetitionPenalty, argmax, resolveSampling, sampleToken } from "../src/sampling.js";

const logits = (): Float32Array => Float32Array.from([2, 1, 0, -1, 3, 0.5]);

describe("sampleToken", () => {
	it("is greedy at temperature 0, taking the first maximum on ties", () => {
		expect(sampleToken(logits(), resolveSampling({}), undefined)).toBe(4);
		expect(argmax(Float32Array.from([1, 5, 5, 2]))).toBe(1);
	});

	it("draws only among the top-k tokens, in proportion to softmax(logits / T)", () => {
		const rng = new SeededRng(7);
		const sampling = resolveSampling({ temperature: 1, topK: 2 });
		const counts = new Map<number, number>();
		for (let i = 0; i < 4000; i++) {
			const id = sampleToken(logits(), sampling, rng);
			counts.set(id, (counts.get(id) ?? 0) + 1);
		}
		expect([...counts.keys()].sort()).toEqual([0, 4]);
		// softmax over {3, 2}: P(4) = e / (e + 1) = 0.731
		expect((counts.get(4) ?? 0) / 4000).toBeCloseTo(Math.E / (Math.E + 1), 1);
	});

	it("keeps the smallest nucleus whose mass reaches top-p", () => {
		// probabilities of [3, 2, 1, 0.5, 0, -1]: 0.61, 0.22, 0.08, 0.05, 0.03, 0.01 → top-p 0.8 keeps 2 tokens
		const rng = new SeededRng(1);
		const sampling = resolveSampling({ temperature: 1, topP: 0.8 });
		const seen = new Set<number>();
		for (let i = 0; i < 2000; i++) seen.add(sampleToken(logits(), sampling, rng));
		expect([...seen].sort()).toEqual([0, 4]);
	});

	it("gives the same draws for the same seed and different ones for another", () => {
		const draw = (seed: number) => {
			const rng = new SeededRng(seed);
			return Array.from({ length: 50 }, () => sampleToken(logits(), resolveSampling({ temperature: 1.5 }), rng));
		};
		expect(draw(3)).toEqual(draw(3));
		expect(draw(3)).not.toEqual(draw(4));
	});

	it("rejects bad options with the option's name", () => {
		expect(() => resolveSampling({ topP: 0 })).toThrow(/topP/);
		expect(() => resolveSampling({ temperature: -1 })).toThrow(/temperature/);
		expect(() => resolveSampling({ topK: 1.5 })).toThrow(/topK/);
		expect(() => sampleToken(logits(), resolveSampling({ temperature: 1 }), undefined)).toThrow(/seed/);
	});
});

describe("applyRepetitionPenalty", () => {
	it("divides positive and multiplies negative logits of seen tokens, as transformers does", () => {
		const row = logits();
		applyRepetitionPenalty(row, [0, 3], 2);
		expect(Array.from(row)).toEqual([1, 1, 0, -2, 3, 0.5]);
	});
});
