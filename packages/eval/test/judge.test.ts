import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createChatTranslationBackend, createOpenAiGenerationBackend } from "@transllm/recovery-kd";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judgeAnswers, parsePairwiseVerdict, parseRating, winTieLoss } from "../src/index.js";
import type { JudgeRecord } from "../src/index.js";
import { lineCount, runEvalCli, startScriptedServer, tempDir, waitFor } from "./helpers.js";
import type { Responder } from "./helpers.js";

// Eight MT-Bench questions of two turns. Each answer carries its quality as "score=N"; the judge compares them.
// BIAS: the judge always prefers the first position; FLAKY: its first judgment of a prompt has no verdict; BROKEN: never one.
const Q = [
	{ category: "writing", tag: "", a: [8, 7], b: [5, 2] },
	{ category: "writing", tag: "", a: [3, 9], b: [6, 1] },
	{ category: "writing", tag: "", a: [5, 6], b: [5, 4] },
	{ category: "writing", tag: "BIAS", a: [9, 9], b: [2, 2] },
	{ category: "math", tag: "FLAKY", a: [7, 7], b: [4, 4] },
	{ category: "math", tag: "", a: [2, 1], b: [9, 8] },
	{ category: "math", tag: "", a: [6, 5], b: [1, 5] },
	{ category: "math", tag: "BROKEN", a: [5, 5], b: [5, 5] },
];

const seen = new Map<string, number>();
const judgeResponder: Responder = (prompt) => {
	const messages = typeof prompt === "string" ? [{ role: "user", content: prompt }] : prompt;
	const system = messages.find((m) => m.role === "system")?.content ?? "";
	const user = messages.find((m) => m.role === "user")?.content ?? "";
	const key = system + user;
	seen.set(key, (seen.get(key) ?? 0) + 1);
	if (user.includes("BROKEN") || (user.includes("FLAKY") && seen.get(key) === 1)) return "Both answers have merit; I cannot decide.";
	const scores = [...user.matchAll(/score=(\d+)/g)].map((m) => Number(m[1]));
	const single = system.includes("[[rating]]");
	if (single) return `The answer is fine. Rating: [[${scores.length === 2 ? scores[1] : scores[0]}]]`;
	// One turn: [A, B]; two turns: conversation A (A1, A2) then B (B1, B2): the second answers count.
	const [a, b] = scores.length === 4 ? [scores[1] as number, scores[3] as number] : [scores[0] as number, scores[1] as number];
	if (user.includes("BIAS")) return "Assistant A is better. [[A]]";
	return a > b ? "A is more helpful. [[A]]" : a < b ? "B is more helpful. [[B]]" : "Equally good. [[C]]";
};

let dir: string;
let questions: string;
let answersA: string;
let answersB: string;
let judgeServer: Awaited<ReturnType<typeof startScriptedServer>>;

beforeAll(async () => {
	dir = await tempDir("judge");
	questions = join(dir, "question.jsonl");
	await writeFile(questions, `${Q.map((q, i) => JSON.stringify({ question_id: 101 + i, category: q.category, turns: [`Question ${i} ${q.tag}`, `Follow-up ${i}`], ...(q.category === "math" ? { reference: [`REF-${i}-1`, `REF-${i}-2`] } : {}) })).join("\n")}\n`);
	const answers = (model: string, pick: (q: (typeof Q)[number]) => number[]) => `${Q.map((q, i) => JSON.stringify({ question_id: 101 + i, answer_id: `${model}-${i}`, model_id: model, choices: [{ index: 0, turns: pick(q).map((s, t) => `turn ${t + 1}: score=${s}`) }] })).join("\n")}\n`;
	answersA = join(dir, "transllm.jsonl");
	answersB = join(dir, "gpt-4.jsonl");
	await writeFile(answersA, answers("transllm", (q) => q.a));
	await writeFile(answersB, answers("gpt-4", (q) => q.b));
	// 429, a request never answered, and a 500 on the way: retried by recovery-kd's client.
	judgeServer = await startScriptedServer(judgeResponder, { name: "judge", faults: { queue: ["429", "timeout", "500"] } });
});
afterAll(async () => judgeServer?.close());

const judgeBackend = () => createOpenAiGenerationBackend({ endpoint: judgeServer.baseUrl, model: "judge", concurrency: 4, timeoutMs: 1500, retry: { baseDelayMs: 10, maxDelayMs: 50 } });

