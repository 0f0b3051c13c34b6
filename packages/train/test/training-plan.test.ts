import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { buildLlamaFixture } from "@transllm/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
	checkVocabulary,
	LLAMAFACTORY_FIELDS,
	parseOverrides,
	promConfig,
	STAGE_DEFAULTS,
	trainCommands,
	type TrainingPlan,
	unknownLlamaFactoryKeys,
	writeTrainingPlan,
} from "../src/index.js";
import { buildDemoTcot, buildExtendedFixture, DEMO_DATA, type ExtendedFixture, writeDemoCloPairs } from "./e2e-fixture.js";

let dir: string;
let fixture: ExtendedFixture;
let tcot: Record<string, string>;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "transllm-train-plan-"));
	fixture = await buildExtendedFixture(dir);
	tcot = await buildDemoTcot(dir);
}, 120_000);

afterAll(async () => {
	if (dir) await rm(dir, { recursive: true, force: true });
});

const yamlOf = async (file: string | undefined) => parse(await readFile(file as string, "utf8")) as Record<string, unknown>;

describe("LLaMA-Factory field list", () => {
	it("should name the LLaMA-Factory commit and the transformers it came from, and reject the renamed key", () => {
		expect(LLAMAFACTORY_FIELDS.source.commit).toMatch(/^[0-9a-f]{40}$/);
		expect(LLAMAFACTORY_FIELDS.source.transformers).toBe("4.57.6");
		expect(unknownLlamaFactoryKeys({ new_special_tokens: "<EN>", add_special_tokens: "<EN>", resize_vocab: true }, "train")).toEqual(["new_special_tokens"]);
		// the merge (llamafactory-cli export) parses no training arguments
		expect(unknownLlamaFactoryKeys({ export_dir: "x", learning_rate: 1 }, "export")).toEqual(["learning_rate"]);
	});

	it("should accept every key tcot build and tokenizer extend write for LLaMA-Factory (issue 12: new_special_tokens)", async () => {
		expect(unknownLlamaFactoryKeys(await yamlOf(tcot.trainerArgs), "train")).toEqual([]);
		expect(unknownLlamaFactoryKeys(await yamlOf(join(fixture.model, "llamafactory.yaml")), "train")).toEqual([]);
	});
});

