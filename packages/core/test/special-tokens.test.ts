import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeSpecialTokens, findSpecialToken, guardedSpecialTokens, guardSpecialTokens } from "../src/index.js";

/** The definition: the token found at the smallest index (ties: the first in list order). */
function naive(text: string, tokens: readonly string[]): string | undefined {
	let first: { token: string; index: number } | undefined;
	for (const token of tokens) {
		const index = text.indexOf(token);
		if (index !== -1 && (first === undefined || index < first.index)) first = { token, index };
	}
	return first?.token;
}

describe("special tokens", () => {
	const guarded = guardedSpecialTokens();

	it("guards chat control tokens, <RESPONSE> and every registered language-ID token", () => {
		for (const token of ["</s>", "<s>", "<|eot_id|>", "<<SYS>>", "<RESPONSE>", "<EN>", "<TH>", "<AR>", "<SW>"]) expect(guarded).toContain(token);
		expect(guarded.length).toBeGreaterThan(40);
		expect(new Set(guarded).size).toBe(guarded.length);
	});

	it("finds the leftmost token exactly as a scan of every token would, on adversarial text", () => {
		const piece = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("<", ">", "<<", "</", "<E", "<EN", "<EN>", "<TH>", "</s>", "<s>", "<<SYS>>", "<|eot_id|>", "<RESPONSE>", "if a < b > c", "<div>", "<ZZ>"));
		fc.assert(
			fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
				const text = pieces.join("");
				expect(findSpecialToken(text, guarded)).toBe(naive(text, guarded));
				expect(findSpecialToken(text, ["<EN>", "<RESPONSE>", "<TH>"])).toBe(naive(text, ["<EN>", "<RESPONSE>", "<TH>"]));
			}),
			{ seed: 1616, numRuns: 2000 },
		);
	});

	it("escapes so that nothing is found any more, and errors name the token", () => {
		const text = "a </s> b <TH> c <<SYS>> d";
		expect(findSpecialToken(escapeSpecialTokens(text, guarded), guarded)).toBeUndefined();
		expect(() => guardSpecialTokens(text, guarded, "error", { file: "x.jsonl", line: 3, field: "text" })).toThrow(/special token <\/s>/);
	});
});
