import { describe, expect, it } from "vitest";
import { backoffDelayMs, batchSegments, extractTranslation, parseRetryAfter, redactSecrets, redactUrl, translationMessages } from "../src/index.js";

describe("translationMessages / extractTranslation", () => {
	it("should use X-LLM's first translation instruction and mention masks only when there are some", () => {
		const [message] = translationMessages("Use ⟦0⟧ here.", "en", "th", { hasMasks: true });
		expect(message?.role).toBe("user");
		expect(message?.content.split("\n")[0]).toBe("Translate the following sentences from English to Thai.");
		expect(message?.content).toContain("⟦0⟧, ⟦1⟧");
		expect(message?.content.endsWith("\n\nUse ⟦0⟧ here.")).toBe(true);
		expect(translationMessages("Hello.", "en", "ar")[0]?.content).not.toContain("⟦");
	});

	it("should strip a chat model's preamble and wrapping quotes, but not the source's own", () => {
		expect(extractTranslation(" Sure! Here is the translation:\n\nสวัสดีครับ", "Hello.")).toBe("สวัสดีครับ");
		expect(extractTranslation('"สวัสดี"', "Hello")).toBe("สวัสดี");
		expect(extractTranslation('"สวัสดี"', '"Hello"')).toBe('"สวัสดี"');
		expect(extractTranslation("Translation: note:\nข้อความ", "Translation: note:\ntext")).toBe("Translation: note:\nข้อความ");
	});
});

describe("remote-call helpers", () => {
	it("should back off exponentially with jitter, capped, and never before Retry-After", () => {
		const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
		expect(backoffDelayMs(1, policy, undefined, () => 0)).toBe(50);
		expect(backoffDelayMs(3, policy, undefined, () => 1)).toBe(400);
		expect(backoffDelayMs(10, policy, undefined, () => 1)).toBe(1000);
		expect(backoffDelayMs(1, policy, 0.5, () => 0)).toBe(500);
		expect(parseRetryAfter("2")).toBe(2);
		expect(parseRetryAfter(new Date(Date.now() + 3000).toUTCString())).toBeGreaterThan(1);
		expect(parseRetryAfter("soon")).toBeUndefined();
	});

	it("should batch Google segments within 128 segments and the character budget", () => {
		expect(batchSegments(Array.from({ length: 300 }, () => "ab"), 128, 1_000_000).map((b) => b.length)).toEqual([128, 128, 44]);
		expect(batchSegments(["aaaa", "bbbb", "cccccccccc", "d"], 128, 8)).toEqual([[0, 1], [2], [3]]);
	});

	it("should redact keys from messages and URLs", () => {
		expect(redactSecrets("GET /v2?key=AIza-123456 failed (AIza-123456)", ["AIza-123456"])).toBe("GET /v2?key=*** failed (***)");
		expect(redactUrl("https://user:pw@host.example/v2?key=secret")).toBe("https://host.example/v2");
	});
});
