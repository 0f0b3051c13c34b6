import { join, relative } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "@transllm/core";
import { fertilityCurve, fertilityCurveSvg, learnExtension, loadBaseTokenizer, readCorpus } from "@transllm/tokenizer";
import { languagesOf, missingPaths, upstreamOutputs } from "../stage.js";
import type { Stage } from "../stage.js";
import { baseTokenizerDir } from "./tokenizer-dir.js";

const trainText = (workdir: string, upstream: Parameters<Stage["inputs"]>[1], lang: string): string | undefined =>
	upstreamOutputs(workdir, upstream, "clean", (path) => path === `clean/${lang}/text.txt`)[0];

/**
 * fertility: tokens per word of the base tokenizer and after K new tokens learned on the cleaned corpus, per
 * language (`fertilityCurve` of @transllm/tokenizer) — what extension buys, before choosing K (TransLLM App. A.1;
 * LLaMAX Table 1).
 */
export const fertilityStage: Stage = {
	name: "fertility",
	title: "fertility curve: tokens/word vs new tokens",
	paper: "TransLLM App. A.1; LLaMAX Table 1",
	packages: ["@transllm/tokenizer"],
	after: ["clean"],
	disabled: (config) => (config.fertility.enabled ? undefined : "fertility.enabled is false"),
	settings: (config) => ({ fertility: config.fertility }),
	inputs: (config, upstream) => [
		baseTokenizerDir(config),
		...languagesOf(config).flatMap((lang) => [trainText(config.workdir, upstream, lang), config.languages[lang]?.heldout].filter((p): p is string => p !== undefined)),
	],
	check: async (config) => missingPaths([baseTokenizerDir(config), ...Object.values(config.languages).map((l) => l.heldout)], "fertility"),
	async run(context) {
		const { config } = context;
		const base = await loadBaseTokenizer(baseTokenizerDir(config));
		const outputs: string[] = [];
		const figures: Record<string, unknown> = {};
		for (const lang of languagesOf(config)) {
			const train = trainText(context.workdir, context.upstream, lang);
			if (!train) throw new Error(`the clean stage recorded no text for ${lang}`);
			const heldout = config.languages[lang]?.heldout;
			const lines = await readCorpus(train);
			const plan = await learnExtension({ base, lines, lang, newTokens: Math.max(...config.fertility.k), patchPreTokenizer: config.fertility.patch_pretokenizer, seed: config.seed });
			const curve = await fertilityCurve({ base, plan, ks: config.fertility.k, sets: heldout ? { "held-out": await readCorpus(heldout), "in-sample": lines } : { "in-sample": lines } });
			const json = join(context.dir, `${lang}.json`);
			const svg = join(context.dir, `${lang}.svg`);
			await writeJsonAtomic(json, { ...curve, base: relative(config.workdir, curve.base) });
			await writeFileAtomic(svg, fertilityCurveSvg(curve, { title: `fertility (${lang})` }));
			outputs.push(relative(context.workdir, json), relative(context.workdir, svg));
			const first = curve.points[0];
			const last = curve.points[curve.points.length - 1];
			const set = heldout ? "held-out" : "in-sample";
			figures[lang] = {
				[`tokens/word K=${first?.k}`]: first?.sets[set]?.tokensPerWord,
				[`tokens/word K=${last?.k}`]: last?.sets[set]?.tokensPerWord,
				family: curve.family,
				shortfall: curve.shortfall,
				points: curve.points.map((p) => ({ k: p.k, added: p.added, tokensPerWord: Object.fromEntries(Object.entries(p.sets).map(([name, f]) => [name, f.tokensPerWord])) })),
			};
		}
		return { outputs, figures };
	},
};
