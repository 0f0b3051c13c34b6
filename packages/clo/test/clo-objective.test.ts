import { describe, expect, it } from "vitest";
import { cloObjective, logSigmoid } from "../src/index.js";
import type { CloConditionals, CloPairLogprobs } from "../src/index.js";

function conditionals(enGivenEn: number, targetGivenEn: number, targetGivenTarget: number, enGivenTarget: number, targetTokens = 4): CloConditionals {
	return {
		enGivenEn: { sum: enGivenEn, tokens: 4 },
		targetGivenEn: { sum: targetGivenEn, tokens: 4 },
		targetGivenTarget: { sum: targetGivenTarget, tokens: targetTokens },
		enGivenTarget: { sum: enGivenTarget, tokens: 4 },
	};
}

// Pair 1: z_en = 0.1·((−10 − −11) − (−30 − −28)) = 0.1·(1 + 2) = 0.3
//         z_t  = 0.1·((−12 − −15) − (−20 − −19)) = 0.1·(3 + 1) = 0.4
const pair1: CloPairLogprobs = { pairId: "p1", policy: conditionals(-10, -30, -12, -20, 4), reference: conditionals(-11, -28, -15, -19) };
// Pair 2: z_en = 0.1·((−50 − −48) − (−40 − −44)) = 0.1·(−2 − 4) = −0.6
//         z_t  = 0.1·((−60 − −58) − (−45 − −47)) = 0.1·(−2 − 2) = −0.4
const pair2: CloPairLogprobs = { pairId: "p2", policy: conditionals(-50, -40, -60, -45, 20), reference: conditionals(-48, -44, -58, -47) };

// log σ(z) = −ln(1 + e^−z): e^−0.3 = 0.7408182206817179, e^−0.4 = 0.6703200460356393, e^0.6 = 1.8221188003905089
const LOG_SIGMOID_03 = -Math.log(1.7408182206817179); // −0.554355244468527
const LOG_SIGMOID_04 = -Math.log(1.6703200460356393); // −0.5130152523999526
const LOG_SIGMOID_M06 = -Math.log(2.8221188003905089); // −1.0374879504858856
const LOG_SIGMOID_M04 = -0.4 + LOG_SIGMOID_04; // log σ(−z) = −z + log σ(z): −0.9130152523999526

