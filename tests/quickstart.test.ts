// The quickstart demo (`pnpm demo` = build + node examples/quickstart/run.mjs) run as users run it, as a child
// process of the built CLI, and its outputs read back: real Thai training files, a cleaned corpus, an extended
// tokenizer, recovery-KD records, CLO pairs and a probe report. The root `pnpm test` builds every package first.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTcotOutput } from "@transllm/tcot";
import { beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = (path: string) => join(root, "examples", "quickstart", "out", path);
const readJson = <T = Record<string, unknown>>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;
const readRecords = <T = Record<string, unknown>>(path: string): T[] =>
	readFileSync(path, "utf8")
		.split("\n")
		.filter(Boolean)
		.map((line) => JSON.parse(line) as T);
const thai = /\p{Script=Thai}/u;

let demo: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
	demo = await new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [join(root, "examples", "quickstart", "run.mjs")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
		child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
		child.on("error", reject);
		child.on("close", (code) => resolve({ code, stdout, stderr }));
	});
}, 300_000);

describe("examples/quickstart (pnpm demo)", () => {
	it("runs every step and exits 0", () => {
		expect(demo.code, `stdout:\n${demo.stdout.slice(-3000)}\nstderr:\n${demo.stderr.slice(-3000)}`).toBe(0);
		const steps = [...demo.stdout.matchAll(/^== (\d+)\. /gm)].map((match) => Number(match[1]));
		expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
		expect(demo.stdout).toMatch(/weights are random/i);
	});

	it("writes real Thai TCOT training files for LLaMA-Factory and TRL", () => {
		const train = readRecords<{ conversations: { from: string; value: string }[] }>(out("tcot/llamafactory/train.jsonl"));
		const tcot = train.filter((record) => /^<EN> .+ <RESPONSE> .+ <TH> .+/s.test(record.conversations[1]?.value ?? ""));
		expect(tcot.length).toBeGreaterThan(0);
		for (const record of tcot) {
			const [human, gpt] = record.conversations;
			expect(human?.from).toBe("human");
			expect(human?.value).toMatch(thai);
			const parsed = parseTcotOutput(gpt?.value ?? "", { lang: "th" });
			expect(parsed.complete).toBe(true);
			expect(parsed.queryEn).toMatch(/[A-Za-z]/);
			expect(parsed.responseEn).toMatch(/[A-Za-z]/);
			expect(parsed.responseTarget).toMatch(thai);
		}
		const trl = readRecords<{ messages: { role: string; content: string }[] }>(out("tcot/trl/train.jsonl"));
		expect(trl.length).toBe(train.length);
		expect(trl.some((record) => record.messages[1]?.content.startsWith("<EN> "))).toBe(true);
		const pretraining = readRecords<{ text: string }>(out("tcot/llamafactory/translation_pretraining.jsonl"));
		expect(pretraining.some((record) => record.text.split("\n").some((line) => / <TH> /.test(line) && thai.test(line)))).toBe(true);
	});

	it("cleans the corpus: the planted documents are dropped, the re-posts by MinHash dedup", () => {
		const summary = readJson<{ read: number; kept: number; outputs: string[]; dedup: { removed: number } }>(out("corpus/summary.json"));
		expect(summary.read).toBe(39);
		expect(summary.dedup.removed).toBe(3);
		const kept = summary.outputs.flatMap((path) => readRecords<{ id: string; text: string }>(join(root, path)));
		expect(kept.length).toBe(summary.kept);
		for (const document of kept) {
			expect(document.id).toMatch(/^tha-(\d+|preamble)$/);
			expect(document.text).toMatch(thai);
			expect(document.text).not.toMatch(/ทาส|ทรมาน/);
		}
		const removed = readdirSync(out("corpus/dedup/removed")).flatMap((name) => readRecords(out(`corpus/dedup/removed/${name}`)));
		expect(removed).toHaveLength(3);
	});

	it("extends Llama-3's tokenizer so that held-out Thai takes fewer tokens", () => {
		const fertility = (name: string) =>
			Object.values(readJson<{ tokenizers: Record<string, { tokens: number; tokensPerWord: number }> }>(out(`tokenizer/fertility-${name}.json`)).tokenizers)[0];
		const before = fertility("llama-3");
		const after = fertility("llama-3-th");
		expect(before?.tokens).toBeGreaterThan(0);
		expect(after?.tokensPerWord).toBeLessThan(before?.tokensPerWord ?? 0);
		const report = readJson<{ added: number; vocabSize: number; checks: { ok: boolean }[] }>(out("tokenizer/llama-3-th/extension-report.json"));
		expect(report.added).toBe(200);
		expect(report.vocabSize).toBe(128256 + 200 + 3);
		expect(report.checks.every((check) => check.ok)).toBe(true);
	});

	it("runs recovery KD with the fixture and flags its gibberish translations", () => {
		const kd = readRecords<{ query_en: string; response_en: string }>(out("kd/kd.en.jsonl"));
		expect(kd).toHaveLength(4);
		const translated = readRecords<{ flags?: string[] }>(out("kd/kd.th.jsonl"));
		expect(translated).toHaveLength(4);
		for (const record of translated) expect(record.flags).toContain("lang_mismatch_response");
	});

	it("generates, scores, builds CLO pairs and probes with the fixture", () => {
		const answers = readRecords<{ response: string; generated_tokens: number }>(out("generate/answers.th.jsonl"));
		expect(answers).toHaveLength(3);
		for (const answer of answers) expect(answer.generated_tokens).toBeGreaterThan(0);
		const scores = readRecords<{ logprob_sum: number; tokens: number }>(out("score/scores.th.jsonl"));
		expect(scores).toHaveLength(20);
		for (const score of scores) expect(score.logprob_sum).toBeLessThan(0);

		const rows = readRecords<{ pair_id: string; row: string; chosen: string; rejected: string }>(out("clo/pairs.jsonl"));
		expect(rows.length % 2).toBe(0);
		for (let index = 0; index < rows.length; index += 2) {
			const [en, target] = [rows[index], rows[index + 1]];
			expect([en?.row, target?.row]).toEqual(["en", "target"]);
			expect(target?.pair_id).toBe(en?.pair_id);
			expect(target?.chosen).toBe(en?.rejected);
			expect(target?.chosen).toMatch(thai);
		}

		const probe = readJson<{ reports: { lang: string; curves: unknown[]; decision: { lambda: number } }[] }>(out("probe/report.json"));
		expect(probe.reports[0]?.lang).toBe("th");
		expect(probe.reports[0]?.curves).toHaveLength(4);
		const settings = readJson<{ lambda: number; pivot_layer: number }>(out("prom/settings.json"));
		expect(settings.lambda).toBe(probe.reports[0]?.decision.lambda);
		expect(readRecords(out("prom/target.jsonl"))).toHaveLength(20);
	});
});
