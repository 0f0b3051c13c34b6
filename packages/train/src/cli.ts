import { ConfigError, choiceOption, fileListOption, listOption, numberOption, optionalString, stringOption } from "@transllm/core";
import type { CommandTable } from "@transllm/core";
import { tcotSpecialTokens } from "@transllm/tcot";
import { STAGE_DEFAULTS, type StageHyperparameters, type StageName } from "./paper-settings.js";
import { type TrainingEngine, writeTrainingPlan } from "./training-plan.js";
import { verifyLlamaFactoryPlan } from "./verify-llamafactory.js";
import { checkVocabulary } from "./vocabulary-check.js";

const STAGE_NAMES = Object.keys(STAGE_DEFAULTS) as StageName[];

/** `--set stage.key=value` (repeatable) and `--max-steps` as per-stage overrides of the paper's settings. */
export function parseOverrides(sets: readonly string[], maxSteps?: number): Partial<Record<StageName, Partial<StageHyperparameters>>> {
	const overrides: Partial<Record<StageName, Record<string, unknown>>> = {};
	if (maxSteps !== undefined) for (const stage of STAGE_NAMES) overrides[stage] = { max_steps: maxSteps };
	for (const item of sets) {
		const match = /^([a-z_]+)\.([a-z_]+)=(.+)$/.exec(item.trim());
		if (!match) throw new ConfigError(`--set must look like stage.key=value (e.g. transfer_finetuning.learning_rate=5e-5), got "${item}"`);
		const [, stage, key, raw] = match as unknown as [string, StageName, string, string];
		if (!STAGE_NAMES.includes(stage)) throw new ConfigError(`--set ${item}: unknown stage "${stage}" (${STAGE_NAMES.join(", ")})`);
		const known = new Set([...Object.keys(STAGE_DEFAULTS[stage]), "max_steps", "eval_steps", "val_size", "lr_scheduler_kwargs"]);
		if (!known.has(key)) throw new ConfigError(`--set ${item}: unknown setting "${key}" (${[...known].join(", ")})`);
		let value: unknown;
		try {
			value = JSON.parse(raw);
		} catch {
			value = raw;
		}
		(overrides[stage] ??= {})[key] = value;
	}
	return overrides as Partial<Record<StageName, Partial<StageHyperparameters>>>;
}

