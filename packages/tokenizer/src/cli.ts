import { access } from "node:fs/promises";
import { join } from "node:path";
import { CHAT_CONTROL_TOKENS, ConfigError, InputError, fileListOption, listOption, numberOption, optionalString, readJsonFile, stringOption, writeFileAtomic, writeJsonAtomic } from "@transllm/core";
import type { CliValues, CommandTable } from "@transllm/core";
import { loadBaseTokenizer } from "./base-tokenizer.js";
import { buildExtendedTokenizer, learnExtension } from "./extend-tokenizer.js";
import type { ExtendedTokenizer, ExtensionPlan } from "./extend-tokenizer.js";
import { ExtensionCheckError, checkExtension, formatCheckReport, startBaseReference } from "./extension-checks.js";
import { fertilityCurve, fertilityCurveSvg } from "./fertility-curve.js";
import { loadLineEncoder, measureFertility } from "./fertility.js";
import { planCachePath, planKey, readCachedPlan, removeCachedPlan, writeCachedPlan } from "./plan-cache.js";
import { readCorpus, readCorpusLines } from "./read-corpus-lines.js";
import { defaultRegressionCorpus } from "./regression-corpus.js";
import { resizeEmbeddings } from "./resize-embeddings.js";
import type { EmbeddingInit } from "./resize-embeddings.js";
import { transllmSpecialTokens } from "./special-tokens.js";
import { writeExtension } from "./write-extension.js";

const initOption = (values: CliValues): EmbeddingInit => {
	const init = optionalString(values, "init") ?? "normal";
	if (init !== "normal" && init !== "mean" && init !== "eeve") throw new ConfigError(`--init must be normal, mean or eeve, got "${init}"`);
	return init;
};

async function regressionLines(values: CliValues): Promise<string[]> {
	const files = fileListOption(values, "regression");
	if (files.length === 0) return defaultRegressionCorpus();
	return (await Promise.all(files.map(readCorpus))).flat();
}

