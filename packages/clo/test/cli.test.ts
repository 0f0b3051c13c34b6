import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { helpFor, runCli } from "@transllm/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cloCommands, writeCloDataset } from "../src/index.js";
import { udhrRecords } from "./udhr.js";

const table = { clo: { description: "CLO", subcommands: cloCommands } };

function capture(): { stream: Writable; text: () => string } {
	const chunks: string[] = [];
	const stream = new Writable({
		write(chunk, _encoding, callback) {
			chunks.push(String(chunk));
			callback();
		},
	});
	return { stream, text: () => chunks.join("") };
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	const stdout = capture();
	const stderr = capture();
	const code = await runCli("transllm", table, argv, { context: { stdout: stdout.stream, stderr: stderr.stream } });
	return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe("transllm clo", () => {
	it("pairs --format llamafactory writes a dataset the validate command accepts", async () => {
		const dir = await mkdtemp(join(tmpdir(), "clo-cli-"));
		const input = join(dir, "kd.jsonl");
		await writeFile(input, udhrRecords("sw", 9).map((record) => JSON.stringify(record)).join("\n") + "\n");
		const out = join(dir, "out");
		const result = await run(["clo", "pairs", "--input", input, "--lang", "sw", "--out", out, "--format", "llamafactory", "--batch-size", "4", "--devices", "2", "--template", "llama2", "--model", "/models/llama-2-7b-chat"]);
		expect(result.stderr).toMatch(/clo pairs: 9 records, 9 pairs, 0 audited/);
		expect(result.code).toBe(0);
		expect(JSON.parse(result.stdout)).toMatchObject({ records: 9, trainPairs: 8, droppedPairs: 1, steps: 2 });
		const config = parse(await readFile(join(out, "clo_sw_dpo.yaml"), "utf8")) as Record<string, unknown>;
		expect(config).toMatchObject({ model_name_or_path: "/models/llama-2-7b-chat", template: "llama2", per_device_train_batch_size: 4, pref_beta: 0.1 });
		const ok = await run(["clo", "validate", "--file", join(out, "clo_sw.jsonl"), "--batch-size", "4", "--devices", "2", "--lang", "sw"]);
		expect(ok.code).toBe(0);
		expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, rows: 16, steps: 2 });
		const bad = await run(["clo", "validate", "--file", join(out, "clo_sw.jsonl"), "--batch-size", "5"]);
		expect(bad.code).toBe(1);
		expect(JSON.parse(bad.stdout).errors[0].message).toMatch(/even/);
	});

	it("lays pairs out as the API does for the same seed (--seed 3 is seed: 3, the default 0 is seed 0)", async () => {
		const dir = await mkdtemp(join(tmpdir(), "clo-cli-seed-"));
		const input = join(dir, "kd.jsonl");
		await writeFile(input, udhrRecords("sw", 9).map((record) => JSON.stringify(record)).join("\n") + "\n");
		for (const seed of [undefined, 3]) {
			const viaCli = join(dir, `cli-${seed}`);
			const viaApi = join(dir, `api-${seed}`);
			const flags = seed === undefined ? [] : ["--seed", String(seed)];
			expect((await run(["clo", "pairs", "--input", input, "--lang", "sw", "--out", viaCli, "--batch-size", "2", "--no-language-check", ...flags])).code).toBe(0);
			await writeCloDataset({ input, lang: "sw", out: viaApi, perDeviceBatchSize: 2, languageCheck: false, seed, progress: { silent: true } });
			expect(await readFile(join(viaCli, "pairs.jsonl"), "utf8")).toBe(await readFile(join(viaApi, "pairs.jsonl"), "utf8"));
		}
	});

	it("reports bad options as usage errors", async () => {
		const noLang = await run(["clo", "pairs", "--input", "x.jsonl", "--out", "o"]);
		expect(noLang.code).toBe(2);
		expect(noLang.stderr).toMatch(/missing required option --lang/);
		const format = await run(["clo", "pairs", "--input", "x.jsonl", "--lang", "sw", "--out", "o", "--format", "axolotl"]);
		expect(format.code).toBe(2);
		expect(format.stderr).toMatch(/--format must be one of trl, llamafactory/);
		const missing = await run(["clo", "pairs", "--input", "/nonexistent/kd.jsonl", "--lang", "sw", "--out", join(tmpdir(), "clo-none")]);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/\/nonexistent\/kd\.jsonl: cannot open input/);
	});

	it("documents every flag in the generated help", () => {
		for (const name of ["pairs", "validate", "score"] as const) {
			const help = helpFor("transllm", table, ["clo", name]);
			const command = cloCommands[name];
			if (!command || !("options" in command)) throw new Error(name);
			for (const flag of Object.keys(command.options)) expect(help).toContain(`--${flag}`);
		}
	});
});