describe("writeTrainingPlan", () => {
	let plan: TrainingPlan;
	beforeAll(async () => {
		plan = await writeTrainingPlan({
			model: fixture.model,
			out: join(dir, "plan"),
			lang: "th",
			template: "llama2",
			targetText: [join(DEMO_DATA, "corpus.th.jsonl")],
			translationText: [tcot.pretraining as string],
			transferTrain: [tcot.train as string],
			transferValidation: [tcot.validation as string],
			clo: { train: await writeDemoCloPairs(dir) },
			systemPrompt: "You are a helpful assistant.",
		});
	}, 60_000);


	it("should write the paper's settings for each stage, cited, with LLaMA-Factory's current keys only", async () => {
		const [s1, s2, s3, merge, clo, cloMerge] = await Promise.all(["1_target_pretraining", "2_translation_pretraining", "3_transfer_finetuning", "4_merge", "clo", "clo_merge"].map((name) => yamlOf(join(dir, "plan", "llamafactory", `${name}.yaml`))));
		const lora = { finetuning_type: "lora", lora_rank: 64, lora_alpha: 128, lora_dropout: 0.05, lora_target: "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", additional_target: "embed_tokens,lm_head", resize_vocab: false };
		expect(s1).toMatchObject({ ...lora, stage: "pt", cutoff_len: 512, learning_rate: 2e-4, warmup_ratio: 0.0005, weight_decay: 0.01, num_train_epochs: 1, bf16: true, deepspeed: join(dir, "plan", "ds_z2_config.json"), template: "llama2" });
		expect(s1).not.toHaveProperty("adapter_name_or_path");
		expect(s2).toMatchObject({ ...lora, stage: "pt", adapter_name_or_path: plan.stages[0]?.outputDir.llamafactory, learning_rate: 2e-4, warmup_ratio: 0.05, val_size: 0.001, eval_steps: 400 });
		expect(s3).toMatchObject({ ...lora, stage: "sft", adapter_name_or_path: plan.stages[1]?.outputDir.llamafactory, cutoff_len: 2048, learning_rate: 1e-4, warmup_ratio: 0.01, weight_decay: 0, eval_dataset: "transllm_transfer_validation", eval_steps: 200, per_device_train_batch_size: 16, gradient_accumulation_steps: 4, default_system: "You are a helpful assistant." });
		expect(merge).toMatchObject({ model_name_or_path: fixture.model, adapter_name_or_path: plan.stages[2]?.outputDir.llamafactory, export_dir: join(dir, "plan", "merged", "llamafactory") });
		expect(clo).toMatchObject({ stage: "dpo", pref_beta: 0.1, pref_loss: "sigmoid", pref_ftx: 1, lora_rank: 64, lora_target: "q_proj,k_proj,v_proj,o_proj", disable_shuffling: true, learning_rate: 5e-5, cutoff_len: 3000, model_name_or_path: join(dir, "plan", "merged", "llamafactory") });
		expect(clo).not.toHaveProperty("additional_target");
		for (const [config, command] of [[s1, "train"], [s2, "train"], [s3, "train"], [clo, "train"], [merge, "export"], [cloMerge, "export"]] as const) {
			expect(unknownLlamaFactoryKeys(config as Record<string, unknown>, command)).toEqual([]);
			expect(config).not.toHaveProperty("add_special_tokens");
			expect(config).not.toHaveProperty("trust_remote_code");
		}
		const text = await readFile(join(dir, "plan", "llamafactory", "1_target_pretraining.yaml"), "utf8");
		expect(text).toMatch(/000_1ce36f3811662daf\.txt App\. A\.1/);
		expect(await readFile(join(dir, "plan", "llamafactory", "train_clo.py"), "utf8")).toMatch(/trainer\.CustomDPOTrainer = CLOTrainer/);
		expect(JSON.parse(await readFile(join(dir, "plan", "ds_z2_config.json"), "utf8"))).toMatchObject({ zero_optimization: { stage: 2 } });
	});

	it("should register every file in dataset_info.json with the columns of its layout", async () => {
		const info = JSON.parse(await readFile(join(dir, "plan", "dataset_info.json"), "utf8")) as Record<string, Record<string, unknown>>;
		expect(info.transllm_target_text).toEqual({ file_name: join(DEMO_DATA, "corpus.th.jsonl"), columns: { prompt: "text" } });
		expect(info.transllm_transfer_train).toMatchObject({ file_name: tcot.train, formatting: "sharegpt", columns: { messages: "conversations" } });
		expect(info.transllm_clo_train).toMatchObject({ ranking: true, columns: { prompt: "instruction", query: "input", chosen: "chosen", rejected: "rejected" } });
	});

	it("should write TRL settings from the same hyper-parameters, and run scripts", async () => {
		const settings = JSON.parse(await readFile(plan.settings, "utf8")) as { lora: Record<string, unknown>; stages: { name: string; adapter: string | null; hyperparameters: Record<string, unknown> | null }[] };
		expect(settings.lora).toEqual({ r: 64, alpha: 128, dropout: 0.05, target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], modules_to_save: ["embed_tokens", "lm_head"] });
		expect(settings.stages.map((s) => s.name)).toEqual(["target_pretraining", "translation_pretraining", "transfer_finetuning", "merge", "clo", "clo_merge"]);
		expect(settings.stages[1]?.adapter).toBe(join(dir, "plan", "checkpoints", "trl", "1_target_pretraining"));
		expect(settings.stages[3]?.adapter).toBe(join(dir, "plan", "checkpoints", "trl", "3_transfer_finetuning"));
		expect(settings.stages[2]?.hyperparameters).toMatchObject({ learning_rate: 1e-4, warmup_ratio: 0.01, cutoff_len: 2048 });
		expect(await readFile(plan.run.trl as string, "utf8")).toMatch(/transllm_train\.py" --settings .* target_pretraining translation_pretraining transfer_finetuning merge clo clo_merge/);
		expect(await readFile(plan.run.llamafactory as string, "utf8")).toMatch(/llamafactory-cli train .*1_target_pretraining\.yaml"\nllamafactory-cli train .*2_translation/);
	});

	it("should refuse PROM with λ > 0 for LLaMA-Factory, which has no hook for the pivot head", () => {
		expect(() => promConfig({ model: "m", template: "llama2", datasetDir: "d", dataset: ["x"], outputDir: "o", hyperparameters: STAGE_DEFAULTS.prom, lambda: 0.1 })).toThrow(/TRL engine/);
	});
});

describe("checkVocabulary", () => {
	it("should pass the extended, padded checkpoint and name what would resize in others", async () => {
		const good = await checkVocabulary({ model: fixture.model, specialTokens: ["<EN>", "<RESPONSE>", "<TH>"] });
		expect(good).toMatchObject({ ok: true, tokenizerSize: fixture.vocabSize, embeddingRows: fixture.rows, configVocabSize: fixture.rows, problems: [] });
		expect(fixture.rows % 64).toBe(0);
		// the fixture before extension: no TCOT tokens
		const base = await checkVocabulary({ model: fixture.base, specialTokens: ["<EN>", "<RESPONSE>", "<TH>"] });
		expect(base.ok).toBe(false);
		expect(base.problems.join("\n")).toMatch(/lacks the special tokens <EN>, <RESPONSE>, <TH>/);
		// a tokenizer larger than the embeddings (extended but not resized): LLaMA-Factory would pad to 64 in training only
		const small = join(dir, "not-resized");
		await buildLlamaFixture({ dir: small, layers: 1, hidden: 16, heads: 2, kvHeads: 1, intermediate: 32, vocab: fixture.baseVocabSize });
		await writeFile(join(small, "tokenizer.json"), await readFile(join(fixture.model, "tokenizer.json")));
		const config = JSON.parse(await readFile(join(fixture.model, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
		await writeFile(join(small, "tokenizer_config.json"), JSON.stringify({ ...config, tokenizer_class: "LlamaTokenizer" }));
		const report = await checkVocabulary({ model: small, specialTokens: ["<TH>"] });
		expect(report.ok).toBe(false);
		expect(report.problems.join("\n")).toMatch(/ids up to \d+ but the embeddings have 512 rows.*resize-embeddings --pad-to-multiple-of 64/);
		expect(report.problems.join("\n")).toMatch(/LlamaTokenizer.*PreTrainedTokenizerFast/);
		await expect(writeTrainingPlan({ model: small, out: join(dir, "refused"), lang: "th", template: "llama2", targetText: [join(DEMO_DATA, "corpus.th.jsonl")] })).rejects.toThrow(/would resize the embeddings/);
	});
});

describe("transllm train CLI", () => {
	const sink = () => {
		let text = "";
		return { stream: new Writable({ write: (chunk, _e, done) => ((text += String(chunk)), done()) }), text: () => text };
	};
	it("train check: exit 0 and 'nothing resizes' for the resized checkpoint, 1 with the problem for the base", async () => {
		const check = trainCommands.check as Extract<(typeof trainCommands)[string], { run: unknown }>;
		const out = sink();
		expect(await check.run({ values: { model: fixture.model, lang: "th" }, positionals: [] }, { stdout: out.stream, stderr: out.stream })).toBe(0);
		expect(out.text()).toMatch(/ok: training .* nothing resizes/);
		const bad = sink();
		expect(await check.run({ values: { model: fixture.base, lang: "th" }, positionals: [] }, { stdout: bad.stream, stderr: bad.stream })).toBe(1);
		expect(bad.text()).toMatch(/not ok:\n- tokenizer.json lacks the special tokens <EN>, <RESPONSE>, <TH>/);
	});

	it("train plan: flags map onto the options (--max-steps, --set, --engine, --no-deepspeed)", async () => {
		const plan = trainCommands.plan as Extract<(typeof trainCommands)[string], { run: unknown }>;
		const out = sink();
		await plan.run(
			{
				values: {
					model: fixture.model,
					out: join(dir, "cli-plan"),
					lang: "th",
					template: "llama2",
					"target-text": [join(DEMO_DATA, "corpus.th.jsonl")],
					"translation-text": [tcot.pretraining as string],
					"transfer-train": [tcot.train as string],
					engine: "llamafactory",
					"no-deepspeed": true,
					"max-steps": "5",
					set: ["transfer_finetuning.learning_rate=5e-5"],
				},
				positionals: [],
			},
			{ stdout: out.stream, stderr: out.stream },
		);
		expect(out.text()).toMatch(/no stage will resize/);
		const s3 = await yamlOf(join(dir, "cli-plan", "llamafactory", "3_transfer_finetuning.yaml"));
		expect(s3).toMatchObject({ learning_rate: 5e-5, max_steps: 5 });
		expect(s3).not.toHaveProperty("deepspeed");
		expect(s3).not.toHaveProperty("eval_dataset");
		await expect(readFile(join(dir, "cli-plan", "run_trl.sh"))).rejects.toThrow();
		expect(() => parseOverrides(["transfer_finetuning.lerning_rate=1"])).toThrow(/unknown setting "lerning_rate"/);
	});
});
