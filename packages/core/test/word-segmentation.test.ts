import { udhrDeclaration } from "@transllm/udhr-text";
import { describe, expect, it } from "vitest";
import { SEGMENTATION_MAX_WINDOW, SEGMENTATION_WINDOW, countWords, segmentText, segmentationWindows, splitWords, wordSegmenter } from "../src/index.js";

const whole = (text: string, lang: string) => [...wordSegmenter(lang).segment(text)].map((s) => ({ segment: s.segment, index: s.index, isWordLike: s.isWordLike === true }));

// Whole declarations (preamble and articles, paragraphs joined by newlines), 5–20k UTF-16 units each: several
// windows, so every cut point is exercised on real text of each script written without spaces.
const DECLARATIONS: [lang: string, udhr: string][] = [
	["th", "tha"],
	["th", "tha2"],
	["lo", "lao"],
	["km", "khm"],
	["my", "mya"],
	["zh", "cmn_hans"],
	["zh", "cmn_hant"],
	["ja", "jpn"],
	["en", "eng"],
];

describe("segmentText", () => {
	it.each(DECLARATIONS)("gives %s (%s) exactly the segments of whole-text segmentation", (lang, udhr) => {
		const text = udhrDeclaration(udhr)
			.articles.map((article) => article.text)
			.join("\n");
		const expected = whole(text, lang);
		// The default window, and a small one that cuts at nearly every safe point of the text.
		for (const window of [SEGMENTATION_WINDOW, 64]) {
			const long = text.length > 2 * window ? text : `${text}\n${text}`;
			expect([...segmentationWindows(long, window, 16 * window)].length).toBeGreaterThan(1);
			expect([...segmentText(long, lang, { window })]).toEqual(long === text ? expected : whole(long, lang));
		}
	});

	it("cuts long text into bounded windows that cover it exactly", () => {
		const thai = udhrDeclaration("tha").articles.map((a) => a.text).join(" ");
		const text = thai.repeat(12);
		const windows = [...segmentationWindows(text)];
		expect(windows[0]?.[0]).toBe(0);
		expect(windows.at(-1)?.[1]).toBe(text.length);
		for (let i = 1; i < windows.length; i++) expect(windows[i]?.[0]).toBe(windows[i - 1]?.[1]);
		for (const [start, end] of windows) expect(end - start).toBeLessThanOrEqual(SEGMENTATION_MAX_WINDOW);
		let progressed = 0;
		const words = [...segmentText(text, "th", { onProgress: (units) => (progressed += units) })].filter((s) => s.isWordLike).length;
		expect(progressed).toBe(text.length);
		expect(words).toBe(12 * countWords(thai, "th"));
	});

	it("cuts text without any safe point at the window limit, never inside a surrogate pair", () => {
		const text = "😀".repeat(SEGMENTATION_MAX_WINDOW);
		for (const [start, end] of segmentationWindows(text)) {
			expect(end - start).toBeLessThanOrEqual(SEGMENTATION_MAX_WINDOW);
			expect(text.charCodeAt(start) & 0xfc00).not.toBe(0xdc00);
		}
	});
});

describe("splitWords", () => {
	it("splits space-delimited languages on whitespace and others by ICU words", () => {
		expect(splitWords("  All human beings  are born\nfree ", "en")).toEqual(["All", "human", "beings", "are", "born", "free"]);
		expect(splitWords("มนุษย์ทั้งหลายเกิดมามีอิสระ", "th").join("|")).toBe(whole("มนุษย์ทั้งหลายเกิดมามีอิสระ", "th").filter((s) => s.isWordLike).map((s) => s.segment).join("|"));
		expect(countWords("", "th")).toBe(0);
	});
});
