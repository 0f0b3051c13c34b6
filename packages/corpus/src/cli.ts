import { availableParallelism } from "node:os";
import { ConfigError, choiceOption, listOption, numberOption, optionalString, stringOption } from "@transllm/core";
import type { BadRecordPolicy, CliContext, CliOption, CliValues, CommandTable } from "@transllm/core";
import { augmentParallel } from "./augment-parallel.js";
import { cleanCorpus } from "./clean-corpus.js";
import type { CorpusDocument, CorpusPair } from "./document.js";
import { DuplicateLineFilter } from "./duplicate-line-filter.js";
import type { Filter } from "./filter.js";
import { LanguageIdFilter } from "./language-id-filter.js";
import { LengthFilter } from "./length-filter.js";
import { LengthRatioFilter } from "./length-ratio-filter.js";
import { minhashDedupStage } from "./minhash-dedup-stage.js";
import { dictionaryLanguages } from "./multilingual-lexicon.js";
import type { BilingualDictionary } from "./multilingual-lexicon.js";
import { NgramRepetitionFilter } from "./ngram-repetition-filter.js";
import { PairLanguageFilter } from "./pair-language-filter.js";
import { buildParallelData } from "./parallel-corpus.js";
import type { DocumentFormat } from "./read-documents.js";
import type { PairFormat } from "./read-pairs.js";
import { ScriptRatioFilter } from "./script-ratio-filter.js";
import { WordListFilter, loadWordLists } from "./word-list-filter.js";

function optionalNumber(values: CliValues, name: string, check?: { min?: number; max?: number; integer?: boolean }): number | undefined {
	return values[name] === undefined ? undefined : numberOption(values, name, 0, check);
}

// `--seed 42` is the API's `seed: 42`; any other text is a string seed.
function seedOf(values: CliValues): string | number {
	const seed = stringOption(values, "seed");
	return /^\d+$/.test(seed) ? Number(seed) : seed;
}

/** `2=0.2,3=0.18` → {2: 0.2, 3: 0.18}. */
function ngramTable(values: CliValues, name: string): Record<number, number> | undefined {
	const items = listOption(values, name);
	if (items.length === 0) return undefined;
	const table: Record<number, number> = {};
	for (const item of items) {
		const [n, fraction] = item.split("=");
		if (n === undefined || fraction === undefined || !/^\d+$/.test(n) || !Number.isFinite(Number(fraction))) throw new ConfigError(`--${name} takes n=fraction items such as 3=0.18, got "${item}"`);
		table[Number(n)] = Number(fraction);
	}
	return table;
}

function table(context: CliContext, rows: [string, string | number][]): void {
	const width = Math.max(...rows.map(([key]) => key.length));
	context.stdout.write(`${rows.map(([key, value]) => `${key.padEnd(width)}  ${typeof value === "number" ? value.toLocaleString("en-US") : value}`).join("\n")}\n`);
}

// Lines set aside by --on-bad-record skip are not in any other count: say so, so that none goes unnoticed.
function rejectedRow(rejected: number | undefined): [string, number][] {
	return rejected ? [["rejected (see *.rejects.jsonl)", rejected]] : [];
}

const common: Record<string, CliOption> = {
	"on-bad-record": { type: "string", default: "error", valueName: "<policy>", description: "Unreadable lines/rows: error (stop, naming file:line) | skip (keep them in <output>.rejects.jsonl)" },
	resume: { type: "boolean", description: "Continue an interrupted run: finished parts are kept, an unfinished output continues after its last record" },
	force: { type: "boolean", description: "Start over, replacing the outputs of an earlier run" },
	quiet: { type: "boolean", short: "q", description: "No progress lines" },
};

const pairInput: Record<string, CliOption> = {
	format: { type: "string", default: "auto", valueName: "<format>", description: "moses | tsv | jsonl | parquet; auto: from the file names (two other files: moses)" },
	"source-lang": { type: "string", default: "en", valueName: "<code>", description: "Language of the source side" },
	"target-lang": { type: "string", required: true, valueName: "<code>", description: "Language of the target side (th, ar …)" },
	"source-field": { type: "string", valueName: "<path>", description: "jsonl/parquet: field of the source (default: source, translation.<lang> or <lang>)" },
	"target-field": { type: "string", valueName: "<path>", description: "jsonl/parquet: field of the target (default: target, translation.<lang> or <lang>)" },
	"source-column": { type: "string", default: "0", valueName: "<n>", description: "tsv: 0-based column of the source" },
	"target-column": { type: "string", default: "1", valueName: "<n>", description: "tsv: 0-based column of the target" },
};

