import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CorpusPair, Filter, FilterVerdict, PairRecord } from "../src/index.js";
import { LengthRatioFilter, PairLanguageFilter, buildParallelData } from "../src/index.js";
import { udhrArticlePairs, udhrParagraphs } from "./udhr.js";

async function readJsonlFile<T>(path: string): Promise<T[]> {
	return (await readFile(path, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as T);
}

describe("buildParallelData", () => {
	it("should check both sides, sample pairs and English documents, and interleave the translation pre-training text", async () => {
		const dir = await mkdtemp(join(tmpdir(), "corpus-parallel-"));
		const good = udhrArticlePairs("eng", "tha");
		const german = udhrArticlePairs("deu_1996", "tha");
		const bad = [
			[german[1]?.source, good[1]?.target], // a German source
			[good[2]?.source, good[2]?.source], // untranslated
			[good[3]?.source, "ข้อ 4"], // misaligned: a heading against an article
			[good[4]?.source, ""],
		];
		const rows = [...good.map((p) => [p.source, p.target]), ...bad];
		await writeFile(join(dir, "udhr.tsv"), `${rows.map((r) => r.join("\t")).join("\n")}\n`);
		const englishDocuments = udhrParagraphs("eng");
		await writeFile(join(dir, "english.jsonl"), `${englishDocuments.map((text, i) => JSON.stringify({ id: `pile-${i}`, text })).join("\n")}\n`);
		const params = {
			read: { format: "tsv" as const, paths: [join(dir, "udhr.tsv")], sourceLang: "en", targetLang: "th" },
			outDir: join(dir, "out"),
			filters: [new LengthRatioFilter(), new PairLanguageFilter()],
			sample: 20,
			seed: 42,
			english: { paths: [join(dir, "english.jsonl")], sample: 40 },
			pretrainChunkChars: 2000,
			layout: {},
			silent: true,
		};
		const summary = await buildParallelData(params);
		expect(summary).toMatchObject({ read: 34, kept: 30, sampled: 20, english: 40, layoutRecords: 60 });
		expect(summary.dropped).toEqual({
			"length_ratio/dropped_empty_side": 1,
			"length_ratio/dropped_length_ratio": 1,
			"pair_language/dropped_source_language": 1,
			"pair_language/dropped_target_language": 1,
		});
		const audit = await readJsonlFile<{ reason: string; record: { line: number } }>(join(params.outDir, "audit", "pair_language.jsonl"));
		expect(audit.map((entry) => [entry.reason, entry.record.line])).toEqual([
			["source_language", 31],
			["target_language", 32],
		]);
		const pairs = await readJsonlFile<PairRecord>(summary.outputs.pairs as string);
		expect(pairs).toHaveLength(20);
		expect(new Set(pairs.map((p) => p.id)).size).toBe(20);
		for (const pair of pairs) expect(good.some((g) => g.source === pair.source && g.target === pair.target)).toBe(true);
		const english = await readJsonlFile<{ id: string; text: string }>(summary.outputs.english as string);
		expect(english).toHaveLength(40);

		// Translation pre-training text (TransLLM Sec. 2.2.2): cat(s_en, <TH>, s_th) and cat(s_th, <EN>, s_en) of
		// every sampled pair, inserted between the English documents, one per "\n"-separated line.
		const records = await readJsonlFile<{ text: string }>(summary.outputs.pretraining as string);
		expect(records.every((r) => r.text.length <= 2000 || !r.text.includes("\n"))).toBe(true);
		const lines = records.flatMap((r) => r.text.split("\n"));
		expect(lines).toHaveLength(2 * 20 + 40);
		for (const pair of pairs) {
			expect(lines.filter((l) => l === `${pair.source} <TH> ${pair.target}`)).toHaveLength(1);
			expect(lines.filter((l) => l === `${pair.target} <EN> ${pair.source}`)).toHaveLength(1);
		}
		expect(lines.filter((l) => !l.includes(" <TH> ") && !l.includes(" <EN> "))).toEqual(english.map((d) => d.text));
		const firstInstance = lines.findIndex((l) => l.includes(" <TH> ") || l.includes(" <EN> "));
		const lastInstance = lines.length - 1 - [...lines].reverse().findIndex((l) => l.includes(" <TH> ") || l.includes(" <EN> "));
		expect(lastInstance - firstInstance).toBeGreaterThan(40);

		const layout = await readJsonlFile<{ text: string; direction: string }>(summary.outputs.layout as string);
		expect(layout).toHaveLength(60);
		expect(new Set(layout.map((r) => r.direction))).toEqual(new Set(["en-th", "th-en"]));

		// Resuming a finished run changes nothing; a changed configuration is refused.
		const before = await readFile(summary.outputs.pretraining as string, "utf8");
		const again = await buildParallelData({ ...params, resume: true });
		expect(again).toEqual(summary);
		expect(await readFile(summary.outputs.pretraining as string, "utf8")).toBe(before);
		await expect(buildParallelData({ ...params, sample: 10, resume: true })).rejects.toThrow(/with other settings[^]*: sample .* → 10;/);
		const forced = await buildParallelData({ ...params, seed: 7, force: true });
		expect(new Set((await readJsonlFile<PairRecord>(forced.outputs.pairs as string)).map((p) => p.id))).not.toEqual(new Set(pairs.map((p) => p.id)));
	});

	it("should resume a run killed in the filter stage to the files of an uninterrupted run", async () => {
		// Throws at its n-th record, as a killed process stops; its state is private, so the run's configuration
		// (and thus resume's check) is the same with or without the crash.
		class CrashAt implements Filter<CorpusPair> {
			readonly name = "crash_at";
			#left: number;
			constructor(n: number) {
				this.#left = n;
			}
			filter(): FilterVerdict {
				if (this.#left-- === 0) throw new Error("killed");
				return true;
			}
		}
		const dir = await mkdtemp(join(tmpdir(), "corpus-parallel-resume-"));
		const good = udhrArticlePairs("eng", "tha");
		// Drops before and after the crash, so that the audit file is continued too.
		const rows = good.flatMap((p, i) => (i % 5 === 0 ? [[p.source, p.source], [p.source, p.target]] : [[p.source, p.target]]));
		await writeFile(join(dir, "udhr.tsv"), `${rows.map((r) => r.join("\t")).join("\n")}\n`);
		await writeFile(join(dir, "english.jsonl"), `${udhrParagraphs("eng").map((text, i) => JSON.stringify({ id: `pile-${i}`, text })).join("\n")}\n`);
		const params = (outDir: string, crash: number) => ({
			read: { format: "tsv" as const, paths: [join(dir, "udhr.tsv")], sourceLang: "en", targetLang: "th" },
			outDir: join(dir, outDir),
			filters: [new PairLanguageFilter(), new CrashAt(crash)],
			sample: 12,
			seed: 9,
			english: { paths: [join(dir, "english.jsonl")], sample: 20 },
			layout: {},
			silent: true,
		});
		const whole = await buildParallelData(params("whole", Number.POSITIVE_INFINITY));
		await expect(buildParallelData(params("killed", 17))).rejects.toThrow(/killed/);
		await expect(readFile(join(dir, "killed", "pairs.jsonl"), "utf8")).rejects.toThrow(/ENOENT/);
		expect((await readFile(join(dir, "killed", "filtered.jsonl.partial"), "utf8")).trim().split("\n")).toHaveLength(17);
		const resumed = await buildParallelData({ ...params("killed", Number.POSITIVE_INFINITY), resume: true });
		expect(resumed.dropped).toEqual({ "pair_language/dropped_target_language": 6 });
		expect({ ...resumed, outputs: undefined }).toEqual({ ...whole, outputs: undefined });
		for (const file of ["filtered.jsonl", "pairs.jsonl", "english.jsonl", "translation-pretraining.jsonl", "layout.jsonl", join("audit", "pair_language.jsonl")]) {
			expect(await readFile(join(dir, "killed", file), "utf8")).toBe(await readFile(join(dir, "whole", file), "utf8"));
		}
	});
});
