import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { helpFor, runCli } from "@transllm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromAlpaca, fromShareGpt, fromTrl, tcotCommands } from "../src/index.js";
import { alignedArticles, udhrArticles } from "./udhr.js";

let dir: string;
const files = { translated: "", kd: "", parallel: "", english: "" };
const articles = alignedArticles();
const thai = udhrArticles("tha2");
const english = udhrArticles("eng");
// Paragraph-aligned pairs where an article has as many paragraphs in both languages.
const pairs = [...english].flatMap(([number, paragraphs]) => {
	const translated = thai.get(number) ?? [];
	return translated.length === paragraphs.length ? paragraphs.map((source, index) => ({ source, target: translated[index] as string, sourceLang: "en", targetLang: "th" })) : [];
});
const englishLines = [...english.values()].flat();

function jsonl(records: readonly unknown[]): string {
	return records.map((record) => JSON.stringify(record)).join("\n") + "\n";
}

async function readJsonlFile(path: string): Promise<Record<string, unknown>[]> {
	return (await readFile(path, "utf8")).split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	let stdout = "";
	let stderr = "";
	const sink = (append: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (append(String(chunk)), done()) });
	const code = await runCli("transllm", tcotCommands, args, { context: { stdout: sink((text) => (stdout += text)), stderr: sink((text) => (stderr += text)) } });
	return { code, stdout, stderr };
}

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "tcot-cli-"));
	files.translated = join(dir, "translated.th.jsonl");
	files.kd = join(dir, "kd.en.jsonl");
	files.parallel = join(dir, "parallel.en-th.jsonl");
	files.english = join(dir, "english.jsonl");
	await writeFile(
		files.translated,
		jsonl(
			articles.map(([number, en, th]) => ({
				id: `article-${number}`,
				query_en: `What does Article ${number} of the Universal Declaration of Human Rights say?`,
				response_en: en,
				query_t: `ข้อ ${number} ของปฏิญญาสากลว่าด้วยสิทธิมนุษยชนกล่าวไว้ว่าอย่างไร`,
				response_t: th,
				lang: "th",
			})),
		),
	);
	await writeFile(files.kd, jsonl([1, 2, 3, 4, 5].map((n) => ({ id: `kd-${n}`, query_en: `Summarise Article ${n}.`, response_en: english.get(n)?.join(" ") }))));
	await writeFile(files.parallel, jsonl(pairs));
	await writeFile(files.english, jsonl(englishLines.map((text) => ({ text }))));
});

afterAll(async () => {
	await rm(dir, { recursive: true, force: true });
});

const base = () => ["tcot", "build", "--translated", files.translated, "--kd", files.kd, "--parallel", files.parallel, "--english", files.english, "--langs", "th"];

