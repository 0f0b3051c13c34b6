import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { InputError, RejectsWriter } from "@transllm/core";
import { parquetWriteFile } from "hyparquet-writer";
import { beforeAll, describe, expect, it } from "vitest";
import { detectDocumentFormat, readDocuments, readPairs } from "../src/index.js";
import { udhrArticlePairs, udhrParagraphs } from "./udhr.js";

let dir: string;
const thai = udhrParagraphs("tha");
const pairs = udhrArticlePairs("eng", "tha");

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const item of items) out.push(item);
	return out;
}

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "corpus-readers-"));
});

describe("readDocuments", () => {
	it("should read JSONL and JSONL.gz with the text field, id and metadata", async () => {
		const lines = thai.slice(0, 5).map((text, i) => JSON.stringify({ id: `th-${i}`, text, url: `https://example.org/${i}` }));
		await writeFile(join(dir, "a.jsonl"), `${lines.join("\n")}\n`);
		await writeFile(join(dir, "b.jsonl.gz"), gzipSync(`${lines.join("\n")}\n`));
		const documents = await collect(readDocuments({ paths: [join(dir, "a.jsonl"), join(dir, "b.jsonl.gz")] }));
		expect(documents).toHaveLength(10);
		expect(documents[2]).toMatchObject({ id: "th-2", text: thai[2], metadata: { url: "https://example.org/2" }, line: 3 });
		expect(documents[7]?.file).toBe(join(dir, "b.jsonl.gz"));
	});

	it("should name the fields it found when the text field is wrong, and keep skipped lines in rejects", async () => {
		await writeFile(join(dir, "content.jsonl"), `${JSON.stringify({ content: thai[0] })}\n{not json\n${JSON.stringify({ text: thai[1] })}\n`);
		const error = await collect(readDocuments({ paths: [join(dir, "content.jsonl")] })).catch((e: unknown) => e);
		expect(InputError.isInstance(error)).toBe(true);
		expect((error as InputError).message).toMatch(/content\.jsonl:1.*no string field "text" \(fields found: content\)/);
		const rejects = await RejectsWriter.open(join(dir, "content.out.jsonl"));
		const documents = await collect(readDocuments({ paths: [join(dir, "content.jsonl")], onBadRecord: "skip", rejects }));
		await rejects.close();
		expect(documents.map((d) => d.line)).toEqual([3]);
		const rejected = (await readFile(rejects.path, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { line: number; reason: string });
		expect(rejected.map((r) => r.line)).toEqual([1, 2]);
		expect(rejected[1]?.reason).toMatch(/invalid JSON/);
	});

	it("should read plain text one document per line or per blank-line separated block", async () => {
		await writeFile(join(dir, "th.txt"), `${thai[0]}\n${thai[1]}\n\n\n${thai[2]}\r\n`);
		const byLine = await collect(readDocuments({ paths: [join(dir, "th.txt")] }));
		expect(byLine.map((d) => [d.line, d.text])).toEqual([
			[1, thai[0]],
			[2, thai[1]],
			[5, thai[2]],
		]);
		const byBlock = await collect(readDocuments({ paths: [join(dir, "th.txt")], textMode: "paragraph" }));
		expect(byBlock.map((d) => [d.line, d.text])).toEqual([
			[1, `${thai[0]}\n${thai[1]}`],
			[5, thai[2]],
		]);
		await writeFile(join(dir, "latin1.txt"), Buffer.concat([Buffer.from("ok\n"), Buffer.from([0xe9, 0x0a])]));
		await expect(collect(readDocuments({ paths: [join(dir, "latin1.txt")] }))).rejects.toThrow(/latin1\.txt:2: invalid UTF-8/);
	});

	it("should stream Parquet row group by row group with metadata columns, and report null text rows", async () => {
		const texts = thai.slice(0, 25);
		const path = join(dir, "mc4-th.parquet");
		parquetWriteFile({
			filename: path,
			columnData: [
				{ name: "text", data: [...texts.slice(0, 12), null, ...texts.slice(12)], type: "STRING" },
				{ name: "url", data: Array.from({ length: 26 }, (_, i) => `https://th.example/${i}`), type: "STRING" },
			],
			rowGroupSize: 7,
		});
		expect(detectDocumentFormat(path)).toBe("parquet");
		await expect(collect(readDocuments({ paths: [path], metadataFields: ["url"] }))).rejects.toThrow(/mc4-th\.parquet:13 field "text": column "text" is null/);
		const rejects = await RejectsWriter.open(join(dir, "mc4-out.jsonl"));
		const documents = await collect(readDocuments({ paths: [path], metadataFields: ["url"], onBadRecord: "skip", rejects }));
		await rejects.close();
		expect(documents.map((d) => d.text)).toEqual(texts);
		expect(documents[12]).toMatchObject({ line: 14, metadata: { url: "https://th.example/13" }, id: "mc4-th.parquet:14" });
		expect(rejects.count).toBe(1);
		await expect(collect(readDocuments({ paths: [path], textField: "content" }))).rejects.toThrow(/no column "content" \(columns: text, url\)/);
	});
});

describe("readPairs", () => {
	it("should read Moses aligned files and refuse files of different lengths", async () => {
		await writeFile(join(dir, "udhr.en"), `${pairs.map((p) => p.source).join("\n")}\n`);
		await writeFile(join(dir, "udhr.th"), `${pairs.map((p) => p.target).join("\n")}\n`);
		const read = await collect(readPairs({ format: "moses", paths: [join(dir, "udhr")], sourceLang: "en", targetLang: "th" }));
		expect(read).toHaveLength(30);
		expect(read[3]).toMatchObject({ source: pairs[3]?.source, target: pairs[3]?.target, sourceLang: "en", targetLang: "th", line: 4 });
		await writeFile(join(dir, "short.th"), `${pairs.slice(0, 29).map((p) => p.target).join("\n")}\n`);
		await expect(collect(readPairs({ format: "moses", paths: [join(dir, "udhr.en"), join(dir, "short.th")], sourceLang: "en", targetLang: "th" }))).rejects.toThrow(
			/aligned files differ in length: .*short\.th ends before line 30/,
		);
	});

	it("should read TSV pairs and set aside lines without enough columns", async () => {
		await writeFile(join(dir, "pairs.tsv"), `${pairs[0]?.source}\t${pairs[0]?.target}\nonly one column\n${pairs[1]?.source}\t${pairs[1]?.target}\textra\n`);
		await expect(collect(readPairs({ format: "tsv", paths: [join(dir, "pairs.tsv")], sourceLang: "en", targetLang: "th" }))).rejects.toThrow(/pairs\.tsv:2: expected at least 2 tab-separated columns, found 1/);
		const rejects = await RejectsWriter.open(join(dir, "pairs.out"));
		const read = await collect(readPairs({ format: "tsv", paths: [join(dir, "pairs.tsv")], sourceLang: "en", targetLang: "th", onBadRecord: "skip", rejects }));
		await rejects.close();
		expect(read.map((p) => p.target)).toEqual([pairs[0]?.target, pairs[1]?.target]);
		expect(rejects.count).toBe(1);
	});

	it("should reject an over-long line of Moses and TSV input instead of cutting it into a pair", async () => {
		// Core's readLines hands over only a 4 KiB head of a line over 64 MiB; ASCII so that the head is valid UTF-8.
		const long = "a".repeat(64 * 1024 * 1024 + 1);
		await writeFile(join(dir, "long.tsv"), `${long}\tb\n${pairs[0]?.source}\t${pairs[0]?.target}\n`);
		await expect(collect(readPairs({ format: "tsv", paths: [join(dir, "long.tsv")], sourceLang: "en", targetLang: "th" }))).rejects.toThrow(/long\.tsv:1: line too long/);
		await writeFile(join(dir, "long.en"), `${long}\n${pairs[0]?.source}\n`);
		await writeFile(join(dir, "long.th"), `${pairs[1]?.target}\n${pairs[0]?.target}\n`);
		const rejects = await RejectsWriter.open(join(dir, "long.out"));
		const read = await collect(readPairs({ format: "moses", paths: [join(dir, "long")], sourceLang: "en", targetLang: "th", onBadRecord: "skip", rejects }));
		await rejects.close();
		expect(read.map((p) => [p.source, p.target, p.line])).toEqual([[pairs[0]?.source, pairs[0]?.target, 2]]);
		expect(rejects.count).toBe(1);
		const rejected = JSON.parse((await readFile(rejects.path, "utf8")).trim()) as { file: string; line: number; reason: string };
		expect(rejected).toMatchObject({ file: join(dir, "long.en"), line: 1, reason: "line too long" });
		await Promise.all(["long.tsv", "long.en"].map((name) => rm(join(dir, name))));
	});

	it("should read JSONL translation records and Parquet language columns", async () => {
		await writeFile(join(dir, "hf.jsonl"), `${pairs.slice(0, 3).map((p) => JSON.stringify({ translation: { en: p.source, th: p.target } })).join("\n")}\n`);
		const fromJsonl = await collect(readPairs({ format: "jsonl", paths: [join(dir, "hf.jsonl")], sourceLang: "en", targetLang: "th" }));
		expect(fromJsonl.map((p) => p.target)).toEqual(pairs.slice(0, 3).map((p) => p.target));
		const path = join(dir, "opus.parquet");
		parquetWriteFile({
			filename: path,
			columnData: [
				{ name: "en", data: pairs.map((p) => p.source), type: "STRING" },
				{ name: "th", data: pairs.map((p) => p.target), type: "STRING" },
			],
			rowGroupSize: 8,
		});
		const fromParquet = await collect(readPairs({ format: "parquet", paths: [path], sourceLang: "en", targetLang: "th" }));
		expect(fromParquet.map((p) => p.source)).toEqual(pairs.map((p) => p.source));
		expect(fromParquet[29]?.line).toBe(30);
	});
});
