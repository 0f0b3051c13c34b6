import { SeededRng } from "@transllm/core";
import { describe, expect, it } from "vitest";
import {
	EN_TOKEN,
	RESPONSE_TOKEN,
	buildRecoveryKdInstance,
	buildTcotInstance,
	buildTranslationInstances,
	escapeSpecialTokens,
	tcotSpecialTokens,
	toShareGpt,
	translationPretrainingPair,
} from "../src/index.js";
import { alignedArticles } from "./udhr.js";

const THAI_QUERY = "เมืองหลวงของประเทศไทยอยู่ที่ไหน";
const THAI_ANSWER = "เมืองหลวงของประเทศไทยคือกรุงเทพมหานคร";
const record = {
	id: "capital",
	query_en: "Where is the capital of Thailand?",
	response_en: "The capital of Thailand is Bangkok",
	query_t: THAI_QUERY,
	response_t: THAI_ANSWER,
	lang: "th",
};

describe("special tokens", () => {
	it("should be <EN>, <RESPONSE> and one language-ID token per target language", () => {
		expect(EN_TOKEN).toBe("<EN>");
		expect(RESPONSE_TOKEN).toBe("<RESPONSE>");
		expect(tcotSpecialTokens(["th", "ar", "tha", "pt-BR"])).toEqual(["<EN>", "<RESPONSE>", "<TH>", "<AR>", "<PT>"]);
	});
});

describe("golden formats", () => {
	it("should write a TCOT instance exactly as the seed repository's example", () => {
		const line = JSON.stringify(toShareGpt(buildTcotInstance(record)));
		expect(line).toBe(
			`{"conversations":[{"from":"human","value":"${THAI_QUERY}"},{"from":"gpt","value":"<EN> Where is the capital of Thailand? <RESPONSE> The capital of Thailand is Bangkok <TH> ${THAI_ANSWER}"}]}`,
		);
	});

	it("should write a recovery-KD answer as <RESPONSE> <English answer>", () => {
		const instance = buildRecoveryKdInstance({ id: "capital", query_en: record.query_en, response_en: record.response_en });
		expect(instance).toEqual({
			id: "capital:recovery-kd",
			kind: "recovery-kd",
			lang: "en",
			query: "Where is the capital of Thailand?",
			response: "<RESPONSE> The capital of Thailand is Bangkok",
			group: "capital",
		});
	});

	it("should trim parts but keep their inner line breaks", () => {
		const instance = buildTcotInstance({ ...record, response_en: "  Bangkok.\nIt is large.\n", response_t: "\nกรุงเทพฯ\n" });
		expect(instance.response).toBe("<EN> Where is the capital of Thailand? <RESPONSE> Bangkok.\nIt is large. <TH> กรุงเทพฯ");
	});

	it("should make translation instances in both directions with the language token of the output", () => {
		const [, english, thai] = alignedArticles()[2] as [number, string, string];
		const [forward, backward] = buildTranslationInstances(
			{ source: english, target: thai, sourceLang: "en", targetLang: "th" },
			{ rng: new SeededRng(1), id: "udhr-3", instructionLanguage: "source" },
		);
		expect(forward.response).toBe("<TH> ทุกคนมีสิทธิในการมีชีวิต เสรีภาพ และความมั่นคงแห่งบุคคล");
		expect(backward.response).toBe("<EN> Everyone has the right to life, liberty and the security of person.");
		expect(forward.kind).toBe("translation");
		expect([forward.lang, backward.lang]).toEqual(["th", "en"]);
		// x = prompt(source): the source once, the instruction in the source's language naming the other language.
		expect(forward.query.split(english).length).toBe(2);
		expect(forward.query).toMatch(/Thai/);
		expect(backward.query.split(thai).length).toBe(2);
		expect(backward.query).toMatch(/อังกฤษ/);
		expect(forward.group).toBe("udhr-3");
	});

	it("should write a translation instance exactly, prompt included", () => {
		const template = { id: "t", lang: "en", text: "Translate the following {source_language} text into {target_language}.\n\n{source}" };
		const thaiTemplate = { id: "t-th", lang: "th", translates: "t", text: "แปลเป็นภาษา{target_language}: {source}" };
		const [forward, backward] = buildTranslationInstances(
			{ source: "Everyone has the right to life.", target: "ทุกคนมีสิทธิในการมีชีวิต", sourceLang: "en", targetLang: "th" },
			{ rng: new SeededRng(1), id: "a3", templates: [template, thaiTemplate] },
		);
		expect(JSON.stringify(toShareGpt(forward))).toBe(
			'{"conversations":[{"from":"human","value":"Translate the following English text into Thai.\\n\\nEveryone has the right to life."},{"from":"gpt","value":"<TH> ทุกคนมีสิทธิในการมีชีวิต"}]}',
		);
		expect(JSON.stringify(toShareGpt(backward))).toBe(
			'{"conversations":[{"from":"human","value":"แปลเป็นภาษาอังกฤษ: ทุกคนมีสิทธิในการมีชีวิต"},{"from":"gpt","value":"<EN> Everyone has the right to life."}]}',
		);
		expect([forward.id, backward.id]).toEqual(["a3:translation:en-th", "a3:translation:th-en"]);
	});

	it("should write the instruction in the language asked for, falling back to English where no template exists", () => {
		const pair = { source: "Everyone has the right to life.", target: "ทุกคนมีสิทธิในการมีชีวิต", sourceLang: "en", targetLang: "th" };
		const thaiScript = /[\u0E00-\u0E7F]/;
		const instruction = (query: string, text: string) => query.replace(text, "");
		const [enFirst, enSecond] = buildTranslationInstances(pair, { rng: new SeededRng(2), id: "p", instructionLanguage: "en" });
		expect(thaiScript.test(instruction(enFirst.query, pair.source)) || thaiScript.test(instruction(enSecond.query, pair.target))).toBe(false);
		const [targetFirst, targetSecond] = buildTranslationInstances(pair, { rng: new SeededRng(2), id: "p", instructionLanguage: "target" });
		expect(thaiScript.test(instruction(targetFirst.query, pair.source))).toBe(true);
		expect(thaiScript.test(instruction(targetSecond.query, pair.target))).toBe(false);
		const german = buildTranslationInstances({ ...pair, target: "Jeder hat das Recht auf Leben.", targetLang: "de" }, { rng: new SeededRng(2), id: "p" });
		expect(german[1].query).toMatch(/English/);
		const draws = Array.from({ length: 40 }, (_, seed) => buildTranslationInstances(pair, { rng: new SeededRng(seed), id: "p", instructionLanguage: "random" })[0]);
		const thaiInstructions = draws.filter((instance) => thaiScript.test(instruction(instance.query, pair.source))).length;
		expect(thaiInstructions).toBeGreaterThan(5);
		expect(thaiInstructions).toBeLessThan(35);
	});

	it("should write translation pre-training instances as cat(s_a, <b>, s_b) and cat(s_b, <a>, s_a)", () => {
		expect(translationPretrainingPair({ source: "Everyone has the right to life.", target: "ทุกคนมีสิทธิในการมีชีวิต", sourceLang: "en", targetLang: "th" })).toEqual([
			"Everyone has the right to life. <TH> ทุกคนมีสิทธิในการมีชีวิต",
			"ทุกคนมีสิทธิในการมีชีวิต <EN> Everyone has the right to life.",
		]);
		expect(translationPretrainingPair({ source: "a\nb", target: "ก\r\nข", sourceLang: "en", targetLang: "th" })).toEqual(["a b <TH> ก ข", "ก ข <EN> a b"]);
	});
});

