import { checkChoice, choiceOption, fileListOption, listOption, numberOption, optionalString, stringOption, seedValue } from "@transllm/core";
import type { BadRecordPolicy, CliContext, CommandTable } from "@transllm/core";
import { buildTrainingFiles } from "./build-training-files.js";
import type { ExportFormat, ParallelUse } from "./build-training-files.js";
import type { LlamaFactoryStyle } from "./llamafactory-format.js";
import { parseOutputFile } from "./parse-output-file.js";
import type { SpecialTokenPolicy } from "@transllm/core";
import type { InstructionLanguage } from "./translation-instances.js";
import type { TrlStyle } from "./trl-format.js";

function summary(context: CliContext, lines: string[]): void {
	context.stdout.write(`${lines.join("\n")}\n`);
}

/** `transllm tcot …`: the TCOT data builder and output parser. */
export const tcotCommands: CommandTable = {
	tcot: {
		description: "TransLLM TCOT data: build training files (recovery KD, TCOT, translation), parse TCOT outputs",
		subcommands: {
			build: {
				description:
					"Build transfer fine-tuning data (recovery-KD + TCOT + translation instances, randomly mixed, with a held-out validation split) and translation pre-training text for LLaMA-Factory or TRL",
				options: {
					kd: { type: "string", multiple: true, valueName: "<file>", description: "English recovery-KD JSONL {id, query_en, response_en}" },
					translated: {
						type: "string",
						multiple: true,
						valueName: "<file>",
						description: "Translated KD JSONL {id, query_en, response_en, query_t, response_t, lang}: TCOT, translation and recovery-KD instances",
					},
					parallel: { type: "string", multiple: true, valueName: "<file>", description: "Parallel pairs JSONL {source, target, sourceLang, targetLang, id?}" },
					english: {
						type: "string",
						multiple: true,
						valueName: "<file>",
						description: "English monolingual JSONL {text}: lines the translation pre-training instances are inserted between",
					},
					out: { type: "string", short: "o", required: true, valueName: "<dir>", description: "Output directory" },
					format: { type: "string", default: "llamafactory", valueName: "<format>", description: "llamafactory | trl" },
					style: {
						type: "string",
						valueName: "<style>",
						description: "Record style: sharegpt (default) | alpaca for llamafactory; messages (default) | prompt-completion for trl",
					},
					langs: { type: "string", multiple: true, valueName: "<codes>", description: "Target languages to keep, comma-separated (default: all in the input)" },
					seed: { type: "string", default: "42", valueName: "<seed>", description: "Seed of templates, split and order" },
					"val-size": { type: "string", default: "2000", valueName: "<n>", description: "Instances held out for validation (the paper's 2K)" },
					"instruction-language": {
						type: "string",
						default: "source",
						valueName: "<lang>",
						description: "Language of translation instructions: source | en | target | random",
					},
					templates: { type: "string", valueName: "<file>", description: "Translation templates JSON ({templates:[{id, lang, text, translates?}]}) instead of the bundled ones" },
					"parallel-use": {
						type: "string",
						default: "pretraining",
						valueName: "<uses>",
						description: "What --parallel pairs make: pretraining (translation pre-training text) and/or sft (translation instances), comma-separated",
					},
					"pt-record-chars": { type: "string", default: "4096", valueName: "<n>", description: "Characters per pre-training text record (whole lines joined by \\n)" },
					"special-tokens": {
						type: "string",
						default: "error",
						valueName: "<policy>",
						description: "Text already holding <EN>, <RESPONSE> or a language-ID token: error (bad record) | escape (insert U+2060 after '<') | allow (keep it)",
					},
					"on-bad-record": { type: "string", default: "error", valueName: "<policy>", description: "error | skip (to <out>/train.jsonl.rejects.jsonl)" },
					"dataset-name": { type: "string", default: "transllm_tcot", valueName: "<name>", description: "Prefix of the dataset_info.json entries" },
					metadata: { type: "boolean", description: "Add id, kind and lang to every exported record" },
					rank: { type: "string", default: "0", valueName: "<r>", description: "With --world-size and --instances-out: this task's rank (records whose id hashes to r)" },
					"world-size": { type: "string", default: "1", valueName: "<W>", description: "Number of tasks of a sharded build" },
					"instances-out": { type: "string", valueName: "<file>", description: "A task of a sharded build: write this rank's instances here instead of the training files" },
					instances: { type: "string", multiple: true, valueName: "<file>", description: "The finishing step of a sharded build: the tasks' --instances-out files, mixed (same inputs and options otherwise)" },
					resume: { type: "boolean", description: "Continue unfinished outputs (same inputs and seed)" },
					force: { type: "boolean", description: "Start over: replace finished outputs, discard unfinished ones" },
				},
				details: [
					"Writes train.jsonl, validation.jsonl, translation_pretraining.jsonl (with --parallel), special_tokens.json, manifest.json, build-options.json",
					"and, for llamafactory, dataset_info.json and llamafactory_args.yaml (add_special_tokens, resize_vocab).",
					"",
					"Example:",
					"  transllm tcot build --translated th.jsonl --parallel en-th.jsonl --english pile.jsonl --langs th -o data/",
				].join("\n"),
				async run({ values }, context) {
					const result = await buildTrainingFiles({
						kd: fileListOption(values, "kd"),
						translated: fileListOption(values, "translated"),
						parallel: fileListOption(values, "parallel"),
						english: fileListOption(values, "english"),
						outDir: stringOption(values, "out"),
						format: choiceOption(values, "format", ["llamafactory", "trl"] as ExportFormat[]),
						style: choiceOption(values, "style", ["sharegpt", "alpaca", "messages", "prompt-completion"] as (LlamaFactoryStyle | TrlStyle)[]),
						langs: listOption(values, "langs").length > 0 ? listOption(values, "langs") : undefined,
						seed: seedValue(stringOption(values, "seed")),
						validationSize: numberOption(values, "val-size", 2000, { min: 0, integer: true }),
						instructionLanguage: choiceOption(values, "instruction-language", ["source", "en", "target", "random"] as InstructionLanguage[]),
						templatesFile: optionalString(values, "templates"),
						parallelUse: listOption(values, "parallel-use").map((use) => checkChoice(use, "parallel-use", ["pretraining", "sft"] as ParallelUse[]) as ParallelUse),
						pretrainingRecordChars: numberOption(values, "pt-record-chars", 4096, { min: 1, integer: true }),
						specialTokens: choiceOption(values, "special-tokens", ["error", "escape", "allow"] as SpecialTokenPolicy[]),
						onBadRecord: choiceOption(values, "on-bad-record", ["error", "skip"] as BadRecordPolicy[]),
						datasetName: stringOption(values, "dataset-name"),
						metadata: values.metadata === true,
						rank: numberOption(values, "rank", 0, { min: 0, integer: true }),
						worldSize: numberOption(values, "world-size", 1, { min: 1, integer: true }),
						instancesOut: optionalString(values, "instances-out"),
						instanceParts: values.instances === undefined ? undefined : fileListOption(values, "instances"),
						resume: values.resume === true,
						force: values.force === true,
						progress: context.stderr,
					});
					const kinds = (split: "train" | "validation") =>
						Object.entries(result.counts.instances[split])
							.map(([kind, byLang]) => `${kind} ${Object.entries(byLang).map(([lang, n]) => `${lang}:${n}`).join(" ")}`)
							.join(", ");
					summary(context, [
						`records: kd ${result.counts.records.kd}, translated ${result.counts.records.translated}, parallel ${result.counts.records.parallel}, filtered ${result.counts.records.filtered}, rejected ${result.rejected}`,
						`train: ${kinds("train") || "empty"}`,
						`validation: ${kinds("validation") || "empty"}`,
						...(result.files.pretraining
							? [`translation pre-training: ${result.counts.pretrainingLines} lines (${result.counts.englishLines} English) in ${result.counts.pretrainingRecords} records`]
							: []),
						`special tokens: ${result.specialTokens.join(" ")}`,
						...Object.entries(result.files).map(([name, path]) => `  ${name}: ${path}`),
						...(result.rejectsPath && result.rejected > 0 ? [`  rejects: ${result.rejectsPath}`] : []),
					]);
				},
			},
			parse: {
				description: "Split generated TCOT outputs into English query, English response and target-language response",
				options: {
					in: { type: "string", short: "i", required: true, multiple: true, valueName: "<file>", description: "JSONL of model outputs" },
					out: { type: "string", short: "o", required: true, valueName: "<file>", description: "JSONL with query_en, response_en, response_t, missing, fallback …" },
					field: { type: "string", valueName: "<name>", description: "Field holding the generated text (default: response, as `transllm generate` writes it, else text)" },
					lang: { type: "string", valueName: "<code>", description: "Target language (default: the record's lang, else any language-ID token)" },
					"on-bad-record": { type: "string", default: "error", valueName: "<policy>", description: "error | skip (to <out>.rejects.jsonl)" },
					resume: { type: "boolean", description: "Continue an unfinished output" },
					force: { type: "boolean", description: "Start over: replace a finished output, discard an unfinished one" },
				},
				details: "Other fields of each record (id, …) are kept. missing lists absent stages; an English-mode answer ('<RESPONSE> answer', the model's reply to an English query) is complete with its one stage; fallback is the text to append to continue (' <RESPONSE>' or ' <TH>').",
				async run({ values }, context) {
					const result = await parseOutputFile({
						input: fileListOption(values, "in"),
						output: stringOption(values, "out"),
						field: optionalString(values, "field"),
						lang: optionalString(values, "lang"),
						onBadRecord: choiceOption(values, "on-bad-record", ["error", "skip"] as BadRecordPolicy[]),
						resume: values.resume === true,
						force: values.force === true,
						progress: context.stderr,
					});
					summary(context, [`parsed ${result.records} records (${result.complete} complete: TCOT chains or English-mode answers, ${result.rejected} rejected) → ${result.output}`]);
				},
			},
		},
	},
};
