import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonl } from "@transllm/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateBatchLayout, writeCloDataset } from "../src/index.js";
import type { CloAuditEntry, CloRow, CloSourceRecord, TrlConversationalRow, TrlStandardRow } from "../src/index.js";
import { udhrArticles, udhrRecords } from "./udhr.js";

async function readRows<T>(path: string): Promise<T[]> {
	const rows: T[] = [];
	for await (const { value } of readJsonl<T>(path)) rows.push(value);
	return rows;
}

async function inputFile(records: readonly unknown[]): Promise<{ dir: string; input: string }> {
	const dir = await mkdtemp(join(tmpdir(), "clo-"));
	const input = join(dir, "kd.jsonl");
	await writeFile(input, records.map((record) => JSON.stringify(record)).join("\n") + "\n");
	return { dir, input };
}

const silent = { silent: true };

describe("writeCloDataset", () => {
	it("builds an English row and a target row per record with a shared pair id, and exports TRL standard and conversational data", async () => {
		const records = udhrRecords("sw", 12);
		const { dir, input } = await inputFile(records);
		const out = join(dir, "out");
		const summary = await writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 4, progress: silent });
		expect(summary).toMatchObject({ records: 12, pairs: 12, trainPairs: 12, droppedPairs: 0, audited: 0, steps: 6 });

		const rows = await readRows<CloRow>(join(out, "pairs.jsonl"));
		expect(rows).toHaveLength(24);
		const byId = new Map(records.map((record) => [String(record.id), record]));
		for (let k = 0; k < rows.length; k += 2) {
			const en = rows[k] as CloRow;
			const t = rows[k + 1] as CloRow;
			const record = byId.get(en.pair_id) as CloSourceRecord;
			expect(t.pair_id).toBe(en.pair_id);
			// Sec. 3.2: x_en → chosen y_en, rejected y_t; x_t → chosen y_t, rejected y_en
			expect(en).toEqual({ pair_id: en.pair_id, row: "en", prompt: record.query_en, chosen: record.response_en, rejected: record.response_t, prompt_lang: "en", chosen_lang: "en", rejected_lang: "sw" });
			expect(t).toEqual({ pair_id: en.pair_id, row: "target", prompt: record.query_t, chosen: record.response_t, rejected: record.response_en, prompt_lang: "sw", chosen_lang: "sw", rejected_lang: "en" });
		}
		// shuffled at pair level: the order differs from the input's, and every record appears once
		expect(rows.filter((_, i) => i % 2 === 0).map((row) => row.pair_id)).not.toEqual(records.map((record) => record.id));
		expect(new Set(rows.map((row) => row.pair_id)).size).toBe(12);

		const standard = await readRows<TrlStandardRow>(join(out, "trl_standard.jsonl"));
		expect(standard).toEqual(rows.map((row) => ({ prompt: row.prompt, chosen: row.chosen, rejected: row.rejected })));
		const conversational = await readRows<TrlConversationalRow>(join(out, "trl_conversational.jsonl"));
		expect(conversational).toHaveLength(24);
		expect(conversational[1]).toEqual({
			prompt: [{ role: "user", content: rows[1]?.prompt }],
			chosen: [{ role: "assistant", content: rows[1]?.chosen }],
			rejected: [{ role: "assistant", content: rows[1]?.rejected }],
		});
		for (const file of ["pairs.jsonl", "trl_standard.jsonl", "trl_conversational.jsonl"]) {
			const report = await validateBatchLayout({ file: join(out, file), perDeviceBatchSize: 4, lang: "sw" });
			expect(report, file).toMatchObject({ ok: true, rows: 24, pairs: 12, errorCount: 0, remainderRows: 0 });
		}
		const readme = await readFile(join(out, "README.md"), "utf8");
		expect(readme).toMatch(/cannot do that/);
		expect(readme).toMatch(/CLODPOTrainer/);
		expect(await readFile(join(out, "clo_trainer.py"), "utf8")).toMatch(/def clo_loss/);
		// the same seed gives the same layout; another seed another one
		const again = join(dir, "again");
		await writeCloDataset({ input, lang: "sw", out: again, perDeviceBatchSize: 4, progress: silent });
		expect(await readFile(join(again, "pairs.jsonl"), "utf8")).toBe(await readFile(join(out, "pairs.jsonl"), "utf8"));
		const other = join(dir, "other");
		await writeCloDataset({ input, lang: "sw", out: other, perDeviceBatchSize: 4, seed: 7, progress: silent });
		expect(await readFile(join(other, "pairs.jsonl"), "utf8")).not.toBe(await readFile(join(out, "pairs.jsonl"), "utf8"));
	});

	it("sends language-check failures to the audit file with the reason", async () => {
		const records = udhrRecords("sw", 10);
		const french = udhrArticles("fr");
		const english = udhrArticles("en");
		records[2] = { ...(records[2] as CloSourceRecord), response_t: english.get(30) as string }; // "translation" left in English
		records[4] = { ...(records[4] as CloSourceRecord), query_t: french.get(9) as string }; // wrong target language
		records[6] = { ...(records[6] as CloSourceRecord), response_t: (records[6] as CloSourceRecord).response_en }; // untranslated copy
		records[7] = { ...(records[7] as CloSourceRecord), query_en: udhrArticles("sw").get(29) as string }; // English query is Swahili
		const { dir, input } = await inputFile(records);
		const out = join(dir, "out");
		const summary = await writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 2, progress: silent });
		expect(summary).toMatchObject({ records: 10, pairs: 6, audited: 4 });
		const audit = await readRows<CloAuditEntry>(join(out, "audit.jsonl"));
		const byId = new Map(audit.map((entry) => [entry.id, entry]));
		expect([...byId.keys()].sort()).toEqual(["udhr-3", "udhr-5", "udhr-7", "udhr-8"]);
		expect(byId.get("udhr-3")?.problems).toEqual([expect.objectContaining({ field: "response_t", expected: "sw", detected: "en" })]);
		expect(byId.get("udhr-3")?.reason).toMatch(/^response_t: not in sw: identified as en/);
		expect(byId.get("udhr-3")).toMatchObject({ file: input, line: 3 });
		expect(byId.get("udhr-5")?.problems).toEqual([expect.objectContaining({ field: "query_t", detected: "fr" })]);
		expect(byId.get("udhr-7")?.problems?.map((problem) => problem.field)).toEqual(["response_t", "response_t"]);
		expect(byId.get("udhr-7")?.reason).toMatch(/untranslated/);
		expect(byId.get("udhr-8")?.problems).toEqual([expect.objectContaining({ field: "query_en", expected: "en", detected: "sw", role: "English row prompt" })]);
		expect(byId.get("udhr-8")?.record?.query_en).toMatch(/^Kila mtu/);
		const rows = await readRows<CloRow>(join(out, "pairs.jsonl"));
		expect(rows.some((row) => ["udhr-3", "udhr-5", "udhr-7", "udhr-8"].includes(row.pair_id))).toBe(false);
		// with the checks off the same records all become pairs
		const unchecked = await writeCloDataset({ input, lang: "sw", out: join(dir, "unchecked"), perDeviceBatchSize: 2, languageCheck: false, progress: silent });
		expect(unchecked.pairs).toBe(10);
	});

	it("exports LLaMA-Factory pairwise data with dataset_info.json (ranking: true) and a stage dpo YAML", async () => {
		const records = udhrRecords("sw", 15);
		const { dir, input } = await inputFile(records);
		const out = join(dir, "lf");
		const summary = await writeCloDataset({
			input,
			lang: "sw",
			out,
			format: "llamafactory",
			perDeviceBatchSize: 4,
			devices: 2,
			validationPairs: 2,
			progress: silent,
		});
		// 13 pairs after the hold-out; a step is 4 × 2 = 8 rows = 4 pairs → 12 pairs in 3 steps, 1 dropped
		expect(summary).toMatchObject({ trainPairs: 12, validationPairs: 2, droppedPairs: 1, steps: 3 });
		const info = JSON.parse(await readFile(join(out, "dataset_info.json"), "utf8")) as Record<string, { file_name: string; ranking: boolean; columns: Record<string, string> }>;
		expect(Object.keys(info)).toEqual(["clo_sw", "clo_sw_val"]);
		expect(info.clo_sw).toEqual({ file_name: "clo_sw.jsonl", ranking: true, columns: { prompt: "instruction", query: "input", chosen: "chosen", rejected: "rejected" } });
		const train = await readRows<Record<string, string>>(join(out, info.clo_sw?.file_name as string));
		expect(train).toHaveLength(24);
		const pairs = await readRows<CloRow>(join(out, "pairs.jsonl"));
		expect(train).toEqual(pairs.map((row) => ({ instruction: row.prompt, input: "", chosen: row.chosen, rejected: row.rejected })));
		expect(await readRows(join(out, "clo_sw_val.jsonl"))).toHaveLength(4);
		expect(await readRows(join(out, "validation_pairs.jsonl"))).toHaveLength(4);

		const config = parse(await readFile(join(out, "clo_sw_dpo.yaml"), "utf8")) as Record<string, unknown>;
		expect(config).toMatchObject({
			stage: "dpo",
			finetuning_type: "lora",
			lora_target: "q_proj,k_proj,v_proj,o_proj",
			pref_beta: 0.1,
			pref_loss: "sigmoid",
			pref_ftx: 1,
			dataset: "clo_sw",
			eval_dataset: "clo_sw_val",
			dataset_dir: out,
			disable_shuffling: true,
			per_device_train_batch_size: 4,
			learning_rate: 5e-5,
			lr_scheduler_kwargs: { min_lr: 1.1e-6 },
			cutoff_len: 3000,
			num_train_epochs: 1,
			load_best_model_at_end: true,
			lora_rank: 64, // was LLaMA-Factory's default 8: TransLLM's LoRA (App. A.1), CLO names no rank
			lora_alpha: 128,
			lora_dropout: 0.05,
		});
		expect(config).not.toHaveProperty("trust_remote_code"); // a Llama checkpoint needs no remote code
		const launcher = await readFile(join(out, "train_clo.py"), "utf8");
		expect(launcher).toMatch(/llamafactory_clo_trainer/);
		// LLaMA-Factory ≥ 0.9.4 imports CustomDPOTrainer lazily from llamafactory.train.dpo.trainer: patch it there
		expect(launcher).toMatch(/from llamafactory\.train\.dpo import trainer/);
		const readme = await readFile(join(out, "README.md"), "utf8");
		expect(readme).toMatch(/pref_ftx/);
		expect(readme).toMatch(/train_clo\.py clo_sw_dpo\.yaml/);
		const audit = await readRows<CloAuditEntry>(join(out, "audit.jsonl"));
		expect(audit).toEqual([expect.objectContaining({ reason: expect.stringMatching(/^layout remainder/) })]);
		const report = await validateBatchLayout({ file: join(out, "clo_sw.jsonl"), perDeviceBatchSize: 4, devices: 2, lang: "sw" });
		expect(report).toMatchObject({ ok: true, format: "llamafactory", rows: 24, steps: 3, remainderRows: 0 });
		// keep: the 13th pair stays, the last step is short, and the validator says so without failing
		const kept = await writeCloDataset({ input, lang: "sw", out: join(dir, "kept"), format: "llamafactory", perDeviceBatchSize: 4, devices: 2, validationPairs: 2, remainder: "keep", progress: silent });
		expect(kept).toMatchObject({ trainPairs: 13, droppedPairs: 0, steps: 4 });
		const short = await validateBatchLayout({ file: join(dir, "kept", "clo_sw.jsonl"), perDeviceBatchSize: 4, devices: 2 });
		expect(short).toMatchObject({ ok: true, remainderRows: 2 });
		expect(short.warnings[0]).toMatch(/last step has 2 rows/);
	});

	it("refuses an odd batch size, English as the target, and an existing export without --force", async () => {
		const { dir, input } = await inputFile(udhrRecords("sw", 4));
		const out = join(dir, "out");
		await expect(writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 3, progress: silent })).rejects.toThrow(/even integer/);
		await expect(writeCloDataset({ input, lang: "en", out, progress: silent })).rejects.toThrow(/cannot be English/);
		await writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 2, progress: silent });
		await expect(writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 2, progress: silent })).rejects.toThrow(/exists: pass overwrite/);
		await expect(writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 2, overwrite: true, progress: silent })).resolves.toMatchObject({ pairs: 4 });
		// 4 pairs cannot fill one step of 5 × 2 rows: nothing to train on is an error, and the audit says why
		const empty = join(dir, "empty");
		await expect(writeCloDataset({ input, lang: "sw", out: empty, perDeviceBatchSize: 10, progress: silent })).rejects.toThrow(/no training pairs: 4 records, 4 passed the checks, 0 held out, 4 left out/);
		expect(await readRows(join(empty, "audit.jsonl"))).toHaveLength(4);
	});

	it("stops on a malformed record with file:line, or sets it aside with the skip policy", async () => {
		const records: unknown[] = udhrRecords("sw", 4);
		records.splice(2, 0, { id: "broken", query_en: "What?", response_en: 3 });
		records.splice(4, 0, { id: "wrong-lang", lang: "yo", ...(records[0] as object) });
		const { dir, input } = await inputFile(records);
		await expect(writeCloDataset({ input, lang: "sw", out: join(dir, "a"), perDeviceBatchSize: 2, progress: silent })).rejects.toThrow(
			new RegExp(`${input}:3: field "response_en" must be a string`),
		);
		const summary = await writeCloDataset({ input, lang: "sw", out: join(dir, "b"), perDeviceBatchSize: 2, onBadRecord: "skip", progress: silent });
		expect(summary).toMatchObject({ records: 4, pairs: 4, rejected: 2 });
		const rejects = await readRows<{ line: number; reason: string }>(join(dir, "b", "pairs.jsonl.rejects.jsonl"));
		expect(rejects.map((entry) => [entry.line, entry.reason])).toEqual([
			[3, 'field "response_en" must be a string, got number'],
			[5, 'field "lang" is "yo" but the target language is "sw"'],
		]);
	});

	it("audits duplicate pair ids", async () => {
		const records = udhrRecords("sw", 4);
		records[3] = { ...(records[3] as CloSourceRecord), id: "udhr-1" };
		const { dir, input } = await inputFile(records);
		const summary = await writeCloDataset({ input, lang: "sw", out: join(dir, "out"), perDeviceBatchSize: 2, progress: silent });
		expect(summary).toMatchObject({ pairs: 3, audited: 1 });
		const audit = await readRows<CloAuditEntry>(join(dir, "out", "audit.jsonl"));
		expect(audit[0]).toMatchObject({ id: "udhr-1", line: 4, reason: 'duplicate pair id "udhr-1": pair ids must be unique' });
	});

	it("names records without ids by file and line so that two inputs with one base name do not collide", async () => {
		const records = udhrRecords("sw", 8).map(({ id: _id, ...record }) => record);
		const dir = await mkdtemp(join(tmpdir(), "clo-"));
		const inputs = [join(dir, "a", "kd.jsonl"), join(dir, "b", "kd.jsonl")];
		for (const [index, input] of inputs.entries()) {
			await mkdir(join(input, ".."), { recursive: true });
			await writeFile(input, records.slice(4 * index, 4 * index + 4).map((record) => JSON.stringify(record)).join("\n") + "\n");
		}
		const summary = await writeCloDataset({ input: inputs, lang: "sw", out: join(dir, "out"), perDeviceBatchSize: 2, languageCheck: false, progress: silent });
		expect(summary).toMatchObject({ records: 8, pairs: 8, audited: 0 });
		const ids = (await readRows<CloRow>(join(dir, "out", "pairs.jsonl"))).map((row) => row.pair_id);
		expect(new Set(ids)).toEqual(new Set(inputs.flatMap((input) => [1, 2, 3, 4].map((line) => `${input}:${line}`))));
		// one input keeps the short form
		const single = await writeCloDataset({ input: inputs[0] as string, lang: "sw", out: join(dir, "single"), perDeviceBatchSize: 2, languageCheck: false, progress: silent });
		expect(single.pairs).toBe(4);
		expect((await readRows<CloRow>(join(dir, "single", "pairs.jsonl")))[0]?.pair_id).toMatch(/^kd\.jsonl:[1-4]$/);
	});

	it("resumes an interrupted run, reusing the language-check verdicts already written", async () => {
		const records = udhrRecords("sw", 6);
		const { dir, input } = await inputFile(records);
		const out = join(dir, "out");
		// An interrupted run left two verdicts and a torn third line; the second verdict (a failure) is kept as is.
		const verdicts = [
			{ file: input, line: 1, problems: [] },
			{ file: input, line: 2, problems: [{ field: "response_t", role: "target row chosen answer", reason: "not in sw: found earlier" }] },
		];
		await mkdir(out, { recursive: true });
		await writeFile(join(out, "language-checks.jsonl.partial"), `${verdicts.map((v) => JSON.stringify(v)).join("\n")}\n{"file":`);
		await expect(writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 2, progress: silent })).resolves.toMatchObject({ audited: 0 });
		await writeFile(join(out, "language-checks.jsonl.partial"), `${verdicts.map((v) => JSON.stringify(v)).join("\n")}\n{"file":`);
		const summary = await writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 2, resume: true, progress: silent });
		expect(summary).toMatchObject({ records: 6, pairs: 5, audited: 1 });
		const audit = await readRows<CloAuditEntry>(join(out, "audit.jsonl"));
		expect(audit[0]).toMatchObject({ id: "udhr-2", reason: "response_t: not in sw: found earlier" });
		expect(await readRows(join(out, "language-checks.jsonl"))).toHaveLength(6);
		// a changed input cannot be resumed onto the old verdicts
		await writeFile(join(out, "language-checks.jsonl.partial"), `${JSON.stringify({ file: input, line: 7, problems: [] })}\n`);
		await expect(writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 2, resume: true, progress: silent })).rejects.toThrow(/cannot resume/);
		// Issue 16 point 1: verdicts made with other check settings are not reused; the message names the change.
		await expect(writeCloDataset({ input, lang: "sw", out, perDeviceBatchSize: 2, resume: true, languageCheck: { minScriptRatio: 0.9 }, progress: silent })).rejects.toThrow(
			/with other settings than it was started with: check\.minScriptRatio \(unset\) → 0\.9/,
		);
	});
});
