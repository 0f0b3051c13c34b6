import { alignedArticles, udhrParagraphs } from "@transllm/udhr-text";
import { describe, expect, it } from "vitest";
import { checkLanguage, identifyLanguage } from "../src/index.js";

const PAPER_LANGUAGES = ["en", "th", "ar", "pt", "te", "tr", "bn", "el", "ml", "mr", "sw", "ta", "zh", "de", "ko", "id", "yo"];

describe("identifyLanguage", () => {
	it("names the language of UDHR paragraphs of every language the papers use", () => {
		for (const lang of PAPER_LANGUAGES) {
			const paragraphs = udhrParagraphs(lang).slice(10, 20);
			const correct = paragraphs.filter((p) => identifyLanguage(p).lang === lang).length;
			expect(correct, lang).toBeGreaterThanOrEqual(9);
		}
	});

	it("restricts the answer to candidates and leaves very short text to the script", () => {
		expect(identifyLanguage("Haki za binadamu ni za kila mtu duniani.", { candidates: ["sw", "en"] }).lang).toBe("sw");
		expect(identifyLanguage("สวัสดี", { candidates: ["th", "en"] })).toMatchObject({ lang: "th", confidence: 1 });
		expect(identifyLanguage("ok").lang).toBe("und");
	});
});

describe("checkLanguage", () => {
	it("accepts a text in its language and rejects its translation", () => {
		for (const { a, b } of alignedArticles("en", "th").slice(1, 6)) {
			expect(checkLanguage(a, "en").ok).toBe(true);
			expect(checkLanguage(b, "th").ok).toBe(true);
			const wrong = checkLanguage(a, "th");
			expect(wrong.ok).toBe(false);
			expect(wrong.reason).toMatch(/Thai script/);
		}
		const sameScript = checkLanguage(udhrParagraphs("pt")[12] as string, "id");
		expect(sameScript).toMatchObject({ ok: false, detected: "pt" });
		expect(sameScript.reason).toBe("identified as pt, expected id");
	});

	it("accepts short English instructions that franc alone ranks as a close relative, and says so", () => {
		const check = checkLanguage("At what temperature does water boil at sea level?", "en");
		expect(check).toMatchObject({ ok: true, detected: "pt" });
		expect(check.reason).toMatch(/^close call: pt scored best, en 0\.8/);
		expect(checkLanguage("At sea level, water boils at 100 degrees Celsius.", "en").ok).toBe(true);
		expect(checkLanguage("At what temperature does water boil at sea level?", "en", { tolerance: 0 }).ok).toBe(false);
	});

	it("leaves room for code and names inside a target-language answer, but not for an English answer", () => {
		const thaiWithCode = "ใช้คำสั่ง print(x) เพื่อแสดงค่าของตัวแปรบนหน้าจอ แล้วตรวจสอบผลลัพธ์อีกครั้ง";
		expect(checkLanguage(thaiWithCode, "th").ok).toBe(true);
		expect(checkLanguage("The capital of Thailand is Bangkok, กรุงเทพ.", "th").ok).toBe(false);
	});
});
