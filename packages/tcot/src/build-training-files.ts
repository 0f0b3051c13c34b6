import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import {
	ConfigError,
	InputError,
	RejectsWriter,
	TransllmError,
	createProgress,
	emptyReadStats,
	readJsonFile,
	readJsonl,
	recordRunSettings,
	writeFileAtomic,
	writeJsonAtomic,
	writeJsonlStream,
} from "@transllm/core";
import type { BadRecordPolicy, JsonlRecord, ReadStats } from "@transllm/core";
import { llamaFactoryDatasetInfo, llamaFactorySpecialTokenArgs, toAlpaca, toShareGpt } from "./llamafactory-format.js";
import type { LlamaFactoryStyle } from "./llamafactory-format.js";
import { normalizeLanguage, tcotSpecialTokens } from "./special-tokens.js";
import { guardSpecialTokens, guardedSpecialTokens, requireText } from "@transllm/core";
import type { SpecialTokenPolicy } from "@transllm/core";
import { writeInstances } from "./instance-writer.js";
import { DEFAULT_VALIDATION_SIZE, TransferDataBuilder } from "./transfer-data.js";
import type { CollectedTransferData, TransferDataCounts } from "./transfer-data.js";
import type { KdRecord, TrainingInstance, TranslatedRecord } from "./training-instance.js";
import type { InstructionLanguage, ParallelPair } from "./translation-instances.js";
import { interleaveTranslationPretraining } from "./translation-pretraining.js";
import { assertTranslationTemplates } from "./translation-templates.js";
import type { TranslationTemplate } from "./translation-templates.js";
import { toTrlMessages, toTrlPromptCompletion } from "./trl-format.js";
import type { TrlStyle } from "./trl-format.js";

export type ExportFormat = "llamafactory" | "trl";
/** What `--parallel` pairs are used for: translation pre-training text (Sec. 2.2.2) and/or translation SFT (Sec. 2.2.3). */
export type ParallelUse = "pretraining" | "sft";

export interface BuildTrainingFilesOptions {
	/** English recovery-KD JSONL files: {id, query_en, response_en}. */
	kd?: readonly string[];
	/** Translated KD JSONL files: {id, query_en, response_en, query_t, response_t, lang}. */
	translated?: readonly string[];
	/** Parallel pair JSONL files: {source, target, sourceLang, targetLang, id?}. */
	parallel?: readonly string[];
	/** English monolingual JSONL files ({text}) interleaved with the translation pre-training instances. */
	english?: readonly string[];
	outDir: string;
	format?: ExportFormat;
	/** sharegpt (default) | alpaca for LLaMA-Factory; messages (default) | prompt-completion for TRL. */
	style?: LlamaFactoryStyle | TrlStyle;
	seed?: string | number;
	validationSize?: number;
	langs?: readonly string[];
	instructionLanguage?: InstructionLanguage;
	/** A JSON file of translation templates ({templates: [...]}, or a list), validated like the bundled ones. */
	templatesFile?: string;
	specialTokens?: SpecialTokenPolicy;
	onBadRecord?: BadRecordPolicy;
	/** Default: pretraining only, as in the paper (translation SFT data comes from the translated KD records). */
	parallelUse?: readonly ParallelUse[];
	/** Pre-training records are runs of whole lines joined by `\n`, cut before this many characters (default 4096). */
	pretrainingRecordChars?: number;
	/** Prefix of the dataset names in dataset_info.json (default `transllm_tcot`). */
	datasetName?: string;
	/** Add id, kind and lang to every exported record. */
	metadata?: boolean;
	/** Continue unfinished outputs (same inputs and seed give the same records, so a resumed file equals a fresh one). */
	resume?: boolean;
	/** Replace finished outputs. */
	force?: boolean;
	/** Where progress goes (default stderr); `null` for none. */
	progress?: NodeJS.WritableStream | null;
	/**
	 * A task of a sharded build (datatrove's tasks; with `worldSize` > 1 and `instancesOut`): it reads every input
	 * but keeps the records whose id falls to `rank` (`shardOfKey`: a KD and a translated record of one id meet in
	 * one task), and writes their instances, unmixed, to `instancesOut` instead of the training files.
	 */
	rank?: number;
	worldSize?: number;
	instancesOut?: string;
	/** The finishing step of a sharded build: the tasks' `instancesOut` files are mixed instead of reading KD and translated records. */
	instanceParts?: readonly string[];
}