describe("verdict parsing", () => {
	it("should read [[A]], [[B]], [[C]] and ratings, and refuse ambiguous or missing ones", () => {
		expect(parsePairwiseVerdict("so [[A]]")).toBe("A");
		expect(parsePairwiseVerdict("[[C]]")).toBe("tie");
		expect(parsePairwiseVerdict("A or B? [[A]] no, [[B]]")).toBe("error");
		expect(parsePairwiseVerdict("Assistant A")).toBe("error");
		expect(parseRating("Rating: [[7]]")).toBe(7);
		expect(parseRating("Rating: [8.5]")).toBe(8.5);
		expect(parseRating("Rating: [[11]]")).toBeUndefined();
		expect(parseRating("seven")).toBeUndefined();
	});

	it("should compute win / tie / loss, Δ and a bootstrap interval on a hand-made table", () => {
		const s = winTieLoss([1, 1, 0, -1], { samples: 2000, seed: 1 });
		expect([s.win, s.tie, s.loss, s.delta]).toEqual([50, 25, 25, 25]);
		expect(s.low).toBeLessThan(25);
		expect(s.high).toBeGreaterThan(25);
		expect(s.low).toBeGreaterThanOrEqual(-100);
		expect(winTieLoss([1, 1, 1], { samples: 100 })).toMatchObject({ delta: 100, low: 100, high: 100 });
		expect(winTieLoss([1, 0, -1], { samples: 500, seed: 3 })).toEqual(winTieLoss([1, 0, -1], { samples: 500, seed: 3 }));
	});
});

