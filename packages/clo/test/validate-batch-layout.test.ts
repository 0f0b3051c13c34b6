import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { validateBatchLayout, writeCloDataset } from "../src/index.js";
import { udhrRecords } from "./udhr.js";

let out: string;

async function lines(file: string): Promise<string[]> {
	return (await readFile(join(out, file), "utf8")).trimEnd().split("\n");
}

async function variant(name: string, rows: string[]): Promise<string> {
	const path = join(out, name);
	await writeFile(path, `${rows.join("\n")}\n`);
	return path;
}

beforeAll(async () => {
	const dir = await mkdtemp(join(tmpdir(), "clo-validate-"));
	const input = join(dir, "kd.jsonl");
	await writeFile(input, udhrRecords("sw", 8).map((record) => JSON.stringify(record)).join("\n") + "\n");
	out = join(dir, "out");
	await writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 4, progress: { silent: true } });
});

describe("validateBatchLayout", () => {
	it("accepts the written layout for its batch size and any even divisor, and on several devices", async () => {
		for (const [perDeviceBatchSize, devices] of [[4, 1], [2, 1], [2, 4], [4, 2]] as const) {
			const report = await validateBatchLayout({ file: join(out, "trl_standard.jsonl"), perDeviceBatchSize, devices });
			expect(report.ok, `${perDeviceBatchSize}×${devices}`).toBe(true);
		}
	});

	it("catches rows shuffled across pairs and names the lines", async () => {
		const rows = await lines("trl_standard.jsonl");
		const swapped = [...rows];
		[swapped[3], swapped[4]] = [swapped[4] as string, swapped[3] as string]; // row shuffling splits pairs 2 and 3
		const report = await validateBatchLayout({ file: await variant("swapped.jsonl", swapped), perDeviceBatchSize: 4 });
		expect(report.ok).toBe(false);
		expect(report.errors.map((error) => error.line)).toEqual([3, 5]);
		expect(report.errors[0]?.message).toMatch(/lines 3–4: the rows do not mirror each other/);
	});

	it("catches a missing row (every later pair shifts across a batch boundary)", async () => {
		const rows = await lines("trl_conversational.jsonl");
		const report = await validateBatchLayout({ file: await variant("missing.jsonl", rows.slice(1)), perDeviceBatchSize: 4 });
		expect(report.ok).toBe(false);
		expect(report.errorCount).toBe(8); // 7 split pairs + the odd row count
		expect(report.errors.at(-1)?.message).toMatch(/odd count/);
	});

	it("catches an odd batch size, which would cut a pair at every other batch boundary", async () => {
		const report = await validateBatchLayout({ file: join(out, "pairs.jsonl"), perDeviceBatchSize: 3 });
		expect(report.ok).toBe(false);
		expect(report.errors[0]?.message).toMatch(/even integer ≥ 2/);
	});

	it("catches a pair written target row first (with --lang), and row kinds or ids out of order in canonical files", async () => {
		const rows = await lines("trl_standard.jsonl");
		const reversed = [rows[1] as string, rows[0] as string, ...rows.slice(2)];
		const report = await validateBatchLayout({ file: await variant("reversed.jsonl", reversed), perDeviceBatchSize: 4, lang: "sw" });
		expect(report.ok).toBe(false);
		// the mirror check alone cannot tell the order; the prompt languages can
		expect(report.errors.map((error) => error.message)).toEqual([
			expect.stringMatching(/^line 1: an even row must have an English prompt/),
			expect.stringMatching(/^line 2: an odd row must have a sw prompt/),
		]);
		const canonical = await lines("pairs.jsonl");
		const canonicalReversed = await variant("pairs-reversed.jsonl", [canonical[1] as string, canonical[0] as string, ...canonical.slice(2)]);
		const kinds = await validateBatchLayout({ file: canonicalReversed, perDeviceBatchSize: 4 });
		expect(kinds.errors[0]?.message).toMatch(/rows are "target" then "en"/);
		const mixed = await variant("pairs-mixed.jsonl", [canonical[0] as string, canonical[3] as string, canonical[2] as string, canonical[1] as string, ...canonical.slice(4)]);
		const ids = await validateBatchLayout({ file: mixed, perDeviceBatchSize: 4 });
		expect(ids.errors.map((error) => error.message)).toEqual([expect.stringMatching(/lines 1–2: pair ids differ/), expect.stringMatching(/lines 3–4: pair ids differ/)]);
	});

	it("refuses a file that is not preference data", async () => {
		const report = await validateBatchLayout({ file: await variant("other.jsonl", ['{"text":"hello"}']), perDeviceBatchSize: 2 });
		expect(report).toMatchObject({ ok: false, errors: [{ line: 1, message: expect.stringMatching(/not a preference row/) }] });
	});
});
