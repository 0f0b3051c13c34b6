import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { udhrParagraphs } from "@transllm/udhr-text";
import { describe, expect, it } from "vitest";
import { languageFidelity } from "../src/index.js";
import { tempDir } from "./helpers.js";

const TH = udhrParagraphs("th");
const EN = udhrParagraphs("en");

describe("eval language", () => {
	it("should count answers in the expected language and list the others (a TCOT model falling back to English)", async () => {
		const dir = await tempDir("language");
		const answers = join(dir, "model_answer.jsonl");
		// FastChat answers: question 3's second turn and question 5's both turns came out in English.
		const turns = (i: number) => [i === 5 ? EN[i] : TH[i], i === 3 || i === 5 ? EN[i + 10] : TH[i + 10]];
		await writeFile(answers, `${[1, 2, 3, 4, 5].map((i) => JSON.stringify({ question_id: i, answer_id: `a${i}`, model_id: "m", choices: [{ index: 0, turns: turns(i) }] })).join("\n")}\n`);
		const result = await languageFidelity({ answers, lang: "th" });
		expect(result.results.answers).toBe(10);
		expect(result.results.inLanguage).toBe(7);
		expect(result.results.share).toBeCloseTo(70, 10);
		expect(result.results.perTurn).toEqual([
			{ turn: 1, answers: 5, inLanguage: 4, share: 80 },
			{ turn: 2, answers: 5, inLanguage: 3, share: 60 },
		]);
		expect(result.results.wrong.map((w) => [w.id, w.turn, w.detected])).toEqual([
			["3", 2, "en"],
			["5", 1, "en"],
			["5", 2, "en"],
		]);
		expect(result.section.html).toContain("Answers not in Thai");
		// AlpacaEval JSON is read too.
		const alpaca = join(dir, "alpaca.json");
		await writeFile(alpaca, JSON.stringify([{ instruction: "q", output: TH[1], generator: "m" }, { instruction: "q", output: EN[1], generator: "m" }]));
		expect((await languageFidelity({ answers: alpaca, lang: "th" })).results.inLanguage).toBe(1);
	});
});
