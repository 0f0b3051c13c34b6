import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildLlamaFixture, loadModel } from "@transllm/runtime";
import { udhrParagraphs } from "@transllm/udhr-text";
import { beforeAll, describe, expect, it } from "vitest";
import { generateAnswers, loadAnswers, localAnswerModel, measureForgetting } from "../src/index.js";
import { tempDir } from "./helpers.js";

const EN = udhrParagraphs("en");
let dir: string;
let before: string;
let after: string;
let data: string;

beforeAll(async () => {
	dir = await tempDir("runtime");
	// Two tiny real Llamas (ONNX, byte-level BPE, Llama-2 chat template), built and loaded as a user's models are.
	before = join(dir, "llama-chat");
	after = join(dir, "llama-transferred");
	await buildLlamaFixture({ dir: before, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, seed: 11 });
	await buildLlamaFixture({ dir: after, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 96, seed: 12 });
	data = join(dir, "kd-heldout.jsonl");
	await writeFile(data, `${Array.from({ length: 7 }, (_, i) => JSON.stringify({ id: `kd${i}`, query_en: (EN[i] as string).slice(0, 60), response_en: (EN[i + 10] as string).slice(0, 80) })).join("\n")}\n`);
}, 120_000);

describe("eval forgetting through the runtime's in-graph scoring", () => {
	it("should give per-token P(y|x) = exp(mean token log-probability), the means and mean |ΔP|", async () => {
		const out = join(dir, "forgetting.examples.jsonl");
		const result = await measureForgetting({ before, after, data, out, batchSize: 3, executionProvider: "cpu", progress: false });
		const records = (await readFile(out, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { id: string; p_before: number; p_after: number; delta: number });
		expect(records).toHaveLength(7);
		// The same numbers straight from the model: chat-rendered query, answer scored token by token.
		const model = await loadModel(before, { executionProvider: "cpu" });
		try {
			const lines = (await readFile(data, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { query_en: string; response_en: string });
			const scores = await model.score({ pairs: lines.map((l) => ({ prompt: l.query_en, response: l.response_en })), chat: true, batchSize: 1 });
			scores.forEach((s, i) => expect(records[i]?.p_before).toBeCloseTo(Math.exp(s.sum / s.tokens), 5));
		} finally {
			await model.dispose();
		}
		const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
		expect(result.results.meanBefore).toBeCloseTo(mean(records.map((r) => r.p_before)), 12);
		expect(result.results.meanAbsDelta).toBeCloseTo(mean(records.map((r) => Math.abs(r.p_after - r.p_before))), 12);
		expect(result.results.meanAbsDelta).toBeGreaterThan(0);
		expect(result.section.html).toContain("<svg");
		// A model compared with itself has forgotten nothing.
		const same = await measureForgetting({ before, after: before, data, out: join(dir, "same.jsonl"), batchSize: 3, executionProvider: "cpu", progress: false });
		expect(same.results.meanAbsDelta).toBe(0);
	}, 120_000);

	it("should resume a scoring run cut after a whole chunk to the same bytes", async () => {
		const clean = join(dir, "clean.jsonl");
		await measureForgetting({ before, after, data, out: clean, batchSize: 3, executionProvider: "cpu", progress: false });
		// The state a kill leaves: the before-scores finished, the after-scores partial (one chunk) plus a torn line.
		const cut = join(dir, "cut.jsonl");
		await writeFile(join(dir, "cut.before.jsonl"), await readFile(join(dir, "clean.before.jsonl")));
		const afterLines = (await readFile(join(dir, "clean.after.jsonl"), "utf8")).split("\n");
		await writeFile(join(dir, "cut.after.jsonl.partial"), `${afterLines.slice(0, 3).join("\n")}\n{"id":"kd3","tok`);
		const resumed = await measureForgetting({ before, after, data, out: cut, batchSize: 3, executionProvider: "cpu", progress: false, resume: true });
		expect(await readFile(cut, "utf8")).toBe(await readFile(clean, "utf8"));
		expect(await readFile(join(dir, "cut.after.jsonl"), "utf8")).toBe(await readFile(join(dir, "clean.after.jsonl"), "utf8"));
		expect(resumed.results.examples).toBe(7);
	}, 120_000);
});

describe("eval answer with a local ONNX model", () => {
	it("should answer MT-Bench's two turns with the runtime, greedily and reproducibly", async () => {
		const questions = join(dir, "question.jsonl");
		await writeFile(questions, `${[0, 1, 2].map((i) => JSON.stringify({ question_id: i + 1, category: "writing", turns: [(EN[i] as string).slice(0, 50), "And then?"] })).join("\n")}\n`);
		const run = async (name: string, mode: "plain" | "tcot") => {
			const model = await localAnswerModel(before, { executionProvider: "cpu", batchSize: 4 });
			try {
				await generateAnswers({ questions, format: "mt-bench", out: join(dir, name, "answers.jsonl"), model, mode, lang: "th", params: { max_tokens: 6 }, progress: false });
			} finally {
				await model.close();
			}
			return loadAnswers(join(dir, name, "answers.jsonl"));
		};
		const plain = await run("local-a", "plain");
		expect(plain).toHaveLength(3);
		expect(plain[0]?.model_id).toBe("llama-chat");
		expect(plain.every((r) => r.turns.length === 2 && r.turns.every((t) => t.finish_reason === "length" && t.flags?.includes("truncated")))).toBe(true);
		expect(await readFile(join(dir, "local-a", "model_answer", "llama-chat.jsonl"), "utf8")).toContain('"model_id":"llama-chat"');
		await run("local-b", "plain");
		expect(await readFile(join(dir, "local-b", "answers.jsonl"), "utf8")).toBe(await readFile(join(dir, "local-a", "answers.jsonl"), "utf8"));
		// A random tiny model writes no TCOT markers: its turns are flagged, with the raw text kept.
		const tcot = await run("local-tcot", "tcot");
		expect(tcot[0]?.turns[0]?.tcot?.mode).toBe("unmarked");
		expect(tcot[0]?.turns[0]?.flags).toContain("tcot_incomplete");
	}, 120_000);
});
