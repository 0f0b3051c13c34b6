import { describe, expect, it } from "vitest";
import { TcotStreamParser, parseTcotOutput } from "../src/index.js";
import type { TcotParseResult, TcotStreamEvent } from "../src/index.js";
import { alignedArticles } from "./udhr.js";

const [, articleEn, articleTh] = alignedArticles()[0] as [number, string, string];
const queryEn = "What does Article 1 of the Universal Declaration of Human Rights say?";
const golden = `<EN> ${queryEn} <RESPONSE> ${articleEn} <TH> ${articleTh}</s>`;

describe("parseTcotOutput", () => {
	it("should split the golden output into its three parts", () => {
		expect(parseTcotOutput(golden, { lang: "th" })).toEqual({
			queryEn,
			responseEn: articleEn,
			responseTarget: articleTh,
			lang: "th",
			mode: "tcot",
			missing: [],
			complete: true,
			endedWithEos: true,
			irregular: false,
		} satisfies TcotParseResult);
	});

	it("should be robust to spacing, BOS text and any EOS text, dropping what follows EOS", () => {
		for (const text of [
			`<s><EN>${queryEn}<RESPONSE>${articleEn}<TH>${articleTh}<|eot_id|>garbage <TH> more`,
			`  <EN>\n${queryEn}\n\n<RESPONSE>  ${articleEn}\n<TH>\n${articleTh}  <end_of_turn>`,
			`<EN> ${queryEn} <RESPONSE> ${articleEn} <TH> ${articleTh}`,
		]) {
			const result = parseTcotOutput(text);
			expect([result.queryEn, result.responseEn, result.responseTarget, result.lang]).toEqual([queryEn, articleEn, articleTh, "th"]);
		}
		expect(parseTcotOutput(`<EN> q <RESPONSE> a <TH> ตอบ`).endedWithEos).toBe(false);
	});

	it("should collapse a repeated marker and drop a looping repeat of a stage", () => {
		const collapsed = parseTcotOutput(`<EN> <EN> ${queryEn} <RESPONSE><RESPONSE> ${articleEn} <TH> <TH> ${articleTh}`);
		expect([collapsed.queryEn, collapsed.responseEn, collapsed.responseTarget, collapsed.irregular]).toEqual([queryEn, articleEn, articleTh, false]);
		const looping = parseTcotOutput(`<EN> q1 <RESPONSE> a1 <RESPONSE> a1 again <TH> ตอบ <EN> q1 <RESPONSE> a1`);
		expect([looping.queryEn, looping.responseEn, looping.responseTarget, looping.irregular]).toEqual(["q1", "a1", "ตอบ", true]);
	});

	it("should report each missing stage and give the paper's fallback", () => {
		const noResponse = parseTcotOutput(`<EN> ${queryEn}</s>`, { lang: "th" });
		expect(noResponse.missing).toEqual(["english-response", "target-response"]);
		expect(noResponse.fallback).toEqual({ stage: "english-response", append: " <RESPONSE>", continueFrom: `<EN> ${queryEn} <RESPONSE>` });
		const noTarget = parseTcotOutput(`<EN> ${queryEn} <RESPONSE> ${articleEn}  </s>`, { lang: "th" });
		expect(noTarget.missing).toEqual(["target-response"]);
		expect(noTarget.fallback).toEqual({ stage: "target-response", append: " <TH>", continueFrom: `<EN> ${queryEn} <RESPONSE> ${articleEn} <TH>` });
		// Continuing from the fallback completes the chain.
		expect(parseTcotOutput(`${noTarget.fallback?.continueFrom} ${articleTh}`, { lang: "th" }).complete).toBe(true);
		// A stage whose marker came but whose text did not is not "done": forcing the next marker would skip it.
		for (const stopped of [`<EN> ${queryEn} <RESPONSE></s>`, `${queryEn} <RESPONSE>`]) {
			const result = parseTcotOutput(stopped, { lang: "th" });
			expect([result.missing, result.fallback]).toEqual([["english-response", "target-response"], undefined]);
		}
		expect(parseTcotOutput("<EN></s>", { lang: "th" }).fallback).toBeUndefined();
		const skipped = parseTcotOutput(`<EN> ${queryEn} <TH> ${articleTh}`);
		expect([skipped.missing, skipped.queryEn, skipped.responseTarget]).toEqual([["english-response"], queryEn, articleTh]);
	});

	it("should take the text before <RESPONSE> as the English query when <EN> is missing", () => {
		const result = parseTcotOutput(`${queryEn} <RESPONSE> ${articleEn} <TH> ${articleTh}`);
		expect([result.mode, result.queryEn, result.complete]).toEqual(["tcot", queryEn, true]);
	});

	it("should recognise recovery-KD, translation and unmarked outputs", () => {
		const english = parseTcotOutput(`<RESPONSE> ${articleEn}</s>`, { lang: "th" });
		expect([english.mode, english.responseEn, english.fallback]).toEqual(["english", articleEn, undefined]);
		const translation = parseTcotOutput(`<TH> ${articleTh}`);
		expect([translation.mode, translation.responseTarget, translation.lang]).toEqual(["translation", articleTh, "th"]);
		const plain = parseTcotOutput("Just an answer.");
		expect([plain.mode, plain.unmarked, plain.missing.length]).toEqual(["unmarked", "Just an answer.", 3]);
	});

	it("should open the target stage only with the requested language's token", () => {
		const result = parseTcotOutput(`<EN> q <RESPONSE> a <AR> نص`, { lang: "th" });
		expect([result.responseEn, result.responseTarget]).toEqual(["a <AR> نص", undefined]);
		expect(parseTcotOutput(`<EN> q <RESPONSE> a <AR> نص`).lang).toBe("ar");
	});
});

