import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { runCli } from "@transllm/core";
import { buildLlamaFixture, loadModel } from "@transllm/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloCommands, cloObjective, readPreferencePairs, scoreCloPairs, writeCloDataset } from "../src/index.js";
import type { CloConditionals, CloScoreReport, PreferencePair } from "../src/index.js";
import { udhrRecords } from "./udhr.js";

let dir: string;
let policy: string;
let reference: string;
let pairsFile: string;
const silent = { silent: true };

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "clo-score-"));
	policy = join(dir, "policy");
	reference = join(dir, "reference");
	// Two real tiny Llama models (ONNX + tokenizer.json + Llama-2 chat template), different weights.
	await buildLlamaFixture({ dir: policy, layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, seed: 1 });
	await buildLlamaFixture({ dir: reference, layers: 2, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, seed: 2 });
	// Short real pairs: the first sentence of UDHR articles in English and Swahili.
	const records = udhrRecords("sw", 6).map((record) => {
		const first = (text: string) => (text.split(/(?<=[.;:])\s/)[0] as string).slice(0, 160);
		return { ...record, query_en: first(record.query_en), response_en: first(record.response_en), query_t: first(record.query_t), response_t: first(record.response_t) };
	});
	const input = join(dir, "kd.jsonl");
	await writeFile(input, records.map((record) => JSON.stringify(record)).join("\n") + "\n");
	await writeCloDataset({ input, lang: "sw", out: join(dir, "clo"), perDeviceBatchSize: 2, validationPairs: 3, languageCheck: false, progress: silent });
	pairsFile = join(dir, "clo", "validation_pairs.jsonl");
});

afterAll(async () => {
	await rm(dir, { recursive: true, force: true });
});

