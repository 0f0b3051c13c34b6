import { mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, InputError } from "@transllm/core";
import { beforeAll, describe, expect, it } from "vitest";
import type { CorpusDocument, Filter, FilterVerdict } from "../src/index.js";
import { LanguageIdFilter, LengthFilter, NgramRepetitionFilter, DuplicateLineFilter, ScriptRatioFilter, WordListFilter, cleanCorpus, minhashDedupStage, splitWords } from "../src/index.js";
import { udhrParagraphs } from "./udhr.js";

const thai = udhrParagraphs("tha");
const english = udhrParagraphs("eng").slice(0, 6);
const spam = `${"โปรโมชั่นพิเศษ สมัครวันนี้ รับโบนัสทันที\n".repeat(5)}ติดต่อเรา`;
// Long paragraphs get a near-duplicate copy (one word appended) in the second input: dedup must remove those.
// Gopher's n-gram limits (tuned on English web pages) flag two long UDHR Thai paragraphs (top 3-/4-gram at 0.19).
const repetitive = thai.filter((text) => new NgramRepetitionFilter({ lang: "th" }).filter({ text }) !== true);
const longThai = thai.filter((p) => splitWords(p, "th").length >= 40 && !p.includes("ทาส") && !repetitive.includes(p)).slice(0, 6);

let dir: string;
let inputs: string[];

async function readJsonlFile(path: string): Promise<Record<string, unknown>[]> {
	const text = await readFile(path, "utf8");
	return text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

function filters(): Filter<CorpusDocument>[] {
	return [
		new LengthFilter({ minChars: 20 }),
		new ScriptRatioFilter({ lang: "th", minRatio: 0.6 }),
		new LanguageIdFilter({ lang: "th" }),
		new DuplicateLineFilter(),
		new NgramRepetitionFilter({ lang: "th" }),
		new WordListFilter({ words: ["ทาส"], lang: "th" }),
	];
}

/** Every file under `a` equals the one under `b` at the same relative path (with the folders' own paths inside replaced). */
async function expectSameFiles(a: string, b: string): Promise<void> {
	const files = async (root: string): Promise<string[]> => {
		const names = (await readdir(root, { recursive: true })).map(String).sort();
		const result: string[] = [];
		for (const name of names) if ((await stat(join(root, name))).isFile()) result.push(name);
		return result;
	};
	const names = await files(a);
	expect(names).toEqual(await files(b));
	expect(names.length).toBeGreaterThan(10);
	for (const name of names) {
		const left = (await readFile(join(a, name), "utf8")).replaceAll(a, "<out>");
		expect(left, name).toBe((await readFile(join(b, name), "utf8")).replaceAll(b, "<out>"));
	}
}

/** Stops the run with an error after a number of documents, as a crash would (its count is not configuration). */
class Crash implements Filter<CorpusDocument> {
	readonly name = "crash";
	#left: number;
	constructor(after: number) {
		this.#left = after;
	}
	filter(): FilterVerdict {
		this.#left -= 1;
		if (this.#left < 0) throw new Error("simulated crash");
		return true;
	}
}

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "corpus-clean-"));
	const lines = [
		...thai.map((text, i) => JSON.stringify({ id: `th-${i}`, text, source: "udhr-tha" })),
		...english.map((text, i) => JSON.stringify({ id: `en-${i}`, text })),
		JSON.stringify({ id: "spam", text: spam }),
		JSON.stringify({ id: "short", text: "ข้อ 1" }),
		"{broken json",
	];
	inputs = [join(dir, "th.jsonl"), join(dir, "copies.txt")];
	await writeFile(inputs[0] as string, `${lines.join("\n")}\n`);
	await writeFile(inputs[1] as string, `${longThai.map((p) => `${p} ทั้งนี้`).join("\n")}\n`);
});

