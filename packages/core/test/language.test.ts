import { describe, expect, it } from "vitest";
import { UnknownLanguageError, dominantScript, scriptProfile, getLanguage, languageIdToken, listLanguages, scriptRatio } from "../src/index.js";

describe("language registry", () => {
	it("knows every language named in the papers, by ISO 639-1, 639-3 and BCP-47", () => {
		for (const code of ["en", "th", "ar", "pt", "te", "tr", "bn", "el", "ml", "mr", "sw", "ta", "zh", "de", "ko", "id", "yo"]) {
			const language = getLanguage(code);
			expect(getLanguage(language.iso639_3)).toBe(language);
			expect(language.idToken).toBe(`<${code.toUpperCase()}>`);
		}
		expect(getLanguage("th-TH").code).toBe("th");
		expect(getLanguage("zh-Hans-CN").code).toBe("zh");
		expect(getLanguage("pt_BR").code).toBe("pt");
		expect(getLanguage("arb").code).toBe("ar");
		expect(listLanguages().length).toBeGreaterThanOrEqual(40);
	});

	it("takes names from ICU and records script and word delimiting", () => {
		const thai = getLanguage("tha");
		expect(thai).toMatchObject({ code: "th", englishName: "Thai", nativeName: "ไทย", script: "Thai", spaceDelimited: false, idToken: "<TH>" });
		expect(getLanguage("ar")).toMatchObject({ englishName: "Arabic", nativeName: "العربية", script: "Arab", spaceDelimited: true });
		expect(getLanguage("sw").englishName).toBe("Swahili");
		expect(languageIdToken("te")).toBe("<TE>");
	});

	it("fails clearly on unknown codes", () => {
		expect(() => getLanguage("xx")).toThrow(UnknownLanguageError);
		expect(() => getLanguage("klingon")).toThrow(/unknown language code "klingon"/);
	});
});

describe("scripts", () => {
	it("measures the share of letters in a script, ignoring digits and punctuation", () => {
		expect(scriptRatio("สวัสดีครับ 123!", "Thai")).toBe(1);
		expect(scriptRatio("Hello สวัสดี", "Thai")).toBeCloseTo(6 / 11, 5);
		expect(scriptRatio("12345", "Latn")).toBe(0);
		expect(() => scriptRatio("x", "Zzzz")).toThrow(/unknown ISO 15924 script/);
		// Yoruba tone marks are combining marks of no script of their own: they belong to their Latin base letter.
		expect(scriptRatio("Gbogbo ènìyàn ni a bí ní òmìnira; iyì àti ẹ̀tọ́", "Latn")).toBe(1);
		expect(scriptProfile("ดวงอาทิตย์ sun 中文").byProperty).toEqual({ Thai: 10, Latin: 3, Han: 2 });
	});
	it("finds the dominant script", () => {
		expect(dominantScript("مرحبا بالعالم hello")).toBe("Arab");
		expect(dominantScript("안녕하세요")).toBe("Kore");
		expect(dominantScript("12 !")).toBeUndefined();
	});
});