function pairFormat(values: CliValues, inputs: readonly string[]): PairFormat {
	const format = choiceOption(values, "format", ["auto", "moses", "tsv", "jsonl", "parquet"] as const) ?? "auto";
	if (format !== "auto") return format;
	const names = inputs.map((path) => path.toLowerCase().replace(/\.gz$/, ""));
	if (names.every((name) => name.endsWith(".tsv"))) return "tsv";
	if (names.every((name) => name.endsWith(".parquet"))) return "parquet";
	if (names.every((name) => name.endsWith(".jsonl") || name.endsWith(".ndjson"))) return "jsonl";
	if (inputs.length <= 2) return "moses";
	throw new ConfigError("cannot tell the pair format from the file names: pass --format moses|tsv|jsonl|parquet");
}

function readPairsOptions(values: CliValues, inputs: string[]) {
	return {
		format: pairFormat(values, inputs),
		paths: inputs,
		sourceLang: stringOption(values, "source-lang"),
		targetLang: stringOption(values, "target-lang"),
		sourceField: optionalString(values, "source-field"),
		targetField: optionalString(values, "target-field"),
		sourceColumn: numberOption(values, "source-column", 0, { min: 0, integer: true }),
		targetColumn: numberOption(values, "target-column", 1, { min: 0, integer: true }),
	};
}

function layoutOptions(values: CliValues) {
	return {
		directionProbability: numberOption(values, "direction-prob", 0.5, { min: 0, max: 1 }),
		lowResourceThreshold: numberOption(values, "low-resource-threshold", 25_000, { min: 0, integer: true }),
		replication: numberOption(values, "replication", 3, { min: 1, integer: true }),
	};
}

const layoutFlags: Record<string, CliOption> = {
	"direction-prob": { type: "string", default: "0.5", valueName: "<p>", description: "Layout: probability of source→target per entry (LLaMAX: 50%)" },
	"low-resource-threshold": { type: "string", default: "25000", valueName: "<n>", description: "Layout: language pairs with fewer pairs are replicated (LLaMAX: 25,000)" },
	replication: { type: "string", default: "3", valueName: "<n>", description: "Layout: copies of a low-resource pair (LLaMAX: thrice)" },
};

async function cleanFilters(values: CliValues, lang: string): Promise<Filter<CorpusDocument>[]> {
	const filters: Filter<CorpusDocument>[] = [];
	const minChars = optionalNumber(values, "min-chars", { min: 0, integer: true });
	const maxChars = optionalNumber(values, "max-chars", { min: 0, integer: true });
	const minWords = optionalNumber(values, "min-words", { min: 0, integer: true });
	const maxWords = optionalNumber(values, "max-words", { min: 0, integer: true });
	filters.push(new LengthFilter({ minChars, maxChars, minWords, maxWords, lang }));
	filters.push(new ScriptRatioFilter({ lang, minRatio: numberOption(values, "min-script-ratio", 0.5, { min: 0, max: 1 }) }));
	if (!values["skip-language-id"]) filters.push(new LanguageIdFilter({ lang, minConfidence: numberOption(values, "min-lang-confidence", 0.05, { min: 0, max: 1 }) }));
	if (!values["skip-repetition"]) {
		filters.push(
			new DuplicateLineFilter({
				maxLineFraction: numberOption(values, "max-duplicate-lines", 0.3, { min: 0, max: 1 }),
				maxLineCharFraction: numberOption(values, "max-duplicate-line-chars", 0.2, { min: 0, max: 1 }),
				maxParagraphFraction: numberOption(values, "max-duplicate-paragraphs", 0.3, { min: 0, max: 1 }),
				maxParagraphCharFraction: numberOption(values, "max-duplicate-paragraph-chars", 0.2, { min: 0, max: 1 }),
			}),
		);
		filters.push(
			new NgramRepetitionFilter({
				lang,
				topNgrams: ngramTable(values, "top-ngram"),
				duplicateNgrams: ngramTable(values, "duplicate-ngram"),
				minWords: numberOption(values, "ngram-min-words", 50, { min: 0, integer: true }),
			}),
		);
	}
	const lists = listOption(values, "word-list");
	if (lists.length > 0) {
		filters.push(new WordListFilter({ words: await loadWordLists(lists), lang, threshold: numberOption(values, "word-list-threshold", 1, { min: 1, integer: true }) }));
	}
	return filters;
}