/** `transllm tokenizer …` */
export const tokenizerCommands: CommandTable = {
	extend: {
		description: "Extend a tokenizer for a language by continued BPE on a corpus; checks that English is unchanged before writing.",
		options: {
			base: { type: "string", required: true, valueName: "<dir>", description: "Base model/tokenizer directory (tokenizer.json and/or tokenizer.model)" },
			corpus: { type: "string", required: true, valueName: "<file>", description: "Target-language training text, one text per line (UTF-8)" },
			lang: { type: "string", required: true, valueName: "<code>", description: "Target language (th, tha, th-TH, ...)" },
			"new-tokens": { type: "string", required: true, valueName: "<K>", description: "How many new tokens to learn at most" },
			out: { type: "string", required: true, valueName: "<dir>", description: "Output directory for the extended tokenizer" },
			"min-frequency": { type: "string", default: "2", valueName: "<n>", description: "Pairs (and missing characters) seen fewer times are not added" },
			"max-lines": { type: "string", default: "0", valueName: "<n>", description: "Learn on a seeded sample of n lines (like spm_train --input_sentence_size); 0 = all" },
			"special-tokens": { type: "string", multiple: true, valueName: "<tokens>", description: "Special tokens to add (comma-separated); default: <EN>, <RESPONSE> and the language-ID token (TCOT)" },
			"no-special-tokens": { type: "boolean", description: "Add no special tokens" },
			"patch-pretokenizer": { type: "boolean", description: "Byte-level BPE: keep combining marks (\\p{M}, e.g. Thai vowels and tones) inside words in the pre-tokenizer regex" },
			regression: { type: "string", multiple: true, valueName: "<file>", description: "English/code regression corpus (default: English UDHR + JavaScript source)" },
			checkpoint: { type: "string", valueName: "<dir>", description: "Also resize this safetensors checkpoint's embeddings into --out" },
			init: { type: "string", default: "normal", valueName: "<normal|mean|eeve>", description: "New embedding rows: normal(0,0.02) (paper), sub-token mean, or EEVE" },
			"pad-to-multiple-of": { type: "string", default: "0", valueName: "<n>", description: "Pad the embedding rows to a multiple of n (e.g. 64); 0 = none" },
			seed: { type: "string", default: "0", valueName: "<seed>", description: "Seed of the line sample and of the normal initialisation" },
			"check-sample": { type: "string", default: "5000", valueName: "<n>", description: "Training lines sampled (seeded) for the round-trip and SentencePiece-agreement checks" },
			resume: { type: "boolean", description: "Reuse the merges an interrupted or refused run learned (<out>.plan.json); refused when base, corpus or options changed" },
			quiet: { type: "boolean", short: "q", description: "No progress output" },
		},
		details: "Writes tokenizer.json, tokenizer.model (when the base has one), tokenizer_config.json, id-map.json, llamafactory.yaml and\nextension-report.json. Nothing is written when a check fails (English/code regression under Rust and JS tokenizers,\ndecode round-trip, every new token produced, tokenizer.model and tokenizer.json agree). The regression checks use every\nregression line; round-trip and agreement use --check-sample training lines; every new token is looked for on those,\nthen on the line where it was learned, then on the rest of the corpus until all are found. The learned merges are kept\nin <out>.plan.json until the output is written, for --resume.",
		async run({ values }, { stdout, stderr }) {
			const out = stringOption(values, "out");
			const lang = stringOption(values, "lang");
			const quiet = values.quiet === true;
			const baseDir = stringOption(values, "base");
			const base = await loadBaseTokenizer(baseDir);
			const corpus = stringOption(values, "corpus");
			const options = {
				lang,
				newTokens: numberOption(values, "new-tokens", 0, { integer: true, min: 1 }),
				minFrequency: numberOption(values, "min-frequency", 2, { integer: true, min: 1 }),
				patchPreTokenizer: values["patch-pretokenizer"] === true,
				maxLines: numberOption(values, "max-lines", 0, { integer: true, min: 0 }),
				seed: optionalString(values, "seed") ?? "0",
			};
			await access(corpus).catch(() => {
				throw new InputError("corpus file not found", { file: corpus });
			});
			// A corpus line holding </s> or <EN> makes the SentencePiece agreement check fail without a reason: name the line.
			const corpusSpecialTokens = [...CHAT_CONTROL_TOKENS, ...transllmSpecialTokens(lang)];
			const cachePath = planCachePath(out);
			const key = await planKey({ base: baseDir, corpus, ...options });
			const regression = await regressionLines(values);
			// The base tokenizers of the checks are built on a second thread while this one learns.
			const reference = startBaseReference({ base, regression });
			let plan: ExtensionPlan | undefined;
			let extended: ExtendedTokenizer;
			try {
				plan = values.resume === true ? await readCachedPlan(cachePath, key, out) : undefined;
				if (plan) stderr.write(`resuming with the merges learned earlier (${cachePath})\n`);
				else {
					plan = await learnExtension({ base, lines: readCorpusLines(corpus, { specialTokens: corpusSpecialTokens }), ...options, progress: { silent: quiet, stream: stderr } });
					// A tokenizer with nothing added is no extension: an empty or too small corpus says so instead.
					if (plan.merges.length === 0) {
						throw new InputError(`no new token learned from ${plan.corpusLines} line(s): the corpus is empty or too small for --min-frequency ${options.minFrequency}`, { file: corpus });
					}
					await writeCachedPlan(cachePath, key, plan);
				}
				if (plan.shortfall) stderr.write(`note: ${plan.shortfall}\n`);
				const specialTokens = values["no-special-tokens"] === true ? [] : listOption(values, "special-tokens").length > 0 ? listOption(values, "special-tokens") : transllmSpecialTokens(lang);
				extended = buildExtendedTokenizer(base, plan, { specialTokens });
			} catch (error) {
				await reference.worker.close();
				throw error;
			}
			const report = await checkExtension({ base, plan, extended, regression, training: () => readCorpusLines(corpus), reference, sampleSize: numberOption(values, "check-sample", 5000, { integer: true, min: 1 }), progress: { silent: quiet, stream: stderr } });
			if (!report.ok) throw new ExtensionCheckError(report);
			const checkpoint = optionalString(values, "checkpoint");
			await writeExtension({ outDir: out, base, plan, extended, report, embeddingsResized: checkpoint !== undefined });
			await removeCachedPlan(cachePath);
			stdout.write(`${formatCheckReport(report)}\n`);
			stdout.write(`added ${extended.newTokens.length} tokens and ${extended.specialTokens.length} special tokens: vocabulary ${extended.baseVocabSize} → ${extended.vocabSize}; wrote ${out}\n`);
			if (checkpoint) {
				const resized = await resizeEmbeddings({
					checkpoint,
					outDir: out,
					vocabSize: extended.vocabSize,
					tokens: [...extended.newTokens, ...extended.specialTokens.map((t) => ({ id: t.id, baseIds: [] as number[] }))].filter((t) => t.id >= extended.baseVocabSize),
					init: initOption(values),
					padToMultipleOf: numberOption(values, "pad-to-multiple-of", 0, { integer: true, min: 0 }),
					seed: optionalString(values, "seed"),
					progress: { silent: quiet, stream: stderr },
				});
				stdout.write(`embeddings ${resized.oldVocabSize} → ${resized.newVocabSize} rows (${resized.tied ? "tied" : "untied"}), ${resized.shards.length} shard(s)\n`);
			}
		},
	},
	fertility: {
		description: "Tokens per character and per word of tokenizers on a corpus, or the fertility curve over K new tokens (JSON + SVG).",
		options: {
			corpus: { type: "string", required: true, valueName: "<file>", description: "Evaluation text, one text per line" },
			lang: { type: "string", required: true, valueName: "<code>", description: "Language of the corpus (words by Intl.Segmenter where it has no spaces)" },
			tokenizer: { type: "string", multiple: true, valueName: "<path>", description: "tokenizer.json, tokenizer.model or a directory" },
			base: { type: "string", valueName: "<dir>", description: "Curve mode: base tokenizer directory to extend" },
			train: { type: "string", valueName: "<file>", description: "Curve mode: training corpus (default: --corpus, i.e. in-sample)" },
			k: { type: "string", default: "1000,5000,10000", valueName: "<list>", description: "Curve mode: numbers of new tokens" },
			"patch-pretokenizer": { type: "boolean", description: "Curve mode: patch the pre-tokenizer as extend does" },
			out: { type: "string", valueName: "<prefix>", description: "Write <prefix>.json (and <prefix>.svg for a curve)" },
		},
		async run({ values }, { stdout }) {
			const lang = stringOption(values, "lang");
			const corpusFile = stringOption(values, "corpus");
			const lines = await readCorpus(corpusFile);
			if (lines.length === 0) throw new InputError("the corpus has no text lines: nothing to measure", { file: corpusFile });
			const out = optionalString(values, "out");
			const baseDir = optionalString(values, "base");
			if (baseDir) {
				const base = await loadBaseTokenizer(baseDir);
				const trainFile = optionalString(values, "train") ?? corpusFile;
				const ks = listOption(values, "k").map((k) => numberOption({ k }, "k", 0, { integer: true, min: 1 }));
				const plan = await learnExtension({ base, lines: await readCorpus(trainFile), lang, newTokens: Math.max(...ks), patchPreTokenizer: values["patch-pretokenizer"] === true });
				const curve = await fertilityCurve({ base, plan, ks, sets: { [trainFile === corpusFile ? "in-sample" : "held-out"]: lines } });
				for (const point of curve.points) {
					for (const [name, f] of Object.entries(point.sets)) stdout.write(`K=${point.k} (added ${point.added}) ${name}: ${f.tokensPerWord.toFixed(3)} tokens/word, ${f.tokensPerChar.toFixed(3)} tokens/char\n`);
				}
				if (plan.shortfall) stdout.write(`note: ${plan.shortfall}\n`);
				if (out) {
					await writeJsonAtomic(`${out}.json`, curve);
					await writeFileAtomic(`${out}.svg`, fertilityCurveSvg(curve));
				}
				return;
			}
			const paths = fileListOption(values, "tokenizer");
			if (paths.length === 0) throw new ConfigError("give --tokenizer (one or more) or --base for a curve");
			const results: Record<string, unknown> = {};
			for (const path of paths) {
				const fertility = await measureFertility(await loadLineEncoder(path), lines, lang);
				results[path] = fertility;
				stdout.write(`${path}: ${fertility.tokensPerWord.toFixed(3)} tokens/word, ${fertility.tokensPerChar.toFixed(3)} tokens/char (${fertility.tokens} tokens, ${fertility.words} words, ${fertility.chars} chars)\n`);
			}
			if (out) await writeJsonAtomic(`${out}.json`, { lang, corpus: corpusFile, tokenizers: results });
		},
	},
	"resize-embeddings": {
		description: "Grow embed_tokens and lm_head of a safetensors checkpoint to an extended tokenizer's vocabulary (streamed).",
		options: {
			checkpoint: { type: "string", required: true, valueName: "<dir>", description: "Hugging Face checkpoint (config.json, model.safetensors or shards + index.json)" },
			tokenizer: { type: "string", required: true, valueName: "<dir>", description: "Extended tokenizer directory (its id-map.json)" },
			out: { type: "string", required: true, valueName: "<dir>", description: "Output directory for the resized weights and config.json" },
			init: { type: "string", default: "normal", valueName: "<normal|mean|eeve>", description: "New rows: normal(0,0.02) (paper), sub-token mean, or EEVE" },
			"pad-to-multiple-of": { type: "string", default: "0", valueName: "<n>", description: "Pad the rows to a multiple of n (e.g. 64); 0 = none" },
			seed: { type: "string", default: "0", valueName: "<seed>", description: "Seed of the normal initialisation" },
			resume: { type: "boolean", description: "Keep output shards already written by an interrupted run" },
			quiet: { type: "boolean", short: "q", description: "No progress output" },
		},
		async run({ values }, { stdout, stderr }) {
			const idMapPath = join(stringOption(values, "tokenizer"), "id-map.json");
			const idMap = await readJsonFile<{ vocabSize: number; tokens: { id: number; baseIds: number[] }[] }>(idMapPath, "id map");
			const result = await resizeEmbeddings({
				checkpoint: stringOption(values, "checkpoint"),
				outDir: stringOption(values, "out"),
				vocabSize: idMap.vocabSize,
				tokens: idMap.tokens,
				init: initOption(values),
				padToMultipleOf: numberOption(values, "pad-to-multiple-of", 0, { integer: true, min: 0 }),
				seed: optionalString(values, "seed"),
				resume: values.resume === true,
				progress: { silent: values.quiet === true, stream: stderr },
			});
			stdout.write(`embeddings ${result.oldVocabSize} → ${result.newVocabSize} rows (${result.tied ? "tied" : "untied"}); rewrote ${result.resized.length} shard(s), kept ${result.skipped.length}\n`);
		},
	},
};
