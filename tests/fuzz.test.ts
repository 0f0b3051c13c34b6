import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_JSON_DEPTH, RejectsWriter, emptyReadStats, findSpecialToken, guardedSpecialTokens, readJsonl } from "@transllm/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGoogleTranslateLoopbackServer } from "../packages/recovery-kd/src/index.js";
import type { GoogleLoopbackServer } from "../packages/recovery-kd/src/index.js";
import { buildLlamaFixture } from "../packages/runtime/src/fixture/index.js";
import { transllm } from "./helpers/run-transllm.js";

// The hardening contract of issue 16, checked by a fuzzer: random and adversarial records (invalid UTF-8 at any
// position, huge fields, deep JSON, special tokens, empty strings, NUL bytes) fed to every reader and to CLI entry
// points. Fixed seed and bounded runs, so CI is reproducible and short; a failure prints the seed and the shrunk case.
const SEED = 1616;
const RUNS = Number(process.env.TRANSLLM_FUZZ_RUNS ?? 30);
const STACK = /\n\s+at [^\n]*\(?[^\n]*:\d+:\d+\)?/;

let dir: string;
let counter = 0;
// The services entry points talk to: a Google Translate v2 server on loopback and a tiny real ONNX model.
let google: GoogleLoopbackServer;
let model: string;
const GOOGLE_KEY_ENV = "TRANSLLM_FUZZ_GOOGLE_KEY";
beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "transllm-fuzz-"));
	process.env[GOOGLE_KEY_ENV] = "fuzz-key";
	google = await startGoogleTranslateLoopbackServer({ translate: (segment) => `แปล ${segment}`, apiKey: "fuzz-key" });
	model = join(dir, "model");
	await buildLlamaFixture({ dir: model, layers: 1, hidden: 32, heads: 2, kvHeads: 1, intermediate: 64, seed: 3 });
});
afterAll(async () => {
	await google?.close();
	delete process.env[GOOGLE_KEY_ENV];
});
const fresh = (name: string): string => join(dir, `${counter++}-${name}`);

/** What training-data readers refuse by default (the core special-token policy). */
const GUARDED = guardedSpecialTokens();
const SPECIAL = ["</s>", "<s>", "<EN>", "<RESPONSE>", "<TH>", "<|eot_id|>", "[INST]", "<unk>", "<|im_end|>"];
/** Text a user might send, adversarial parts included. */
const text = fc.oneof(
	fc.string({ maxLength: 40 }),
	fc.constantFrom("", " ", "\u0000", "สวัสดีครับ", "مرحبا", "Hello, world.", "\ud83d\ude00", "a\u0000b", "\u200b\u200d"),
	fc.constantFrom(...SPECIAL).map((token) => `before ${token} after`),
	fc.integer({ min: 1, max: 5000 }).map((n) => "ก".repeat(n)),
);
/** Depth of a field of deeply nested JSON a good record carries (kept as a number: fast-check prints cases). */
const deep = fc.option(fc.integer({ min: 100, max: 5000 }), { nil: undefined, freq: 3 });
/** A good record for the command under test. */
type Good = { kind: "good"; value: Record<string, unknown>; deep?: number };
/** A line no reader may accept as it is. */
type Bad = { kind: "bad"; bytes: Buffer };
const badLine = fc.oneof(
	// invalid UTF-8 spliced in at any position of a valid line
	fc.tuple(fc.string({ minLength: 1, maxLength: 30 }), fc.nat(), fc.constantFrom([0xff], [0xc3], [0xe0, 0xb9], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80])).map(([s, at, invalid]) => {
		const bytes = Buffer.from(JSON.stringify({ text: s }));
		const position = at % (bytes.length + 1);
		return Buffer.concat([bytes.subarray(0, position), Buffer.from(invalid), bytes.subarray(position)]);
	}),
	fc.constantFrom("{", "[1,2", '{"text": "unterminated', "null", "42", '"a string"', "[]", "{}}", "\u0000"),
	// deep JSON that is not an object (every reader wants objects); deep objects inside good records are below
	fc.integer({ min: 2000, max: 20000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth)),
).map((value): Bad => ({ kind: "bad", bytes: Buffer.isBuffer(value) ? value : Buffer.from(value) }));

/** The JSON line of a good record, with its deep field spelled out. */
function encode(record: Good): string {
	const json = JSON.stringify(record.value);
	return record.deep === undefined ? json : `${json.slice(0, -1)},"deep":${'{"a":'.repeat(record.deep)}1${"}".repeat(record.deep)}}`;
}

function lines(records: readonly (Good | Bad)[]): Buffer {
	return Buffer.concat(records.flatMap((record) => [record.kind === "good" ? Buffer.from(encode(record)) : record.bytes, Buffer.from("\n")]));
}

