import { copyFile, mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, readJsonFile, writeFileAtomic, writeJsonAtomic } from "@transllm/core";
import { tcotSpecialTokens } from "@transllm/tcot";
import { CHAT_LAYOUTS, type DataLayout, datasetInfoEntry, detectLayout, PREFERENCE_LAYOUTS, requireLayout, TEXT_LAYOUTS } from "./data-files.js";
import { assertLlamaFactoryKeys } from "./llamafactory-fields.js";
import {
	cloConfig,
	deepspeedZero2,
	type LlamaFactoryConfig,
	type LlamaFactoryStageParams,
	mergeConfig,
	promConfig,
	renderYaml,
	targetPretrainingConfig,
	transferFinetuningConfig,
	translationPretrainingConfig,
	type WarmupKey,
} from "./llamafactory-config.js";
import { CLO_OBJECTIVE, type LoraSettings, STAGE_DEFAULTS, type StageHyperparameters, type StageName, TRANSLLM_LORA } from "./paper-settings.js";
import { checkVocabulary, type VocabularyReport } from "./vocabulary-check.js";

export type TrainingEngine = "llamafactory" | "trl";

/** Everything a training plan is made from; the CLI flags of `transllm train plan` map onto it one to one. */
export interface TrainingPlanOptions {
	/** The vocabulary-extended, embedding-resized checkpoint (`transllm tokenizer extend` + `resize-embeddings`). */
	model: string;
	/** Plan directory (created). */
	out: string;
	/** Target language code (its TCOT token, e.g. <TH>, must be in the tokenizer). */
	lang: string;
	/** LLaMA-Factory template of the chat model (llama2, llama3, …); the TRL engine uses the tokenizer's chat template. */
	template: string;
	/** Stage 1 data: target-language documents, {text} JSONL (`transllm corpus clean`). */
	targetText?: readonly string[];
	/** Stage 2 data: translation pre-training text, {text} JSONL (`transllm tcot build`'s translation_pretraining.jsonl). */
	translationText?: readonly string[];
	/** Stage 3 data: the TCOT / recovery-KD / translation mix (`transllm tcot build`'s train.jsonl). */
	transferTrain?: readonly string[];
	/** Stage 3 validation: the 2K held-out queries (`transllm tcot build`'s validation.jsonl). */
	transferValidation?: readonly string[];
	/** The CLO option: pairs written by `transllm clo pairs` (LLaMA-Factory pairwise or TRL standard rows). */
	clo?: { train: string; validation?: string; beta?: number; lambda?: number };
	/** The PROM option: the directory written by `transllm pivot-data` (english.jsonl, target.jsonl, settings.json). */
	prom?: { dir: string };
	/** Engines to write files for (default both). */
	engines?: readonly TrainingEngine[];
	/** Use DeepSpeed ZeRO-2 (App. A.2; default true). */
	deepspeed?: boolean;
	/** System prompt of the chat template for the SFT stages (default: the template's own). */
	systemPrompt?: string;
	/** How the LLaMA-Factory YAMLs write the warm-up ratio (default `ratio`; `steps` for transformers ≥ 5). */
	warmupKey?: WarmupKey;
	/** Per-stage changes to the paper's hyper-parameters (e.g. max_steps for a smoke run). */
	overrides?: Partial<Record<StageName, Partial<StageHyperparameters>>>;
	/** Changes to TransLLM's LoRA (App. A.1). */
	lora?: Partial<LoraSettings>;
	/** Refuse to write a plan whose checkpoint fails `checkVocabulary` (default true). */
	check?: boolean;
}

/** One stage of a plan, as both engines run it. */
export interface PlannedStage {
	name: StageName | "merge" | "clo_merge" | "prom_merge";
	/** The model the stage loads. */
	model: string;
	/** The adapter it continues (stages 2–3) or merges. */
	adapter?: string;
	outputDir: Record<TrainingEngine, string>;
	hyperparameters?: StageHyperparameters;
	train?: { file: string; layout: DataLayout }[];
	validation?: { file: string; layout: DataLayout }[];
	/** Files written for it, by engine. */
	files: Partial<Record<TrainingEngine, string>>;
}

export interface TrainingPlan {
	out: string;
	vocabulary: VocabularyReport;
	stages: PlannedStage[];
	/** Shell scripts that run the plan, by engine. */
	run: Partial<Record<TrainingEngine, string>>;
	settings: string;
}

const require = createRequire(import.meta.url);
/** The TRL script shipped in this package (a data file, `python/transllm_train.py`). */
export const TRL_SCRIPT = fileURLToPath(new URL("../python/transllm_train.py", import.meta.url));
/** clo_trainer.py and train_clo.py ship with @transllm/clo: the plan copies them, the code lives there once. */
export function cloRecipe(name: "clo_trainer.py" | "train_clo.py"): string {
	return join(dirname(require.resolve("@transllm/clo/package.json")), "recipes", name);
}

