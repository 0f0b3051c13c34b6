import { join, relative } from "node:path";
import { augmentParallel } from "@transllm/corpus";
import type { PipelineConfig } from "../config.js";
import { languagesOf, missingPaths, upstreamOutputs } from "../stage.js";
import type { Stage } from "../stage.js";

/** The languages whose checked pairs the pretraining stage writes. */
const withPairs = (config: PipelineConfig): string[] => languagesOf(config).filter((lang) => (config.languages[lang]?.parallel.length ?? 0) > 0);

/**
 * augment: LLaMAX's dictionary augmentation (`augmentParallel` of @transllm/corpus; LLaMAX Sec. 2.1, Fig. 2,
 * Algorithm 1): bilingual dictionaries → multilingual lexicon → code-switched pseudo-parallel pairs from the pairs
 * the pretraining stage checked and sampled. The tcot stage adds them to the translation pre-training text. Off by
 * default: TransLLM itself does not augment.
 */
export const augmentStage: Stage = {
	name: "augment",
	title: "LLaMAX code-switch augmentation of the parallel pairs",
	paper: "LLaMAX Sec. 2.1, Fig. 2, Algorithm 1",
	packages: ["@transllm/corpus"],
	after: ["pretraining"],
	disabled: (config) =>
		!config.augment.enabled
			? "augment.enabled is false"
			: config.augment.dictionaries.length === 0
				? "no augment.dictionaries"
				: !config.pretraining.enabled || withPairs(config).length === 0
					? "no parallel pairs (the pretraining stage is off or no language has `parallel` files)"
					: undefined,
	settings: (config) => ({ augment: { ...config.augment, dictionaries: config.augment.dictionaries.map((d) => [d.source_lang, d.target_lang]) }, seed: config.seed }),
	inputs: (config, upstream) => [...config.augment.dictionaries.map((d) => d.path), ...upstreamOutputs(config.workdir, upstream, "pretraining", (path) => path.endsWith("/pairs.jsonl"))],
	check: async (config) => missingPaths(config.augment.dictionaries.map((d) => d.path), "augment.dictionaries"),
	async run(context) {
		const { config } = context;
		const a = config.augment;
		const outputs: string[] = [];
		const figures: Record<string, unknown> = {};
		for (const lang of withPairs(config)) {
			const pairs = join(context.workdir, "pretraining", lang, "pairs.jsonl");
			const out = join(context.dir, lang, "augmented.jsonl");
			const summary = await augmentParallel({
				read: { format: "jsonl", paths: [pairs], sourceLang: "en", targetLang: lang },
				dictionaries: a.dictionaries.map((d) => ({ path: d.path, sourceLang: d.source_lang, targetLang: d.target_lang })),
				codeSwitch: { rate: a.rate, hops: a.hops, directions: a.directions, lowercase: a.lowercase, seed: config.seed },
				out,
				augmentBelow: a.augment_below,
				onBadRecord: "error",
				resume: context.resume,
				force: !context.resume,
				silent: true,
			});
			outputs.push(relative(context.workdir, out));
			figures[lang] = { pairs: summary.pairs, augmented: summary.augmented, replacedWords: summary.replacedWords, lexiconEntries: summary.lexicon.entries, lexiconLanguages: summary.lexicon.languages.join(" ") };
		}
		return { outputs, figures };
	},
};
