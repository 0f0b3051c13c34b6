import { join, relative } from "node:path";
import { readJsonFile } from "@transllm/core";
import {
	ExtensionCheckError,
	buildExtendedTokenizer,
	checkExtension,
	defaultRegressionCorpus,
	learnExtension,
	loadBaseTokenizer,
	readCorpusLines,
	resizeEmbeddings,
	transllmSpecialTokens,
	writeExtension,
} from "@transllm/tokenizer";
import { listFiles } from "../hashing.js";
import { languagesOf, missingPaths, upstreamOutputs } from "../stage.js";
import type { Stage } from "../stage.js";
import { baseTokenizerDir } from "./tokenizer-dir.js";

/**
 * extend: vocabulary extension by continued BPE on the cleaned corpus, checked to leave English unchanged, and the
 * embedding resize of the checkpoint when one is given (TransLLM Sec. 3.1, App. A.1; @transllm/tokenizer). One
 * language per run: the extended tokenizer is the base of one target language.
 */
export const extendStage: Stage = {
	name: "extend",
	title: "vocabulary extension + embedding resize",
	paper: "TransLLM Sec. 3.1, App. A.1",
	packages: ["@transllm/tokenizer"],
	after: ["clean"],
	disabled: (config) => (config.extend.enabled ? undefined : "extend.enabled is false (TransLLM extends Llama-2 only)"),
	settings: (config) => ({ extend: config.extend, seed: config.seed, checkpoint: config.base_model.checkpoint !== undefined }),
	inputs: (config, upstream) => [
		baseTokenizerDir(config),
		...(config.base_model.checkpoint ? [config.base_model.checkpoint] : []),
		...upstreamOutputs(config.workdir, upstream, "clean", (path) => path.endsWith("/text.txt")),
	],
	async check(config) {
		const problems = await missingPaths([baseTokenizerDir(config), config.base_model.checkpoint], "extend");
		if (languagesOf(config).length > 1) problems.push("extend: vocabulary extension takes one language per config (the extended tokenizer is that language's base)");
		return problems;
	},
	async run(context) {
		const { config } = context;
		const lang = languagesOf(config)[0] as string;
		const corpus = join(context.workdir, "clean", lang, "text.txt");
		const base = await loadBaseTokenizer(baseTokenizerDir(config));
		const options = { lang, newTokens: config.extend.new_tokens, minFrequency: config.extend.min_frequency, patchPreTokenizer: config.extend.patch_pretokenizer, seed: config.seed };
		const plan = await learnExtension({ base, lines: readCorpusLines(corpus), ...options, progress: { silent: true } });
		const extended = buildExtendedTokenizer(base, plan, { specialTokens: transllmSpecialTokens(lang) });
		const report = await checkExtension({ base, plan, extended, regression: await defaultRegressionCorpus(), training: () => readCorpusLines(corpus), progress: { silent: true } });
		if (!report.ok) throw new ExtensionCheckError(report);
		const checkpoint = config.base_model.checkpoint;
		await writeExtension({ outDir: context.dir, base, plan, extended, report, embeddingsResized: checkpoint !== undefined });
		let resized: Record<string, unknown> | undefined;
		if (checkpoint) {
			const idMap = await readJsonFile<{ vocabSize: number; tokens: { id: number; baseIds: number[] }[] }>(join(context.dir, "id-map.json"), "id map");
			const result = await resizeEmbeddings({ checkpoint, outDir: context.dir, vocabSize: idMap.vocabSize, tokens: idMap.tokens, init: config.extend.init, seed: config.seed, resume: context.resume, progress: { silent: true } });
			resized = { oldVocabSize: result.oldVocabSize, newVocabSize: result.newVocabSize, tied: result.tied };
		}
		return {
			outputs: (await listFiles(context.dir)).filter((name) => !name.startsWith(".") && !name.endsWith(".log")).map((name) => relative(context.workdir, join(context.dir, name))),
			figures: {
				lang,
				added: extended.newTokens.length,
				specialTokens: extended.specialTokens.map((t) => t.token),
				vocabSize: `${extended.baseVocabSize} → ${extended.vocabSize}`,
				checks: report.checks.map((check) => ({ name: check.name, ok: check.ok })),
				...(plan.shortfall ? { shortfall: plan.shortfall } : {}),
				...(resized ? { resized } : {}),
			},
		};
	},
};