describe("cloObjective", () => {
	it("computes z_en and z_t by Eq. 11–12 and L_CL by Eq. 10 for one pair", () => {
		const result = cloObjective([pair1]);
		expect(result.zEn[0]).toBeCloseTo(0.3, 14);
		expect(result.zT[0]).toBeCloseTo(0.4, 14);
		// Eq. 10 with N = 1: −(log σ(0.3) + log σ(0.4)) = 0.554355244468527 + 0.5130152523999526
		expect(result.lCl).toBeCloseTo(1.0673704968684796, 12);
		// Eq. 9, token mean: −(−12)/4 = 3
		expect(result.lSft).toBeCloseTo(3, 14);
		// Eq. 8 with λ = 0.5
		expect(result.lClo).toBeCloseTo(0.5 * 3 + 0.5 * 1.0673704968684796, 12);
		expect(result.accuracy).toBe(1);
	});

	it("averages over pairs (N = 2), adds the two DPO terms of a pair, and counts accuracy over the 2N comparisons", () => {
		const result = cloObjective([pair1, pair2]);
		expect(result.zEn[1]).toBeCloseTo(-0.6, 14);
		expect(result.zT[1]).toBeCloseTo(-0.4, 14);
		const lCl = -(LOG_SIGMOID_03 + LOG_SIGMOID_04 + LOG_SIGMOID_M06 + LOG_SIGMOID_M04) / 2;
		expect(lCl).toBeCloseTo(1.508936849877159, 12);
		expect(result.lCl).toBeCloseTo(lCl, 12);
		// target NLL per token: 12/4 = 3 and 60/20 = 3 → mean 3; the English answers' NLL (−10, −50) takes no part
		expect(result.lSft).toBeCloseTo(3, 14);
		expect(result.lClo).toBeCloseTo(0.5 * 3 + 0.5 * 1.508936849877159, 12);
		expect(result.accuracy).toBe(0.5);
		expect(result.accuracyEn).toBe(0.5);
		expect(result.accuracyT).toBe(0.5);
		expect(result.pairs).toBe(2);
	});

	it("follows λ, β and the sum reduction of Eq. 9", () => {
		const result = cloObjective([pair1, pair2], { lambda: 0.25, beta: 0.5, sftReduction: "sum" });
		expect(result.zEn).toEqual([expect.closeTo(1.5, 12), expect.closeTo(-3, 12)]);
		expect(result.zT).toEqual([expect.closeTo(2, 12), expect.closeTo(-2, 12)]);
		// sum reduction: (12 + 60) / 2 = 36
		expect(result.lSft).toBeCloseTo(36, 12);
		const lCl = -(logSigmoid(1.5) + logSigmoid(2) + logSigmoid(-3) + logSigmoid(-2)) / 2;
		// log σ(1.5) = −ln(1 + e^−1.5) = −0.2014132779827524, log σ(2) = −0.1269280110429725,
		// log σ(−3) = −3.0485873515737420, log σ(−2) = −2.1269280110429727
		expect(lCl).toBeCloseTo((0.2014132779827524 + 0.1269280110429725 + 3.048587351573742 + 2.1269280110429727) / 2, 12);
		expect(result.lCl).toBeCloseTo(lCl, 12);
		expect(result.lClo).toBeCloseTo(0.25 * 36 + 0.75 * lCl, 10);
	});

	it("stays exact at numerically extreme margins", () => {
		// z_en = 0.1·((−1e4 − −2e4) − 0) = 1000: −log σ(1000) = ln(1 + e^−1000) = 0 in double precision.
		// z_t  = 0.1·((−3e4 − −2e4) − 0) = −1000: −log σ(−1000) = 1000 + ln(1 + e^−1000) = 1000 (naively ln(1/(1+e^1000)) = −∞).
		const extreme: CloPairLogprobs = {
			policy: conditionals(-1e4, -5e4, -3e4, -7e4, 1e5),
			reference: conditionals(-2e4, -5e4, -2e4, -7e4),
		};
		const result = cloObjective([extreme]);
		expect(result.zEn[0]).toBe(1000);
		expect(result.zT[0]).toBe(-1000);
		expect(result.lCl).toBe(1000);
		expect(Number.isFinite(result.lClo)).toBe(true);
		expect(result.lSft).toBeCloseTo(0.3, 14); // 3e4 / 1e5 tokens
		expect(result.lClo).toBeCloseTo(0.5 * 0.3 + 0.5 * 1000, 10);
		expect(result.accuracyEn).toBe(1);
		expect(result.accuracyT).toBe(0);
	});

	it("keeps the tail of log σ where 1 + e^−z rounds to 1", () => {
		// ln(1 + e^−40) = 4.248354255291589e-18, which Math.log(1 + Math.exp(-40)) returns as 0.
		expect(Math.log(1 + Math.exp(-40))).toBe(0);
		expect(logSigmoid(40)).toBeCloseTo(-4.248354255291589e-18, 30);
		expect(logSigmoid(40) / -4.248354255291589e-18).toBeCloseTo(1, 12);
		expect(logSigmoid(-40)).toBe(-40 - 4.248354255291589e-18);
		expect(logSigmoid(-745.5)).toBe(-745.5);
		expect(logSigmoid(0)).toBeCloseTo(-Math.LN2, 15);
	});

	it("a tie (z = 0) is not counted as a win", () => {
		const tie: CloPairLogprobs = { policy: conditionals(-5, -5, -5, -5), reference: conditionals(-5, -5, -5, -5) };
		const result = cloObjective([tie]);
		expect(result.accuracy).toBe(0);
		expect(result.lCl).toBeCloseTo(2 * Math.LN2, 15);
	});

	it("rejects non-finite or positive log-probabilities, naming the pair and the field", () => {
		const broken = { ...pair1, pairId: "bad", policy: { ...pair1.policy, enGivenTarget: { sum: Number.NaN, tokens: 3 } } };
		expect(() => cloObjective([pair1, broken])).toThrow(/pair "bad": policy\.enGivenTarget\.sum must be a finite/);
		const infinite = { ...pair1, pairId: undefined, reference: { ...pair1.reference, targetGivenEn: { sum: Number.NEGATIVE_INFINITY, tokens: 3 } } };
		expect(() => cloObjective([infinite])).toThrow(/pair 1: reference\.targetGivenEn\.sum/);
		const positive = { ...pair1, policy: { ...pair1.policy, enGivenEn: { sum: 2, tokens: 3 } } };
		expect(() => cloObjective([positive])).toThrow(/cannot be positive/);
		const noTokens = { ...pair1, policy: { ...pair1.policy, targetGivenTarget: { sum: -3, tokens: 0 } } };
		expect(() => cloObjective([noTokens])).toThrow(/tokens must be a positive integer/);
		expect(() => cloObjective([noTokens], { sftReduction: "sum" })).not.toThrow();
		expect(() => cloObjective([])).toThrow(/at least one pair/);
		expect(() => cloObjective([pair1], { lambda: 1.5 })).toThrow(/lambda/);
	});
});
