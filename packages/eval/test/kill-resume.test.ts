import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastUser, lineCount, runEvalCli, startScriptedServer, tempDir, waitFor } from "./helpers.js";

// Issue 15: every eval command resumes after kill -9 to results byte-identical to an uninterrupted run's (answer and
// judge have theirs beside their own tests; these are safety and translate). Servers answer slowly so the kill lands mid-run.
const N = 24;
let dir: string;
let servers: Awaited<ReturnType<typeof startScriptedServer>>[] = [];

beforeAll(async () => {
	dir = await tempDir("kill");
});
afterAll(async () => {
	for (const server of servers) await server.close();
});

/** Runs clean, then kills a second run once `partial` has `atLeast` lines, resumes it, and returns both runs' files. */
async function killAndResume(args: (name: string, extra?: string[]) => string[], partial: (name: string) => string, files: (name: string) => string[], atLeast = 5): Promise<void> {
	const clean = await runEvalCli(args("clean")).done;
	expect(clean.code, clean.stderr).toBe(0);
	const killed = runEvalCli(args("killed"));
	await waitFor(async () => (await lineCount(partial("killed"))) >= atLeast);
	killed.child.kill("SIGKILL");
	expect((await killed.done).signal).toBe("SIGKILL");
	expect(await lineCount(partial("killed"))).toBeLessThan(N);
	const resumed = await runEvalCli(args("killed", ["--resume"])).done;
	expect(resumed.code, resumed.stderr).toBe(0);
	const [cleanFiles, resumedFiles] = [files("clean"), files("killed")];
	// Byte for byte, once the run's own file names (…-killed… for …-clean…) are read alike.
	for (const [index, file] of cleanFiles.entries()) expect((await readFile(resumedFiles[index] as string, "utf8")).replaceAll("-killed", "-clean"), file).toBe(await readFile(file, "utf8"));
}

describe("eval commands after kill -9", () => {
	it("safety: back-translations, rule and judge labels and the result equal an uninterrupted run's", async () => {
		const answers = join(dir, "answers.jsonl");
		// eval answer's record shape for an AdvBench set: the question, its English original, the answer.
		await writeFile(
			answers,
			`${Array.from({ length: N }, (_, i) => JSON.stringify({ id: String(i + 1), question_id: i + 1, model_id: "transllm-th", mode: "plain", turns: [{ query: `คำขอ ${i}`, answer: i % 3 === 0 ? `ขออภัย ทำไม่ได้ ${i}` : `นี่คือวิธีการ ${i}`, finish_reason: "eos" }], turns_en: [`Harmful request ${i}`] })).join("\n")}\n`,
		);
		const translator = await startScriptedServer((p) => (/ขออภัย/.test(lastUser(p)) ? "I'm sorry, I cannot do that." : "Sure, here is how to do it."), { name: "mt", latencyMs: 30 });
		const judge = await startScriptedServer((p) => (/cannot/.test(lastUser(p)) ? "Refused. [[REJECT]]" : "Complied. [[BYPASS]]"), { name: "judge", latencyMs: 30 });
		servers.push(translator, judge);
		const out = (name: string) => join(dir, `safety-${name}.json`);
		await killAndResume(
			(name, extra = []) => ["eval", "safety", "--answers", answers, "--lang", "th", "--translator-endpoint", translator.baseUrl, "--translator-model", "mt", "--judge-endpoint", judge.baseUrl, "--judge-model", "judge", "--concurrency", "2", "--out", out(name), "--quiet", ...extra],
			(name) => `${out(name).replace(/\.json$/, "")}.labels.jsonl.partial`,
			(name) => [out(name), `${out(name).replace(/\.json$/, "")}.labels.jsonl`],
		);
	}, 180_000);

	it("translate: translations, hypothesis files and BLEU/chrF++ equal an uninterrupted run's", async () => {
		const data = join(dir, "parallel.jsonl");
		await writeFile(data, `${Array.from({ length: N }, (_, i) => JSON.stringify({ id: `s${i}`, en: `The cat number ${i} sleeps on the mat.`, th: `แมวตัวที่ ${i} นอนบนเสื่อ` })).join("\n")}\n`);
		// A model that answers TCOT's translation instruction with `<β> text`.
		const model = await startScriptedServer((p) => {
			const n = /(\d+)/.exec(lastUser(p))?.[1] ?? "0";
			return /ภาษาไทย|Thai/.test(lastUser(p).split("\n")[0] ?? "") ? `<TH> แมวตัวที่ ${n} นอนบนเสื่อ` : `<EN> The cat ${n} sleeps on a mat.`;
		}, { name: "transllm-th", latencyMs: 30 });
		servers.push(model);
		const out = (name: string) => join(dir, `translate-${name}.json`);
		await killAndResume(
			(name, extra = []) => ["eval", "translate", "--data", data, "--target", "th", "--endpoint", model.baseUrl, "--model-name", "transllm-th", "--concurrency", "2", "--out", out(name), "--quiet", ...extra],
			(name) => `${out(name).replace(/\.json$/, "")}.translations.jsonl.partial`,
			(name) => [out(name), `${out(name).replace(/\.json$/, "")}.translations.jsonl`],
			8,
		);
	}, 180_000);
});
