import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { alignedArticles } from "@transllm/udhr-text";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatTranslationBackend, createOpenAiGenerationBackend } from "@transllm/recovery-kd";
import { answerId, generateAnswers, loadAnswers, remoteAnswerModel, translateQuestions } from "../src/index.js";
import type { AnswerRecord } from "../src/index.js";
import { lastUser, lineCount, runEvalCli, startScriptedServer, tempDir, waitFor } from "./helpers.js";
import type { Responder } from "./helpers.js";

// Thai questions with their English originals: the 30 UDHR articles, aligned by number (reused past 30).
const ARTICLES = alignedArticles("en", "th").slice(1, 41);
const EN_OF = new Map(ARTICLES.map((a) => [a.b.split("\n")[0] as string, a.a.split("\n")[0] as string]));
const th = (i: number): string => ARTICLES[i % ARTICLES.length]?.b.split("\n")[0] as string;
const thaiAnswer = (query: string): string => th([...EN_OF.keys()].indexOf(query) + 7);
const englishAnswer = (en: string): string => `In short: ${en.slice(0, 60)}`;

// The TransLLM model's behaviour: <EN> q^α <RESPONSE> a^α <TH> a^β; for one question it stops before <TH>.
const STOPS_EARLY = th(4);
function tcotResponder(prompt: Parameters<Responder>[0]): string {
	if (typeof prompt === "string") {
		// The fallback's continuation through /v1/completions: the prompt ends with the forced marker.
		if (prompt.trimEnd().endsWith("<TH>")) return ` ${thaiAnswer(STOPS_EARLY)}`;
		return "unexpected";
	}
	const query = lastUser(prompt);
	const en = EN_OF.get(query) ?? "unknown";
	if (query === STOPS_EARLY) return `<EN> ${en} <RESPONSE> ${englishAnswer(en)}`;
	return `<EN> ${en} <RESPONSE> ${englishAnswer(en)} <TH> ${thaiAnswer(query)}`;
}

let dir: string;
let questions: string;

beforeAll(async () => {
	dir = await tempDir("answer");
	questions = join(dir, "question.jsonl");
	const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ question_id: 81 + i, category: i % 2 ? "math" : "writing", turns: [th(2 * i), th(2 * i + 1)], ...(i % 2 ? { reference: ["42", "43"] } : {}) }));
	await writeFile(questions, `${lines.join("\n")}\n`);
});