describe("fuzz: core readJsonl keeps every record or counts it as rejected", () => {
	it("yields each good record once, in order, and rejects each bad one (skip)", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(fc.oneof(fc.tuple(text, deep).map(([t, depth]): Good => ({ kind: "good", value: { text: t }, deep: depth })), badLine), { maxLength: 12 }), async (records) => {
				const file = fresh("read.jsonl");
				await writeFile(file, lines(records));
				const stats = emptyReadStats();
				const read: unknown[] = [];
				const rejects = await RejectsWriter.open(fresh("read-out.jsonl"));
				for await (const record of readJsonl(file, { onBadRecord: "skip", rejects, stats, validate: (value) => (typeof value === "object" && value !== null && !Array.isArray(value) ? undefined : "not an object") })) read.push(record.value);
				// A record nested deeper than the readers' limit is a bad record too (it would overflow the stack later).
				const good = records.filter((r): r is Good => r.kind === "good" && (r.deep ?? 0) < MAX_JSON_DEPTH);
				await rejects.close();
				// compared as JSON text: deep equality would recurse as deep as the records
				expect(read.map((value) => JSON.stringify(value))).toEqual(good.map(encode));
				expect(stats.rejected).toBe(records.length - good.length);
				expect(rejects.count).toBe(records.length - good.length);
			}),
			{ seed: SEED, numRuns: RUNS * 3 },
		);
	});

	it("stops at the first bad record with file:line, never a stack trace (error)", async () => {
		await fc.assert(
			fc.asyncProperty(fc.array(fc.oneof(text.map((t): Good => ({ kind: "good", value: { text: t } })), badLine), { minLength: 1, maxLength: 8 }), async (records) => {
				const file = fresh("strict.jsonl");
				await writeFile(file, lines(records));
				const first = records.findIndex((r) => r.kind === "bad");
				const reading = (async () => {
					let n = 0;
					for await (const _ of readJsonl(file, { validate: (value) => (typeof value === "object" && value !== null && !Array.isArray(value) ? undefined : "not an object") })) n += 1;
					return n;
				})();
				if (first === -1) await expect(reading).resolves.toBe(records.length);
				else await expect(reading).rejects.toThrow(`${file}:${first + 1}: `);
			}),
			{ seed: SEED, numRuns: RUNS * 2 },
		);
	});

	it("treats a line over the limit as a bad record, whatever it holds", async () => {
		await fc.assert(
			fc.asyncProperty(fc.integer({ min: 1025, max: 50_000 }), fc.constantFrom("x", "ก", "\u0000", "</s>"), async (length, unit) => {
				const file = fresh("long.jsonl");
				await writeFile(file, `${JSON.stringify({ text: "ok" })}\n${JSON.stringify({ text: unit.repeat(length) })}\n${JSON.stringify({ text: "ok too" })}\n`);
				const stats = emptyReadStats();
				const read: unknown[] = [];
				const rejects = await RejectsWriter.open(fresh("long-out.jsonl"));
				for await (const record of readJsonl(file, { onBadRecord: "skip", rejects, stats, maxLineBytes: 1024 })) read.push(record.value);
				await rejects.close();
				expect(read).toEqual([{ text: "ok" }, { text: "ok too" }]);
				expect(stats.rejected).toBe(1);
			}),
			{ seed: SEED, numRuns: RUNS },
		);
	});
});

/** A CLI entry point: its arguments for an input and an output, a good record, and how to count its outputs. */
interface EntryPoint {
	name: string;
	good: fc.Arbitrary<Record<string, unknown>>;
	/** Whether good records may carry a deep field. */
	deep?: boolean;
	/** A good record the command refuses all the same (special tokens in training text …). */
	refuses?: (value: Record<string, unknown>) => boolean;
	args: (input: string, out: string, policy: "error" | "skip") => string[];
	/** Output records (ids) of a finished run. */
	outputs: (out: string) => Promise<string[]>;
	/** The rejects file of a run (its text). */
	rejects: (out: string) => Promise<string>;
	/** Cases to run (default RUNS): fewer where each run loads a model. */
	runs?: number;
}

const jsonlIds = async (path: string): Promise<string[]> =>
	(await readFile(path, "utf8"))
		.split("\n")
		.filter(Boolean)
		.map((line) => String((JSON.parse(line) as { id?: unknown }).id));

/** A translated recovery-KD record (kd translate's output), the input of clo pairs and pivot-data. */
const TRANSLATED_FIELDS = ["query_en", "response_en", "query_t", "response_t"] as const;
const translated = fc.record({ query_en: text, response_en: text, query_t: text, response_t: text, lang: fc.constant("th") });
const holdsSpecialToken = (value: Record<string, unknown>): boolean => TRANSLATED_FIELDS.some((field) => findSpecialToken(String(value[field]), GUARDED) !== undefined);

