import { choiceOption, fileListOption, listOption, numberOption, optionalString, stringOption, seedValue } from "@transllm/core";
import type { CommandTable } from "@transllm/core";
import type { RemainderPolicy } from "./batch-layout.js";
import { CLO_DEFAULTS } from "./clo-objective.js";
import type { SftReduction } from "./clo-objective.js";
import { scoreCloPairs } from "./score-clo-pairs.js";
import { validateBatchLayout } from "./validate-batch-layout.js";
import { writeCloDataset } from "./write-clo-dataset.js";
import type { CloExportFormat } from "./write-clo-dataset.js";

/** `transllm clo …`: CLO preference data, its batch-layout check, and the CLO objective on a model pair. */
export const cloCommands: CommandTable = {
	pairs: {
		description: "Build CLO preference pairs (English row + target row per record), check their languages, lay them out in pair-safe batches and export them for TRL or LLaMA-Factory",
		options: {
			input: { type: "string", required: true, valueName: "<file>", multiple: true, description: "JSONL (.jsonl/.jsonl.gz) of {id?, query_en, response_en, query_t, response_t, lang?} records" },
			lang: { type: "string", required: true, valueName: "<code>", description: "target language (ISO 639-1/3 or BCP-47), e.g. sw" },
			out: { type: "string", required: true, valueName: "<dir>", description: "output directory" },
			format: { type: "string", default: "trl", valueName: "trl|llamafactory", description: "trainer export: TRL standard + conversational JSONL, or LLaMA-Factory pairwise data + dataset_info.json + stage dpo YAML" },
			"batch-size": { type: "string", default: "8", valueName: "<n>", description: "per-device batch size in rows (per_device_train_batch_size); even: each pair's two rows share a batch" },
			devices: { type: "string", default: "1", valueName: "<n>", description: "number of data-parallel devices (one step = batch size × devices rows)" },
			seed: { type: "string", default: "0", valueName: "<seed>", description: "seed of the pair-level shuffle" },
			"validation-pairs": { type: "string", default: "0", valueName: "<n>", description: "pairs held out for validation (validation_pairs.jsonl and a validation export)" },
			remainder: { type: "string", default: "drop", valueName: "drop|keep", description: "pairs that would leave the last step short: drop them (listed in audit.jsonl) or keep a short last step" },
			"min-confidence": { type: "string", default: "0", valueName: "<x>", description: "minimum language-ID margin for a text to count as the expected language" },
			"min-script-ratio": { type: "string", default: "0.5", valueName: "<x>", description: "minimum share of letters in the expected language's script" },
			"no-language-check": { type: "boolean", description: "skip the language checks (pairs are still built and laid out)" },
			"on-bad-record": { type: "string", default: "error", valueName: "error|skip", description: "malformed input lines: stop with file:line, or set them aside in pairs.jsonl.rejects.jsonl" },
			"special-tokens": { type: "string", default: "error", valueName: "error|escape|allow", description: "texts holding </s>, <EN>, <RESPONSE>, a language-ID or chat control token: a bad record, escaped (U+2060 after the first character) or kept" },
			beta: { type: "string", default: String(CLO_DEFAULTS.beta), valueName: "<β>", description: "β of Eq. 11–12 written to the trainer config (pref_beta)" },
			lambda: { type: "string", default: String(CLO_DEFAULTS.lambda), valueName: "<λ>", description: "λ of Eq. 8; the LLaMA-Factory YAML gets pref_ftx = λ/(1−λ)" },
			model: { type: "string", default: "meta-llama/Meta-Llama-3-8B-Instruct", valueName: "<id|dir>", description: "LLaMA-Factory: model_name_or_path" },
			template: { type: "string", default: "llama3", valueName: "<name>", description: "LLaMA-Factory: chat template (llama2, llama3, mistral, qwen …)" },
			"lora-target": { type: "string", default: "q_proj,k_proj,v_proj,o_proj", valueName: "<list>", description: "LLaMA-Factory: LoRA target modules (attention only, Sec. 3.2)" },
			resume: { type: "boolean", description: "continue an interrupted run, reusing its language-check verdicts" },
			force: { type: "boolean", description: "replace an earlier export in --out" },
		},
		details: [
			"Writes pairs.jsonl (canonical rows: pair_id, row en|target, languages), audit.jsonl (records left out, with the",
			"reason), layout.json, README.md (how to train, and the exact NLL recipe), clo_trainer.py, and per format:",
			"  trl:          trl_standard.jsonl, trl_conversational.jsonl",
			"  llamafactory: clo_<lang>.jsonl, dataset_info.json (ranking: true), clo_<lang>_dpo.yaml, train_clo.py",
			"",
			"Example: transllm clo pairs --input kd.jsonl --lang sw --out clo-sw --format llamafactory --batch-size 8 --devices 8",
		].join("\n"),
		async run({ values }, { stdout, stderr }) {
			const summary = await writeCloDataset({
				input: fileListOption(values, "input"),
				lang: stringOption(values, "lang"),
				out: stringOption(values, "out"),
				format: choiceOption<CloExportFormat>(values, "format", ["trl", "llamafactory"]),
				perDeviceBatchSize: numberOption(values, "batch-size", 8, { integer: true, min: 2 }),
				devices: numberOption(values, "devices", 1, { integer: true, min: 1 }),
				// `--seed 7` is the API's `seed: 7` (core's SeededRng hashes the number 7 and the text "7" differently).
				seed: seedValue(optionalString(values, "seed") ?? "0"),
				validationPairs: numberOption(values, "validation-pairs", 0, { integer: true, min: 0 }),
				remainder: choiceOption<RemainderPolicy>(values, "remainder", ["drop", "keep"]),
				languageCheck: values["no-language-check"]
					? false
					: { minConfidence: numberOption(values, "min-confidence", 0, { min: 0, max: 1 }), minScriptRatio: numberOption(values, "min-script-ratio", 0.5, { min: 0, max: 1 }) },
				onBadRecord: choiceOption(values, "on-bad-record", ["error", "skip"] as const),
				specialTokens: choiceOption(values, "special-tokens", ["error", "escape", "allow"] as const),
				beta: numberOption(values, "beta", CLO_DEFAULTS.beta, { min: Number.MIN_VALUE }),
				lambda: numberOption(values, "lambda", CLO_DEFAULTS.lambda, { min: 0, max: 0.999999 }),
				llamaFactory: { model: optionalString(values, "model"), template: optionalString(values, "template"), loraTarget: listOption(values, "lora-target") },
				overwrite: Boolean(values.force),
				resume: Boolean(values.resume),
				progress: { stream: stderr },
			});
			stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
		},
	},
	score: {
		description: "Compute L_CLO, L_SFT, L_CL, z_en, z_t and the pairwise accuracy (Eq. 8–12) of a policy against its reference on a pairs file",
		options: {
			policy: { type: "string", required: true, valueName: "<dir>", description: "policy model directory (the CLO-trained model, LoRA merged; ONNX export as @transllm/runtime loads it)" },
			reference: { type: "string", required: true, valueName: "<dir>", description: "reference model directory (the model before CLO)" },
			pairs: { type: "string", required: true, valueName: "<file>", description: "pairs written by `transllm clo pairs` (validation_pairs.jsonl, pairs.jsonl, or its TRL/LLaMA-Factory file)" },
			out: { type: "string", valueName: "<dir>", description: "write scores.jsonl (per-pair log-probabilities; resumable) and objective.json (with z_en, z_t per pair)" },
			beta: { type: "string", default: String(CLO_DEFAULTS.beta), valueName: "<β>", description: "β of Eq. 11–12" },
			lambda: { type: "string", default: String(CLO_DEFAULTS.lambda), valueName: "<λ>", description: "λ of Eq. 8" },
			"sft-reduction": { type: "string", default: "token-mean", valueName: "token-mean|sum", description: "NLL of Eq. 9 per target answer: per-token mean (as pref_ftx) or the sequence sum" },
			"batch-size": { type: "string", default: "8", valueName: "<n>", description: "pairs per model run (4 sequences each)" },
			"no-chat-template": { type: "boolean", description: "score raw query text instead of the query as a chat user turn" },
			"no-eos": { type: "boolean", description: "do not score the EOS token after each answer (the trainers do)" },
			"execution-provider": { type: "string", default: "auto", valueName: "auto|cpu|cuda", description: "onnxruntime execution provider" },
			resume: { type: "boolean", description: "continue an interrupted run from --out/scores.jsonl" },
			force: { type: "boolean", description: "replace an earlier --out/scores.jsonl" },
		},
		details: "Loads the policy, scores log π(y_en|x_en), log π(y_t|x_en), log π(y_t|x_t), log π(y_en|x_t) for every pair, then the reference; prints the objective as JSON.",
		async run({ values }, { stdout, stderr }) {
			const report = await scoreCloPairs({
				policy: stringOption(values, "policy"),
				reference: stringOption(values, "reference"),
				pairs: stringOption(values, "pairs"),
				out: optionalString(values, "out"),
				beta: numberOption(values, "beta", CLO_DEFAULTS.beta, { min: Number.MIN_VALUE }),
				lambda: numberOption(values, "lambda", CLO_DEFAULTS.lambda, { min: 0, max: 1 }),
				sftReduction: choiceOption<SftReduction>(values, "sft-reduction", ["token-mean", "sum"]),
				batchSize: numberOption(values, "batch-size", 8, { integer: true, min: 1 }),
				chat: !values["no-chat-template"],
				appendEos: !values["no-eos"],
				executionProvider: choiceOption(values, "execution-provider", ["auto", "cpu", "cuda"] as const),
				resume: Boolean(values.resume),
				overwrite: Boolean(values.force),
				progress: { stream: stderr },
			});
			const { zEn, zT, pairIds, ...summary } = report;
			const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
			stdout.write(`${JSON.stringify({ ...summary, meanZEn: mean(zEn), meanZT: mean(zT) }, null, 2)}\n`);
		},
	},
	validate: {
		description: "Check that a written preference file keeps each English row and its translated row in one batch for a per-device batch size and number of devices",
		options: {
			file: { type: "string", required: true, valueName: "<file>", description: "pairs.jsonl, a TRL (standard or conversational) or LLaMA-Factory pairwise JSONL file" },
			"batch-size": { type: "string", required: true, valueName: "<n>", description: "per-device batch size in rows the trainer will use" },
			devices: { type: "string", default: "1", valueName: "<n>", description: "number of data-parallel devices" },
			lang: { type: "string", valueName: "<code>", description: "also check that even rows have English prompts and odd rows prompts in this language" },
		},
		details: "Exit code 0 when the layout holds, 1 when a pair can be split (each error names its lines).",
		async run({ values }, { stdout }) {
			const report = await validateBatchLayout({
				file: stringOption(values, "file"),
				perDeviceBatchSize: numberOption(values, "batch-size", 0, { integer: true }),
				devices: numberOption(values, "devices", 1, { integer: true, min: 1 }),
				lang: optionalString(values, "lang"),
			});
			stdout.write(`${JSON.stringify(report, null, 2)}\n`);
			return report.ok ? 0 : 1;
		},
	},
};
