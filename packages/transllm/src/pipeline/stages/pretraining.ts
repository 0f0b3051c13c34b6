import { join, relative } from "node:path";
import { LengthRatioFilter, PairLanguageFilter, buildParallelData } from "@transllm/corpus";
import type { CorpusPair, Filter } from "@transllm/corpus";
import type { PipelineConfig } from "../config.js";
import { languagesOf, missingPaths } from "../stage.js";
import type { Stage } from "../stage.js";

/** The languages that have parallel data (the stage skips the others). */
const withPairs = (config: PipelineConfig): string[] => languagesOf(config).filter((lang) => (config.languages[lang]?.parallel.length ?? 0) > 0);

/**
 * pretraining: TransLLM's translation pre-training text (Sec. 2.2.2: `cat(s_a, <b>, s_b)` between English lines)
 * from checked, length-filtered, seeded-sampled pairs (`buildParallelData` of @transllm/corpus).
 */
export const pretrainingStage: Stage = {
	name: "pretraining",
	title: "translation pre-training text from parallel data",
	paper: "TransLLM Sec. 2.2.2, 3.1",
	packages: ["@transllm/corpus"],
	after: [],
	disabled: (config) => (!config.pretraining.enabled ? "pretraining.enabled is false" : withPairs(config).length === 0 ? "no language has `parallel` files" : undefined),
	settings: (config) => ({ pretraining: config.pretraining, seed: config.seed, formats: withPairs(config).map((lang) => config.languages[lang]?.parallel_format) }),
	inputs: (config) => withPairs(config).flatMap((lang) => [...(config.languages[lang]?.parallel ?? []), ...(config.languages[lang]?.english ?? [])]),
	check: async (config) => (await Promise.all(withPairs(config).map((lang) => missingPaths([...(config.languages[lang]?.parallel ?? []), ...(config.languages[lang]?.english ?? [])], `languages.${lang}`)))).flat(),
	async run(context) {
		const { config } = context;
		const p = config.pretraining;
		const outputs: string[] = [];
		const figures: Record<string, unknown> = {};
		for (const lang of withPairs(config)) {
			const language = config.languages[lang];
			if (!language) continue;
			const filters: Filter<CorpusPair>[] = [new LengthRatioFilter({ maxRatio: p.max_length_ratio })];
			if (p.language_check) filters.push(new PairLanguageFilter({}));
			const summary = await buildParallelData({
				read: { format: language.parallel_format, paths: language.parallel, sourceLang: "en", targetLang: lang },
				outDir: join(context.dir, lang),
				filters,
				sample: p.sample,
				seed: config.seed,
				english: language.english.length > 0 ? { paths: language.english, sample: p.english_sample } : undefined,
				onBadRecord: "error",
				resume: context.resume,
				silent: true,
			});
			for (const key of ["pairs", "english", "pretraining"]) {
				const path = summary.outputs[key];
				if (path) outputs.push(relative(context.workdir, path));
			}
			figures[lang] = { read: summary.read, kept: summary.kept, sampled: summary.sampled, dropped: summary.dropped, english: summary.english, pretrainingRecords: summary.pretrainingRecords };
		}
		return { outputs, figures };
	},
};