/** The task a record id falls to: FNV-1a of its UTF-8 bytes modulo the world size (the same on every machine). */
export function shardOfKey(key: string, worldSize: number): number {
	let hash = 0x811c9dc5;
	for (const byte of Buffer.from(key, "utf8")) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
	return hash % worldSize;
}

/** Reads the parts a sharded build's tasks wrote (a header line, then one instance per line). */
async function readInstanceParts(parts: readonly string[]): Promise<CollectedTransferData[]> {
	const collected: CollectedTransferData[] = [];
	for (const part of parts) {
		let header: Omit<CollectedTransferData, "instances"> | undefined;
		const instances: TrainingInstance[] = [];
		for await (const { value } of readJsonl<Record<string, unknown>>(part)) {
			if (header === undefined) header = value as unknown as Omit<CollectedTransferData, "instances">;
			else instances.push(value as unknown as TrainingInstance);
		}
		if (header === undefined) throw new InputError("empty: not the instances of a tcot build task", { file: part });
		collected.push({ ...header, instances });
	}
	return collected;
}

export interface BuildTrainingFilesResult {
	files: Record<string, string>;
	counts: TransferDataCounts & { pretrainingLines: number; pretrainingRecords: number; englishLines: number };
	specialTokens: string[];
	langs: string[];
	rejected: number;
	rejectsPath?: string;
}

const KD_FIELDS = ["id", "query_en", "response_en"] as const;
const TRANSLATED_FIELDS = ["id", "query_en", "response_en", "query_t", "response_t", "lang"] as const;
const PARALLEL_FIELDS = ["source", "target", "sourceLang", "targetLang"] as const;

function styleFor(format: ExportFormat, style: string | undefined): LlamaFactoryStyle | TrlStyle {
	const allowed = format === "llamafactory" ? ["sharegpt", "alpaca"] : ["messages", "prompt-completion"];
	const chosen = style ?? allowed[0];
	if (!allowed.includes(chosen as string)) throw new ConfigError(`--style ${chosen} does not go with --format ${format}; use ${allowed.join(" or ")}`);
	return chosen as LlamaFactoryStyle | TrlStyle;
}

function exporter(style: LlamaFactoryStyle | TrlStyle, metadata: boolean): (instance: TrainingInstance) => unknown {
	const meta = (instance: TrainingInstance) => (metadata ? { id: instance.id, kind: instance.kind, lang: instance.lang } : {});
	switch (style) {
		case "sharegpt":
			return (instance) => toShareGpt(instance, { metadata });
		case "alpaca":
			return (instance) => toAlpaca(instance, { metadata });
		case "messages":
			return (instance) => ({ ...toTrlMessages(instance), ...meta(instance) });
		case "prompt-completion":
			return (instance) => ({ ...toTrlPromptCompletion(instance), ...meta(instance) });
	}
}

async function loadTemplates(path: string): Promise<TranslationTemplate[]> {
	const json = await readJsonFile<unknown>(path, "translation templates file");
	const list = Array.isArray(json) ? json : (json as { templates?: unknown }).templates;
	return assertTranslationTemplates(list as TranslationTemplate[], path);
}

/**
 * A resumed build continues files whose records come from the inputs and options: `build-options.json` records them
 * (with the input files' sizes and times) when a build starts, and `--resume` refuses to continue a different build.
 */
