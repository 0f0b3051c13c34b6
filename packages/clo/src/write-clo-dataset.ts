import { readFile, rm, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import {
	ConfigError,
	JsonlWriter,
	RejectsWriter,
	TransllmError,
	createProgress,
	getLanguage,
	readJsonl,
	recordRunSettings,
	escapeSpecialTokens,
	guardedSpecialTokens,
	specialTokenProblem,
	writeFileAtomic,
	writeJsonAtomic,
} from "@transllm/core";
import type { BadRecordPolicy, ProgressOptions, SpecialTokenPolicy } from "@transllm/core";

const TEXT_FIELDS = ["query_en", "response_en", "query_t", "response_t"] as const;
import { cloRows, layoutCloBatches } from "./batch-layout.js";
import type { RemainderPolicy } from "./batch-layout.js";
import { buildCloPair, checkCloPair, invalidCloSourceRecord } from "./clo-pair.js";
import type { CheckCloPairOptions, CloPair, CloPairProblem, CloRow, CloSourceRecord } from "./clo-pair.js";
import { CLO_DEFAULTS } from "./clo-objective.js";
import { exportReadme } from "./export-readme.js";
import { llamaFactoryDatasetEntry, llamaFactoryDpoConfig, toLlamaFactoryPairwise } from "./llamafactory-export.js";
import { toTrlConversational, toTrlStandard } from "./trl-export.js";

export type CloExportFormat = "trl" | "llamafactory";

export interface WriteCloDatasetParams {
	/** JSONL (or .jsonl.gz) files of `{id?, query_en, response_en, query_t, response_t, lang?}` records. */
	input: string | readonly string[];
	/** Target language (ISO 639-1/3 or BCP-47), e.g. `sw`. */
	lang: string;
	/** Output directory. */
	out: string;
	/** Trainer format written besides the canonical pairs (default `trl`). */
	format?: CloExportFormat;
	/** Rows per device per step (default 8); even. */
	perDeviceBatchSize?: number;
	/** Data-parallel devices (default 1). */
	devices?: number;
	/** Seed of the pair-level shuffle (default 0). */
	seed?: string | number;
	/** Pairs held out for validation (default 0). */
	validationPairs?: number;
	/** Pairs that do not fill a last step: `drop` (default, audited) or `keep`. */
	remainder?: RemainderPolicy;
	/** Language checks of each pair (default on); `false` turns them off. */
	languageCheck?: boolean | CheckCloPairOptions;
	/** Malformed input records: `error` (default) or `skip` (to `pairs.jsonl.rejects.jsonl`). */
	onBadRecord?: BadRecordPolicy;
	/** Replace an earlier export in `out`. */
	overwrite?: boolean;
	/** Texts holding a special token (`</s>`, `<EN>` …): error (bad record, default), escape or allow. */
	specialTokens?: SpecialTokenPolicy;
	/** Continue an interrupted run: language-check verdicts already written are reused. */
	resume?: boolean;
	/** β written to the trainer config (default 0.1, App. B). */
	beta?: number;
	/** λ of Eq. 8 written to the trainer config (default 0.5, App. B). */
	lambda?: number;
	/** LLaMA-Factory YAML settings. */
	llamaFactory?: { model?: string; template?: string; datasetName?: string; loraTarget?: readonly string[]; outputDir?: string };
	/** Progress output (default: stderr). */
	progress?: Pick<ProgressOptions, "stream" | "silent" | "intervalMs">;
}

/** One line of `audit.jsonl`: a record (or pair) left out of the training data, and why. */
export interface CloAuditEntry {
	id: string;
	file: string;
	line: number;
	reason: string;
	problems?: CloPairProblem[];
	record?: CloSourceRecord;
}

export interface CloDatasetSummary {
	records: number;
	/** Pairs that passed the checks. */
	pairs: number;
	trainPairs: number;
	validationPairs: number;
	droppedPairs: number;
	/** Records in audit.jsonl for failed checks or duplicate ids. */
	audited: number;
	/** Malformed lines set aside by the `skip` policy. */
	rejected: number;
	perDeviceBatchSize: number;
	devices: number;
	steps: number;
	/** Files written, relative to `out`. */
	files: string[];
}

/** One line of `language-checks.jsonl`: the verdict of one record, kept so that `resume` need not redo it. */
interface CheckVerdict {
	file: string;
	line: number;
	problems: CloPairProblem[];
}

interface SourcedPair {
	pair: CloPair;
	file: string;
	line: number;
}

const DEFAULT_LORA_TARGET = ["q_proj", "k_proj", "v_proj", "o_proj"];

async function exists(path: string): Promise<boolean> {
	return stat(path).then(
		() => true,
		() => false,
	);
}

async function writeRows<T>(path: string, rows: Iterable<T>): Promise<void> {
	await rm(`${path}.partial`, { force: true });
	const writer = await JsonlWriter.open<T>(path, { overwrite: true });
	for (const row of rows) await writer.write(row);
	await writer.finish();
}

/** Opens the verdict log; with `resume`, returns the verdicts it already holds (made with the same `settings`). */
async function openVerdicts(path: string, resume: boolean, settings: object): Promise<{ writer: JsonlWriter<CheckVerdict>; done: CheckVerdict[] }> {
	if (!resume) await Promise.all([rm(path, { force: true }), rm(`${path}.partial`, { force: true })]);
	await recordRunSettings(`${path}.settings.json`, settings, { resume, output: path });
	const writer = await JsonlWriter.open<CheckVerdict>(path, { resume });
	const done: CheckVerdict[] = [];
	if (writer.resumedCount > 0) {
		for await (const { value } of readJsonl<CheckVerdict>(writer.alreadyComplete ? path : writer.partialPath)) done.push(value);
	}
	return { writer, done };
}

/**
 * Builds CLO preference data (Sec. 3.2) from translated SFT records: an English row and a target row per record,
 * language-checked (failures and duplicates go to `audit.jsonl` with the reason), shuffled at pair level and laid
 * out so that each pair shares a batch, then exported as canonical pairs plus TRL or LLaMA-Factory files.
 */
export async function writeCloDataset(params: WriteCloDatasetParams): Promise<CloDatasetSummary> {
	const lang = getLanguage(params.lang).code;
	if (lang === "en") throw new ConfigError("the target language of CLO cannot be English");
	const format = params.format ?? "trl";
	if (format !== "trl" && format !== "llamafactory") throw new ConfigError(`unknown export format "${String(format)}" (trl or llamafactory)`);
	const out = resolve(params.out);
	const pairsPath = join(out, "pairs.jsonl");
	if (!params.overwrite && !params.resume && (await exists(pairsPath))) {
		throw new TransllmError("E_IO", `${pairsPath} exists: pass overwrite (--force) to replace the export in ${out}`);
	}
	const beta = params.beta ?? CLO_DEFAULTS.beta;
	const lambda = params.lambda ?? CLO_DEFAULTS.lambda;
	if (!(lambda >= 0 && lambda < 1)) throw new ConfigError(`lambda must lie in [0, 1) for a trainer config, got ${lambda}`);
	if (!(beta > 0)) throw new ConfigError(`beta must be positive, got ${beta}`);
	const perDeviceBatchSize = params.perDeviceBatchSize ?? 8;
	const devices = params.devices ?? 1;
	// Fail on a bad geometry before reading anything.
	layoutCloBatches([], { perDeviceBatchSize, devices });

	const checking = params.languageCheck !== false;
	const checkOptions = typeof params.languageCheck === "object" ? params.languageCheck : {};
	const onBadRecord = params.onBadRecord ?? "error";
	const rejects = onBadRecord === "skip" ? await RejectsWriter.open(pairsPath, { resume: params.resume }) : undefined;
	const verdicts = checking ? await openVerdicts(join(out, "language-checks.jsonl"), Boolean(params.resume), { lang, check: checkOptions }) : undefined;
	const progress = createProgress({ label: "clo pairs", unit: "records", ...params.progress });

	// A record without an id is named by its file and line: the file's base name, or its path where two inputs share one.
	// Special tokens in the texts would end or steer turns in the trained model: the one core policy, error by default.
	const specialTokens = params.specialTokens ?? "error";
	const guarded = guardedSpecialTokens();
	const inputs = typeof params.input === "string" ? [params.input] : [...params.input];
	const sharedBase = new Set(inputs.map((file) => basename(file))).size < new Set(inputs).size;
	const fileLabel = (file: string) => (sharedBase ? file : basename(file));
	const audit: CloAuditEntry[] = [];
	const accepted: SourcedPair[] = [];
	const seen = new Set<string>();
	let records = 0;
	try {
		for await (const { value, file, line } of readJsonl<CloSourceRecord>(params.input, {
			onBadRecord,
			rejects,
			validate: (record) => invalidCloSourceRecord(record, lang) ?? (specialTokens === "error" ? specialTokenProblem(record, TEXT_FIELDS, guarded) : undefined),
		})) {
			if (specialTokens === "escape") for (const field of TEXT_FIELDS) value[field] = escapeSpecialTokens(value[field], guarded);
			const index = records;
			records += 1;
			progress.tick();
			const id = value.id !== undefined ? String(value.id) : `${fileLabel(file)}:${line}`;
			let problems: CloPairProblem[] = [];
			if (verdicts) {
				const earlier = verdicts.done[index];
				if (earlier) {
					if (earlier.file !== file || earlier.line !== line) {
						throw new TransllmError("E_IO", `cannot resume: ${file}:${line} is record ${index + 1} now but was ${earlier.file}:${earlier.line} in the interrupted run; the input changed (start again with --force)`);
					}
					problems = earlier.problems;
				} else {
					problems = checkCloPair(value, lang, checkOptions);
					if (!verdicts.writer.alreadyComplete) {
						await verdicts.writer.write({ file, line, problems });
						// Verdicts reach the disk every 1000 records, so a killed run redoes little.
						if (verdicts.writer.count % 1000 === 0) await verdicts.writer.flush();
					}
				}
			}
			if (problems.length > 0) {
				audit.push({ id, file, line, reason: problems.map((problem) => `${problem.field}: ${problem.reason}`).join("; "), problems, record: value });
				continue;
			}
			if (seen.has(id)) {
				audit.push({ id, file, line, reason: `duplicate pair id "${id}": pair ids must be unique`, record: value });
				continue;
			}
			seen.add(id);
			accepted.push({ pair: buildCloPair(value, { id, lang }), file, line });
		}
	} catch (error) {
		await verdicts?.writer.close();
		throw error;
	} finally {
		await rejects?.close();
	}
	if (verdicts && !verdicts.writer.alreadyComplete) await verdicts.writer.finish();
	progress.done(`clo pairs: ${records} records, ${accepted.length} pairs, ${audit.length} audited`);

	const layout = layoutCloBatches(accepted, {
		perDeviceBatchSize,
		devices,
		seed: params.seed ?? 0,
		validationPairs: params.validationPairs ?? 0,
		remainder: params.remainder,
	});
	for (const { pair, file, line } of layout.dropped) {
		audit.push({
			id: pair.id,
			file,
			line,
			reason: `layout remainder: ${layout.train.length} pairs fill ${layout.steps} steps of ${layout.rowsPerStep} rows (${perDeviceBatchSize} per device × ${devices} devices); this pair would leave the last step short (use --remainder keep to keep it)`,
		});
	}

	if (layout.train.length === 0) {
		await writeRows(join(out, "audit.jsonl"), audit);
		throw new TransllmError(
			"E_CHECK_FAILED",
			`no training pairs: ${records} records, ${accepted.length} passed the checks, ${layout.validation.length} held out, ${layout.dropped.length} left out to fill whole steps of ${layout.rowsPerStep} rows; see ${join(out, "audit.jsonl")}`,
		);
	}
	const files: Array<[string, string]> = [];
	const write = async <T>(name: string, what: string, rows: Iterable<T>): Promise<void> => {
		await writeRows(join(out, name), rows);
		files.push([name, what]);
	};
	const train = layout.train.map(({ pair }) => pair);
	const validation = layout.validation.map(({ pair }) => pair);
	await write("pairs.jsonl", "the training pairs in batch layout: rows with pair_id, row (en|target) and the language of each field", cloRows(train));
	if (validation.length > 0) await write("validation_pairs.jsonl", "held-out pairs in the same form (`transllm clo score --pairs`)", cloRows(validation));
	await write("audit.jsonl", "records left out, with the reason (failed language checks, duplicate ids, layout remainder)", audit);

	let yamlFile: string | undefined;
	if (format === "trl") {
		const map = <T>(pairs: CloPair[], convert: (row: CloRow) => T) => [...cloRows(pairs)].map(convert);
		await write("trl_standard.jsonl", "TRL standard preference form (prompt/chosen/rejected text)", map(train, toTrlStandard));
		await write("trl_conversational.jsonl", "TRL conversational preference form (message lists; the chat template is applied by TRL)", map(train, toTrlConversational));
		if (validation.length > 0) {
			await write("trl_standard_val.jsonl", "validation pairs, TRL standard form", map(validation, toTrlStandard));
			await write("trl_conversational_val.jsonl", "validation pairs, TRL conversational form", map(validation, toTrlConversational));
		}
	} else {
		const options = params.llamaFactory ?? {};
		const dataset = options.datasetName ?? `clo_${lang}`;
		const evalDataset = validation.length > 0 ? `${dataset}_val` : undefined;
		await write(`${dataset}.jsonl`, "LLaMA-Factory pairwise rows (alpaca: instruction/input/chosen/rejected)", [...cloRows(train)].map(toLlamaFactoryPairwise));
		const info: Record<string, unknown> = { [dataset]: llamaFactoryDatasetEntry(`${dataset}.jsonl`) };
		if (evalDataset) {
			await write(`${evalDataset}.jsonl`, "validation pairs, LLaMA-Factory pairwise rows", [...cloRows(validation)].map(toLlamaFactoryPairwise));
			info[evalDataset] = llamaFactoryDatasetEntry(`${evalDataset}.jsonl`);
		}
		await writeJsonAtomic(join(out, "dataset_info.json"), info);
		files.push(["dataset_info.json", `LLaMA-Factory dataset registry (ranking: true) for ${Object.keys(info).join(", ")}`]);
		yamlFile = `${dataset}_dpo.yaml`;
		const yaml = llamaFactoryDpoConfig({
			model: options.model ?? "meta-llama/Meta-Llama-3-8B-Instruct",
			template: options.template ?? "llama3",
			dataset,
			evalDataset,
			datasetDir: out,
			outputDir: options.outputDir ?? join(out, "saves", `clo-${lang}`),
			perDeviceBatchSize,
			beta,
			lambda,
			loraTarget: options.loraTarget ?? DEFAULT_LORA_TARGET,
		});
		await writeFileAtomic(join(out, yamlFile), yaml);
		files.push([yamlFile, "LLaMA-Factory training config, stage dpo (pref_beta, pref_ftx, LoRA on q/k/v/o, disable_shuffling)"]);
		await writeFileAtomic(join(out, "train_clo.py"), await readFile(new URL("../recipes/train_clo.py", import.meta.url), "utf8"));
		files.push(["train_clo.py", "runs LLaMA-Factory with the exact CLO loss (target-only NLL)"]);
	}
	await writeFileAtomic(join(out, "clo_trainer.py"), await readFile(new URL("../recipes/clo_trainer.py", import.meta.url), "utf8"));
	files.push(["clo_trainer.py", "the exact CLO loss (Eq. 8–12) for LLaMA-Factory and TRL"]);
	if (checking) files.push(["language-checks.jsonl", "the language-check verdict of every record (reused by --resume)"]);
	if (rejects) files.push(["pairs.jsonl.rejects.jsonl", "malformed input lines set aside by --on-bad-record skip"]);

	const summary: CloDatasetSummary = {
		records,
		pairs: accepted.length,
		trainPairs: layout.train.length,
		validationPairs: layout.validation.length,
		droppedPairs: layout.dropped.length,
		audited: audit.length - layout.dropped.length,
		rejected: rejects?.count ?? 0,
		perDeviceBatchSize,
		devices,
		steps: layout.steps,
		files: [],
	};
	files.push(["layout.json", "this summary: counts, batch geometry, seed and format"], ["README.md", "this file"]);
	await writeJsonAtomic(join(out, "layout.json"), { ...summary, lang, format, seed: params.seed ?? 0, remainder: params.remainder ?? "drop", beta, lambda, files: files.map(([name]) => name) });
	await writeFileAtomic(
		join(out, "README.md"),
		exportReadme({
			format,
			lang,
			pairs: layout.train.length,
			validationPairs: layout.validation.length,
			droppedPairs: layout.dropped.length,
			auditedRecords: summary.audited,
			perDeviceBatchSize,
			devices,
			beta,
			lambda,
			files,
			yamlFile,
		}),
	);
	summary.files = files.map(([name]) => name);
	return summary;
}