const ENTRY_POINTS: EntryPoint[] = [
	{
		name: "tcot parse",
		good: fc.record({ text: fc.tuple(text, text, text).map(([q, a, t]) => `<EN> ${q} <RESPONSE> ${a} <TH> ${t}`), lang: fc.constant("th") }),
		args: (input, out, policy) => ["tcot", "parse", "-i", input, "-o", out, "--on-bad-record", policy],
		outputs: jsonlIds,
		rejects: (out) => readFile(`${out}.rejects.jsonl`, "utf8").catch(() => ""),
	},
	{
		name: "corpus clean",
		good: fc.record({ text }),
		deep: true,
		refuses: (value) => findSpecialToken(String(value.text), GUARDED) !== undefined,
		args: (input, out, policy) => ["corpus", "clean", input, "--lang", "th", "--format", "jsonl", "--out", out, "--on-bad-record", policy, "--quiet"],
		outputs: async (out) => {
			const kept = join(out, "filtered");
			const files = (await readdir(kept)).filter((name) => name.endsWith(".jsonl") && !name.endsWith(".rejects.jsonl"));
			const audits = await readdir(join(out, "audit"), { recursive: true }).catch(() => [] as string[]);
			const dropped = await Promise.all(
				audits.filter((name) => String(name).endsWith(".jsonl")).map(async (name) => (await readFile(join(out, "audit", String(name)), "utf8")).split("\n").filter(Boolean).map((line) => String((JSON.parse(line) as { record: { id: unknown } }).record.id))),
			);
			return [...(await Promise.all(files.map((name) => jsonlIds(join(kept, name))))).flat(), ...dropped.flat()];
		},
		rejects: async (out) => {
			const names = (await readdir(join(out, "filtered")).catch(() => [] as string[])).filter((name) => name.endsWith(".rejects.jsonl"));
			return (await Promise.all(names.map((name) => readFile(join(out, "filtered", name), "utf8")))).join("");
		},
	},
	{
		name: "dedup run",
		good: fc.record({ text: fc.oneof(text, fc.constantFrom("the same words in the same order here", "สวัสดีครับ ยินดีต้อนรับ ทุกท่าน")) }),
		deep: true,
		refuses: (value) => findSpecialToken(String(value.text), GUARDED) !== undefined,
		args: (input, out, policy) => ["dedup", "run", input, "--out", out, "--lang", "th", "--on-bad-record", policy, "--workers", "1"],
		outputs: async (out) => {
			const kept = await jsonlIds(join(out, "kept", "00000.jsonl"));
			// The removed manifest names a document by file:line.
			const removed = (await readFile(join(out, "removed", "00000.jsonl"), "utf8")).split("\n").filter(Boolean).map((line) => `r${Number(/:(\d+)$/.exec((JSON.parse(line) as { id: string }).id)?.[1]) - 1}`);
			return [...kept, ...removed];
		},
		rejects: (out) => readFile(join(out, "kept", "00000.jsonl.rejects.jsonl"), "utf8").catch(() => ""),
	},
	{
		name: "pivot-data",
		good: translated,
		deep: true,
		refuses: holdsSpecialToken,
		args: (input, out, policy) => ["pivot-data", "--input", input, "--lang", "th", "--out", out, "--on-bad-record", policy, "--force"],
		outputs: async (out) => {
			const english = await jsonlIds(join(out, "english.jsonl"));
			// Both files hold each record once, in the same order.
			expect(await jsonlIds(join(out, "target.jsonl"))).toEqual(english);
			return english;
		},
		rejects: (out) => readFile(join(out, "target.jsonl.rejects.jsonl"), "utf8").catch(() => ""),
	},
	{
		name: "clo pairs",
		good: translated,
		deep: true,
		// CLO needs every text (an empty one is no preference) and refuses special tokens.
		refuses: (value) => holdsSpecialToken(value) || TRANSLATED_FIELDS.some((field) => String(value[field]).trim() === ""),
		args: (input, out, policy) => ["clo", "pairs", "--input", input, "--lang", "th", "--out", out, "--on-bad-record", policy, "--no-language-check", "--batch-size", "2", "--remainder", "keep"],
		outputs: async (out) => {
			// Two rows per record (English and target), each naming its record.
			const rows = (await readFile(join(out, "pairs.jsonl"), "utf8")).split("\n").filter(Boolean).map((line) => JSON.parse(line) as { pair_id: string; row: string });
			const ids = [...new Set(rows.map((row) => row.pair_id))];
			for (const id of ids) expect(rows.filter((row) => row.pair_id === id).map((row) => row.row).sort()).toEqual(["en", "target"]);
			const audited = (await readFile(join(out, "audit.jsonl"), "utf8").catch(() => "")).split("\n").filter(Boolean).map((line) => String((JSON.parse(line) as { id: unknown }).id));
			return [...ids, ...audited];
		},
		rejects: (out) => readFile(join(out, "pairs.jsonl.rejects.jsonl"), "utf8").catch(() => ""),
	},
	{
		name: "tcot build",
		good: translated,
		deep: true,
		// Each instance needs its texts (requireText) and refuses special tokens (the training-data policy).
		refuses: (value) => holdsSpecialToken(value) || TRANSLATED_FIELDS.some((field) => String(value[field]).trim() === ""),
		args: (input, out, policy) => ["tcot", "build", "--translated", input, "--langs", "th", "--val-size", "0", "--metadata", "--format", "trl", "--out", out, "--on-bad-record", policy],
		// One TCOT instance per record (with --metadata its id is `<record id>:tcot:<lang>`).
		outputs: async (out) => (await jsonlIds(join(out, "train.jsonl"))).filter((id) => id.endsWith(":tcot:th")).map((id) => id.slice(0, -":tcot:th".length)),
		rejects: (out) => readFile(join(out, "train.jsonl.rejects.jsonl"), "utf8").catch(() => ""),
	},
	{
		name: "kd translate",
		good: fc.record({ query_en: text, response_en: text }),
		deep: true,
		args: (input, out, policy) => ["kd", "translate", "--input", input, "--lang", "th", "--google", "--google-endpoint", google.endpoint, "--api-key-env", GOOGLE_KEY_ENV, "--out", out, "--on-bad-record", policy, "--concurrency", "2", "--quiet"],
		outputs: jsonlIds,
		rejects: (out) => readFile(`${out}.rejects.jsonl`, "utf8").catch(() => ""),
	},
	{
		name: "generate",
		good: fc.record({ query: text }),
		deep: true,
		// An empty prompt is a bad record (a prompt over the context would be one too; the texts here fit).
		refuses: (value) => value.query === "",
		runs: Math.ceil(RUNS / 3),
		args: (input, out, policy) => ["generate", "--model", model, "--execution-provider", "cpu", "--input", input, "--out", out, "--max-new-tokens", "2", "--on-bad-record", policy, "--quiet"],
		outputs: jsonlIds,
		rejects: (out) => readFile(`${out}.rejects.jsonl`, "utf8").catch(() => ""),
	},
];