async function checkResumable(options: BuildTrainingFilesOptions, path: string): Promise<void> {
	const inputs: Record<string, unknown> = {};
	for (const file of [...(options.kd ?? []), ...(options.translated ?? []), ...(options.parallel ?? []), ...(options.english ?? []), ...(options.templatesFile ? [options.templatesFile] : [])]) {
		const info = await stat(file).catch(() => undefined);
		inputs[file] = info ? { size: info.size, mtimeMs: info.mtimeMs } : null;
	}
	const { progress: _progress, resume: _resume, force: _force, outDir: _outDir, ...settings } = options;
	await recordRunSettings(path, { settings, inputs }, { resume: options.resume, output: options.outDir });
}

/** A record whose id is a string (a JSON number id becomes its text); copied only when it is not one already. */
function withStringId<T extends { id: unknown }>(record: T): T & { id: string } {
	return typeof record.id === "string" ? (record as T & { id: string }) : { ...record, id: String(record.id) };
}

function textOf(value: unknown, origin: { file: string; line: number }): string {
	return requireText((value as { text?: unknown }).text, { ...origin, field: "text" });
}

/**
 * `transllm tcot build`: reads KD, translated and parallel records, builds the mixed transfer fine-tuning data
 * (recovery KD + TCOT + translation, with a held-out validation split) and the translation pre-training text, and
 * writes them for LLaMA-Factory or TRL with the special tokens the trainer must add.
 */
