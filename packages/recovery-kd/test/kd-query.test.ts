import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError, RejectsWriter } from "@transllm/core";
import { describe, expect, it } from "vitest";
import { queryFromRecord, readKdQueries } from "../src/index.js";

const ALPACA = new URL("./fixtures/alpaca-sample.jsonl", import.meta.url).pathname;

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const item of iterable) out.push(item);
	return out;
}

describe("readKdQueries", () => {
	it("should read Alpaca records, joining instruction and input, and assign ids by position", async () => {
		const queries = await collect(readKdQueries(ALPACA));
		expect(queries).toHaveLength(16);
		expect(queries[0]).toMatchObject({ id: "q0", query: "Give three tips for staying healthy.", line: 1 });
		expect(queries[4]).toMatchObject({ id: "q4", query: "Explain why the following fraction is equivalent to 1/4\n4/16" });
		// The same file gives the same ids on every read (resuming depends on it).
		expect((await collect(readKdQueries(ALPACA))).map((q) => q.id)).toEqual(queries.map((q) => q.id));
	});

	it("should keep given ids, read {id, query} records and stop at the limit", async () => {
		const dir = await mkdtemp(join(tmpdir(), "kd-query-"));
		const path = join(dir, "q.jsonl");
		await writeFile(path, '{"id": "a1", "query": "What is 2+2?"}\n\n{"id": 7, "query": "Name a planet."}\n{"query": "No id here."}\n');
		const queries = await collect(readKdQueries(path));
		expect(queries.map((q) => [q.id, q.query])).toEqual([
			["a1", "What is 2+2?"],
			["7", "Name a planet."],
			["q2", "No id here."],
		]);
		expect(await collect(readKdQueries(path, { limit: 2 }))).toHaveLength(2);
	});

	it("should name file, line and field for a duplicate id and for a record without a query", async () => {
		const dir = await mkdtemp(join(tmpdir(), "kd-query-"));
		const duplicate = join(dir, "dup.jsonl");
		await writeFile(duplicate, '{"id": "x", "query": "a"}\n{"id": "x", "query": "b"}\n');
		const error = await collect(readKdQueries(duplicate)).catch((e: unknown) => e);
		expect(InputError.isInstance(error)).toBe(true);
		expect((error as InputError).message).toContain(`${duplicate}:2`);
		expect((error as InputError).message).toContain('duplicate id "x"');
		const bad = join(dir, "bad.jsonl");
		await writeFile(bad, '{"query": "fine"}\n{"text": "no query"}\n{"instruction": ""}\n{"query": "also fine"}\n');
		await expect(collect(readKdQueries(bad))).rejects.toThrow(`${bad}:2`);
		const rejects = await RejectsWriter.open(join(dir, "out.jsonl"));
		const kept = await collect(readKdQueries(bad, { onBadRecord: "skip", rejects }));
		await rejects.close();
		expect(kept.map((q) => q.query)).toEqual(["fine", "also fine"]);
		const rejected = (await readFile(rejects.path, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { line: number; reason: string });
		expect(rejected.map((r) => r.line)).toEqual([2, 3]);
		expect(rejected[1]?.reason).toContain("instruction");
	});

	it("should explain how to convert Alpaca's JSON array file", async () => {
		const dir = await mkdtemp(join(tmpdir(), "kd-query-"));
		const path = join(dir, "alpaca_data.json");
		await writeFile(path, '[\n  {"instruction": "Give three tips.", "input": "", "output": "..."}\n]\n');
		await expect(collect(readKdQueries(path))).rejects.toThrow(/alpaca_data\.json:1: this is a JSON array.*jq -c/);
	});

	it("should turn a record into its query or a reason", () => {
		expect(queryFromRecord({ instruction: "Translate", input: "hello" })).toBe("Translate\nhello");
		expect(queryFromRecord({ instruction: "Only", input: null })).toBe("Only");
		expect(queryFromRecord({ instruction: "x", input: 3 })).toEqual({ reason: 'field "input" must be a string' });
	});
});
