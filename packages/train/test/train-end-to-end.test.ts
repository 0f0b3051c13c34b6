// Proof by training (issue 12): the tiny Llama fixture, extended for Thai and resized, goes through all three
// TransLLM stages with the TRL engine on CPU from the plan `writeTrainingPlan` writes, the adapter is merged, and the
// merged model is checked against the checkpoint it started from and against the runtime's tokenizer.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CloPairLogprobs, cloObjective, logSigmoid, writeCloDataset } from "@transllm/clo";
import { writePivotedData } from "@transllm/prom-probe";
import { pythonRef } from "@transllm/python-ref";
import * as runtime from "@transllm/runtime";
import { loadModel, loadTokenizer } from "@transllm/runtime";
import { parseTcotOutput } from "@transllm/tcot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LLAMAFACTORY_FIELDS, unknownLlamaFactoryKeys, type TrainingPlan, writeTrainingPlan } from "../src/index.js";
import { buildDemoTcot, buildExtendedFixture, DEMO_DATA, type ExtendedFixture } from "./e2e-fixture.js";

const { ref, reason } = pythonRef(["torch", "transformers", "peft", "trl", "datasets", "safetensors"]);
if (!ref) console.warn(`train end-to-end: skipped — ${reason}`);
// `transllm export` (issue 12, another branch): the loop-closing test runs once @transllm/runtime has it.
const exportModel = (runtime as Record<string, unknown>).exportModel;
if (ref && !exportModel) console.warn("train end-to-end: the loop-closing export test is skipped — @transllm/runtime has no exportModel yet");

interface LogEntry {
	loss?: number;
	eval_loss?: number;
	step: number;
}

/** Mean of the first and of the last `k` logged training losses. */
function lossTrend(history: LogEntry[], k = 3): { first: number; last: number; steps: number } {
	const losses = history.filter((e) => e.loss !== undefined).map((e) => e.loss as number);
	const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
	return { first: mean(losses.slice(0, k)), last: mean(losses.slice(-k)), steps: losses.length };
}

