import { describe, expect, it } from "vitest";
import { createGoogleTranslateBackend, findProtectedSpans, maskText, segmentForTranslation, startGoogleTranslateLoopbackServer, translateKdPair, unmaskText } from "../src/index.js";
import type { ProtectedKind } from "../src/index.js";

const spansOf = (text: string): [ProtectedKind, string][] => findProtectedSpans(text).map((s) => [s.kind, text.slice(s.start, s.end)]);

describe("findProtectedSpans", () => {
	const cases: Record<string, { text: string; spans: [ProtectedKind, string][] }> = {
		"inline code wins over what is inside it": { text: "Call `os.path.join(a, b)` here.", spans: [["inline-code", "`os.path.join(a, b)`"]] },
		"urls without trailing punctuation": { text: "See https://example.org/a?b=1. Or www.python.org.", spans: [["url", "https://example.org/a?b=1"], ["url", "www.python.org"]] },
		"e-mail addresses": { text: "Write to jane.doe@mail.example.com today.", spans: [["email", "jane.doe@mail.example.com"]] },
		"inline and display LaTeX, not money": {
			text: "Solve $2x + 3 = 7$ for $x$; it costs $5 and $10. Also $$\\sum_i x_i$$ and \\frac{a}{b}.",
			spans: [["latex", "$2x + 3 = 7$"], ["latex", "$x$"], ["latex", "$$\\sum_i x_i$$"], ["latex", "\\frac{a}{b}"]],
		},
		"template placeholders": {
			text: "Dear {name}, {{code}} is %s or %(count)d in ${HOME} <noinput>",
			spans: [["placeholder", "{name}"], ["placeholder", "{{code}}"], ["placeholder", "%s"], ["placeholder", "%(count)d"], ["placeholder", "${HOME}"], ["placeholder", "<noinput>"]],
		},
		identifiers: {
			text: "Use my_var, getValue, JavaScript, np.array and print() but not friend(s), e.g. or U.S. words.",
			spans: [["identifier", "my_var"], ["identifier", "getValue"], ["identifier", "JavaScript"], ["identifier", "np.array"], ["identifier", "print()"]],
		},
		"plain prose has none": { text: "Eat a balanced diet, exercise regularly, and get enough sleep.", spans: [] },
	};
	for (const [name, { text, spans }] of Object.entries(cases)) {
		it(`should find ${name}`, () => expect(spansOf(text)).toEqual(spans));
	}
});

describe("maskText / unmaskText", () => {
	const text = "Use `x = 1` and see https://a.example/b & write to a@b.io <ok>.";

	it("should round-trip placeholder masks, whatever order they come back in", () => {
		const masked = maskText(text, "placeholder");
		expect(masked.text).toBe("Use ⟦0⟧ and see ⟦1⟧ & write to ⟦2⟧ ⟦3⟧.");
		expect(unmaskText("ใช้ ⟦0⟧ และ ⟦ 2 ⟧ ดู ⟦1⟧ ⟦3⟧", masked)).toEqual({ ok: true, text: "ใช้ `x = 1` และ a@b.io ดู https://a.example/b <ok>" });
	});

	it("should refuse a translation that lost or repeated a mask", () => {
		const masked = maskText(text, "placeholder");
		expect(unmaskText("ใช้ ⟦0⟧ ⟦1⟧ ⟦3⟧", masked)).toMatchObject({ ok: false, reason: expect.stringContaining("⟦2⟧") });
		expect(unmaskText("⟦0⟧ ⟦0⟧ ⟦1⟧ ⟦2⟧ ⟦3⟧", masked).ok).toBe(false);
	});

	it("should give back exactly the source when the engine returns the masked text unchanged", () => {
		const texts = [
			text,
			"a  b   c\n\n  indented & <b>bold</b> &amp; literal &lt; text &#39; &nbsp;",
			"Tabs\there, a trailing space \nthen a Windows line\r\nand <br> written out",
			'It\'s "quoted" — em dash… ${HOME} {0} %s %(n)d',
			"Math $a^2+b^2=c^2$, \\(x\\), \\[y\\] and $$z$$; money $5 and $10.",
			"A literal ⟦0⟧ and ⟦ 12 ⟧ in the source, with `code` after it.",
			"ends with a newline\n",
		];
		for (const style of ["placeholder", "html"] as const) {
			for (const source of texts) {
				const masked = maskText(source, style);
				expect(unmaskText(masked.text, masked), `${style}: ${source}`).toEqual({ ok: true, text: source });
			}
		}
	});

	it("should send HTML with translate=no spans and restore entities and line breaks", () => {
		const masked = maskText("a < b & `c`\nnext", "html");
		expect(masked.text).toBe('a &lt; b &amp; <span translate="no">`c`</span><br>next');
		expect(unmaskText('ก &lt; ข &amp; <span translate="no">`c`</span><br />ถัดไป &#3585;', masked)).toEqual({ ok: true, text: "ก < ข & `c`\nถัดไป ก" });
		expect(unmaskText('ก &lt; ข <span translate="no">`d`</span>', masked).ok).toBe(false);
		expect(unmaskText("ก ข", masked).ok).toBe(false);
	});
});

describe("segmentForTranslation", () => {
	const answer = "Here is how:\n\n1. Install it.\n   - Use `pip`.\n\n```python\nprint('hi')  # comment\n```\n\n| a | b |\n|---|---|\nDone!\n";

	it("should keep code blocks and markup out of translation and join back to the text", () => {
		for (const granularity of ["line", "block"] as const) {
			const units = segmentForTranslation(answer, granularity);
			expect(units.map((u) => u.text).join("")).toBe(answer);
			expect(units.filter((u) => u.translate).some((u) => u.text.includes("print("))).toBe(false);
		}
		const lines = segmentForTranslation(answer, "line").filter((u) => u.translate).map((u) => u.text);
		expect(lines).toEqual(["Here is how:", "Install it.", "Use `pip`.", "| a | b |", "Done!"]);
	});

	it("should treat an unclosed fence (a truncated answer) as code to the end", () => {
		const units = segmentForTranslation("Try this:\n```js\nconsole.log(1)", "block");
		expect(units.filter((u) => u.translate).map((u) => u.text)).toEqual(["Try this:"]);
	});
});

describe("translateKdPair", () => {
	it("should not send a unit whose only letters are inside protected spans", async () => {
		const server = await startGoogleTranslateLoopbackServer({ translate: (text) => text.replace(/[A-Za-z]+/g, "ข้อความ") });
		try {
			const backend = createGoogleTranslateBackend({ apiKey: "k", endpoint: server.endpoint });
			const record = await translateKdPair({ id: "1", query_en: "Install it:", response_en: "`pip install numpy`\nThen run it." }, backend, "th");
			expect(server.requests.flatMap((r) => r.q)).toEqual(["Install it:", "Then run it."]);
			expect(record.response_t).toBe("`pip install numpy`\nข้อความ ข้อความ ข้อความ.");
		} finally {
			await server.close();
		}
	});
});
