import { appendFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError, JsonlWriter, RejectsWriter, emptyReadStats, readJsonl, rejectsPathFor } from "../src/index.js";

async function temp(): Promise<string> {
	return mkdtemp(join(tmpdir(), "transllm-core-"));
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const item of iterable) out.push(item);
	return out;
}

describe("readJsonl", () => {
	it("yields records with file and line, from plain and gzip files, skipping blank lines", async () => {
		const dir = await temp();
		const text = '{"a":1}\n\n{"a":"ไทย"}\r\n{"a":3}';
		await writeFile(join(dir, "x.jsonl"), `\ufeff${text}`);
		await writeFile(join(dir, "x.jsonl.gz"), gzipSync(text));
		await writeFile(join(dir, "nogz.jsonl"), gzipSync(text)); // gzip detected by magic bytes
		for (const name of ["x.jsonl", "x.jsonl.gz", "nogz.jsonl"]) {
			const stats = emptyReadStats();
			const records = await collect(readJsonl<{ a: unknown }>(join(dir, name), { stats }));
			expect(records.map((r) => [r.value.a, r.line])).toEqual([
				[1, 1],
				["ไทย", 3],
				[3, 4],
			]);
			expect(records[0]?.file).toBe(join(dir, name));
			expect(stats).toMatchObject({ records: 3, blankLines: 1, rejected: 0 });
		}
	});

	it("throws an InputError naming file:line, the reason and an excerpt by default", async () => {
		const dir = await temp();
		const file = join(dir, "bad.jsonl");
		await writeFile(file, '{"text":"ok"}\n{"text": broken\n');
		const error = await collect(readJsonl(file)).catch((e: unknown) => e);
		expect(InputError.isInstance(error)).toBe(true);
		expect((error as InputError).line).toBe(2);
		expect((error as Error).message).toContain(`${file}:2`);
		expect((error as Error).message).toContain("invalid JSON");
		expect((error as Error).message).toContain('{\\"text\\": broken');
	});

	it("treats invalid UTF-8, non-objects and missing required fields as bad records; skip writes them to <output>.rejects.jsonl", async () => {
		const dir = await temp();
		const file = join(dir, "in.jsonl");
		const bad = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
		await writeFile(file, Buffer.concat([Buffer.from('{"text":"a"}\n'), bad, Buffer.from('[1,2]\n{"id":1}\n{"text":null}\n{"text":"b"}\n')]));
		const output = join(dir, "out.jsonl");
		const rejects = await RejectsWriter.open(output);
		const stats = emptyReadStats();
		const records = await collect(readJsonl<{ text: string }>(file, { onBadRecord: "skip", rejects, required: ["text"], stats }));
		await rejects.close();
		expect(records.map((r) => r.value.text)).toEqual(["a", "b"]);
		expect(stats.rejected).toBe(4);
		const lines = (await readFile(rejectsPathFor(output), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
		expect(lines.map((l) => [l.line, l.reason])).toEqual([
			[2, "invalid UTF-8"],
			[3, "a record must be a JSON object"],
			[4, 'missing required field "text"'],
			[5, 'missing required field "text"'],
		]);
		expect(lines[2].raw).toBe('{"id":1}');
	});

	it("refuses skip without a rejects writer, so that nothing disappears silently", async () => {
		const dir = await temp();
		await writeFile(join(dir, "a.jsonl"), "{}\n");
		await expect(collect(readJsonl(join(dir, "a.jsonl"), { onBadRecord: "skip" }))).rejects.toThrow(/rejects writer/);
	});

	it("rejects lines over the size limit without holding them", async () => {
		const dir = await temp();
		const file = join(dir, "huge.jsonl");
		await writeFile(file, `{"text":"${"x".repeat(5000)}"}\n{"text":"small"}\n`);
		await expect(collect(readJsonl(file, { maxLineBytes: 1000 }))).rejects.toThrow(/:1: line longer than 1000 bytes/);
	});

	it("reopened rejects never list the same line twice", async () => {
		const dir = await temp();
		const output = join(dir, "o.jsonl");
		const first = await RejectsWriter.open(output);
		await first.reject({ file: "f", line: 2, reason: "x", raw: "r" });
		await first.close();
		const second = await RejectsWriter.open(output, { resume: true });
		await second.reject({ file: "f", line: 2, reason: "x", raw: "r" });
		await second.reject({ file: "f", line: 9, reason: "x", raw: "r" });
		await second.close();
		expect((await readFile(rejectsPathFor(output), "utf8")).trim().split("\n")).toHaveLength(2);
		expect(second.count).toBe(2);
	});
});

describe("JsonlWriter", () => {
	it("writes to <path>.partial and moves the file into place only on finish", async () => {
		const dir = await temp();
		const path = join(dir, "out.jsonl");
		const writer = await JsonlWriter.open<{ i: number }>(path);
		await writer.write({ i: 1 });
		await writer.flush();
		await expect(readFile(path)).rejects.toThrow();
		expect(await readFile(`${path}.partial`, "utf8")).toBe('{"i":1}\n');
		expect(await writer.finish()).toBe(1);
		expect(await readFile(path, "utf8")).toBe('{"i":1}\n');
		await expect(JsonlWriter.open(path)).rejects.toThrow(/exists/);
	});

	it("resumes after the last complete record, cutting a torn line, never duplicating or losing one", async () => {
		const dir = await temp();
		const path = join(dir, "out.jsonl");
		const input = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, i }));
		const first = await JsonlWriter.open<(typeof input)[number]>(path);
		for (const record of input.slice(0, 4)) await first.write(record);
		await first.close();
		await appendFile(`${path}.partial`, '{"id":"r4","i"'); // killed mid-write
		await expect(JsonlWriter.open(path)).rejects.toThrow(/unfinished output/);
		const second = await JsonlWriter.open<(typeof input)[number]>(path, { resume: true, keyOf: (r) => r.id });
		expect(second.resumedCount).toBe(4);
		expect([...second.existingKeys]).toEqual(["r0", "r1", "r2", "r3"]);
		for (const record of input.slice(second.resumedCount)) await second.write(record);
		await second.finish();
		const lines = (await readFile(path, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
		expect(lines).toEqual(input);
		const third = await JsonlWriter.open(path, { resume: true });
		expect(third.alreadyComplete).toBe(true);
		expect(third.count).toBe(10);
		await expect(third.write({})).rejects.toThrow(/already complete/);
	});

	it("appends lines serialised by the caller after the buffered records, counting them", async () => {
		const dir = await temp();
		const path = join(dir, "out.jsonl");
		const writer = await JsonlWriter.open<{ i: number }>(path);
		await writer.write({ i: 1 });
		await writer.writeLines(Buffer.from('{"i":2}\n{"i":3}\n'), 2);
		await writer.write({ i: 4 });
		expect(await writer.finish()).toBe(4);
		expect(await readFile(path, "utf8")).toBe('{"i":1}\n{"i":2}\n{"i":3}\n{"i":4}\n');
	});

	it("starts over with overwrite (--force) when an unfinished output is left (issue 16 point 6)", async () => {
		const dir = await temp();
		const path = join(dir, "out.jsonl");
		const first = await JsonlWriter.open<{ i: number }>(path);
		await first.write({ i: 1 });
		await first.close();
		await expect(JsonlWriter.open(path)).rejects.toThrow(/--resume, or start over with --force/);
		const again = await JsonlWriter.open<{ i: number }>(path, { overwrite: true });
		expect(again.resumedCount).toBe(0);
		await again.write({ i: 2 });
		await again.finish();
		expect(await readFile(path, "utf8")).toBe('{"i":2}\n');
	});

	it("gzips on finish when the path ends in .gz", async () => {
		const dir = await temp();
		const path = join(dir, "out.jsonl.gz");
		const writer = await JsonlWriter.open(path);
		await writer.write({ text: "สวัสดี" });
		await writer.finish();
		expect(gunzipSync(await readFile(path)).toString("utf8")).toBe('{"text":"สวัสดี"}\n');
		const back = await collect(readJsonl<{ text: string }>(path));
		expect(back[0]?.value.text).toBe("สวัสดี");
	});
});
