import { describe, expect, it } from "vitest";
import { binomialTest, chiSquareTest, summariseSafety, winTieLoss } from "../src/index.js";
import type { Outcome, SafetyRecord } from "../src/index.js";

// App. C.1 of TransLLM: a two-sided binomial test of the win rate without ties, and a χ² test for safety (Table 3).
describe("significance tests (TransLLM App. C.1)", () => {
	it("binomial test: exact two-sided p-values on hand-computed cases", () => {
		// 8 wins, 2 losses: 2·(C(10,0)+C(10,1)+C(10,2))/2^10 = 2·56/1024.
		expect(binomialTest(8, 2).p).toBeCloseTo(112 / 1024, 12);
		// 15 of 20: 2·(1+20+190+1140+4845+15504)/2^20, just under 0.05.
		const fifteen = binomialTest(15, 5);
		expect(fifteen.p).toBeCloseTo((2 * 21700) / 1048576, 12);
		expect(fifteen.significant).toBe(true);
		expect(binomialTest(14, 6).significant).toBe(false);
		expect(binomialTest(5, 5).p).toBe(1);
		expect(binomialTest(0, 0)).toMatchObject({ p: 1, significant: false });
		// Symmetric, and stable for thousands of questions (log space).
		expect(binomialTest(400, 600).p).toBeCloseTo(binomialTest(600, 400).p, 15);
		expect(binomialTest(600, 400).p).toBeGreaterThan(0);
		expect(binomialTest(600, 400).p).toBeLessThan(1e-9);
	});

	it("win / tie / loss carries the test of wins against losses, ties left out", () => {
		const outcomes: Outcome[] = [...Array<Outcome>(15).fill(1), ...Array<Outcome>(5).fill(-1), ...Array<Outcome>(30).fill(0)];
		const stats = winTieLoss(outcomes, { samples: 100 });
		expect(stats.p).toBeCloseTo((2 * 21700) / 1048576, 12);
		expect(stats.significant).toBe(true);
	});

	it("χ² test: Pearson's statistic and p-values against closed forms", () => {
		// 2×2, expected 15 everywhere: χ² = 4·25/15; df 1: p = erfc(√(χ²/2)) = 0.0098232…
		const two = chiSquareTest([
			[10, 20],
			[20, 10],
		]);
		expect(two.chi2).toBeCloseTo(100 / 15, 12);
		expect(two.df).toBe(1);
		expect(two.p).toBeCloseTo(0.00982327, 7);
		// 2×3 (Reject, Bypass, Unclear of two models): df 2, p = exp(−χ²/2) exactly.
		const three = chiSquareTest([
			[90, 5, 5],
			[70, 20, 10],
		]);
		const expected = [[80, 12.5, 7.5], [80, 12.5, 7.5]];
		const observed = [[90, 5, 5], [70, 20, 10]];
		const chi2 = observed.flatMap((row, i) => row.map((o, j) => (o - (expected[i]?.[j] as number)) ** 2 / (expected[i]?.[j] as number))).reduce((a, b) => a + b, 0);
		expect(three.chi2).toBeCloseTo(chi2, 10);
		expect(three.df).toBe(2);
		expect(three.p).toBeCloseTo(Math.exp(-chi2 / 2), 12);
		// 3×3: df 4, p = exp(−x/2)(1 + x/2).
		const nine = chiSquareTest([
			[30, 10, 10],
			[20, 20, 10],
			[10, 20, 20],
		]);
		expect(nine.df).toBe(4);
		expect(nine.p).toBeCloseTo(Math.exp(-nine.chi2 / 2) * (1 + nine.chi2 / 2), 12);
		// A label no model got (no Unclear at all) is left out, not a division by zero.
		expect(chiSquareTest([[10, 20, 0], [20, 10, 0]])).toMatchObject({ df: 1, p: two.p });
		expect(chiSquareTest([[5, 5]]).p).toBe(1);
	});

	it("safety against a baseline: the χ² test of the label counts in results and the report section", () => {
		const records = (labels: string): SafetyRecord[] => [...labels].map((c, i) => ({ id: String(i), query: "q", answer: "a", answer_en: "a", rule: c === "R" ? "Reject" : c === "B" ? "Bypass" : "Unclear" }));
		const baseline = summariseSafety(records("RRRRRRRRRRRRRRRRRRRB"), "llama-2-chat", "th", false).results;
		const result = summariseSafety(records("RRRRRRBBBBBBBBBBBBUU"), "chatgpt", "th", false, baseline);
		const comparison = result.results.comparison;
		expect(comparison?.baseline).toBe("llama-2-chat");
		expect(comparison?.rule).toEqual(chiSquareTest([[6, 12, 2], [19, 1, 0]]));
		expect(comparison?.rule.significant).toBe(true);
		expect(result.section.html).toContain("Pearson's χ² test");
	});
});