describe("scoreCloPairs", () => {
	it("scores the four conditionals of each pair with policy and reference and applies Eq. 8–12", async () => {
		const report = await scoreCloPairs({ policy, reference, pairs: pairsFile, executionProvider: "cpu", batchSize: 2, progress: silent });
		expect(report.pairs).toBe(3);
		expect(report.zEn).toHaveLength(3);

		// Recompute pair 0 from direct runtime calls: each conditional is log P(answer + EOS | chat-rendered query).
		const pairs: PreferencePair[] = [];
		for await (const pair of readPreferencePairs(pairsFile)) pairs.push(pair);
		const { record } = pairs[0] as PreferencePair;
		const conditionals = async (dirName: string): Promise<CloConditionals> => {
			const model = await loadModel(dirName, { executionProvider: "cpu", worker: false });
			try {
				const user = (content: string) => [{ role: "user" as const, content }];
				const [enGivenEn, targetGivenEn, targetGivenTarget, enGivenTarget] = await model.score({
					pairs: [
						{ prompt: user(record.query_en), response: record.response_en },
						{ prompt: user(record.query_en), response: record.response_t },
						{ prompt: user(record.query_t), response: record.response_t },
						{ prompt: user(record.query_t), response: record.response_en },
					],
					appendEos: true,
				});
				const pick = (r: typeof enGivenEn) => ({ sum: r?.sum as number, tokens: r?.tokens as number });
				return { enGivenEn: pick(enGivenEn), targetGivenEn: pick(targetGivenEn), targetGivenTarget: pick(targetGivenTarget), enGivenTarget: pick(enGivenTarget) };
			}
			finally {
				await model.dispose();
			}
		};
		const p = await conditionals(policy);
		const r = await conditionals(reference);
		const zEn = 0.1 * (p.enGivenEn.sum - r.enGivenEn.sum - (p.targetGivenEn.sum - r.targetGivenEn.sum));
		const zT = 0.1 * (p.targetGivenTarget.sum - r.targetGivenTarget.sum - (p.enGivenTarget.sum - r.enGivenTarget.sum));
		expect(report.pairIds[0]).toBe(pairs[0]?.pairId);
		expect(report.zEn[0]).toBeCloseTo(zEn, 4);
		expect(report.zT[0]).toBeCloseTo(zT, 4);
		expect(zEn).not.toBeCloseTo(0, 3);
		expect(p.targetGivenTarget.tokens).toBeGreaterThan(1);
		// and the totals are cloObjective's on the same numbers
		expect(report.lClo).toBeCloseTo(0.5 * report.lSft + 0.5 * report.lCl, 10);
		expect(Number.isFinite(report.lClo)).toBe(true);
	});

	it("gives z ≡ 0, L_CL = 2 ln 2 and accuracy 0 when the policy is the reference", async () => {
		const report = await scoreCloPairs({ policy: reference, reference, pairs: pairsFile, executionProvider: "cpu", progress: silent });
		for (const z of [...report.zEn, ...report.zT]) expect(Math.abs(z)).toBeLessThan(1e-6);
		expect(report.lCl).toBeCloseTo(2 * Math.LN2, 5);
		expect(report.accuracy).toBe(0);
		// L_SFT is the reference's own per-token NLL of the target answers: positive, about ln(vocab) for random weights
		expect(report.lSft).toBeGreaterThan(0);
	});

	it("keeps per-pair scores in --out, resumes a killed run, and prints the objective from the CLI", async () => {
		const out = join(dir, "score-out");
		const first = await scoreCloPairs({ policy, reference, pairs: pairsFile, out, executionProvider: "cpu", progress: silent });
		const saved = JSON.parse(await readFile(join(out, "objective.json"), "utf8")) as CloScoreReport;
		expect(saved.lClo).toBeCloseTo(first.lClo, 12);
		const lines = (await readFile(join(out, "scores.jsonl"), "utf8")).trimEnd().split("\n");
		expect(lines).toHaveLength(6); // 3 pairs × (policy, reference)
		// A run killed after the policy pass and one reference pair: the partial file holds 4 lines (and a torn one).
		await rm(join(out, "scores.jsonl"));
		await writeFile(join(out, "scores.jsonl.partial"), `${lines.slice(0, 4).join("\n")}\n{"pair_id":`);
		const chunks: string[] = [];
		const sink = (into: string[]) => new Writable({ write: (chunk, _e, callback) => (into.push(String(chunk)), callback()) });
		const code = await runCli("transllm", { clo: { description: "CLO", subcommands: cloCommands } }, ["clo", "score", "--policy", policy, "--reference", reference, "--pairs", pairsFile, "--out", out, "--resume", "--execution-provider", "cpu"], {
			context: { stdout: sink(chunks), stderr: sink([]) },
		});
		expect(code).toBe(0);
		const printed = JSON.parse(chunks.join("")) as Record<string, number>;
		expect(printed.lClo).toBeCloseTo(first.lClo, 6);
		expect(printed.accuracy).toBe(first.accuracy);
		expect(printed.meanZEn).toBeCloseTo(first.zEn.reduce((a, b) => a + b, 0) / 3, 6);
		expect((await readFile(join(out, "scores.jsonl"), "utf8")).trimEnd().split("\n")).toHaveLength(6);
		// the same objective from the saved log-probabilities
		const objective = cloObjective(first.pairIds.map((id) => {
			const of = (model: string) => (lines.map((line) => JSON.parse(line)).find((entry) => entry.pair_id === id && entry.model === model) as { conditionals: CloConditionals }).conditionals;
			return { pairId: id, policy: of("policy"), reference: of("reference") };
		}));
		expect(objective.lClo).toBeCloseTo(first.lClo, 12);
		// Issue 16 point 1: scores kept from one reference cannot be finished with another.
		await writeFile(join(out, "scores.jsonl.partial"), `${lines.slice(0, 4).join("\n")}\n`);
		await rm(join(out, "scores.jsonl"));
		await expect(scoreCloPairs({ policy, reference: policy, pairs: pairsFile, out, resume: true, executionProvider: "cpu", progress: silent })).rejects.toThrow(/with other settings than it was started with: reference /);
	});

	it("refuses a pairs file whose rows do not pair up, naming the file", async () => {
		const rows = (await readFile(pairsFile, "utf8")).trimEnd().split("\n");
		const broken = join(dir, "broken.jsonl");
		await writeFile(broken, `${[rows[0], rows[3], rows[2], rows[1]].join("\n")}\n`);
		await expect(scoreCloPairs({ policy, reference, pairs: broken, executionProvider: "cpu", progress: silent })).rejects.toThrow(new RegExp(`${broken}: lines 1–2: pair ids differ`));
	});
});