describe("transllm tcot build", () => {
	it("should give the same files when sharded: tasks by record id (--rank/--world-size/--instances-out), then --instances", async () => {
		// A KD record sharing a translated record's id: the two must meet in one task (the KD record wins its instance).
		const kd = join(dir, "kd-shared.jsonl");
		await writeFile(kd, `${await readFile(files.kd, "utf8")}${jsonl([{ id: "article-1", query_en: "Summarise Article 1.", response_en: english.get(1)?.join(" ") }])}`);
		const args = ["tcot", "build", "--translated", files.translated, "--kd", kd, "--parallel", files.parallel, "--english", files.english, "--parallel-use", "pretraining,sft", "--val-size", "20", "--seed", "9"];
		const single = join(dir, "single");
		const one = await cli([...args, "-o", single]);
		expect(one.code, one.stderr).toBe(0);
		const sharded = join(dir, "sharded");
		const parts = [0, 1, 2].map((rank) => join(dir, `instances.${rank}.jsonl`));
		for (const [rank, part] of parts.entries()) {
			const task = await cli([...args, "--rank", String(rank), "--world-size", "3", "--instances-out", part, "-o", join(dir, `task-${rank}`)]);
			expect(task.code, task.stderr).toBe(0);
			expect((await readFile(part, "utf8")).split("\n").filter(Boolean).length).toBeGreaterThan(1);
		}
		const finish = await cli([...args, ...parts.flatMap((part) => ["--instances", part]), "-o", sharded]);
		expect(finish.code, finish.stderr).toBe(0);
		for (const name of ["train.jsonl", "validation.jsonl", "translation_pretraining.jsonl", "dataset_info.json", "special_tokens.json"]) {
			expect(await readFile(join(sharded, name), "utf8"), name).toBe(await readFile(join(single, name), "utf8"));
		}
		expect((await cli([...args, "--rank", "3", "--world-size", "3", "--instances-out", parts[0] as string, "-o", join(dir, "bad")])).stderr).toMatch(/need 0 ≤ rank < world size/);
	});

	it("should write LLaMA-Factory files that read back into the mixed data set", async () => {
		const out = join(dir, "lf");
		const { code, stdout, stderr } = await cli([...base(), "--val-size", "20", "--seed", "5", "--pt-record-chars", "2000", "-o", out]);
		expect(stderr).not.toMatch(/error/);
		expect(code).toBe(0);
		expect(stdout).toMatch(/records: kd 5, translated 30, parallel \d+, filtered 0, rejected 0/);
		expect(stdout).toMatch(/special tokens: <EN> <RESPONSE> <TH>/);
		const train = (await readJsonlFile(join(out, "train.jsonl"))).map(fromShareGpt);
		const validation = (await readJsonlFile(join(out, "validation.jsonl"))).map(fromShareGpt);
		expect(validation.length).toBe(20);
		// 35 recovery-KD + 30 TCOT + 30 × 4 translation instances.
		expect(train.length + validation.length).toBe(35 + 30 + 120);
		const all = [...train, ...validation];
		expect(all.filter((pair) => pair.response.startsWith("<RESPONSE> ")).length).toBe(35);
		expect(all.filter((pair) => pair.response.startsWith("<EN> ") && pair.response.includes(" <RESPONSE> ") && pair.response.includes(" <TH> ")).length).toBe(30);
		expect(all.find((pair) => pair.query.startsWith("ข้อ 1 "))?.response).toBe(
			`<EN> What does Article 1 of the Universal Declaration of Human Rights say? <RESPONSE> ${articles[0]?.[1]} <TH> ${articles[0]?.[2]}`,
		);
		expect(JSON.parse(await readFile(join(out, "dataset_info.json"), "utf8"))).toEqual({
			transllm_tcot_train: { file_name: "train.jsonl", formatting: "sharegpt", columns: { messages: "conversations" }, tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt" } },
			transllm_tcot_validation: { file_name: "validation.jsonl", formatting: "sharegpt", columns: { messages: "conversations" }, tags: { role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt" } },
			transllm_tcot_translation_pretraining: { file_name: "translation_pretraining.jsonl", columns: { prompt: "text" } },
		});
		expect(JSON.parse(await readFile(join(out, "special_tokens.json"), "utf8"))).toEqual({ additional_special_tokens: ["<EN>", "<RESPONSE>", "<TH>"] });
		expect(await readFile(join(out, "llamafactory_args.yaml"), "utf8")).toBe(
			[
				"# Merge into your LLaMA-Factory training YAML: the datasets written here and the special tokens they use.",
				"# (TransLLM trains LoRA r=64 alpha=128 dropout=0.05 on q,k,v,o,gate,up,down plus embed_tokens and lm_head, App. A.1.)",
				`dataset_dir: ${JSON.stringify(out)}`,
				"dataset: transllm_tcot_train",
				"eval_dataset: transllm_tcot_validation",
				'add_special_tokens: "<EN>,<RESPONSE>,<TH>"',
				"resize_vocab: true",
				"additional_target: embed_tokens,lm_head",
				"",
			].join("\n"),
		);
		const pretraining = (await readJsonlFile(join(out, "translation_pretraining.jsonl"))).map((record) => record.text as string);
		const lines = pretraining.flatMap((text) => text.split("\n"));
		expect(lines.length).toBe(englishLines.length + pairs.length * 2);
		expect(lines.filter((line) => englishLines.includes(line))).toEqual(englishLines);
		expect(lines.filter((line) => / <TH> /.test(line)).length).toBe(pairs.length);
		expect(lines.filter((line) => / <EN> /.test(line)).length).toBe(pairs.length);
		for (const text of pretraining) expect(text.length <= 2000 || !text.includes("\n")).toBe(true);
	});

	it("should write TRL prompt/completion files and give identical files for the same seed", async () => {
		const outs = [join(dir, "trl-a"), join(dir, "trl-b")];
		for (const out of outs) expect((await cli([...base(), "--format", "trl", "--style", "prompt-completion", "--val-size", "10", "-o", out])).code).toBe(0);
		const [a, b] = outs as [string, string];
		expect(await readdir(a)).toEqual(expect.arrayContaining(["train.jsonl", "validation.jsonl", "translation_pretraining.jsonl", "special_tokens.json", "manifest.json"]));
		for (const name of ["train.jsonl", "validation.jsonl", "translation_pretraining.jsonl"]) expect(await readFile(join(b, name), "utf8")).toBe(await readFile(join(a, name), "utf8"));
		const records = (await readJsonlFile(join(a, "train.jsonl"))).map(fromTrl);
		expect(records.length).toBe(185 - 10);
	});

	it("should write the same instances in every style", async () => {
		const read = { sharegpt: fromShareGpt, alpaca: fromAlpaca, messages: fromTrl, "prompt-completion": fromTrl } as const;
		const contents: string[] = [];
		for (const [style, reader] of Object.entries(read)) {
			const out = join(dir, `style-${style}`);
			const format = style === "sharegpt" || style === "alpaca" ? "llamafactory" : "trl";
			expect((await cli([...base(), "--format", format, "--style", style, "--val-size", "10", "-o", out])).code).toBe(0);
			const pairs = [...(await readJsonlFile(join(out, "train.jsonl"))), ...(await readJsonlFile(join(out, "validation.jsonl")))].map((record) => reader(record));
			expect(pairs.length).toBe(185);
			contents.push(JSON.stringify(pairs));
		}
		expect(new Set(contents).size).toBe(1);
	});

	it("should stop on a bad record naming file, line and field, or set it aside with --on-bad-record skip", async () => {
		const bad = join(dir, "bad.jsonl");
		const good = (await readFile(files.translated, "utf8")).split("\n").filter(Boolean);
		const poisoned = JSON.parse(good[1] as string) as Record<string, string>;
		poisoned.response_en = `${poisoned.response_en} <RESPONSE> injected`;
		await writeFile(bad, [good[0], "{not json", JSON.stringify(poisoned), JSON.stringify({ id: "x", query_en: "q" }), good[2]].join("\n") + "\n");
		const failed = await cli(["tcot", "build", "--translated", bad, "--val-size", "0", "-o", join(dir, "bad-error")]);
		expect(failed.code).toBe(2);
		expect(failed.stderr).toContain(`${bad}:2: invalid JSON`);
		const special = join(dir, "special.jsonl");
		await writeFile(special, `${good[0]}\n${JSON.stringify(poisoned)}\n`);
		const failedSpecial = await cli(["tcot", "build", "--translated", special, "--val-size", "0", "-o", join(dir, "special-error")]);
		expect(failedSpecial.stderr).toContain(`${special}:2 field "response_en": record "article-2": text contains the special token <RESPONSE>`);
		const out = join(dir, "bad-skip");
		const skipped = await cli(["tcot", "build", "--translated", bad, "--val-size", "0", "--on-bad-record", "skip", "-o", out]);
		expect(skipped.code).toBe(0);
		expect(skipped.stdout).toMatch(/translated 2, .*rejected 3/);
		const rejects = await readJsonlFile(join(out, "train.jsonl.rejects.jsonl"));
		expect(rejects.map((entry) => [entry.line, String(entry.reason).split(":")[0]])).toEqual([
			[2, "invalid JSON"],
			[3, 'record "article-2"'],
			[4, 'missing required field "response_en"'],
		]);
		expect(rejects[1]?.reason).toMatch(/<RESPONSE>.*\(field "response_en"\)$/);
		const escaped = join(dir, "escaped");
		expect((await cli(["tcot", "build", "--translated", special, "--val-size", "0", "--special-tokens", "escape", "-o", escaped])).code).toBe(0);
		const responses = (await readJsonlFile(join(escaped, "train.jsonl"))).map((record) => fromShareGpt(record).response);
		expect(responses.some((response) => response.includes("<\u2060RESPONSE> injected"))).toBe(true);
	});

	it("should refuse to overwrite, resume an unfinished output to the same file, and replace with --force", async () => {
		const out = join(dir, "resume");
		const args = [...base(), "--val-size", "10", "-o", out];
		expect((await cli(args)).code).toBe(0);
		const complete = await readFile(join(out, "train.jsonl"), "utf8");
		const again = await cli(args);
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(/exists: pass overwrite \(--force\)/);
		// A killed run: the partial file holds 40 records and a torn line.
		const lines = complete.split("\n");
		await rm(join(out, "train.jsonl"));
		await writeFile(join(out, "train.jsonl.partial"), `${lines.slice(0, 40).join("\n")}\n${(lines[40] as string).slice(0, 25)}`);
		const changed = await cli([...args, "--resume", "--seed", "9"]);
		expect(changed.code).toBe(2);
		expect(changed.stderr).toMatch(/with other settings[^]*: settings\.seed .* → "?9/);
		expect((await cli([...args, "--resume"])).code).toBe(0);
		expect(await readFile(join(out, "train.jsonl"), "utf8")).toBe(complete);
		expect((await cli([...args, "--force"])).code).toBe(0);
	});

	it("should explain bad options", async () => {
		expect((await cli(["tcot", "build", "--translated", files.translated, "--format", "trl", "--style", "sharegpt", "-o", join(dir, "x")])).stderr).toMatch(/--style sharegpt does not go with --format trl/);
		expect((await cli(["tcot", "build", "-o", join(dir, "y")])).stderr).toMatch(/no input/);
		expect((await cli(["tcot", "build", "--translated", files.translated, "--val-size", "500", "-o", join(dir, "z")])).stderr).toMatch(/leaves no training data/);
	});

	it("should document every flag in --help", async () => {
		const help = helpFor("transllm", tcotCommands, ["tcot", "build"]);
		for (const flag of ["--kd", "--translated", "--parallel", "--english", "--out", "--format", "--style", "--langs", "--seed", "--val-size", "--instruction-language", "--templates", "--parallel-use", "--pt-record-chars", "--special-tokens", "--on-bad-record", "--dataset-name", "--metadata", "--resume", "--force"]) {
			expect(help).toContain(flag);
		}
		expect((await cli(["tcot", "parse", "--help"])).stdout).toContain("--field <name>");
	});
});

// Seed 3, records cut before 40 characters (`--pt-record-chars 40`): lines are never split.
const GOLDEN_PRETRAINING = [
	'{"text":"English one.\\nHello. <TH> สวัสดี"}',
	'{"text":"English two.\\nสวัสดี <EN> Hello."}',
	'{"text":"Thank you. <TH> ขอบคุณ"}',
	'{"text":"ขอบคุณ <EN> Thank you."}',
	"",
].join("\n");

describe("translation pre-training file", () => {
	it("should hold whole lines joined by \\n in {text} records", async () => {
		const parallel = join(dir, "two-pairs.jsonl");
		const englishFile = join(dir, "two-lines.jsonl");
		await writeFile(parallel, jsonl([{ source: "Hello.", target: "สวัสดี", sourceLang: "en", targetLang: "th" }, { source: "Thank you.", target: "ขอบคุณ", sourceLang: "en", targetLang: "th" }]));
		await writeFile(englishFile, jsonl([{ text: "English one." }, { text: "English two." }]));
		const out = join(dir, "pt-golden");
		expect((await cli(["tcot", "build", "--parallel", parallel, "--english", englishFile, "--val-size", "0", "--seed", "3", "--pt-record-chars", "40", "-o", out])).code).toBe(0);
		const text = await readFile(join(out, "translation_pretraining.jsonl"), "utf8");
		const records = text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { text: string });
		for (const record of records) expect(Object.keys(record)).toEqual(["text"]);
		expect(records.map((record) => record.text).join("\n").split("\n").sort()).toEqual(
			["English one.", "English two.", "Hello. <TH> สวัสดี", "สวัสดี <EN> Hello.", "Thank you. <TH> ขอบคุณ", "ขอบคุณ <EN> Thank you."].sort(),
		);
		expect(text).toBe(GOLDEN_PRETRAINING);
	});
});

describe("transllm tcot build --parallel-use sft", () => {
	it("should name pairs without ids by file and line, keeping two files with one base name apart", async () => {
		const parallel = [join(dir, "a", "pairs.jsonl"), join(dir, "b", "pairs.jsonl")];
		for (const [index, file] of parallel.entries()) {
			await mkdir(join(dir, index === 0 ? "a" : "b"), { recursive: true });
			await writeFile(file, jsonl(pairs.slice(2 * index, 2 * index + 2)));
		}
		const out = join(dir, "sft-pairs");
		const result = await cli(["tcot", "build", ...parallel.flatMap((file) => ["--parallel", file]), "--parallel-use", "sft", "--val-size", "0", "--metadata", "-o", out]);
		expect(result.stderr).not.toMatch(/duplicate/);
		expect(result.code).toBe(0);
		const ids = (await readJsonlFile(join(out, "train.jsonl"))).map((record) => String(record.id));
		expect(ids).toHaveLength(8);
		for (const file of parallel) for (const line of [1, 2]) expect(ids).toContain(`parallel:${file}:${line}:translation:en-th`);
	});
});

describe("transllm tcot parse", () => {
	it("should write the three parts of every output, keeping the other fields", async () => {
		const input = join(dir, "outputs.jsonl");
		const output = join(dir, "parsed.jsonl");
		const [number, en, th] = articles[2] as [number, string, string];
		await writeFile(
			input,
			jsonl([
				{ id: "a", lang: "th", text: `<EN> What does Article ${number} say? <RESPONSE> ${en} <TH> ${th}</s>` },
				{ id: "b", lang: "th", text: `<EN> What does Article ${number} say?</s>` },
				{ id: "c", text: "<RESPONSE> Hello there." },
			]),
		);
		const { code, stdout } = await cli(["tcot", "parse", "-i", input, "-o", output]);
		expect(code).toBe(0);
		expect(stdout).toContain("parsed 3 records (2 complete: TCOT chains or English-mode answers, 0 rejected)");
		const [a, b, c] = await readJsonlFile(output);
		expect(a).toEqual({
			id: "a",
			lang: "th",
			query_en: `What does Article ${number} say?`,
			response_en: en,
			response_t: th,
			mode: "tcot",
			missing: [],
			complete: true,
			ended_with_eos: true,
			irregular: false,
			fallback: null,
		});
		expect(b).toMatchObject({ id: "b", response_en: null, missing: ["english-response", "target-response"], fallback: " <RESPONSE>" });
		expect(c).toMatchObject({ id: "c", mode: "english", response_en: "Hello there.", lang: null, missing: [], complete: true });
	});
});

describe("bad language codes", () => {
	it("should name the file and line of an unknown language code, in build and parse", async () => {
		const input = join(dir, "unknown-lang.jsonl");
		await writeFile(input, jsonl([{ id: "1", query_en: "q", response_en: "a", query_t: "x", response_t: "y", lang: "xx" }]));
		const build = await cli(["tcot", "build", "--translated", input, "--val-size", "0", "-o", join(dir, "unknown")]);
		expect(build.code).toBe(2);
		expect(build.stderr).toContain(`${input}:1: unknown language code "xx"`);
		const outputs = join(dir, "unknown-outputs.jsonl");
		await writeFile(outputs, jsonl([{ id: "1", lang: "zz", text: "<EN> q" }, { id: "2", lang: "th", text: "<EN> q <RESPONSE> a <TH> ก" }]));
		const parse = await cli(["tcot", "parse", "-i", outputs, "-o", join(dir, "unknown-parsed.jsonl")]);
		expect(parse.stderr).toContain(`${outputs}:1 field "lang": unknown language code "zz"`);
		const skipped = await cli(["tcot", "parse", "-i", outputs, "-o", join(dir, "unknown-parsed-skip.jsonl"), "--on-bad-record", "skip"]);
		expect(skipped.stdout).toContain("parsed 1 records (1 complete: TCOT chains or English-mode answers, 1 rejected)");
	});

	it("should resume a parse past a record rejected for its language code without writing any record twice", async () => {
		const outputs = join(dir, "resume-lang-outputs.jsonl");
		await writeFile(
			outputs,
			jsonl([
				{ id: "1", lang: "th", text: "<EN> q1 <RESPONSE> a1 <TH> ก" },
				{ id: "2", lang: "zz", text: "<EN> q2" },
				{ id: "3", lang: "th", text: "<EN> q3 <RESPONSE> a3 <TH> ข" },
				{ id: "4", lang: "th", text: "<EN> q4 <RESPONSE> a4 <TH> ค" },
			]),
		);
		const full = join(dir, "resume-lang-full.jsonl");
		expect((await cli(["tcot", "parse", "-i", outputs, "-o", full, "--on-bad-record", "skip"])).code).toBe(0);
		const expected = await readFile(full, "utf8");
		expect((await readJsonlFile(full)).map((record) => record.id)).toEqual(["1", "3", "4"]);
		// A run killed after writing records 1 and 3 (record 2 was rejected): --resume must go on with record 4 only.
		const resumed = join(dir, "resume-lang-resumed.jsonl");
		await writeFile(`${resumed}.partial`, expected.split("\n").slice(0, 2).join("\n") + "\n");
		expect((await cli(["tcot", "parse", "-i", outputs, "-o", resumed, "--on-bad-record", "skip", "--resume"])).code).toBe(0);
		expect(await readFile(resumed, "utf8")).toBe(expected);
	});

	it("should start over with --force when an unfinished output is left (issue 16 point 6)", async () => {
		const outputs = join(dir, "force-outputs.jsonl");
		await writeFile(outputs, jsonl([{ id: "1", lang: "th", text: "<EN> q1 <RESPONSE> a1 <TH> ก" }]));
		const out = join(dir, "force-parsed.jsonl");
		await writeFile(`${out}.partial`, '{"id":"stale"}\n');
		const refused = await cli(["tcot", "parse", "-i", outputs, "-o", out]);
		expect(refused.code).not.toBe(0);
		expect(refused.stderr).toMatch(/start over with --force/);
		expect((await cli(["tcot", "parse", "-i", outputs, "-o", out, "--force"])).code).toBe(0);
		expect((await readJsonlFile(out)).map((record) => record.id)).toEqual(["1"]);
	});

	it("should refuse an unknown --lang as a usage error instead of rejecting every record", async () => {
		const outputs = join(dir, "fixed-lang-outputs.jsonl");
		await writeFile(outputs, jsonl([{ id: "1", text: "<EN> q <RESPONSE> a <TH> ก" }]));
		const result = await cli(["tcot", "parse", "-i", outputs, "-o", join(dir, "fixed-lang-parsed.jsonl"), "--lang", "zz", "--on-bad-record", "skip"]);
		expect(result.code).not.toBe(0);
		expect(result.stderr).toContain('unknown language code "zz"');
	});
});
