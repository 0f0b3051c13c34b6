import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { runCli } from "@transllm/core";
import { buildLlamaFixture, byteBpeTokenizerJson } from "@transllm/runtime";
import { beforeAll, describe, expect, it } from "vitest";
import { probeCommands, probeVocabulary, wordTokenSet } from "../src/index.js";
import type { ProbeReport } from "../src/index.js";

const LEXICON = [
	["dog", "สุนัข"],
	["cat", "แมว"],
	["water", "น้ำ"],
	["fire", "ไฟ"],
	["sun", "ดวงอาทิตย์"],
	["moon", "ดวงจันทร์"],
	["tree", "ต้นไม้"],
	["house", "บ้าน"],
	["book", "หนังสือ"],
	["rice", "ข้าว"],
	["hand", "มือ"],
	["eye", "ตา"],
];

const HIDDEN = 32;
const LAYERS = 6;
const INTERMEDIATE = 16;
const ENGLISH_DIM = 1;
const TARGET_DIM = 2;

const silu = (x: number): number => x / (1 + Math.exp(-x));

/**
 * Weights that make the residual stream of the last position decode, through the final norm and lm_head, to
 * the English version of the next word in the middle layers and to the Thai version at the last layer (an
 * "English pivot", as Wendler et al. observe for Llama-2), or to Thai from the middle on (no pivot).
 *
 * Every token embeds as e_0 (a constant "bias" dimension), attention writes nothing (o_proj = 0), and one MLP
 * neuron per chosen layer reads e_0 (gate = up = 1) and writes a chosen vector through down_proj. lm_head maps
 * direction e_1 to every English-set token and e_2 to every Thai-set token.
 */
function probeWeights(vocab: number, englishIds: Set<number>, targetIds: Set<number>, pivot: boolean): Record<string, Float32Array> {
	const weights: Record<string, Float32Array> = {};
	const embed = new Float32Array(vocab * HIDDEN);
	for (let t = 0; t < vocab; t++) embed[t * HIDDEN] = 1;
	weights["model.embed_tokens.weight"] = embed;
	const head = new Float32Array(vocab * HIDDEN);
	for (const id of englishIds) head[id * HIDDEN + ENGLISH_DIM] = 3;
	for (const id of targetIds) head[id * HIDDEN + TARGET_DIM] = 3;
	weights["lm_head.weight"] = head;
	weights["model.norm.weight"] = new Float32Array(HIDDEN).fill(1);
	// The residual at the last position, to compute each MLP neuron's activation exactly.
	const residual = new Float64Array(HIDDEN);
	residual[0] = 1;
	const writes: Record<number, [number, number][]> = pivot
		? { 2: [[ENGLISH_DIM, 4]], 5: [[ENGLISH_DIM, -4], [TARGET_DIM, 40]] } // layer 3 writes English, layer 6 replaces it by Thai
		: { 2: [[TARGET_DIM, 4]], 5: [[TARGET_DIM, 40]] }; // Thai from layer 3 on
	for (let layer = 0; layer < LAYERS; layer++) {
		const p = `model.layers.${layer}`;
		weights[`${p}.self_attn.o_proj.weight`] = new Float32Array(HIDDEN * HIDDEN);
		weights[`${p}.input_layernorm.weight`] = new Float32Array(HIDDEN).fill(1);
		weights[`${p}.post_attention_layernorm.weight`] = new Float32Array(HIDDEN).fill(1);
		const gate = new Float32Array(INTERMEDIATE * HIDDEN);
		const up = new Float32Array(INTERMEDIATE * HIDDEN);
		const down = new Float32Array(HIDDEN * INTERMEDIATE);
		const layerWrites = writes[layer];
		if (layerWrites) {
			gate[0] = 1;
			up[0] = 1;
			const rms = Math.sqrt(residual.reduce((s, v) => s + v * v, 0) / HIDDEN + 1e-6);
			const n0 = residual[0]! / rms;
			const activation = silu(n0) * n0;
			for (const [dim, amount] of layerWrites) {
				down[dim * INTERMEDIATE] = amount / activation;
				residual[dim]! += amount;
			}
		}
		weights[`${p}.mlp.gate_proj.weight`] = gate;
		weights[`${p}.mlp.up_proj.weight`] = up;
		weights[`${p}.mlp.down_proj.weight`] = down;
	}
	return weights;
}

async function buildProbeFixture(dir: string, pivot: boolean): Promise<void> {
	const tokenizerJson = byteBpeTokenizerJson(1200);
	const vocabulary = probeVocabulary(tokenizerJson);
	const englishIds = new Set(LEXICON.flatMap(([en]) => wordTokenSet(en as string, vocabulary)));
	const targetIds = new Set(LEXICON.flatMap(([, th]) => wordTokenSet(th as string, vocabulary)));
	const vocab = Math.max(...vocabulary.tokenToId.values()) + 1;
	await buildLlamaFixture({
		dir,
		layers: LAYERS,
		hidden: HIDDEN,
		heads: 4,
		kvHeads: 2,
		intermediate: INTERMEDIATE,
		tokenizer: { tokenizerJson },
		weights: probeWeights(vocab, englishIds, targetIds, pivot),
	});
}

