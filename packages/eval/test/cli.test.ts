import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { runCli } from "@transllm/core";
import { udhrParagraphs } from "@transllm/udhr-text";
import { describe, expect, it } from "vitest";
import { evalCommands, guessQuestionFormat } from "../src/index.js";
import { tempDir } from "./helpers.js";

function sink(): { stream: Writable; text: () => string } {
	let text = "";
	return { stream: new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) }), text: () => text };
}

async function transllm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	const stdout = sink();
	const stderr = sink();
	const code = await runCli("transllm", { eval: { description: "evaluation", subcommands: evalCommands } }, args, { context: { stdout: stdout.stream, stderr: stderr.stream } });
	return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe("transllm eval (command table)", () => {
	it("should document every command and refuse bad options by name", async () => {
		for (const name of ["answer", "judge", "safety", "forgetting", "language", "translate", "report"]) {
			const help = await transllm(["eval", name, "--help"]);
			expect(help.code).toBe(0);
			expect(help.stdout).toContain(`Usage: transllm eval ${name}`);
		}
		const bad = await transllm(["eval", "judge", "--questions", "q.jsonl", "--answers", "a.jsonl", "--judge-endpoint", "http://127.0.0.1:9/v1", "--judge-model", "j", "--mode", "triple", "--out", "x.json"]);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain("--mode must be one of pairwise, single");
		expect(["data/question.jsonl", "mt_bench_th.jsonl", "queries.jsonl", "harmful_behaviors.csv", "alpaca_eval.json"].map(guessQuestionFormat)).toEqual(["mt-bench", "mt-bench", "jsonl", "advbench", "alpaca-eval"]);
	});

	it("should write a language result and gather results into one self-contained page", async () => {
		const dir = await tempDir("cli");
		const answers = join(dir, "answers.jsonl");
		await writeFile(answers, `${[1, 2].map((i) => JSON.stringify({ question_id: i, model_id: "m", choices: [{ index: 0, turns: [udhrParagraphs("th")[i], udhrParagraphs("en")[i]] }] })).join("\n")}\n`);
		const language = await transllm(["eval", "language", "--answers", answers, "--lang", "th", "--out", join(dir, "language.json")]);
		expect(language.code, language.stderr).toBe(0);
		expect(JSON.parse(language.stdout)).toMatchObject({ answers: 4, inLanguage: 2, wrong: 2 });
		const report = await transllm(["eval", "report", join(dir, "language.json"), "--out", join(dir, "report.html")]);
		expect(report.code, report.stderr).toBe(0);
		const html = await readFile(join(dir, "report.html"), "utf8");
		expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
		expect(html).toContain("Language fidelity (Thai)");
		expect(html).not.toMatch(/<script|<link|src=/);
		const notResult = await transllm(["eval", "report", answers, "--out", join(dir, "bad.html")]);
		expect(notResult.code).toBe(2);
		expect(notResult.stderr).toContain(answers);
	});
});