describe("fuzz: CLI entry points keep the contract on adversarial records", () => {
	for (const entry of ENTRY_POINTS) {
		it(`${entry.name}: every record kept or counted once, exit status and message, no stack trace`, async () => {
			await fc.assert(
				fc.asyncProperty(fc.array(fc.oneof({ weight: 3, arbitrary: fc.tuple(entry.good, entry.deep ? deep : fc.constant(undefined)).map(([value, depth]): Good => ({ kind: "good", value, deep: depth })) }, { weight: 1, arbitrary: badLine }), { maxLength: 10 }), fc.constantFrom("error" as const, "skip" as const), async (records, policy) => {
					const numbered = records.map((record, index) => (record.kind === "good" ? { ...record, value: { id: `r${index}`, ...record.value } } : record));
					const input = fresh("input.jsonl");
					const out = fresh("out");
					await writeFile(input, lines(numbered));
					const run = await transllm(entry.args(input, out, policy));
					expect(run.stderr).not.toMatch(STACK);
					const usable = (r: Good | Bad): boolean => r.kind === "good" && (r.deep ?? 0) < MAX_JSON_DEPTH && !(entry.refuses?.(r.value) ?? false);
					const firstBad = numbered.findIndex((r) => !usable(r));
					if (run.code !== 0) {
						// 2: bad input or nothing to produce; 1: a run whose checks left nothing (E_CHECK_FAILED), only then.
						if (run.code === 1) expect(run.stderr).toMatch(/^error \[E_CHECK_FAILED\]: /m);
						else expect(run.code).toBe(2);
						expect(run.stderr).toMatch(/^error \[E_[A-Z_]+\]: /m);
						if (policy === "error" && firstBad !== -1) expect(run.stderr).toContain(`${input}:${firstBad + 1}`);
						return;
					}
					if (policy === "error") expect(firstBad).toBe(-1);
					const ids = await entry.outputs(out);
					expect(new Set(ids).size).toBe(ids.length);
					const rejected = (await entry.rejects(out)).split("\n").filter(Boolean).map((line) => JSON.parse(line) as { line: number });
					const goodIds = numbered.flatMap((r, index) => (usable(r) ? [`r${index}`] : []));
					const rejectedGood = rejected.filter((r) => usable(numbered[r.line - 1] as Good | Bad)).map((r) => `r${r.line - 1}`);
					expect([...ids, ...rejectedGood].sort()).toEqual([...goodIds].sort());
					expect(rejected.length - rejectedGood.length).toBe(numbered.length - goodIds.length);
				}),
				{ seed: SEED, numRuns: entry.runs ?? RUNS },
			);
		});
	}
});