async function probe(modelDir: string, lexicon: string, out: string, args: string[] = ["--lexicon", lexicon]): Promise<{ code: number; output: string; report: ProbeReport }> {
	const stdout = new PassThrough();
	let output = "";
	stdout.on("data", (d: Buffer) => (output += d.toString()));
	const code = await runCli("transllm", probeCommands, ["probe", "--model", modelDir, ...args, "--lang", "th", "--out", out, "--shots", "3", "--execution-provider", "cpu"], {
		context: { stdout, stderr: stdout },
	});
	const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as { reports: ProbeReport[] };
	return { code, output, report: report.reports[0] as ProbeReport };
}

describe("transllm probe on real ONNX fixtures", () => {
	let dir: string;
	let lexicon: string;
	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "prom-e2e-"));
		lexicon = join(dir, "en-th.txt");
		await writeFile(lexicon, `${LEXICON.map((pair) => pair.join(" ")).join("\n")}\n`);
		await buildProbeFixture(join(dir, "pivot"), true);
		await buildProbeFixture(join(dir, "direct"), false);
	});

	it("finds the English pivot in the middle layers and keeps λ", async () => {
		const { code, output, report } = await probe(join(dir, "pivot"), lexicon, join(dir, "out-pivot"));
		expect(code).toBe(0);
		expect(report.layers).toBe(LAYERS);
		expect(report.examples.used).toBe(LEXICON.length);
		const at = (layer: number) => report.curves[layer - 1]!;
		expect(at(1).english.mean).toBeLessThan(0.01);
		expect(at(3).english.mean).toBeGreaterThan(at(3).target.mean * 10);
		expect(at(6).target.mean).toBeGreaterThan(at(6).english.mean * 10);
		expect(report.decision).toMatchObject({ pivotLayer: 5, lambda: 0.1, pivoted: true });
		expect(report.decision.suggestedPivotLayer).toBeGreaterThanOrEqual(3);
		expect(report.decision.suggestedPivotLayer).toBeLessThanOrEqual(5);
		// Probabilities are sums over each example's own set: with 12 examples sharing the English direction, each
		// gets its share of the mass, and the shares add up to (nearly) all of it.
		expect(at(4).english.mean * LEXICON.length).toBeGreaterThan(0.5);
		expect(at(4).english.lower).toBeLessThanOrEqual(at(4).english.mean);
		expect(at(1).entropy.mean).toBeGreaterThan(at(6).entropy.mean);
		expect(output).toContain("λ = 0.1 (English pivot)");
		const svg = await readFile(join(dir, "out-pivot", "probe.svg"), "utf8");
		expect(svg).toContain("<polyline");
	});

	it("probes cloze prompts, and --max-examples limits the probed items, not the few-shot pool", async () => {
		const cloze = join(dir, "cloze.jsonl");
		const items = LEXICON.slice(0, 5).map(([en, th]) => ({ sentence: `ฉันเห็น ___ ที่บ้าน`, target: th, en }));
		await writeFile(cloze, `${items.map((item) => JSON.stringify(item)).join("\n")}\n`);
		const { code, output, report } = await probe(join(dir, "pivot"), lexicon, join(dir, "out-cloze"), ["--task", "cloze", "--cloze", cloze, "--max-examples", "2"]);
		expect(code, output).toBe(0);
		expect(report.task).toBe("cloze");
		expect(report.examples).toMatchObject({ prompts: 2, used: 2 });
		expect(report.decision.pivoted).toBe(true);
	});

	it("reports a lexicon whose examples are all skipped as bad input naming the file, not a crash", async () => {
		const loanwords = join(dir, "loanwords.txt");
		await writeFile(loanwords, "cat cats\ndog dogs\nsun suns\nbook books\n");
		const stdout = new PassThrough();
		let output = "";
		stdout.on("data", (d: Buffer) => (output += d.toString()));
		const args = ["probe", "--model", join(dir, "pivot"), "--lexicon", loanwords, "--lang", "th", "--out", join(dir, "out-skip"), "--shots", "2", "--execution-provider", "cpu"];
		const code = await runCli("transllm", probeCommands, args, { context: { stdout, stderr: stdout } });
		expect(code).toBe(2);
		expect(output).toContain(`${loanwords}: no example of th could be probed`);
		expect(output).toContain('"english-in-target":4');
	});

	it("sets λ = 0 for a model that decodes to the target language without an English pivot", async () => {
		const { code, report } = await probe(join(dir, "direct"), lexicon, join(dir, "out-direct"));
		expect(code).toBe(0);
		expect(report.decision).toMatchObject({ lambda: 0, pivoted: false });
		expect(report.curves[4]!.target.mean).toBeGreaterThan(report.curves[4]!.english.mean);
	});
});