describe("user text holding a special token", () => {
	it("should be rejected with an error naming the record and field", () => {
		expect(() => buildTcotInstance({ ...record, id: "r7", response_en: "Use <RESPONSE> here" }, { origin: { file: "kd.jsonl", line: 7 } })).toThrow(
			/kd\.jsonl:7 field "response_en": record "r7": text contains the special token <RESPONSE>/,
		);
		expect(() => buildRecoveryKdInstance({ id: "r8", query_en: "What does <EN> mean?", response_en: "x" })).toThrow(/field "query_en".*<EN>/);
		expect(() => buildTcotInstance({ ...record, response_t: "คำตอบ <TH> ซ้ำ" })).toThrow(/field "response_t".*<TH>/);
	});

	it("should be escaped under the escape policy so the instance keeps exactly its own markers", () => {
		const instance = buildTcotInstance({ ...record, response_en: "The token <RESPONSE> starts answers" }, { specialTokens: "escape" });
		expect(instance.response).toBe("<EN> Where is the capital of Thailand? <RESPONSE> The token <\u2060RESPONSE> starts answers <TH> " + THAI_ANSWER);
		expect(instance.response.split("<RESPONSE>").length).toBe(2);
		expect(escapeSpecialTokens("<EN><TH>", ["<EN>", "<TH>"])).toBe("<\u2060EN><\u2060TH>");
	});

	it("should reject empty parts and an English TCOT target", () => {
		expect(() => buildTcotInstance({ ...record, query_t: "  " })).toThrow(/field "query_t".*non-empty/);
		expect(() => buildTcotInstance({ ...record, lang: "en" })).toThrow(/cannot be English/);
		expect(() => buildTcotInstance({ ...record, lang: "xx" })).toThrow(/unknown language code "xx"/);
	});
});