function streamEvents(chunks: readonly string[], lang?: string): TcotStreamEvent[] {
	const parser = new TcotStreamParser({ lang });
	return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()];
}

function summarize(events: TcotStreamEvent[]) {
	const end = events.at(-1) as { type: "end"; result: TcotParseResult };
	return {
		englishQuery: events.filter((event) => event.type === "english-query").map((event) => (event as { text: string }).text),
		englishResponse: events.filter((event) => event.type === "english-response").map((event) => (event as { text: string }).text),
		englishDeltas: (["english-query", "english-response"] as const).map((stage) =>
			events.flatMap((event) => (event.type === "english-delta" && event.stage === stage ? [event.text] : [])).join(""),
		),
		englishMode: [...new Set(events.flatMap((event) => (event.type === "english-delta" ? [event.english] : [])))],
		target: events.filter((event) => event.type === "target-delta").map((event) => (event as { text: string }).text).join(""),
		result: end.result,
	};
}

describe("TcotStreamParser", () => {
	it("should emit English query done, English response done and target deltas, in that order", () => {
		const events = streamEvents([`<EN> ${queryEn} <RESPONSE> `, `${articleEn} <TH> `, articleTh.slice(0, 20), articleTh.slice(20), "</s>"]);
		expect(events.filter((event) => event.type !== "english-delta").map((event) => event.type)).toEqual(["english-query", "english-response", "target-delta", "target-delta", "end"]);
		// English deltas come before their stage's closing event and add up to it.
		expect(events.findIndex((event) => event.type === "english-delta")).toBe(0);
		expect(summarize(events)).toEqual({
			englishQuery: [queryEn],
			englishResponse: [articleEn],
			englishDeltas: [queryEn, articleEn],
			englishMode: [false],
			target: articleTh,
			result: parseTcotOutput(golden),
		});
	});

	it("should give the batch result for every two-way split of the output, even inside a marker", () => {
		const expected = summarize(streamEvents([golden]));
		for (let cut = 0; cut <= golden.length; cut++) expect(summarize(streamEvents([golden.slice(0, cut), golden.slice(cut)]))).toEqual(expected);
	});

	it("should give the batch result when fed one character at a time, with messy spacing", () => {
		const messy = `<s> <EN><EN>  ${queryEn}\n<RESPONSE>${articleEn}   <TH>  ${articleTh}  <|eot_id|> tail`;
		const summary = summarize(streamEvents([...messy]));
		expect(summary.result).toEqual(parseTcotOutput(messy));
		expect(summary.target).toBe(articleTh);
		expect(summary.englishQuery).toEqual([queryEn]);
	});

	it("should not emit a target delta for text that turns out to be a marker or EOS", () => {
		const events = streamEvents(["<EN> q <RESPONSE> a <TH> สวัสดี <", "/s", ">"]);
		expect(summarize(events).target).toBe("สวัสดี");
		expect(events.some((event) => event.type === "target-delta" && event.text.includes("<"))).toBe(false);
	});
});

// The recovery-KD form a TransLLM model produces for an English query (Sec. 2.2.3): `<RESPONSE> a^α`, no chain.
const englishAnswer = "The capital of Thailand is Bangkok.";
const englishGolden = `<RESPONSE> ${englishAnswer}</s>`;

describe("English-mode answers", () => {
	it("should parse `<RESPONSE> answer</s>` as a complete English-mode answer", () => {
		expect(parseTcotOutput(englishGolden, { lang: "th" })).toEqual({
			responseEn: englishAnswer,
			mode: "english",
			missing: [],
			complete: true,
			endedWithEos: true,
			irregular: false,
		} satisfies TcotParseResult);
		expect(parseTcotOutput(`<RESPONSE> ${englishAnswer}`).complete).toBe(true);
		// The marker alone is no answer; a later target marker makes it an (incomplete) chain.
		expect(parseTcotOutput("<RESPONSE></s>")).toMatchObject({ mode: "english", missing: ["english-response"], complete: false });
		expect(parseTcotOutput(`<RESPONSE> ${englishAnswer} <TH> ตอบ`)).toMatchObject({ mode: "tcot", missing: ["english-query"], complete: false });
	});

	it("should stream the English answer as English-mode deltas and close it with english-response at EOS", () => {
		const events = streamEvents(["<RESP", "ONSE> The capital", " of Thailand ", "is Bangkok.", "</s>"], "th");
		expect(events.map((event) => event.type)).toEqual(["english-delta", "english-delta", "english-delta", "english-response", "end"]);
		expect(summarize(events)).toEqual({
			englishQuery: [],
			englishResponse: [englishAnswer],
			englishDeltas: ["", englishAnswer],
			englishMode: [true],
			target: "",
			result: parseTcotOutput(englishGolden, { lang: "th" }),
		});
	});

	it("should close the English answer at end() when no EOS text came, and give the batch result for every split", () => {
		expect(summarize(streamEvents([`<RESPONSE> ${englishAnswer}`])).englishResponse).toEqual([englishAnswer]);
		const expected = summarize(streamEvents([englishGolden]));
		for (let cut = 0; cut <= englishGolden.length; cut++) expect(summarize(streamEvents([englishGolden.slice(0, cut), englishGolden.slice(cut)]))).toEqual(expected);
	});

	it("should give the result so far with peek() without ending the stream", () => {
		const parser = new TcotStreamParser({ lang: "th" });
		parser.push(`<EN> ${queryEn} <RESPONSE> ${articleEn}`);
		expect(parser.peek().fallback?.append).toBe(" <TH>");
		const events = parser.push(` <TH> ${articleTh}`);
		expect(events.map((event) => event.type)).toEqual(["english-response", "target-delta"]);
		expect((parser.end().at(-1) as { result: TcotParseResult }).result.complete).toBe(true);
	});
});