describe("cleanCorpus", () => {
	it("should filter with audited reasons, deduplicate, and summarise the counts per filter", async () => {
		const outDir = join(dir, "run");
		const summary = await cleanCorpus({ inputs, outDir, filters: filters(), dedup: minhashDedupStage({ lang: "th", workers: 0 }), onBadRecord: "skip", silent: true });
		const slavery = thai.filter((p) => p.includes("ทาส")).length;
		expect(slavery).toBeGreaterThan(0);
		expect(repetitive).toHaveLength(2);
		expect(summary.read).toBe(thai.length + english.length + 2 + longThai.length);
		expect(summary.dropped).toEqual({
			"length/dropped_too_short": 1,
			"script_ratio/dropped_script_ratio": english.length,
			"duplicate_lines/dropped_duplicate_lines": 1,
			"ngram_repetition/dropped_top_3_gram": 1,
			"ngram_repetition/dropped_top_4_gram": 1,
			"word_list/dropped_word_list": slavery,
		});
		expect(summary.filtered).toBe(thai.length - slavery - 2 + longThai.length);
		expect(summary.dedup).toMatchObject({ documents: summary.filtered, removed: longThai.length });
		expect(summary.kept).toBe(thai.length - slavery - 2);
		expect(summary.stats.counters["rejected/records"]).toBe(1);
		const kept = (await Promise.all(summary.outputs.map(readJsonlFile))).flat();
		expect(kept.map((r) => r.text)).toEqual(thai.filter((p) => !p.includes("ทาส") && !repetitive.includes(p)));
		expect(kept[0]).toMatchObject({ id: "th-0", source: "udhr-tha" });
		const wordAudit = await readJsonlFile(join(outDir, "audit", "00000-th", "word_list.jsonl"));
		expect(wordAudit.map((entry) => [entry.reason, (entry.record as CorpusDocument).file])).toEqual(Array(slavery).fill(["word_list", inputs[0]]));
		expect(summary.audits.map((path) => path.slice(outDir.length + 1)).sort()).toEqual(
			["duplicate_lines", "length", "ngram_repetition", "script_ratio", "word_list"].map((name) => join("audit", "00000-th", `${name}.jsonl`)),
		);
		const rejects = await readJsonlFile(join(outDir, "filtered", "00000-th.jsonl.rejects.jsonl"));
		expect(rejects).toMatchObject([{ line: thai.length + english.length + 3, reason: expect.stringMatching(/invalid JSON/) }]);
		expect(JSON.parse(await readFile(join(outDir, "summary.json"), "utf8"))).toMatchObject({ kept: summary.kept, dropped: summary.dropped });
	});

	it("should resume after a crash to the output of an uninterrupted run, and refuse to mix runs", async () => {
		const whole = await cleanCorpus({ inputs, outDir: join(dir, "whole"), filters: [new Crash(Number.POSITIVE_INFINITY), ...filters()], onBadRecord: "skip", silent: true });
		const outDir = join(dir, "crashed");
		// The first shard finishes; the crash hits the second one midway.
		await expect(cleanCorpus({ inputs, outDir, filters: [new Crash(thai.length + english.length + 2 + 3), ...filters()], onBadRecord: "skip", silent: true })).rejects.toThrow(/simulated crash/);
		expect(await readdir(join(outDir, "filtered"))).toContain("00001-copies.jsonl.partial");
		await expect(cleanCorpus({ inputs, outDir, filters: [new Crash(0), ...filters()], onBadRecord: "skip", silent: true })).rejects.toThrow(ConfigError);
		await expect(cleanCorpus({ inputs, outDir, filters: [new Crash(0), ...filters().slice(1)], resume: true, onBadRecord: "skip", silent: true })).rejects.toThrow(/with other settings[^]*: filters \[/);
		const otherList = [new Crash(0), ...filters().slice(0, -1), new WordListFilter({ words: ["ทาษ"], lang: "th" })];
		await expect(cleanCorpus({ inputs, outDir, filters: otherList, resume: true, onBadRecord: "skip", silent: true })).rejects.toThrow(/with other settings[^]*: filters\[\d+\]\./);
		// Parquet metadata columns change the records of a shard: a resume may not switch them either.
		await expect(cleanCorpus({ inputs, outDir, filters: [new Crash(0), ...filters()], metadataFields: ["url"], resume: true, onBadRecord: "skip", silent: true })).rejects.toThrow(/metadataFields \[\] → \["url"\]/);
		const resumed = await cleanCorpus({ inputs, outDir, filters: [new Crash(Number.POSITIVE_INFINITY), ...filters()], resume: true, onBadRecord: "skip", silent: true });
		expect(resumed.dropped).toEqual(whole.dropped);
		expect(resumed.stats).toEqual(whole.stats);
		for (const [i, path] of resumed.outputs.entries()) expect(await readFile(path, "utf8")).toBe(await readFile(whole.outputs[i] as string, "utf8"));
		for (const audit of whole.audits) {
			expect(await readFile(join(outDir, audit.slice(join(dir, "whole").length)), "utf8")).toBe(await readFile(audit, "utf8"));
		}
		const restarted = await cleanCorpus({ inputs, outDir, filters: filters(), force: true, onBadRecord: "skip", silent: true });
		expect(restarted.filtered).toBe(whole.filtered);
	});

	it("should write with filter workers the same files as one thread, also when finishing a started run", async () => {
		// Four inputs (two files twice): more shards than workers, so a worker takes several.
		const many = [...inputs, ...inputs];
		const one = await cleanCorpus({ inputs: many, outDir: join(dir, "one-thread"), filters: filters(), onBadRecord: "skip", silent: true });
		const threaded = await cleanCorpus({ inputs: many, outDir: join(dir, "threads"), filters: filters(), onBadRecord: "skip", silent: true, filterWorkers: 2 });
		expect(JSON.stringify(threaded).replaceAll(join(dir, "threads"), "<out>")).toBe(JSON.stringify(one).replaceAll(join(dir, "one-thread"), "<out>"));
		await expectSameFiles(join(dir, "threads"), join(dir, "one-thread"));
		// Rank 0 of 2 filters shards 0 and 2 in this thread; a resumed run with workers does the others.
		const started = join(dir, "threads-resumed");
		await cleanCorpus({ inputs: many, outDir: started, filters: filters(), onBadRecord: "skip", silent: true, rank: 0, worldSize: 2 });
		await cleanCorpus({ inputs: many, outDir: started, filters: filters(), onBadRecord: "skip", silent: true, resume: true, filterWorkers: 2 });
		await expectSameFiles(started, join(dir, "one-thread"));
	});

	it("should refuse custom filters in filter workers, and report a worker's bad record by file and line", async () => {
		const many = [...inputs, ...inputs];
		await expect(cleanCorpus({ inputs: many, outDir: join(dir, "custom"), filters: [new Crash(Number.POSITIVE_INFINITY), ...filters()], filterWorkers: 2, silent: true })).rejects.toThrow(
			/"crash" is not one of the built-in filters/,
		);
		const failure = cleanCorpus({ inputs: many, outDir: join(dir, "bad-record"), filters: filters(), filterWorkers: 2, silent: true });
		await expect(failure).rejects.toThrow(InputError);
		await expect(failure).rejects.toThrow(`${inputs[0]}:${thai.length + english.length + 3}`);
	});

	it("should spread the filter stage over ranks and finish with one resumed run", async () => {
		const single = await cleanCorpus({ inputs, outDir: join(dir, "single"), filters: filters(), onBadRecord: "skip", silent: true });
		const outDir = join(dir, "ranks");
		const ranks = await Promise.all([0, 1].map((rank) => cleanCorpus({ inputs, outDir, filters: filters(), onBadRecord: "skip", silent: true, rank, worldSize: 2 })));
		// A rank counts the shards finished when it looks (its own, and the other's if done by then).
		expect(ranks.every((r) => r.read >= longThai.length && (r.pending === 0 || r.outputs.length === 0))).toBe(true);
		await expect(cleanCorpus({ inputs, outDir, filters: filters(), force: true, rank: 0, worldSize: 2 })).rejects.toThrow(/other ranks/);
		const final = await cleanCorpus({ inputs, outDir, filters: filters(), onBadRecord: "skip", silent: true, resume: true });
		expect(final.pending).toBe(0);
		expect(final.stats).toEqual(single.stats);
		for (const [i, path] of final.outputs.entries()) expect(await readFile(path, "utf8")).toBe(await readFile(single.outputs[i] as string, "utf8"));
	});
});