export async function buildTrainingFiles(options: BuildTrainingFilesOptions): Promise<BuildTrainingFilesResult> {
	const format = options.format ?? "llamafactory";
	if (format !== "llamafactory" && format !== "trl") throw new ConfigError(`--format must be llamafactory or trl, got ${String(format)}`);
	const style = styleFor(format, options.style);
	const parallelUse = new Set(options.parallelUse ?? ["pretraining"]);
	for (const use of parallelUse) if (use !== "pretraining" && use !== "sft") throw new ConfigError(`--parallel-use takes pretraining and/or sft, got ${use}`);
	const kdFiles = options.kd ?? [];
	const translatedFiles = options.translated ?? [];
	const parallelFiles = options.parallel ?? [];
	const englishFiles = options.english ?? [];
	if (kdFiles.length + translatedFiles.length + parallelFiles.length === 0) throw new ConfigError("no input: pass --kd, --translated and/or --parallel files");
	if (englishFiles.length > 0 && !(parallelUse.has("pretraining") && parallelFiles.length > 0)) {
		throw new ConfigError("--english lines are interleaved with translation pre-training instances: pass --parallel files too");
	}
	const langs = options.langs?.map(normalizeLanguage);
	const seed = options.seed ?? 42;
	const policy = options.onBadRecord ?? "error";
	const worldSize = options.worldSize ?? 1;
	const rank = options.rank ?? 0;
	if (!Number.isInteger(worldSize) || worldSize < 1 || !Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new ConfigError(`rank ${rank} of world size ${worldSize}: need 0 ≤ rank < world size`);
	if (options.instancesOut !== undefined && options.instanceParts !== undefined) throw new ConfigError("instancesOut (a task) and instanceParts (the finishing step) exclude each other");
	const finishing = options.instanceParts !== undefined;
	// A task keeps the records whose id falls to its rank; the finishing step has their instances already.
	const mine = (id: string): boolean => options.instancesOut === undefined || shardOfKey(id, worldSize) === rank;
	const chunkChars = options.pretrainingRecordChars ?? 4096;
	const datasetName = options.datasetName ?? "transllm_tcot";
	const paths = {
		train: join(options.outDir, "train.jsonl"),
		validation: join(options.outDir, "validation.jsonl"),
		pretraining: join(options.outDir, "translation_pretraining.jsonl"),
	};
	await checkResumable(options, join(options.outDir, "build-options.json"));
	const rejects = policy === "skip" ? await RejectsWriter.open(paths.train, { resume: options.resume }) : undefined;
	const stats: ReadStats = emptyReadStats();
	const progress = createProgress({ label: "tcot build", unit: "records", silent: options.progress === null, stream: options.progress ?? undefined });
	const builder = new TransferDataBuilder({
		seed,
		validationSize: options.validationSize ?? DEFAULT_VALIDATION_SIZE,
		langs,
		templates: options.templatesFile ? await loadTemplates(options.templatesFile) : undefined,
		instructionLanguage: options.instructionLanguage,
		specialTokens: options.specialTokens,
	});

	// A record the builder refuses (special token, empty text, unknown language) is a bad record like a JSON error.
	const guarded = async <T>(record: JsonlRecord<T>, add: (value: T, origin: { file: string; line: number }) => unknown): Promise<void> => {
		progress.tick();
		try {
			add(record.value, { file: record.file, line: record.line });
		} catch (error) {
			if (policy === "skip" && TransllmError.isInstance(error) && error.code !== "E_CONFIG") {
				// The rejects entry has file and line of its own; the field goes into the reason.
				const reason = error instanceof InputError ? `${error.reason}${error.field !== undefined ? ` (field "${error.field}")` : ""}` : error.message;
				await rejects?.reject({ file: record.file, line: record.line, reason, raw: JSON.stringify(record.value) });
				stats.rejected += 1;
				return;
			}
			// Name the file and line of a data error raised without them (an unknown language code, say).
			if (error instanceof InputError && error.file === undefined) {
				throw new InputError(error.reason, { file: record.file, line: record.line, field: error.field }, { cause: error });
			}
			if (TransllmError.isInstance(error) && error.code === "E_UNKNOWN_LANGUAGE") {
				throw new InputError(error.message, { file: record.file, line: record.line }, { cause: error });
			}
			throw error;
		}
	};
	const read = <T>(files: readonly string[], required: readonly string[]) => readJsonl<T>(files, { onBadRecord: policy, rejects, required, stats });

	for await (const record of read<KdRecord>(finishing ? [] : kdFiles, KD_FIELDS)) {
		if (mine(String(record.value.id))) await guarded(record, (value, origin) => builder.addKdRecord(withStringId(value), origin));
	}
	for await (const record of read<TranslatedRecord>(finishing ? [] : translatedFiles, TRANSLATED_FIELDS)) {
		if (mine(String(record.value.id))) await guarded(record, (value, origin) => builder.addTranslatedRecord(withStringId(value), origin));
	}
	// A pair without an id is named by file and line: the base name, or the path where two --parallel files share one.
	const sharedBase = new Set(parallelFiles.map((file) => basename(file))).size < new Set(parallelFiles).size;
	const pairId = (record: JsonlRecord<ParallelPair & { id?: unknown }>) =>
		record.value.id !== undefined ? String(record.value.id) : `${sharedBase ? record.file : basename(record.file)}:${record.line}`;
	// A pair for the pre-training text: English on one side, guarded texts; undefined when its language is filtered.
	// The one training-data policy (core): chat control tokens, <RESPONSE> and every language-ID token.
	const guardTokens = guardedSpecialTokens();
	const pretrainingPair = (pair: ParallelPair, origin: { file: string; line: number }): ParallelPair | undefined => {
		const sourceLang = normalizeLanguage(String(pair.sourceLang));
		const targetLang = normalizeLanguage(String(pair.targetLang));
		if (sourceLang !== "en" && targetLang !== "en") throw new InputError("a parallel pair needs English on one side", { ...origin, field: "sourceLang" });
		const lang = sourceLang === "en" ? targetLang : sourceLang;
		if (langs && !langs.includes(lang)) return undefined;
		const text = (value: unknown, field: string) => guardSpecialTokens(requireText(value, { ...origin, field }), guardTokens, options.specialTokens ?? "error", { ...origin, field });
		return { source: text(pair.source, "source"), target: text(pair.target, "target"), sourceLang, targetLang };
	};
	let pairCount = 0;
	let pairsFiltered = 0;
	const pairLangs = new Set<string>();
	for await (const record of read<ParallelPair & { id?: unknown }>(parallelFiles, PARALLEL_FIELDS)) {
		if (!mine(pairId(record))) continue;
		await guarded(record, (value, origin) => {
			const pair = pretrainingPair(value, origin);
			if (pair === undefined) {
				pairsFiltered += 1;
				return;
			}
			if (parallelUse.has("sft") && !finishing) builder.addParallelPair(pair, pairId(record), origin);
			pairCount += 1;
			pairLangs.add(pair.sourceLang === "en" ? pair.targetLang : pair.sourceLang);
		});
	}

	if (options.instancesOut !== undefined) {
		// A task: its instances, unmixed, behind a header with its record counts and languages.
		const collected = builder.collectedStore();
		const everyInstance = Array.from({ length: collected.store.size }, (_, index) => index);
		await writeInstances(options.instancesOut, collected.store, everyInstance, (instance) => instance, { overwrite: true, header: { records: collected.records, langs: collected.langs } });
		await rejects?.close();
		progress.done();
		const counts = { instances: { train: {}, validation: {} }, records: collected.records, pretrainingLines: 0, pretrainingRecords: 0, englishLines: 0 };
		return { files: { instances: options.instancesOut }, counts, specialTokens: tcotSpecialTokens(collected.langs), langs: collected.langs, rejected: rejects?.count ?? stats.rejected, ...(rejects ? { rejectsPath: rejects.path } : {}) };
	}
	// The finishing step mixes the tasks' instances in the builder that read no KD or translated record.
	for (const part of finishing ? await readInstanceParts(options.instanceParts ?? []) : []) builder.addCollected(part);
	const data = builder.mix();
	// An empty training file is no build: say why (every record filtered by --langs, rejected, or no input at all).
	if (data.train.length + data.validation.length === 0 && pairCount === 0) {
		const { records } = data.counts;
		throw new InputError(
			`no training instance: ${records.kd} KD and ${records.translated} translated records read, ${records.filtered} of them filtered out${langs ? ` by --langs ${langs.join(",")}` : ""}, no parallel pair kept, ${rejects?.count ?? stats.rejected} line(s) rejected`,
			{ file: [...kdFiles, ...translatedFiles, ...parallelFiles].join(", ") },
		);
	}
	const toRecord = exporter(style, options.metadata ?? false);
	const files: Record<string, string> = {};
	const writeOptions = { resume: options.resume, overwrite: options.force };
	// Each line is written from the store's escaped texts, byte for byte what JSON.stringify(toRecord(instance)) gives.
	await writeInstances(paths.train, data.store, data.train, toRecord, writeOptions);
	files.train = paths.train;
	if (data.validation.length > 0 || (options.validationSize ?? DEFAULT_VALIDATION_SIZE) > 0) {
		await writeInstances(paths.validation, data.store, data.validation, toRecord, writeOptions);
		files.validation = paths.validation;
	}

	let englishLines = 0;
	let pretrainingLines = 0;
	let pretrainingRecords = 0;
	if (parallelUse.has("pretraining") && parallelFiles.length > 0) {
		// Counting first lets the interleaving stream in constant memory (see interleaveTranslationPretraining).
		// An English line that is not text or holds a special token is a bad record, in both passes alike.
		const englishLine = async (record: JsonlRecord<Record<string, unknown>>): Promise<string | undefined> => {
			try {
				return guardSpecialTokens(textOf(record.value, record), guardTokens, options.specialTokens ?? "error", { file: record.file, line: record.line, field: "text" });
			} catch (error) {
				if (policy !== "skip" || !(error instanceof InputError)) throw error;
				await rejects?.reject({ file: record.file, line: record.line, reason: error.reason, raw: JSON.stringify(record.value) });
				return undefined;
			}
		};
		for await (const record of readJsonl(englishFiles, { onBadRecord: policy, rejects, required: ["text"] })) {
			if ((await englishLine(record)) !== undefined) englishLines += 1;
		}
		const pairs = async function* () {
			for await (const record of readJsonl<ParallelPair>(parallelFiles, { onBadRecord: policy, rejects, required: PARALLEL_FIELDS })) {
				let pair: ParallelPair | undefined;
				try {
					pair = pretrainingPair(record.value, record);
				} catch {
					continue; // rejected in the first pass
				}
				if (pair) yield pair;
			}
		};
		const english = async function* () {
			for await (const record of readJsonl(englishFiles, { onBadRecord: policy, rejects, required: ["text"] })) {
				const line = await englishLine(record);
				if (line !== undefined) yield line;
			}
		};
		const pretrainingPairCount = pairCount;
		const lines = interleaveTranslationPretraining(pairs(), english(), { seed, pairCount: pretrainingPairCount, englishLineCount: englishLines });
		const chunks = async function* () {
			let current: string[] = [];
			let size = 0;
			for await (const line of lines) {
				pretrainingLines += 1;
				if (current.length > 0 && size + 1 + line.length > chunkChars) {
					yield { text: current.join("\n") };
					current = [];
					size = 0;
				}
				size += (current.length > 0 ? 1 : 0) + line.length;
				current.push(line);
			}
			if (current.length > 0) yield { text: current.join("\n") };
		};
		pretrainingRecords = await writeJsonlStream(paths.pretraining, chunks(), writeOptions);
		files.pretraining = paths.pretraining;
	}

	const allLangs = [...new Set([...data.langs, ...pairLangs])].sort();
	const specialTokens = tcotSpecialTokens(allLangs);
	files.specialTokens = join(options.outDir, "special_tokens.json");
	await writeJsonAtomic(files.specialTokens, { additional_special_tokens: specialTokens });
	if (format === "llamafactory") {
		const entries: Record<string, unknown> = { [`${datasetName}_train`]: llamaFactoryDatasetInfo(basename(paths.train), style as LlamaFactoryStyle) };
		if (files.validation) entries[`${datasetName}_validation`] = llamaFactoryDatasetInfo(basename(paths.validation), style as LlamaFactoryStyle);
		if (files.pretraining) entries[`${datasetName}_translation_pretraining`] = llamaFactoryDatasetInfo(basename(paths.pretraining), "pretraining");
		files.datasetInfo = join(options.outDir, "dataset_info.json");
		await writeJsonAtomic(files.datasetInfo, entries);
		const args = llamaFactorySpecialTokenArgs(specialTokens);
		files.trainerArgs = join(options.outDir, "llamafactory_args.yaml");
		await writeFileAtomic(
			files.trainerArgs,
			[
				"# Merge into your LLaMA-Factory training YAML: the datasets written here and the special tokens they use.",
				"# (TransLLM trains LoRA r=64 alpha=128 dropout=0.05 on q,k,v,o,gate,up,down plus embed_tokens and lm_head, App. A.1.)",
				`dataset_dir: ${JSON.stringify(resolve(options.outDir))}`,
				`dataset: ${datasetName}_train`,
				...(files.validation ? [`eval_dataset: ${datasetName}_validation`] : []),
				`add_special_tokens: ${JSON.stringify(args.add_special_tokens)}`,
				`resize_vocab: ${args.resize_vocab}`,
				`additional_target: ${args.additional_target}`,
				"",
			].join("\n"),
		);
	}
	const counts = {
		...data.counts,
		records: { ...data.counts.records, parallel: pairCount, filtered: data.counts.records.filtered + pairsFiltered },
		pretrainingLines,
		pretrainingRecords,
		englishLines,
	};
	const result: BuildTrainingFilesResult = { files, counts, specialTokens, langs: allLangs, rejected: rejects?.count ?? stats.rejected };
	files.manifest = join(options.outDir, "manifest.json");
	await writeJsonAtomic(files.manifest, { format, style, seed, validationSize: options.validationSize ?? DEFAULT_VALIDATION_SIZE, ...result });
	if (rejects) {
		await rejects.close();
		result.rejectsPath = rejects.path;
	}
	progress.done();
	return result;
}
