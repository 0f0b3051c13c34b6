import { describe, expect, it } from "vitest";
import { TransferDataBuilder, mixTransferData } from "../src/index.js";
import type { TrainingInstance, TranslatedRecord } from "../src/index.js";
import { alignedArticles, udhrArticles } from "./udhr.js";

// Real text: UDHR articles as KD records — the English article as the answer, its Thai (or Arabic) translation.
function records(code: string, lang: string): TranslatedRecord[] {
	const target = udhrArticles(code);
	return alignedArticles(code).map(([number, english]) => ({
		id: `article-${number}`,
		query_en: `What does Article ${number} of the Universal Declaration of Human Rights say?`,
		response_en: english,
		query_t: `ข้อ ${number}`,
		response_t: (target.get(number) as string[]).join("\n"),
		lang,
	}));
}

function build(seed: number, validationSize: number, order: "forward" | "reverse" = "forward") {
	const builder = new TransferDataBuilder({ seed, validationSize });
	const all = [...records("tha2", "th"), ...records("arb", "ar")];
	for (const record of order === "forward" ? all : all.reverse()) builder.addTranslatedRecord(record);
	for (const [number, english, thai] of alignedArticles()) {
		builder.addParallelPair({ source: english, target: thai, sourceLang: "en", targetLang: "th" }, `pair-${number}`);
	}
	return builder.finish();
}

describe("TransferDataBuilder", () => {
	it("should make recovery-KD once per id, TCOT and four translation instances per translated record, two per pair", () => {
		const data = build(7, 20);
		const all = [...data.train, ...data.validation];
		const count = (kind: string, lang?: string) => all.filter((instance) => instance.kind === kind && (lang === undefined || instance.lang === lang)).length;
		expect(count("recovery-kd")).toBe(30);
		expect(count("tcot", "th")).toBe(30);
		expect(count("tcot", "ar")).toBe(30);
		expect(count("translation")).toBe(60 * 4 + 30 * 2);
		expect(data.langs).toEqual(["ar", "th"]);
		expect(data.specialTokens).toEqual(["<EN>", "<RESPONSE>", "<AR>", "<TH>"]);
		expect(all.find((instance) => instance.id === "article-1:tcot:ar")?.response).toMatch(/^<EN> What does Article 1 .* <RESPONSE> All human beings .* <AR> \S/s);
		expect(data.counts.records).toEqual({ kd: 0, translated: 60, parallel: 30, filtered: 0 });
	});

	it("should be deterministic under a seed and independent of input order", () => {
		const a = build(7, 20);
		const b = build(7, 20, "reverse");
		expect(b.train.map((instance) => instance.id)).toEqual(a.train.map((instance) => instance.id));
		expect(b.train).toEqual(a.train);
		const c = build(8, 20);
		expect(c.train.map((instance) => instance.id)).not.toEqual(a.train.map((instance) => instance.id));
	});

	it("should hold out whole groups so no validation query is trained on", () => {
		const data = build(3, 50);
		expect(data.validation.length).toBe(50);
		const trainGroups = new Set(data.train.map((instance) => instance.group));
		for (const instance of data.validation) expect(trainGroups.has(instance.group)).toBe(false);
	});

	it("should mix the kinds at random rather than in blocks", () => {
		const { train } = build(11, 0);
		const firstHalf = train.slice(0, train.length / 2);
		for (const kind of ["recovery-kd", "tcot", "translation"]) expect(firstHalf.some((instance) => instance.kind === kind)).toBe(true);
		const kinds = train.map((instance) => instance.kind);
		const runs = kinds.filter((kind, index) => index > 0 && kind !== kinds[index - 1]).length;
		expect(runs).toBeGreaterThan(train.length / 4);
	});

	it("should keep only the requested languages and count the rest as filtered", () => {
		const builder = new TransferDataBuilder({ seed: 1, validationSize: 0, langs: ["th"] });
		for (const record of [...records("tha2", "th").slice(0, 3), ...records("arb", "ar").slice(0, 2)]) builder.addTranslatedRecord(record);
		const data = builder.finish();
		expect(data.langs).toEqual(["th"]);
		expect(data.counts.records.filtered).toBe(2);
		expect(data.train.every((instance) => instance.lang === "th" || instance.lang === "en")).toBe(true);
	});

	it("should let a KD record and a translated record share an id in either order, the KD record's answer winning", () => {
		const [first] = records("tha2", "th") as [TranslatedRecord];
		const kd = { id: first.id, query_en: first.query_en, response_en: "The KD model's own answer." };
		const finish = (kdFirst: boolean) => {
			const builder = new TransferDataBuilder({ seed: 1, validationSize: 0 });
			if (kdFirst) builder.addKdRecord(kd);
			builder.addTranslatedRecord(first);
			if (!kdFirst) builder.addKdRecord(kd);
			return builder.finish();
		};
		const translatedFirst = finish(false);
		expect(translatedFirst).toEqual(finish(true));
		const recovery = translatedFirst.train.filter((instance) => instance.kind === "recovery-kd");
		expect(recovery.map((instance) => instance.response)).toEqual(["<RESPONSE> The KD model's own answer."]);
		expect(translatedFirst.counts.records).toMatchObject({ kd: 1, translated: 1 });
		const twice = new TransferDataBuilder({ seed: 1 });
		twice.addTranslatedRecord(first);
		twice.addKdRecord(kd);
		expect(() => twice.addKdRecord(kd)).toThrow(/duplicate KD record id/);
	});

	it("should refuse duplicate ids and English as a target language", () => {
		const builder = new TransferDataBuilder({ seed: 1 });
		const [first] = records("tha2", "th");
		builder.addTranslatedRecord(first as TranslatedRecord, { file: "th.jsonl", line: 1 });
		expect(() => builder.addTranslatedRecord(first as TranslatedRecord, { file: "th.jsonl", line: 2 })).toThrow(/th\.jsonl:2 field "id": duplicate translated record id "article-1" for th/);
		expect(() => new TransferDataBuilder({ seed: 1, langs: ["en"] })).toThrow(/English/);
	});
});

describe("mixTransferData", () => {
	const instance = (id: number, group: string): TrainingInstance => ({ id: String(id), kind: "tcot", lang: "th", query: "q", response: "r", group });

	it("should refuse a validation split that leaves nothing to train on", () => {
		expect(() => mixTransferData([instance(1, "a"), instance(2, "b")], { seed: 1, validationSize: 2 })).toThrow(/leaves no training data/);
	});

	it("should default to the paper's 2,000 validation instances", () => {
		const many = Array.from({ length: 2500 }, (_, index) => instance(index, `g${index}`));
		expect(mixTransferData(many, { seed: 1 }).validation.length).toBe(2000);
	});
});