async function files(paths: readonly string[] | undefined, accepted: readonly DataLayout[], stage: string): Promise<{ file: string; layout: DataLayout }[]> {
	const out: { file: string; layout: DataLayout }[] = [];
	for (const path of paths ?? []) {
		const file = resolve(path);
		const layout = await detectLayout(file);
		requireLayout(file, layout, accepted, stage);
		out.push({ file, layout });
	}
	return out;
}

function hyperparameters(stage: StageName, options: TrainingPlanOptions): StageHyperparameters {
	const merged = { ...STAGE_DEFAULTS[stage], ...options.overrides?.[stage] };
	for (const [key, value] of Object.entries(merged)) {
		if (typeof value === "number" && !Number.isFinite(value)) throw new ConfigError(`${stage}.${key} must be a finite number`);
	}
	return merged;
}

/**
 * Writes a training plan: for each TransLLM stage (and the CLO / PROM options when their data is given) the
 * LLaMA-Factory YAML and the TRL settings, the merge, the DeepSpeed ZeRO-2 JSON, dataset_info.json and one run
 * script per engine. Every YAML is checked against LLaMA-Factory's field list before it is written, and the
 * checkpoint's vocabulary against the tokenizer (`checkVocabulary`).
 */
export async function writeTrainingPlan(options: TrainingPlanOptions): Promise<TrainingPlan> {
	const out = resolve(options.out);
	const model = resolve(options.model);
	const engines = options.engines ?? ["llamafactory", "trl"];
	const specialTokens = tcotSpecialTokens([options.lang]);
	const vocabulary = await checkVocabulary({ model, specialTokens });
	if ((options.check ?? true) && !vocabulary.ok) throw new ConfigError(`${model}: the vocabulary does not agree, so training or the merge would resize the embeddings:\n- ${vocabulary.problems.join("\n- ")}`);
	const lora: LoraSettings = { ...TRANSLLM_LORA, ...options.lora };
	const data = {
		target: await files(options.targetText, TEXT_LAYOUTS, "target-language pre-training"),
		translation: await files(options.translationText, TEXT_LAYOUTS, "translation pre-training"),
		transfer: await files(options.transferTrain, CHAT_LAYOUTS, "transfer fine-tuning"),
		transferValidation: await files(options.transferValidation, CHAT_LAYOUTS, "transfer fine-tuning validation"),
		clo: options.clo ? await files([options.clo.train], PREFERENCE_LAYOUTS, "CLO") : [],
		cloValidation: options.clo?.validation ? await files([options.clo.validation], PREFERENCE_LAYOUTS, "CLO validation") : [],
		promTarget: options.prom ? await files([join(options.prom.dir, "target.jsonl")], CHAT_LAYOUTS, "PROM") : [],
		promEnglish: options.prom ? await files([join(options.prom.dir, "english.jsonl")], CHAT_LAYOUTS, "PROM") : [],
	};
	if (data.target.length === 0 || data.translation.length === 0 || data.transfer.length === 0) {
		throw new ConfigError("a plan needs the data of all three TransLLM stages: targetText (--target-text), translationText (--translation-text) and transferTrain (--transfer-train)");
	}
	const promSettings = options.prom ? await readJsonFile<{ pivot_layer: number; label_smoothing: number; lambda: number }>(join(options.prom.dir, "settings.json"), "PROM settings.json") : undefined;

	await mkdir(out, { recursive: true });
	// dataset_info.json: one entry per file, file_name absolute (LLaMA-Factory joins it onto dataset_dir).
	const datasetInfo: Record<string, unknown> = {};
	const register = (prefix: string, list: { file: string; layout: DataLayout }[]): string[] =>
		list.map(({ file, layout }, index) => {
			const name = `${prefix}${list.length > 1 ? `_${index + 1}` : ""}`;
			datasetInfo[name] = datasetInfoEntry(file, layout);
			return name;
		});
	const names = {
		target: register("transllm_target_text", data.target),
		translation: register("transllm_translation_text", data.translation),
		transfer: register("transllm_transfer_train", data.transfer),
		transferValidation: register("transllm_transfer_validation", data.transferValidation),
		clo: register("transllm_clo_train", data.clo),
		cloValidation: register("transllm_clo_validation", data.cloValidation),
		promTarget: register("transllm_prom_target", data.promTarget),
	};
	await writeJsonAtomic(join(out, "dataset_info.json"), datasetInfo);
	const deepspeed = options.deepspeed ?? true;
	const deepspeedFile = join(out, "ds_z2_config.json");
	await writeJsonAtomic(deepspeedFile, deepspeedZero2());

	const dirs = (name: string): Record<TrainingEngine, string> => ({ llamafactory: join(out, "checkpoints", "llamafactory", name), trl: join(out, "checkpoints", "trl", name) });
	const merged = { llamafactory: join(out, "merged", "llamafactory"), trl: join(out, "merged", "trl") };
	const stages: PlannedStage[] = [
		{ name: "target_pretraining", model, outputDir: dirs("1_target_pretraining"), hyperparameters: hyperparameters("target_pretraining", options), train: data.target, files: {} },
		{ name: "translation_pretraining", model, outputDir: dirs("2_translation_pretraining"), hyperparameters: hyperparameters("translation_pretraining", options), train: data.translation, files: {} },
		{ name: "transfer_finetuning", model, outputDir: dirs("3_transfer_finetuning"), hyperparameters: hyperparameters("transfer_finetuning", options), train: data.transfer, validation: data.transferValidation, files: {} },
		{ name: "merge", model, outputDir: merged, files: {} },
	];
	if (options.clo) {
		stages.push({ name: "clo", model: merged.trl, outputDir: dirs("clo"), hyperparameters: hyperparameters("clo", options), train: data.clo, validation: data.cloValidation, files: {} });
		stages.push({ name: "clo_merge", model: merged.trl, outputDir: { llamafactory: join(out, "merged", "llamafactory-clo"), trl: join(out, "merged", "trl-clo") }, files: {} });
	}
	if (options.prom) {
		stages.push({ name: "prom", model: merged.trl, outputDir: dirs("prom"), hyperparameters: hyperparameters("prom", options), train: data.promTarget, validation: [], files: {} });
		stages.push({ name: "prom_merge", model: merged.trl, outputDir: { llamafactory: join(out, "merged", "llamafactory-prom"), trl: join(out, "merged", "trl-prom") }, files: {} });
	}

	const run: Partial<Record<TrainingEngine, string>> = {};
	if (engines.includes("llamafactory")) {
		const dir = join(out, "llamafactory");
		await mkdir(dir, { recursive: true });
		const commands: string[] = [];
		const byName = (name: string) => stages.find((s) => s.name === name) as PlannedStage;
		const stageParams = (stage: PlannedStage, dataset: string[], evalDataset: string[], adapter?: string, base = model): LlamaFactoryStageParams => ({
			model: base,
			template: options.template,
			datasetDir: out,
			dataset,
			evalDataset,
			outputDir: stage.outputDir.llamafactory,
			adapter,
			deepspeed: deepspeed ? deepspeedFile : undefined,
			hyperparameters: stage.hyperparameters as StageHyperparameters,
			lora,
			systemPrompt: options.systemPrompt,
			warmupKey: options.warmupKey,
		});
		const write = async (stage: PlannedStage, file: string, built: LlamaFactoryConfig, command: "train" | "export", header: string, launch: string) => {
			const path = join(dir, file);
			assertLlamaFactoryKeys(built.config, command, path);
			await writeFileAtomic(path, renderYaml(built.sections, header));
			stage.files.llamafactory = path;
			commands.push(`${launch} ${JSON.stringify(path)}`);
		};
		const s1 = byName("target_pretraining");
		const s2 = byName("translation_pretraining");
		const s3 = byName("transfer_finetuning");
		const header = (what: string) => `${what}\nWritten by transllm train plan (@transllm/train) for LLaMA-Factory ≥ 0.9.3. Run from any directory.`;
		await write(s1, "1_target_pretraining.yaml", targetPretrainingConfig(stageParams(s1, names.target, [])), "train", header("TransLLM stage 1: target-language pre-training"), "llamafactory-cli train");
		await write(s2, "2_translation_pretraining.yaml", translationPretrainingConfig(stageParams(s2, names.translation, [], s1.outputDir.llamafactory)), "train", header("TransLLM stage 2: translation pre-training"), "llamafactory-cli train");
		await write(s3, "3_transfer_finetuning.yaml", transferFinetuningConfig(stageParams(s3, names.transfer, names.transferValidation, s2.outputDir.llamafactory)), "train", header("TransLLM stage 3: transfer fine-tuning"), "llamafactory-cli train");
		await write(byName("merge"), "4_merge.yaml", mergeConfig({ model, adapter: s3.outputDir.llamafactory, template: options.template, exportDir: merged.llamafactory }), "export", header("Merge the stage 3 adapter into the checkpoint (llamafactory-cli export)"), "llamafactory-cli export");
		if (options.clo) {
			const clo = byName("clo");
			const params = stageParams(clo, names.clo, names.cloValidation, undefined, merged.llamafactory);
			params.lora = { ...lora, target: CLO_OBJECTIVE.target, fullyTrained: [] };
			await copyFile(cloRecipe("clo_trainer.py"), join(dir, "clo_trainer.py"));
			await copyFile(cloRecipe("train_clo.py"), join(dir, "train_clo.py"));
			await write(clo, "clo.yaml", cloConfig({ ...params, beta: options.clo.beta, lambda: options.clo.lambda }), "train", header("CLO option on the merged TransLLM model: run with train_clo.py (exact loss), not llamafactory-cli train"), `python ${JSON.stringify(join(dir, "train_clo.py"))}`);
			await write(byName("clo_merge"), "clo_merge.yaml", mergeConfig({ model: merged.llamafactory, adapter: clo.outputDir.llamafactory, template: options.template, exportDir: byName("clo_merge").outputDir.llamafactory }), "export", header("Merge the CLO adapter"), "llamafactory-cli export");
		}
		if (options.prom && promSettings && promSettings.lambda === 0) {
			const prom = byName("prom");
			await write(prom, "prom.yaml", promConfig({ ...stageParams(prom, names.promTarget, [], undefined, merged.llamafactory), lambda: 0 }), "train", header("PROM option (λ = 0: plain SFT on the target rows)"), "llamafactory-cli train");
			await write(byName("prom_merge"), "prom_merge.yaml", mergeConfig({ model: merged.llamafactory, adapter: prom.outputDir.llamafactory, template: options.template, exportDir: byName("prom_merge").outputDir.llamafactory }), "export", header("Merge the PROM adapter"), "llamafactory-cli export");
		}
		run.llamafactory = join(out, "run_llamafactory.sh");
		await writeFileAtomic(run.llamafactory, `#!/bin/sh\n# TransLLM with LLaMA-Factory (written by transllm train plan). Multi-GPU: FORCE_TORCHRUN=1 is set by llamafactory-cli.\nset -e\n${commands.join("\n")}\n`);
	}

	const settings = join(out, "trl", "settings.json");
	await mkdir(dirname(settings), { recursive: true });
	await writeJsonAtomic(settings, {
		model,
		lang: options.lang,
		special_tokens: specialTokens,
		system_prompt: options.systemPrompt ?? null,
		vocabulary: { rows: vocabulary.embeddingRows, tokenizer_size: vocabulary.tokenizerSize },
		lora: { r: lora.rank, alpha: lora.alpha, dropout: lora.dropout, target_modules: lora.target, modules_to_save: lora.fullyTrained },
		clo: options.clo ? { beta: options.clo.beta ?? CLO_OBJECTIVE.beta, lambda: options.clo.lambda ?? CLO_OBJECTIVE.lambda, target_modules: CLO_OBJECTIVE.target } : null,
		prom: promSettings ? { pivot_layer: promSettings.pivot_layer, label_smoothing: promSettings.label_smoothing, lambda: promSettings.lambda, english: data.promEnglish.map((f) => f.file) } : null,
		deepspeed: deepspeed ? deepspeedFile : null,
		stages: stages.map((stage) => ({
			name: stage.name,
			model: stage.model,
			adapter: stage.name === "translation_pretraining" ? stages[0]?.outputDir.trl : stage.name === "transfer_finetuning" ? stages[1]?.outputDir.trl : stage.name.endsWith("merge") ? (stage.name === "merge" ? stages[2]?.outputDir.trl : stages.find((s) => s.name === stage.name.replace("_merge", ""))?.outputDir.trl) : null,
			output_dir: stage.outputDir.trl,
			hyperparameters: stage.hyperparameters ?? null,
			train: stage.train ?? [],
			validation: stage.validation ?? [],
		})),
	});
	if (engines.includes("trl")) {
		const dir = dirname(settings);
		await writeFileAtomic(join(dir, "transllm_train.py"), await readFile(TRL_SCRIPT, "utf8"));
		if (options.clo) await copyFile(cloRecipe("clo_trainer.py"), join(dir, "clo_trainer.py"));
		run.trl = join(out, "run_trl.sh");
		const steps = stages.map((s) => s.name).join(" ");
		await writeFileAtomic(
			run.trl,
			`#!/bin/sh\n# TransLLM with TRL + PEFT (written by transllm train plan). Many GPUs: accelerate launch --config_file <yours> ${JSON.stringify(join(dir, "transllm_train.py"))} ...\nset -e\npython ${JSON.stringify(join(dir, "transllm_train.py"))} --settings ${JSON.stringify(settings)} check\npython ${JSON.stringify(join(dir, "transllm_train.py"))} --settings ${JSON.stringify(settings)} ${steps}\n`,
		);
		for (const stage of stages) stage.files.trl = settings;
	}
	const plan: TrainingPlan = { out, vocabulary, stages, run, settings };
	await writeJsonAtomic(join(out, "plan.json"), plan);
	return plan;
}
