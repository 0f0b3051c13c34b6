import { describe, expect, it } from "vitest";
import { assertTranslationTemplates, defaultTranslationTemplates, languageNameIn, renderTranslationPrompt, validateTranslationTemplates } from "../src/index.js";
import type { TranslationTemplate } from "../src/index.js";

describe("bundled translation templates", () => {
	const templates = defaultTranslationTemplates();

	it("should hold at least 20 English templates and at least 5 translated ones for th, ar, pt, te and tr", () => {
		expect(templates.filter((template) => template.lang === "en").length).toBeGreaterThanOrEqual(20);
		for (const lang of ["th", "ar", "pt", "te", "tr"]) {
			const own = templates.filter((template) => template.lang === lang);
			expect(own.length, lang).toBeGreaterThanOrEqual(5);
			for (const template of own) expect(templates.some((english) => english.id === template.translates && english.lang === "en")).toBe(true);
		}
	});

	it("should all pass validation (slots once, language of the text)", () => {
		expect(validateTranslationTemplates(templates)).toEqual([]);
	});

	it("should fill slots with language names in the template's language", () => {
		const thai = templates.find((template) => template.id === "th-09") as TranslationTemplate;
		expect(renderTranslationPrompt(thai, { source: "Hello", sourceLang: "en", targetLang: "th" })).toBe("แปลเป็นภาษาไทย: Hello");
		const english = templates.find((template) => template.id === "en-09") as TranslationTemplate;
		expect(renderTranslationPrompt(english, { source: "สวัสดี", sourceLang: "th", targetLang: "en" })).toBe("Translate to English: สวัสดี");
		expect(languageNameIn("en", "ar")).toBe("الإنجليزية");
	});

	it("should not re-read slot-like text or $ patterns inside the source", () => {
		const english = templates.find((template) => template.id === "en-09") as TranslationTemplate;
		expect(renderTranslationPrompt(english, { source: "{target_language} costs $& $1", sourceLang: "en", targetLang: "th" })).toBe(
			"Translate to Thai: {target_language} costs $& $1",
		);
	});
});

describe("validateTranslationTemplates", () => {
	const base = defaultTranslationTemplates();

	it("should report a missing, repeated or unknown slot", () => {
		const problems = validateTranslationTemplates([
			...base,
			{ id: "x1", lang: "en", text: "Translate this into English please, thank you very much: {source} {source}" },
			{ id: "x2", lang: "en", text: "Translate the following text for me, please: {source}" },
			{ id: "x3", lang: "en", text: "Translate into {target_language} in the {style} style: {source}" },
		]);
		expect(problems).toContain('template "x1": slot {source} must appear exactly once (found 2)');
		expect(problems).toContain('template "x1": slot {target_language} must appear exactly once (found 0)');
		expect(problems).toContain('template "x2": slot {target_language} must appear exactly once (found 0)');
		expect(problems).toContain('template "x3": unknown slot {style}');
	});

	it("should catch a template filed under the wrong language", () => {
		const portuguese = base.find((template) => template.id === "pt-01") as TranslationTemplate;
		const thai = base.find((template) => template.id === "th-01") as TranslationTemplate;
		const problems = validateTranslationTemplates([...base, { ...portuguese, id: "wrong-tr", lang: "tr" }, { ...thai, id: "wrong-ar", lang: "ar" }]);
		expect(problems.some((problem) => problem.startsWith('template "wrong-tr": text is not tr'))).toBe(true);
		expect(problems.some((problem) => problem.startsWith('template "wrong-ar": text is not ar'))).toBe(true);
	});

	it("should throw one ConfigError listing every problem, naming the source", () => {
		expect(() => assertTranslationTemplates([{ id: "a", lang: "en", text: "{source}" }], "my-templates.json")).toThrow(/my-templates\.json: invalid translation templates/);
		expect(() => assertTranslationTemplates([], "empty.json")).toThrow(/empty\.json: no translation templates/);
	});
});
