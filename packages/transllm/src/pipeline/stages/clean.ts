import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { readJsonl, writeFileAtomic } from "@transllm/core";
import {
	DuplicateLineFilter,
	LanguageIdFilter,
	LengthFilter,
	NgramRepetitionFilter,
	ScriptRatioFilter,
	WordListFilter,
	cleanCorpus,
	loadWordLists,
	minhashDedupStage,
} from "@transllm/corpus";
import type { CleanCorpusParams, CorpusDocument, DedupStage, Filter } from "@transllm/corpus";
import type { PipelineConfig } from "../config.js";
import { missingPaths } from "../stage.js";
import type { Stage, StageContext } from "../stage.js";

async function filters(config: PipelineConfig, lang: string): Promise<Filter<CorpusDocument>[]> {
	const c = config.clean;
	const list: Filter<CorpusDocument>[] = [
		new LengthFilter({ minChars: c.min_chars, maxChars: c.max_chars, lang }),
		new ScriptRatioFilter({ lang, minRatio: c.min_script_ratio }),
	];
	if (c.language_id) list.push(new LanguageIdFilter({ lang, minConfidence: c.min_lang_confidence }));
	if (c.repetition) list.push(new DuplicateLineFilter(), new NgramRepetitionFilter({ lang }));
	const lists = config.languages[lang]?.word_lists ?? [];
	if (lists.length > 0) list.push(new WordListFilter({ words: await loadWordLists(lists), lang }));
	return list;
}

async function params(context: StageContext, lang: string): Promise<CleanCorpusParams> {
	const { config } = context;
	const language = config.languages[lang];
	if (!language) throw new Error(`no language ${lang}`);
	const c = config.clean;
	return {
		inputs: language.corpus,
		outDir: join(context.dir, lang),
		filters: await filters(config, lang),
		dedup: c.dedup ? minhashDedupStage({ lang, threshold: c.dedup_threshold, numPerm: c.num_perm, ngram: c.ngram, workers: 1, onBadRecord: "error" }) : undefined,
		format: language.corpus_format,
		textField: language.text_field,
		onBadRecord: "error",
		silent: true,
	};
}

/** Up to `n` dropped documents per filter, for the report (what a user checks before trusting a filter). */
async function droppedExamples(outDir: string, n = 2): Promise<Record<string, { reason: string; id: string; text: string }[]>> {
	const examples: Record<string, { reason: string; id: string; text: string }[]> = {};
	const auditRoot = join(outDir, "audit");
	const shards = await readdir(auditRoot).catch(() => [] as string[]);
	for (const shard of shards.sort()) {
		for (const file of (await readdir(join(auditRoot, shard))).sort()) {
			for await (const { value } of readJsonl<{ filter: string; reason: string; record: CorpusDocument }>(join(auditRoot, shard, file))) {
				const list = (examples[value.filter] ??= []);
				if (list.length >= n) break;
				list.push({ reason: value.reason, id: String(value.record.id), text: value.record.text.slice(0, 300) });
			}
		}
	}
	return examples;
}

/**
 * clean: TransLLM Sec. 3.1's target-language corpus — length, script, language-ID, repetition and sensitive-word
 * filters, then MinHash LSH dedup (`cleanCorpus` of @transllm/corpus). Sharded by input file: rank r filters
 * inputs r, r+W, …; the finishing step deduplicates. Also writes `text.txt` (a paragraph per line), the training
 * text of the tokenizer stages.
 */
export const cleanStage: Stage = {
	name: "clean",
	title: "clean + dedup the target-language corpus",
	paper: "TransLLM Sec. 3.1",
	packages: ["@transllm/corpus", "@transllm/dedup", "@transllm/core"],
	after: [],
	disabled: () => undefined,
	settings: (config) => ({ clean: config.clean, languages: Object.fromEntries(Object.entries(config.languages).map(([lang, l]) => [lang, { format: l.corpus_format, text_field: l.text_field }])) }),
	inputs: (config) => Object.values(config.languages).flatMap((l) => [...l.corpus, ...l.word_lists]),
	sharded: {
		async runRank(context, rank, worldSize) {
			for (const lang of Object.keys(context.config.languages)) {
				const all = await params(context, lang);
				// Dedup runs once, in the finishing step over every rank's shards: a rank that happens to finish last
				// must not start it (the same configuration, so that the finishing step resumes this folder).
				const later: DedupStage | undefined = all.dedup && (async ({ inputs }) => ({ outputs: [...inputs], stats: {} }));
				await cleanCorpus({ ...all, dedup: later, rank, worldSize, filterWorkers: 1, resume: true });
			}
		},
	},
	async run(context) {
		const outputs: string[] = [];
		const figures: Record<string, unknown> = {};
		for (const lang of Object.keys(context.config.languages)) {
			const summary = await cleanCorpus({ ...(await params(context, lang)), resume: true, worldSize: context.config.executor.world_size });
			const paragraphs: string[] = [];
			for (const path of summary.outputs) for await (const { value } of readJsonl<CorpusDocument>(path)) paragraphs.push(...value.text.split("\n").filter((line) => line.trim() !== ""));
			const text = join(context.dir, lang, "text.txt");
			await writeFileAtomic(text, `${paragraphs.join("\n")}\n`);
			outputs.push(...summary.outputs.map((path) => relative(context.workdir, path)), relative(context.workdir, text));
			figures[lang] = { read: summary.read, filtered: summary.filtered, kept: summary.kept, dropped: summary.dropped, dedup: summary.dedup, droppedExamples: await droppedExamples(join(context.dir, lang)) };
		}
		return { outputs, figures };
	},
	check: async (config) => (await Promise.all(Object.entries(config.languages).map(([lang, l]) => missingPaths([...l.corpus, ...l.word_lists], `languages.${lang}`)))).flat(),
};