/** `transllm train plan` and `transllm train check`. */
export const trainCommands: CommandTable = {
	plan: {
		description: "Write the training hand-off: per-stage LLaMA-Factory YAMLs and TRL settings (TransLLM App. A.2), the merge, DeepSpeed ZeRO-2, dataset_info.json, run scripts",
		options: {
			model: { type: "string", description: "the vocabulary-extended, embedding-resized checkpoint (tokenizer extend + resize-embeddings)", valueName: "<dir>", required: true },
			out: { type: "string", description: "plan directory", valueName: "<dir>", required: true },
			lang: { type: "string", description: "target language code (its TCOT token must be in the tokenizer)", valueName: "<code>", required: true },
			template: { type: "string", description: "LLaMA-Factory template of the chat model (llama2, llama3, mistral, qwen, …)", valueName: "<name>", required: true },
			"target-text": { type: "string", description: "stage 1 data: target-language documents, {text} JSONL (corpus clean); repeatable", valueName: "<file>", multiple: true, required: true },
			"translation-text": { type: "string", description: "stage 2 data: translation pre-training text, {text} JSONL (tcot build); repeatable", valueName: "<file>", multiple: true, required: true },
			"transfer-train": { type: "string", description: "stage 3 data: the TCOT/KD/translation mix (tcot build train.jsonl, sharegpt or messages); repeatable", valueName: "<file>", multiple: true, required: true },
			"transfer-validation": { type: "string", description: "stage 3 validation: the 2K held-out split (tcot build validation.jsonl); repeatable", valueName: "<file>", multiple: true },
			"clo-train": { type: "string", description: "CLO option: pairs from clo pairs (clo_<lang>.jsonl or trl_standard.jsonl)", valueName: "<file>" },
			"clo-validation": { type: "string", description: "CLO option: validation pairs", valueName: "<file>" },
			"clo-beta": { type: "string", description: "CLO β (App. B: 0.1)", valueName: "<x>" },
			"clo-lambda": { type: "string", description: "CLO λ (App. B: 0.5)", valueName: "<x>" },
			prom: { type: "string", description: "PROM option: the directory written by pivot-data (english.jsonl, target.jsonl, settings.json)", valueName: "<dir>" },
			engine: { type: "string", description: "llamafactory and/or trl (comma-separated)", default: "llamafactory,trl", valueName: "<list>" },
			"no-deepspeed": { type: "boolean", description: "leave DeepSpeed ZeRO-2 out of the YAMLs (single-device runs)" },
			"system-prompt": { type: "string", description: "system prompt of the chat template for the SFT stages (default: the template's own)", valueName: "<text>" },
			"max-steps": { type: "string", description: "stop every stage after this many optimizer steps (smoke runs; the paper trains whole epochs)", valueName: "<n>" },
			set: { type: "string", description: "change one setting of one stage, e.g. transfer_finetuning.per_device_train_batch_size=8; repeatable", valueName: "<stage.key=value>", multiple: true },
			"no-check": { type: "boolean", description: "write the plan even when the vocabulary check fails" },
			"warmup-key": { type: "string", description: "how the LLaMA-Factory YAMLs write the warm-up ratio: ratio (warmup_ratio; transformers 4.x) or steps (a float warmup_steps < 1; transformers ≥ 5, which removed warmup_ratio) — `train verify` tells which the installed one takes", default: "ratio", valueName: "<ratio|steps>" },
		},
		details:
			"Stages: target_pretraining (stage: pt, lr 2e-4, warm-up 0.0005, weight decay 0.01, cutoff 512), translation_pretraining\n" +
			"(pt, continuing stage 1's adapter, warm-up 0.05, 0.1% validation), transfer_finetuning (sft, lr 1e-4, warm-up 0.01,\n" +
			"weight decay 0, cutoff 2048, validation on the held-out split), merge; options clo (dpo with the exact CLO loss via\n" +
			"train_clo.py) and prom (pivoted objective; LLaMA-Factory only for λ = 0). LoRA r 64 α 128 dropout 0.05 on\n" +
			"q,k,v,o,gate,up,down with embed_tokens/lm_head trained in full. Every YAML is checked against LLaMA-Factory's field\n" +
			"list; the checkpoint's vocabulary is checked first (see train check). Writes plan.json, dataset_info.json,\n" +
			"ds_z2_config.json, llamafactory/*.yaml, trl/settings.json + trl/transllm_train.py, run_llamafactory.sh, run_trl.sh.",
		async run({ values }, { stdout }) {
			const engines = listOption(values, "engine") as TrainingEngine[];
			for (const engine of engines) if (engine !== "llamafactory" && engine !== "trl") throw new ConfigError(`--engine must list llamafactory and/or trl, got "${engine}"`);
			const maxSteps = values["max-steps"] === undefined ? undefined : numberOption(values, "max-steps", 0, { min: 1, integer: true });
			const cloTrain = optionalString(values, "clo-train");
			const plan = await writeTrainingPlan({
				model: stringOption(values, "model"),
				out: stringOption(values, "out"),
				lang: stringOption(values, "lang"),
				template: stringOption(values, "template"),
				targetText: fileListOption(values, "target-text"),
				translationText: fileListOption(values, "translation-text"),
				transferTrain: fileListOption(values, "transfer-train"),
				transferValidation: fileListOption(values, "transfer-validation"),
				clo: cloTrain
					? {
							train: cloTrain,
							validation: optionalString(values, "clo-validation"),
							beta: values["clo-beta"] === undefined ? undefined : numberOption(values, "clo-beta", 0.1, { min: 0 }),
							lambda: values["clo-lambda"] === undefined ? undefined : numberOption(values, "clo-lambda", 0.5, { min: 0, max: 1 }),
						}
					: undefined,
				prom: optionalString(values, "prom") ? { dir: stringOption(values, "prom") } : undefined,
				engines,
				deepspeed: values["no-deepspeed"] !== true,
				systemPrompt: optionalString(values, "system-prompt"),
				overrides: parseOverrides(fileListOption(values, "set"), maxSteps),
				check: values["no-check"] !== true,
				warmupKey: choiceOption(values, "warmup-key", ["ratio", "steps"] as const, "ratio"),
			});
			const v = plan.vocabulary;
			stdout.write(`vocabulary: ${v.tokenizerSize} tokenizer ids, ${v.embeddingRows} embedding rows${v.tied ? " (tied)" : ""}: ${v.ok ? "no stage will resize" : `NOT OK:\n- ${v.problems.join("\n- ")}`}\n`);
			for (const note of v.notes) stdout.write(`note: ${note}\n`);
			for (const stage of plan.stages) stdout.write(`${stage.name.padEnd(24)} ${Object.values(stage.files).join("  ")}\n`);
			for (const [engine, script] of Object.entries(plan.run)) stdout.write(`run (${engine}): sh ${script}\n`);
		},
	},
	verify: {
		description: "Parse a plan's LLaMA-Factory YAMLs with the installed LLaMA-Factory's own argument parser (what llamafactory-cli train/export would accept), before any GPU hour",
		options: {
			plan: { type: "string", description: "plan directory written by train plan", valueName: "<dir>", required: true },
			python: { type: "string", description: "the Python that will train (LLaMA-Factory importable)", default: "python3", valueName: "<exe>" },
			json: { type: "boolean", description: "print the report as JSON" },
		},
		details:
			"Training YAMLs go through llamafactory.hparams.get_train_args, merge YAMLs through get_infer_args; nothing is trained or loaded\n" +
			"(without CUDA, use_cpu is set for the check). Exit code 0 when LLaMA-Factory accepts every file, 1 otherwise. A rejected\n" +
			"warmup_ratio means a transformers that removed it: write the plan with --warmup-key steps.",
		async run({ values }, { stdout }) {
			const report = await verifyLlamaFactoryPlan({ plan: stringOption(values, "plan"), python: optionalString(values, "python") });
			if (values.json === true) stdout.write(`${JSON.stringify(report, null, 2)}\n`);
			else {
				stdout.write(`LLaMA-Factory ${report.llamafactory}, transformers ${report.transformers} (${report.python}${report.cuda ? ", CUDA" : ", no CUDA: checked with use_cpu"})\n`);
				for (const file of report.files) {
					const what = file.command === "export" ? "export" : `stage ${file.stage}, LoRA r ${file.lora_rank} α ${file.lora_alpha}, lr ${file.learning_rate}, warm-up ${file.warmup}, cutoff ${file.cutoff_len}`;
					stdout.write(`${file.ok ? "ok " : "NOT OK"} ${file.file}: ${file.ok ? what : file.error}\n`);
					if (!file.ok && /warmup_ratio/.test(file.error ?? "")) stdout.write("  this transformers has no warmup_ratio: write the plan with --warmup-key steps\n");
				}
			}
			return report.ok ? 0 : 1;
		},
	},
	check: {
		description: "Check that a checkpoint's vocabulary agrees (tokenizer ids, embedding rows, config vocab_size, special tokens) so no training stage or merge resizes",
		options: {
			model: { type: "string", description: "checkpoint directory (config.json, tokenizer.json, safetensors)", valueName: "<dir>", required: true },
			lang: { type: "string", description: "target language codes whose TCOT tokens must be present (comma-separated)", valueName: "<codes>", required: true },
			json: { type: "boolean", description: "print the report as JSON" },
		},
		details: "Exit code 0 when the checkpoint can be trained and merged without any resize, 1 otherwise (each problem says what to run).",
		async run({ values }, { stdout }) {
			const report = await checkVocabulary({ model: stringOption(values, "model"), specialTokens: tcotSpecialTokens(listOption(values, "lang")) });
			if (values.json === true) stdout.write(`${JSON.stringify(report, null, 2)}\n`);
			else {
				stdout.write(`${report.model}: ${report.tokenizerSize} tokenizer ids, config vocab_size ${report.configVocabSize}, embed_tokens ${report.embeddingRows} rows, lm_head ${report.lmHeadRows} rows${report.tied ? " (tied)" : ""}\n`);
				stdout.write(report.ok ? "ok: training (LLaMA-Factory or TRL) and the merge keep this size; nothing resizes\n" : `not ok:\n- ${report.problems.join("\n- ")}\n`);
				for (const note of report.notes) stdout.write(`note: ${note}\n`);
			}
			return report.ok ? 0 : 1;
		},
	},
};