describe("eval answer against an answering server", () => {
	let served: Awaited<ReturnType<typeof startScriptedServer>>;
	beforeAll(async () => {
		served = await startScriptedServer(tcotResponder, { name: "transllm-th" });
	});
	afterAll(async () => served?.close());

	it("should answer TCOT turns with English-only history, parse both parts and apply the fallback", async () => {
		const model = await remoteAnswerModel({ endpoint: served.baseUrl, model: "transllm-th", chatTemplate: "llama-2" });
		const out = join(dir, "tcot", "answers.jsonl");
		const summary = await generateAnswers({ questions, format: "mt-bench", out, model, mode: "tcot", lang: "th", limit: 4, progress: false });
		expect(summary.records).toBe(4);
		const records = await loadAnswers(out);
		const first = records[0] as AnswerRecord;
		expect(first.turns[0]?.answer).toBe(thaiAnswer(th(0)));
		expect(first.turns[0]?.query_en).toBe(EN_OF.get(th(0)));
		expect(first.turns[0]?.answer_en).toBe(englishAnswer(EN_OF.get(th(0)) as string));
		// Sec. 2.3: the second turn's prompt holds the first turn's English parts only, no special tokens, then the Thai query.
		const secondTurnPrompt = served.prompts.find((p) => typeof p !== "string" && lastUser(p) === th(1)) as { role: string; content: string }[];
		expect(secondTurnPrompt).toEqual([
			{ role: "user", content: EN_OF.get(th(0)) },
			{ role: "assistant", content: englishAnswer(EN_OF.get(th(0)) as string) },
			{ role: "user", content: th(1) },
		]);
		// Question 3's first turn stopped before <TH>: the fallback forced the marker and the model continued.
		const early = records.find((r) => r.turns[0]?.query === STOPS_EARLY) as AnswerRecord;
		expect(early.turns[0]?.tcot?.fallback).toBe("target-response");
		expect(early.turns[0]?.answer).toBe(thaiAnswer(STOPS_EARLY));
		expect(early.turns[0]?.flags).toBeUndefined();
		const continuation = served.prompts.find((p) => typeof p === "string") as string;
		expect(continuation.startsWith("[INST]")).toBe(true); // BOS text cut: the server adds BOS itself
		expect(continuation.trimEnd().endsWith(`<RESPONSE> ${englishAnswer(EN_OF.get(STOPS_EARLY) as string)} <TH>`)).toBe(true);
		// FastChat's model_answer format.
		const fastchat = (await readFile(join(dir, "tcot", "model_answer", "transllm-th.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
		expect(fastchat[0]).toEqual({ question_id: 81, answer_id: answerId("transllm-th", 81), model_id: "transllm-th", choices: [{ index: 0, turns: first.turns.map((t) => t.answer) }] });
	});

	it("should flag a TCOT output that cannot be completed without a chat template", async () => {
		const model = await remoteAnswerModel({ endpoint: served.baseUrl, model: "transllm-th" });
		const out = join(dir, "tcot-no-template", "answers.jsonl");
		await generateAnswers({ questions, format: "mt-bench", out, model, mode: "tcot", lang: "th", limit: 3, progress: false });
		const early = (await loadAnswers(out)).find((r) => r.turns[0]?.query === STOPS_EARLY) as AnswerRecord;
		expect(early.turns[0]?.flags).toEqual(["fallback_unavailable", "tcot_incomplete"]);
		// The English answer stands in, flagged, never silently.
		expect(early.turns[0]?.answer).toBe(englishAnswer(EN_OF.get(STOPS_EARLY) as string));
		expect(early.flags).toEqual(["fallback_unavailable", "tcot_incomplete"]);
	});

	it("should keep a plain model's own earlier answers as history and write AlpacaEval JSON", async () => {
		const plain = await startScriptedServer((prompt) => `answer ${typeof prompt === "string" ? 0 : prompt.length}: ${lastUser(prompt).slice(0, 20)}`, { name: "gpt-4" });
		try {
			const model = await remoteAnswerModel({ endpoint: plain.baseUrl, model: "gpt-4" });
			const out = join(dir, "plain", "answers.jsonl");
			await generateAnswers({ questions, format: "mt-bench", out, model, mode: "plain", limit: 2, progress: false });
			const [record] = await loadAnswers(out);
			expect(record?.turns.map((t) => t.answer)).toEqual([`answer 1: ${th(0).slice(0, 20)}`, `answer 3: ${th(1).slice(0, 20)}`]);
			expect(plain.prompts.find((p) => lastUser(p) === th(1))).toEqual([
				{ role: "user", content: th(0) },
				{ role: "assistant", content: `answer 1: ${th(0).slice(0, 20)}` },
				{ role: "user", content: th(1) },
			]);
			const alpaca = join(dir, "alpaca.json");
			await writeFile(alpaca, JSON.stringify([{ instruction: th(3), output: "ref", generator: "gpt4_turbo", dataset: "helpful_base" }]));
			const summary = await generateAnswers({ questions: alpaca, format: "alpaca-eval", out: join(dir, "plain", "alpaca.jsonl"), model, mode: "plain", progress: false });
			expect(JSON.parse(await readFile(summary.benchmarkFile as string, "utf8"))).toEqual([{ instruction: th(3), output: `answer 1: ${th(3).slice(0, 20)}`, generator: "gpt-4", dataset: "helpful_base" }]);
		} finally {
			await plain.close();
		}
	});

	it("should translate an English set first (--translate), keep the English beside each turn, and answer it", async () => {
		const english = join(dir, "question_en.jsonl");
		await writeFile(english, `${[0, 1].map((i) => JSON.stringify({ question_id: i + 1, category: "writing", turns: [EN_OF.get(th(2 * i)), EN_OF.get(th(2 * i + 1))] })).join("\n")}\n`);
		const TH_OF = new Map([...EN_OF].map(([t, e]) => [e, t]));
		const mt = await startScriptedServer((p) => {
			const user = lastUser(p);
			const source = [...TH_OF.keys()].find((e) => user.includes(e));
			return source ? (TH_OF.get(source) as string) : "?";
		}, { name: "mt" });
		try {
			const translated = join(dir, "translated", "questions.th.jsonl");
			const backend = createChatTranslationBackend({ generator: createOpenAiGenerationBackend({ endpoint: mt.baseUrl, model: "mt" }) });
			await translateQuestions({ questions: english, format: "mt-bench", lang: "th", backend, out: translated, progress: false });
			const lines = (await readFile(translated, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
			expect(lines[0]).toMatchObject({ id: "1", question_id: 1, turns: [th(0), th(1)], turns_en: [EN_OF.get(th(0)), EN_OF.get(th(1))] });
			const model = await remoteAnswerModel({ endpoint: served.baseUrl, model: "transllm-th" });
			await generateAnswers({ questions: translated, format: "mt-bench", out: join(dir, "translated", "answers.jsonl"), model, mode: "tcot", lang: "th", progress: false });
			const [record] = await loadAnswers(join(dir, "translated", "answers.jsonl"));
			expect(record?.turns_en).toEqual([EN_OF.get(th(0)), EN_OF.get(th(1))]);
			expect(record?.turns[0]?.answer).toBe(thaiAnswer(th(0)));
		} finally {
			await mt.close();
		}
	});
});

describe("transllm eval answer (child process)", () => {
	it("should resume after SIGKILL to files equal byte for byte to an uninterrupted run's", async () => {
		const served = await startScriptedServer(tcotResponder, { name: "transllm-th", latencyMs: 25 });
		try {
			const args = (out: string, extra: string[] = []) => ["eval", "answer", "--questions", questions, "--endpoint", served.baseUrl, "--model-name", "transllm-th", "--mode", "tcot", "--chat-template", "llama-2", "--concurrency", "2", "--out", out, "--quiet", ...extra];
			const clean = join(dir, "clean", "answers.jsonl");
			const first = await runEvalCli(args(clean)).done;
			expect(first.code, first.stderr).toBe(0);
			expect(await lineCount(clean)).toBe(20);
			const out = join(dir, "killed", "answers.jsonl");
			const killed = runEvalCli(args(out));
			await waitFor(async () => (await lineCount(`${out}.partial`)) >= 5);
			killed.child.kill("SIGKILL");
			expect((await killed.done).signal).toBe("SIGKILL");
			expect(await lineCount(`${out}.partial`)).toBeLessThan(20);
			const resumed = await runEvalCli(args(out, ["--resume"])).done;
			expect(resumed.code, resumed.stderr).toBe(0);
			expect(await readFile(out, "utf8")).toBe(await readFile(clean, "utf8"));
			expect(await readFile(join(dir, "killed", "model_answer", "transllm-th.jsonl"), "utf8")).toBe(await readFile(join(dir, "clean", "model_answer", "transllm-th.jsonl"), "utf8"));
			const summary = JSON.parse(await readFile(join(dir, "clean", "answers.result.json"), "utf8"));
			expect(summary.results).toMatchObject({ questions: 20, turns: 40, tcot: { complete: 38, completedByFallback: 2, incomplete: 0 } });
			expect(await readFile(join(dir, "killed", "answers.result.json"), "utf8")).toBe(await readFile(join(dir, "clean", "answers.result.json"), "utf8"));
		} finally {
			await served.close();
		}
	}, 180_000);
});