describe.skipIf(!ref)("TransLLM stages 1–3, CLO and PROM with the TRL engine on the tiny Llama (CPU)", () => {
	let dir: string;
	let fixture: ExtendedFixture;
	let plan: TrainingPlan;
	let tcotLines: string[];
	let validationFile: string;
	const small = { per_device_train_batch_size: 4, gradient_accumulation_steps: 1, logging_steps: 1, bf16: false, max_steps: 24, save_steps: 1000, cutoff_len: 256 };

	beforeAll(async () => {
		dir = await mkdtemp(join(tmpdir(), "transllm-train-e2e-"));
		fixture = await buildExtendedFixture(dir);
		const built = { files: await buildDemoTcot(dir, { format: "trl", seed: 3, pretrainingRecordChars: 600 }) };
		validationFile = built.files.validation as string;
		tcotLines = (await readFile(built.files.train as string, "utf8"))
			.split("\n")
			.filter(Boolean)
			.map((line) => (JSON.parse(line) as { messages: { role: string; content: string }[] }).messages.at(-1)?.content ?? "")
			.filter((text) => text.startsWith("<EN>"));
		const clo = await writeCloDataset({ input: join(DEMO_DATA, "kd.translated.th.jsonl"), lang: "th", out: join(dir, "clo"), format: "llamafactory", perDeviceBatchSize: 4, progress: { silent: true } });
		expect(clo.trainPairs).toBeGreaterThanOrEqual(16);
		await writePivotedData({ input: join(DEMO_DATA, "kd.translated.th.jsonl"), outDir: join(dir, "prom"), lang: "th", lambda: 0.1, pivotLayer: 2 });
		plan = await writeTrainingPlan({
			model: fixture.model,
			out: join(dir, "plan"),
			lang: "th",
			template: "llama2",
			targetText: [join(DEMO_DATA, "corpus.th.jsonl")],
			translationText: [built.files.pretraining as string],
			transferTrain: [built.files.train as string],
			transferValidation: [built.files.validation as string],
			clo: { train: join(dir, "clo", "clo_th.jsonl") },
			prom: { dir: join(dir, "prom") },
			deepspeed: false,
			overrides: {
				target_pretraining: { ...small, learning_rate: 3e-3 },
				translation_pretraining: { ...small, learning_rate: 3e-3, eval_steps: 12 },
				transfer_finetuning: { ...small, learning_rate: 3e-3, eval_steps: 12, max_steps: 36 },
				clo: { ...small, learning_rate: 1e-3, max_steps: 8 },
				prom: { ...small, learning_rate: 1e-3, max_steps: 8 },
			},
		});
		const settings = plan.settings;
		ref?.run([join(dir, "plan", "trl", "transllm_train.py"), "--settings", settings, "check", "target_pretraining", "translation_pretraining", "transfer_finetuning", "merge", "clo", "clo_merge", "prom", "prom_merge"], {
			env: { OMP_NUM_THREADS: "1", CUDA_VISIBLE_DEVICES: "" },
			timeoutMs: 540_000,
		});
	}, 600_000);

	afterAll(async () => {
		if (dir) await rm(dir, { recursive: true, force: true });
	});

	it("should write LLaMA-Factory YAMLs for the same stages that pass its field list", async () => {
		for (const stage of plan.stages) {
			const file = stage.files.llamafactory;
			if (!file) continue;
			const config = parse(await readFile(file, "utf8")) as Record<string, unknown>;
			expect(unknownLlamaFactoryKeys(config, stage.name.endsWith("merge") ? "export" : "train"), `${file} (LLaMA-Factory ${LLAMAFACTORY_FIELDS.source.commit})`).toEqual([]);
			expect(config.resize_vocab).toBe(false);
			expect(config).not.toHaveProperty("add_special_tokens");
		}
	});

	it("should lower the training loss in each of the three stages", async () => {
		const trends: Record<string, ReturnType<typeof lossTrend>> = {};
		for (const name of ["1_target_pretraining", "2_translation_pretraining", "3_transfer_finetuning"]) {
			const history = JSON.parse(await readFile(join(dir, "plan", "checkpoints", "trl", name, "log_history.json"), "utf8")) as LogEntry[];
			trends[name] = lossTrend(history);
			expect(trends[name].steps, name).toBeGreaterThanOrEqual(20);
			expect(trends[name].last, name).toBeLessThan(trends[name].first * 0.9);
		}
		console.info(`train end-to-end: loss first→last (mean of 3 logged steps): ${Object.entries(trends).map(([k, t]) => `${k} ${t.first.toFixed(3)}→${t.last.toFixed(3)}`).join(", ")}`);
	});

	it("should merge into safetensors that transformers loads with the extended vocabulary, old unused embedding rows kept", async () => {
		const merged = join(dir, "plan", "merged", "trl");
		const script = `
import json, sys, torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer
start, merged, base_vocab, texts = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.stdin.read())
model = AutoModelForCausalLM.from_pretrained(merged)
tokenizer = AutoTokenizer.from_pretrained(merged)
before = load_file(start + "/model.safetensors")["model.embed_tokens.weight"]
after = model.get_input_embeddings().weight.detach()
# A byte-level token can only be produced where its bytes occur: tokens whose bytes occur in no training text and not
# in the chat template (which TRL renders around every SFT row) received no gradient in any stage.
chars = [*range(33, 127), *range(161, 173), *range(174, 256)]
alphabet = {chr(b): b for b in chars}
alphabet.update({chr(256 + n): b for n, b in enumerate(b for b in range(256) if b not in chars)})
blob = "\\n".join(texts + [tokenizer.chat_template or ""]).encode()
def token_bytes(i):
    token = tokenizer.convert_ids_to_tokens(i)
    return bytes(alphabet[c] for c in token) if all(c in alphabet for c in token) else None
unused_old = [i for i in range(base_vocab) if token_bytes(i) is not None and token_bytes(i) not in blob]
used_new = sorted({i for text in texts for i in tokenizer(text)["input_ids"] if i >= base_vocab})
scale = before[unused_old].abs().max()
drift = ((after[unused_old] - before[unused_old]).abs().amax(dim=1) / scale)
kept = (drift < 2e-3).float().mean().item()
drift = drift.median().item()
moved = (after[used_new] - before[used_new]).abs().max().item()
print(json.dumps({"rows": after.shape[0], "vocab_size": model.config.vocab_size, "tokenizer": len(tokenizer), "lora_left": any("lora" in n for n, _ in model.named_parameters()),
  "unused_old": len(unused_old), "drift": drift, "kept": kept, "moved": moved}))
`;
		// Every string of every file any stage read.
		const strings: string[] = [];
		for (const file of plan.stages.flatMap((s) => [...(s.train ?? []), ...(s.validation ?? [])].map((f) => f.file))) {
			for (const line of (await readFile(file, "utf8")).split("\n").filter(Boolean)) strings.push(...collectStrings(JSON.parse(line)));
		}
		const out = JSON.parse(ref?.run(["-c", script, fixture.model, merged, String(fixture.baseVocabSize)], { input: JSON.stringify(strings), env: { CUDA_VISIBLE_DEVICES: "" } }).stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, number | boolean | string>;
		expect(out).toMatchObject({ rows: fixture.rows, vocab_size: fixture.rows, tokenizer: fixture.vocabSize, lora_left: false });
		expect(JSON.parse(await readFile(join(merged, "tokenizer_config.json"), "utf8"))).toMatchObject({ tokenizer_class: "PreTrainedTokenizerFast" });
		expect(out.unused_old as number).toBeGreaterThan(10);
		// Adam moves a row only through its gradient; rows of tokens no training text contains only decay (wd 0.01, ≤ 48 steps).
		// (median relative change, and the share of such rows within 2e-3: the byte test above is necessary, not sufficient)
		expect(out.drift as number).toBeLessThan(2e-3);
		expect(out.kept as number).toBeGreaterThan(0.9);
		expect(out.moved as number).toBeGreaterThan(1e-2);
	});

	it("should tokenize TCOT lines, [INST] prompts and indented code in training exactly as the runtime does", async () => {
		const merged = join(dir, "plan", "merged", "trl");
		const { tokenizer } = await loadTokenizer({ tokenizer: join(merged, "tokenizer.json"), tokenizerConfig: join(merged, "tokenizer_config.json") });
		const lines = [...tcotLines, "[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nเมืองหลวงของประเทศไทยอยู่ที่ไหน [/INST]", "    def f(x):\n        return x  # indented", "\tconst y = 1;"];
		expect(tcotLines.length).toBeGreaterThan(5);
		const python = JSON.parse(
			ref?.run(["-c", "import json,sys\nfrom transformers import AutoTokenizer\nt=AutoTokenizer.from_pretrained(sys.argv[1])\nprint(json.dumps([t(x, add_special_tokens=True)['input_ids'] for x in json.loads(sys.stdin.read())]))", merged], { input: JSON.stringify(lines) }).stdout.trim().split("\n").at(-1) ?? "[]",
		) as number[][];
		expect(python).toEqual(lines.map((line) => tokenizer.encode(line)));
		expect(python[0]).toContain(tokenizer.tokenToId("<EN>"));
	});

	it("should train CLO with the exact loss: every logged batch's loss equals cloObjective on the same log-probabilities, and is not DPO's", async () => {
		const out = join(dir, "plan", "checkpoints", "trl", "clo");
		const batches = (await readFile(join(out, "clo_log.jsonl"), "utf8"))
			.split("\n")
			.filter(Boolean)
			.map((line) => JSON.parse(line) as { mode: string; step: number; beta: number; lambda: number; policy_chosen: number[]; policy_rejected: number[]; reference_chosen: number[]; reference_rejected: number[]; chosen_tokens: number[]; l_clo: number });
		const train = batches.filter((b) => b.mode === "train");
		expect(train).toHaveLength(8);
		const history = JSON.parse(await readFile(join(out, "log_history.json"), "utf8")) as LogEntry[];
		let worst = 0;
		for (const batch of train) {
			// Rows 2i and 2i+1 of a batch are pair i's English row and its target row (the layout clo pairs writes).
			const pairs: CloPairLogprobs[] = [];
			const sequence = (sum: number, tokens: number) => ({ sum, tokens });
			for (let i = 0; i < batch.policy_chosen.length; i += 2) {
				const side = (chosen: number[], rejected: number[]) => ({
					enGivenEn: sequence(chosen[i] as number, batch.chosen_tokens[i] as number),
					targetGivenEn: sequence(rejected[i] as number, 1),
					targetGivenTarget: sequence(chosen[i + 1] as number, batch.chosen_tokens[i + 1] as number),
					enGivenTarget: sequence(rejected[i + 1] as number, 1),
				});
				pairs.push({ policy: side(batch.policy_chosen, batch.policy_rejected), reference: side(batch.reference_chosen, batch.reference_rejected) });
			}
			const objective = cloObjective(pairs, { beta: batch.beta, lambda: batch.lambda });
			worst = Math.max(worst, Math.abs(objective.lClo - batch.l_clo));
			expect(objective.lClo).toBeCloseTo(batch.l_clo, 5);
			// The loss the Trainer logged for this optimizer step is the one computed here (logging_steps 1).
			const logged = history.find((e) => e.step === batch.step + 1 && e.loss !== undefined);
			expect(logged?.loss).toBeCloseTo(batch.l_clo, 3);
			// Plain DPO (TRL's default, what the old recipe silently ran) would be the mean of −log σ(z) over all rows.
			const z = batch.policy_chosen.map((_, r) => batch.beta * (batch.policy_chosen[r] as number) - batch.beta * (batch.reference_chosen[r] as number) - batch.beta * ((batch.policy_rejected[r] as number) - (batch.reference_rejected[r] as number)));
			const dpo = -z.reduce((a, v) => a + logSigmoid(v), 0) / z.length;
			expect(Math.abs(dpo - batch.l_clo)).toBeGreaterThan(0.1);
		}
		console.info(`train end-to-end: CLO logged loss vs cloObjective over ${train.length} batches: max |Δ| = ${worst.toExponential(2)}`);
		const merged = JSON.parse(ref?.run(["-c", "import json,sys\nfrom transformers import AutoModelForCausalLM\nm=AutoModelForCausalLM.from_pretrained(sys.argv[1])\nprint(json.dumps({'rows': m.get_input_embeddings().weight.shape[0]}))", join(dir, "plan", "merged", "trl-clo")]).stdout.trim().split("\n").at(-1) ?? "{}") as { rows: number };
		expect(merged.rows).toBe(fixture.rows);
	});

	it("should train PROM's pivoted objective from decoder layer n's output, normalised once also for n = L", async () => {
		const history = JSON.parse(await readFile(join(dir, "plan", "checkpoints", "trl", "prom", "log_history.json"), "utf8")) as (LogEntry & Record<string, number>)[];
		const steps = history.filter((e) => e.loss !== undefined);
		expect(steps).toHaveLength(8);
		for (const e of steps) {
			expect(e["prom/loss_e"]).toBeGreaterThan(0);
			expect(e.loss).toBeCloseTo(0.1 * (e["prom/loss_e"] as number) + (e["prom/loss_t"] as number), 3);
		}
		// n = L = 2: h_n from the hook, through a copy of the final norm and LM head, must give the model's own logits;
		// transformers' hidden_states[L] is already normalised, so the old recipe normalised twice.
		const check = `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
from transllm_train import pivot_hidden
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(sys.argv[2]).eval()
ids = torch.tensor([[1, 40, 41, 42, 43, 44]])
with torch.no_grad():
    h, out = pivot_hidden(model, model.config.num_hidden_layers, ids, torch.ones_like(ids))
    hook = (model.lm_head(model.model.norm(h)) - out.logits).abs().max().item()
    states = model(input_ids=ids, output_hidden_states=True).hidden_states[-1]
    twice = (model.lm_head(model.model.norm(states)) - out.logits).abs().max().item()
print(json.dumps({"hook": hook, "twice": twice}))
`;
		const result = JSON.parse(ref?.run(["-c", check, join(dir, "plan", "trl"), join(dir, "plan", "merged", "trl-prom")]).stdout.trim().split("\n").at(-1) ?? "{}") as { hook: number; twice: number };
		expect(result.hook).toBeLessThan(1e-5);
		expect(result.twice).toBeGreaterThan(1e-3);
	});

	it.skipIf(!exportModel)("should close the loop: export before/after to ONNX, generate TCOT outputs for the held-out demo queries, score forgetting", async () => {
		const exportTo = exportModel as (params: { model: string; out: string; precision?: "fp32" | "fp16" }) => Promise<unknown>;
		const before = join(dir, "onnx-before");
		const after = join(dir, "onnx-after");
		await exportTo({ model: fixture.model, out: before });
		await exportTo({ model: join(dir, "plan", "merged", "trl"), out: after });
		// The held-out split (never trained on): its TCOT instances give Thai queries, its recovery-KD instances the
		// English pairs of the forgetting metric P(y | x) (TransLLM Table 8).
		const validation = (await readFile(validationFile, "utf8"))
			.split("\n")
			.filter(Boolean)
			.map((line) => (JSON.parse(line) as { messages: { role: string; content: string }[] }).messages);
		const queries = validation.filter((m) => m.at(-1)?.content.startsWith("<EN>")).map((m) => m.find((x) => x.role === "user")?.content ?? "");
		const kd = validation.filter((m) => m.at(-1)?.content.startsWith("<RESPONSE>")).map((m) => ({ prompt: [{ role: "user" as const, content: m.find((x) => x.role === "user")?.content ?? "" }], response: m.at(-1)?.content ?? "" }));
		expect(queries.length).toBeGreaterThan(0);
		expect(kd.length).toBeGreaterThan(0);
		const scores: Record<string, number> = {};
		let complete = 0;
		let marked = 0;
		for (const [name, onnx] of [["before", before], ["after", after]] as const) {
			const model = await loadModel(onnx, { executionProvider: "cpu" });
			try {
				const results = await model.score({ pairs: kd, appendEos: true });
				scores[name] = results.reduce((a, r) => a + r.mean, 0) / results.length;
				if (name === "after") {
					const outputs = await model.generate({ prompts: queries.map((query) => [{ role: "user" as const, content: query }]), maxNewTokens: 160 });
					const parsed = outputs.map((o) => parseTcotOutput(o.text, { lang: "th" }));
					complete = parsed.filter((p) => p.complete && p.mode === "tcot").length;
					marked = outputs.filter((o) => o.text.trimStart().startsWith("<EN>")).length;
				}
			} finally {
				await model.dispose();
			}
		}
		console.info(
			`train end-to-end, loop closed: ${complete}/${queries.length} held-out Thai demo queries came back as complete TCOT outputs (${marked} began with <EN>); ` +
				`mean per-token log P(y|x) on ${kd.length} held-out English KD pairs: before ${scores.before?.toFixed(3)}, after ${scores.after?.toFixed(3)}`,
		);
		// Reported, not asserted: a 2-layer model after 36 steps need not have learned the marker format.
		expect(marked).toBeLessThanOrEqual(queries.length);
		expect(Number.isFinite(scores.before) && Number.isFinite(scores.after)).toBe(true);
	});
});

function collectStrings(value: unknown): string[] {
	if (typeof value === "string") return [value];
	if (Array.isArray(value)) return value.flatMap(collectStrings);
	if (value && typeof value === "object") return Object.values(value).flatMap(collectStrings);
	return [];
}