describe("eval judge against a judge server with malformed verdicts, 429s and timeouts", () => {
	it("should judge both orders, tie inconsistent pairs, retry and count unparsable verdicts, and match the hand-computed table", async () => {
		const judge = judgeBackend();
		const out = join(dir, "judgments.jsonl");
		const result = await judgeAnswers({ questions, answers: [answersA, answersB], mode: "pairwise", judge, lang: "th", out, samples: 500, progress: false });
		const r = result.results;
		expect(judge.retries).toBeGreaterThanOrEqual(3);
		const row = (turn: number, category: string) => r.table?.find((x) => x.turn === turn && x.category === category)?.stats;
		// Turn 1: wins q0 q4 q6, losses q1 q5, ties q2 q3 (q3: the orders disagree), q7 left out.
		expect(row(1, "all")).toMatchObject({ n: 7, win: 300 / 7, tie: 200 / 7, loss: 200 / 7, delta: 100 / 7 });
		expect(row(1, "writing")).toMatchObject({ n: 4, win: 25, tie: 50, loss: 25, delta: 0 });
		expect(row(1, "math")).toMatchObject({ n: 3, win: 200 / 3, tie: 0, loss: 100 / 3, delta: 100 / 3 });
		// Turn 2 (judged with the two-turn prompts): wins q0 q1 q2 q4, loss q5, ties q3 q6.
		expect(row(2, "all")).toMatchObject({ n: 7, win: 400 / 7, tie: 200 / 7, loss: 100 / 7 });
		for (const x of r.table ?? []) expect(x.stats.low <= x.stats.delta && x.stats.delta <= x.stats.high).toBe(true);
		// q7 fails 1 + 3 retries in both orders and both turns; q4's first judgment of each of its 4 prompts fails once.
		expect(r.errors).toBe(2);
		expect(r.unparsable).toBe(2 * 2 * 4 + 4);
		expect(r.inconsistent).toBe(2);
		const records = (await readFile(out, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as JudgeRecord);
		expect(records).toHaveLength(16);
		expect(records.find((x) => x.id === "104:1")).toMatchObject({ winner: "tie", inconsistent: true, g1: { verdict: "A" }, g2: { verdict: "A" } });
		expect(records.find((x) => x.id === "108:1")?.winner).toBe("error");
		expect(records.find((x) => x.id === "105:2")?.prompt).toBe("pair-math-v1-multi-turn");
		expect(records.find((x) => x.id === "101:1")?.prompt).toBe("pair-v2");
		expect(r.cost.promptTokens).toBe(records.reduce((s, x) => s + x.tokens.prompt, 0));
		expect(r.cost.promptTokens).toBeGreaterThan(0);
		expect(r.cost.requests).toBe(records.reduce((s, x) => s + (x.g1?.attempts ?? 0) + (x.g2?.attempts ?? 0), 0));
		// The judge saw the reference for math only, and was told the answers are Thai.
		const prompts = judgeServer.prompts.filter((p) => typeof p !== "string") as { role: string; content: string }[][];
		expect(prompts.some((p) => p[1]?.content.includes("REF-4-1"))).toBe(true);
		expect(prompts.some((p) => p[1]?.content.includes("Question 0") && p[1].content.includes("REF-"))).toBe(false);
		expect(prompts.every((p) => p[0]?.content.includes("written in Thai"))).toBe(true);
		expect(result.section.html).toContain("<svg");
	});

	it("should grade single answers 1–10 and compare the ratings (the paper's win rates)", async () => {
		const result = await judgeAnswers({ questions, answers: [answersA, answersB], mode: "single", judge: judgeBackend(), out: join(dir, "single.jsonl"), samples: 200, progress: false, limit: 7 });
		const turn1 = result.results.table?.find((x) => x.turn === 1 && x.category === "all")?.stats;
		// Ratings: q0 8>5, q1 3<6, q2 5=5, q3 9>2, q4 7>4, q5 2<9, q6 6>1.
		expect(turn1).toMatchObject({ n: 7, win: 400 / 7, tie: 100 / 7, loss: 200 / 7 });
		expect(result.results.ratings?.find((x) => x.model === "transllm" && x.turn === 1 && x.category === "all")?.mean).toBeCloseTo((8 + 3 + 5 + 9 + 7 + 2 + 6) / 7, 10);
	});
});

describe("eval judge --judge-language back-translate", () => {
	it("should translate questions and answers into English before judging, with English prompts", async () => {
		// The "translator" marks what it translated; scores pass through, so the verdicts stay the same.
		const mt = await startScriptedServer((p) => {
			const text = (typeof p === "string" ? p : (p[p.length - 1]?.content ?? "")).split("\n\n").slice(1).join("\n\n");
			return `EN(${text})`;
		}, { name: "mt" });
		const judge = await startScriptedServer(judgeResponder, { name: "judge" });
		try {
			const result = await judgeAnswers({
				questions,
				answers: [answersA, answersB],
				mode: "pairwise",
				judge: createOpenAiGenerationBackend({ endpoint: judge.baseUrl, model: "judge" }),
				lang: "th",
				judgeLanguage: "back-translate",
				translator: createChatTranslationBackend({ generator: createOpenAiGenerationBackend({ endpoint: mt.baseUrl, model: "mt" }) }),
				out: join(dir, "back.jsonl"),
				samples: 100,
				progress: false,
				limit: 3,
			});
			const prompts = judge.prompts.filter((p) => typeof p !== "string") as { role: string; content: string }[][];
			expect(prompts.every((p) => !p[0]?.content.includes("written in Thai"))).toBe(true);
			expect(prompts.every((p) => p[1]?.content.includes("EN(turn 1: score="))).toBe(true);
			expect(result.results.table?.find((x) => x.turn === 1 && x.category === "all")?.stats).toMatchObject({ n: 3, win: 100 / 3, tie: 100 / 3, loss: 100 / 3 });
		} finally {
			await mt.close();
			await judge.close();
		}
	});
});

describe("transllm eval judge (child process)", () => {
	it("should resume after SIGKILL to the same judgments and results", async () => {
		const slow = await startScriptedServer(judgeResponder, { name: "judge", latencyMs: 40 });
		try {
			const args = (name: string, extra: string[] = []) => ["eval", "judge", "--questions", questions, "--answers", answersA, "--answers", answersB, "--judge-endpoint", slow.baseUrl, "--judge-model", "judge", "--concurrency", "2", "--lang", "th", "--bootstrap", "200", "--out", join(dir, `${name}.json`), "--quiet", ...extra];
			const clean = await runEvalCli(args("clean")).done;
			expect(clean.code, clean.stderr).toBe(0);
			const killed = runEvalCli(args("killed"));
			await waitFor(async () => (await lineCount(join(dir, "killed.judgments.jsonl.partial"))) >= 4);
			killed.child.kill("SIGKILL");
			expect((await killed.done).signal).toBe("SIGKILL");
			const resumed = await runEvalCli(args("killed", ["--resume"])).done;
			expect(resumed.code, resumed.stderr).toBe(0);
			expect(await readFile(join(dir, "killed.judgments.jsonl"), "utf8")).toBe(await readFile(join(dir, "clean.judgments.jsonl"), "utf8"));
			expect(await readFile(join(dir, "killed.json"), "utf8")).toBe(await readFile(join(dir, "clean.json"), "utf8"));
		} finally {
			await slow.close();
		}
	}, 180_000);
});