function dictionaries(values: CliValues): BilingualDictionary[] {
	const items = Array.isArray(values.dict) ? values.dict : typeof values.dict === "string" ? [values.dict] : [];
	if (items.length === 0) throw new ConfigError("--dict is required: one bilingual dictionary per flag, e.g. --dict en-fr=muse/en-fr.txt or --dict muse/en-th.0-5000.txt");
	return items.map((item) => {
		const match = /^([A-Za-z]{2,3}(?:-[A-Za-z]{4})?)-([A-Za-z]{2,3}(?:-[A-Za-z]{4})?)=(.+)$/.exec(item);
		if (match) return { sourceLang: match[1] as string, targetLang: match[2] as string, path: match[3] as string };
		const languages = dictionaryLanguages(item);
		if (!languages) throw new ConfigError(`--dict ${item}: name the languages (--dict en-fr=${item}) or use a MUSE file name such as en-fr.txt`);
		return { ...languages, path: item };
	});
}

/** `transllm corpus …`: clean the target-language corpus, build the parallel data, augment it (TransLLM + LLaMAX). */
export const corpusCommands: CommandTable = {
	clean: {
		description:
			"Clean a target-language corpus (TransLLM Sec. 3.1): read → length, script-ratio, language-ID, repetition and sensitive-word filters (each drop audited) → MinHash dedup → write; streaming and resumable",
		positionals: [{ name: "inputs", required: true, variadic: true, description: "Input files: .jsonl/.jsonl.gz, .parquet, or plain text" }],
		options: {
			out: { type: "string", short: "o", required: true, valueName: "<dir>", description: "Output folder: filtered/, audit/, dedup/kept/ (the cleaned corpus), summary.json" },
			lang: { type: "string", required: true, valueName: "<code>", description: "Language of the corpus (th, ar …): script, language ID and word splitting" },
			format: { type: "string", default: "auto", valueName: "<format>", description: "auto | jsonl | text | parquet" },
			"text-field": { type: "string", default: "text", valueName: "<field>", description: "JSONL field / Parquet column of the text (dotted path into structs)" },
			"id-field": { type: "string", valueName: "<field>", description: "Field / column of the document id (JSONL default: id; absent: <file>:<line>)" },
			"metadata-field": { type: "string", multiple: true, valueName: "<column>", description: "Parquet columns to carry into the output (JSONL keeps every field)" },
			"text-mode": { type: "string", default: "line", valueName: "<mode>", description: "Plain text: line (a document per line) | paragraph (blank-line separated)" },
			"special-tokens": { type: "string", default: "error", valueName: "<policy>", description: "Documents holding </s>, <EN>, a language-ID or chat control token: error (a bad record) | escape (U+2060 after the first character) | allow" },
			"word-list": { type: "string", multiple: true, valueName: "<file>", description: "Sensitive-word list (one word or phrase per line, # comments); whole words via Intl.Segmenter" },
			"word-list-threshold": { type: "string", default: "1", valueName: "<n>", description: "Drop a document at this many word-list matches" },
			"min-chars": { type: "string", valueName: "<n>", description: "Minimum characters" },
			"max-chars": { type: "string", valueName: "<n>", description: "Maximum characters" },
			"min-words": { type: "string", valueName: "<n>", description: "Minimum words (Intl.Segmenter words for Thai …)" },
			"max-words": { type: "string", valueName: "<n>", description: "Maximum words" },
			"min-script-ratio": { type: "string", default: "0.5", valueName: "<r>", description: "Minimum share of letters in the language's script" },
			"min-lang-confidence": { type: "string", default: "0.05", valueName: "<c>", description: "Minimum language-ID confidence (core's margin over the runner-up)" },
			"skip-language-id": { type: "boolean", description: "No language-ID filter" },
			"max-duplicate-lines": { type: "string", default: "0.3", valueName: "<r>", description: "Maximum fraction of repeated lines (Gopher)" },
			"max-duplicate-line-chars": { type: "string", default: "0.2", valueName: "<r>", description: "Maximum fraction of characters in repeated lines (Gopher)" },
			"max-duplicate-paragraphs": { type: "string", default: "0.3", valueName: "<r>", description: "Maximum fraction of repeated paragraphs (Gopher)" },
			"max-duplicate-paragraph-chars": { type: "string", default: "0.2", valueName: "<r>", description: "Maximum fraction of characters in repeated paragraphs (Gopher)" },
			"top-ngram": { type: "string", multiple: true, valueName: "<n=r>", description: "Maximum character share of the most frequent n-gram (default 2=0.2,3=0.18,4=0.16, Gopher)" },
			"duplicate-ngram": { type: "string", multiple: true, valueName: "<n=r>", description: "Maximum character share of repeated n-grams (default 5=0.15,…,10=0.1, Gopher)" },
			"ngram-min-words": { type: "string", default: "50", valueName: "<n>", description: "Documents with fewer words skip the n-gram checks" },
			"skip-repetition": { type: "boolean", description: "No repetition filters" },
			"no-dedup": { type: "boolean", description: "Skip MinHash dedup: the filtered shards are the output" },
			"dedup-threshold": { type: "string", default: "0.8", valueName: "<j>", description: "Dedup: Jaccard threshold" },
			"num-perm": { type: "string", default: "128", valueName: "<n>", description: "Dedup: MinHash signature length" },
			ngram: { type: "string", default: "5", valueName: "<n>", description: "Dedup: shingle length in words" },
			keep: { type: "string", default: "first", valueName: "<policy>", description: "Dedup: which duplicate survives: first | longest" },
			workers: { type: "string", valueName: "<n>", description: "Dedup: hashing threads (default: available cores)" },
			"filter-workers": { type: "string", valueName: "<n>", description: "Threads filtering input files side by side, one file per thread (same output for any number) (default: available cores)" },
			rank: { type: "string", valueName: "<r>", description: "Filter only inputs r, r+W, … (run W ranks side by side, then once more with --resume to dedup)" },
			"world-size": { type: "string", default: "1", valueName: "<W>", description: "Number of ranks sharing the filter stage" },
			...common,
		},
		details: "Example: transllm corpus clean mc4-th/*.json.gz --lang th --word-list sensitive-th.txt --out th-clean",
		async run({ values, positionals }, context) {
			const lang = stringOption(values, "lang");
			const filters = await cleanFilters(values, lang);
			const summary = await cleanCorpus({
				inputs: positionals,
				outDir: stringOption(values, "out"),
				filters,
				dedup: values["no-dedup"]
					? undefined
					: minhashDedupStage({
							lang,
							threshold: numberOption(values, "dedup-threshold", 0.8, { min: 0, max: 1 }),
							numPerm: numberOption(values, "num-perm", 128, { min: 1, integer: true }),
							ngram: numberOption(values, "ngram", 5, { min: 1, integer: true }),
							keep: choiceOption(values, "keep", ["first", "longest"] as const),
							workers: optionalNumber(values, "workers", { min: 0, integer: true }),
							onBadRecord: "error",
						}),
				format: choiceOption(values, "format", ["auto", "jsonl", "text", "parquet"] as const) as DocumentFormat | "auto",
				textField: optionalString(values, "text-field"),
				idField: optionalString(values, "id-field"),
				metadataFields: listOption(values, "metadata-field"),
				textMode: choiceOption(values, "text-mode", ["line", "paragraph"] as const),
				onBadRecord: choiceOption(values, "on-bad-record", ["error", "skip"] as const) as BadRecordPolicy,
				specialTokens: choiceOption(values, "special-tokens", ["error", "escape", "allow"] as const),
				resume: values.resume === true,
				force: values.force === true,
				silent: values.quiet === true,
				rank: optionalNumber(values, "rank", { min: 0, integer: true }),
				worldSize: numberOption(values, "world-size", 1, { min: 1, integer: true }),
				filterWorkers: optionalNumber(values, "filter-workers", { min: 1, integer: true }) ?? availableParallelism(),
			});
			if (summary.pending > 0) {
				context.stdout.write(`${summary.pending} input(s) wait for other ranks; when all are done, run once more with --resume (no --rank) to deduplicate and summarise\n`);
			}
			table(context, [
				["read", summary.read],
				...Object.entries(summary.dropped).map(([key, n]): [string, number] => [key, n]),
				...rejectedRow(summary.stats.counters["rejected/records"]),
				["after filters", summary.filtered],
				...(summary.dedup ? ([["dedup removed", summary.dedup.removed ?? 0]] as [string, number][]) : []),
				["kept", summary.kept],
				["output", summary.outputs.join(", ")],
			]);
		},
	},
	parallel: {
		description:
			"Parallel data (TransLLM Sec. 3.1, 2.2.2): language checks on both sides and a length-ratio filter, seeded sampling of N pairs and N English documents, the translation pre-training text (pairs interleaved with English lines), optionally LLaMAX's layout",
		positionals: [{ name: "inputs", required: true, variadic: true, description: "Pairs: corpus.en corpus.th (or the prefix corpus), .tsv, .jsonl or .parquet files" }],
		options: {
			...pairInput,
			out: { type: "string", short: "o", required: true, valueName: "<dir>", description: "Output folder: pairs.jsonl, english.jsonl, translation-pretraining.jsonl, layout.jsonl, audit/, summary.json" },
			sample: { type: "string", valueName: "<n>", description: "Pairs to sample from those that pass (TransLLM: 1000000; default all)" },
			seed: { type: "string", default: "42", valueName: "<seed>", description: "Seed of the sampling, interleaving and layout" },
			"min-lang-confidence": { type: "string", default: "0.05", valueName: "<c>", description: "Minimum language-ID confidence of each side" },
			"min-script-ratio": { type: "string", default: "0.5", valueName: "<r>", description: "Minimum share of letters in each side's script" },
			"skip-language-check": { type: "boolean", description: "No language check of the sides" },
			"max-length-ratio": { type: "string", default: "3", valueName: "<r>", description: "Maximum ratio of the longer side to the shorter" },
			"length-unit": { type: "string", default: "words", valueName: "<unit>", description: "words (Intl.Segmenter for Thai, Chinese) | chars" },
			"min-length": { type: "string", default: "1", valueName: "<n>", description: "Minimum length of each side" },
			"max-length": { type: "string", valueName: "<n>", description: "Maximum length of each side" },
			english: { type: "string", multiple: true, valueName: "<file>", description: "English monolingual documents (JSONL, text or Parquet) for the translation pre-training text" },
			"english-sample": { type: "string", valueName: "<n>", description: "English documents to sample (TransLLM: 1000000; default all)" },
			"english-text-field": { type: "string", default: "text", valueName: "<field>", description: "Text field of the English files" },
			"chunk-chars": { type: "string", default: "16384", valueName: "<n>", description: "Characters per translation pre-training record (cut at line breaks)" },
			layout: { type: "boolean", description: "Also write LLaMAX's layout of the sampled pairs (layout.jsonl)" },
			...layoutFlags,
			...common,
		},
		details: "Example: transllm corpus parallel ccaligned.en ccaligned.th --target-lang th --sample 1000000 --english pile/*.jsonl --english-sample 1000000 --out para-th",
		async run({ values, positionals }, context) {
			const filters: Filter<CorpusPair>[] = [
				new LengthRatioFilter({
					maxRatio: numberOption(values, "max-length-ratio", 3, { min: 1 }),
					unit: choiceOption(values, "length-unit", ["words", "chars"] as const),
					minLength: numberOption(values, "min-length", 1, { min: 0, integer: true }),
					maxLength: optionalNumber(values, "max-length", { min: 1, integer: true }),
				}),
			];
			if (!values["skip-language-check"]) {
				filters.push(
					new PairLanguageFilter({
						minConfidence: numberOption(values, "min-lang-confidence", 0.05, { min: 0, max: 1 }),
						minScriptRatio: numberOption(values, "min-script-ratio", 0.5, { min: 0, max: 1 }),
					}),
				);
			}
			const englishFiles = listOption(values, "english");
			const summary = await buildParallelData({
				read: readPairsOptions(values, positionals),
				outDir: stringOption(values, "out"),
				filters,
				sample: optionalNumber(values, "sample", { min: 1, integer: true }),
				seed: seedOf(values),
				english: englishFiles.length > 0 ? { paths: englishFiles, textField: optionalString(values, "english-text-field"), sample: optionalNumber(values, "english-sample", { min: 1, integer: true }) } : undefined,
				pretrainChunkChars: numberOption(values, "chunk-chars", 16_384, { min: 1, integer: true }),
				layout: values.layout ? layoutOptions(values) : undefined,
				onBadRecord: choiceOption(values, "on-bad-record", ["error", "skip"] as const) as BadRecordPolicy,
				resume: values.resume === true,
				force: values.force === true,
				silent: values.quiet === true,
			});
			table(context, [
				["pairs read", summary.read],
				...Object.entries(summary.dropped).map(([key, n]): [string, number] => [key, n]),
				...rejectedRow(summary.stats.counters["rejected/records"]),
				["pairs kept", summary.kept],
				["pairs sampled", summary.sampled],
				...(summary.english !== undefined ? ([["english documents", summary.english]] as [string, number][]) : []),
				...(summary.pretrainingRecords !== undefined ? ([["pre-training records", summary.pretrainingRecords]] as [string, number][]) : []),
				...(summary.layoutRecords !== undefined ? ([["layout records", summary.layoutRecords]] as [string, number][]) : []),
				...Object.entries(summary.outputs).map(([key, path]): [string, string] => [`${key} →`, path]),
			]);
		},
	},
	augment: {
		description:
			"LLaMAX code-switch augmentation (Sec. 2.1, Fig. 2): a multilingual lexicon from bilingual dictionaries, words of each pair's source replaced by translations into other languages (seeded), optionally LLaMAX's layout",
		positionals: [{ name: "inputs", required: true, variadic: true, description: "Pairs: corpus.en corpus.th (or the prefix), .tsv, .jsonl or .parquet files" }],
		options: {
			...pairInput,
			dict: {
				type: "string",
				multiple: true,
				required: true,
				valueName: "<[src-tgt=]file>",
				description: "Bilingual dictionary, MUSE (src tgt per line) or TSV; languages from en-fr=… or a MUSE name like en-fr.0-5000.txt",
			},
			out: { type: "string", short: "o", required: true, valueName: "<file>", description: "Pseudo-parallel pairs (JSONL)" },
			rate: { type: "string", default: "0.3", valueName: "<p>", description: "Probability of replacing a word the lexicon knows" },
			hops: { type: "string", default: "1", valueName: "<1|2>", description: "Lexicon hops (LLaMAX App. F: 1-hop suffices)" },
			languages: { type: "string", multiple: true, valueName: "<codes>", description: "Languages replacements may come from (default: all but the sentence's)" },
			"keep-case": { type: "boolean", description: "Do not lower-case sentences (LLaMAX lower-cases)" },
			directions: { type: "string", default: "both", valueName: "<which>", description: "both (s→t and t→s, LLaMAX Algorithm 1) | forward" },
			seed: { type: "string", default: "42", valueName: "<seed>", description: "Seed of the replacements and the layout" },
			"augment-below": { type: "string", valueName: "<n>", description: "Augment only language pairs with fewer pairs (LLaMAX Algorithm 1: 25000; default: all)" },
			"layout-out": { type: "string", valueName: "<file>", description: "Also write LLaMAX's layout of the original and the augmented pairs" },
			...layoutFlags,
			...common,
		},
		details: "Example: transllm corpus augment para-th/pairs.jsonl --target-lang th --dict muse/en-th.txt --dict muse/en-fr.txt --out aug.jsonl --layout-out layout.jsonl",
		async run({ values, positionals }, context) {
			const hops = numberOption(values, "hops", 1, { min: 1, max: 2, integer: true }) as 1 | 2;
			const languages = listOption(values, "languages");
			const summary = await augmentParallel({
				read: readPairsOptions(values, positionals),
				dictionaries: dictionaries(values),
				codeSwitch: {
					seed: seedOf(values),
					rate: numberOption(values, "rate", 0.3, { min: 0, max: 1 }),
					hops,
					languages: languages.length > 0 ? languages : undefined,
					lowercase: values["keep-case"] !== true,
					directions: choiceOption(values, "directions", ["both", "forward"] as const),
				},
				out: stringOption(values, "out"),
				layoutOut: optionalString(values, "layout-out"),
				layout: layoutOptions(values),
				augmentBelow: optionalNumber(values, "augment-below", { min: 0, integer: true }),
				onBadRecord: choiceOption(values, "on-bad-record", ["error", "skip"] as const) as BadRecordPolicy,
				resume: values.resume === true,
				force: values.force === true,
				silent: values.quiet === true,
			});
			table(context, [
				["lexicon entities", summary.lexicon.entities],
				["lexicon languages", summary.lexicon.languages.join(", ")],
				["pairs read", summary.pairs],
				...rejectedRow(summary.rejected),
				["augmented pairs", summary.augmented],
				["replaced words", summary.replacedWords],
				...(summary.layoutRecords !== undefined ? ([["layout records", summary.layoutRecords]] as [string, number][]) : []),
			]);
		},
	},
};
