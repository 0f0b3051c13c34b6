import { join } from "node:path";
import { ConfigError, InputError, choiceOption, fileListOption, listOption, numberOption, optionalString, readJsonFile, readJsonl, stringOption, writeFileAtomic, writeJsonAtomic } from "@transllm/core";
import type { CommandTable } from "@transllm/core";
import { loadModel } from "@transllm/runtime";
import { readLexicon } from "./lexicon.js";
import { writePivotedData } from "./pivot-data.js";
import { probeLanguage } from "./probe-language.js";
import type { ProbeReport } from "./probe-language.js";
import { probePlotSvg } from "./probe-plot.js";
import { buildClozePrompts, buildWordPrompts } from "./prompts.js";
import type { ClozeItem, ProbePrompt, ProbeTask } from "./prompts.js";
import { PROM_DEFAULTS } from "./regulation-decision.js";
import { probeVocabulary } from "./token-sets.js";

function layerRange(value: string | undefined): { from: number; to: number } | undefined {
	if (value === undefined) return undefined;
	const match = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
	if (!match) throw new ConfigError(`--layer-range must look like 20-26 or 24, got "${value}"`);
	const from = Number(match[1]);
	return { from, to: match[2] === undefined ? from : Number(match[2]) };
}

async function readCloze(path: string): Promise<ClozeItem[]> {
	const items: ClozeItem[] = [];
	for await (const { value } of readJsonl<ClozeItem>(path, {
		required: ["sentence", "target", "en"],
		validate: (record) => (String(record.sentence).includes("___") ? undefined : 'field "sentence" has no "___" mask'),
	})) {
		items.push(value);
	}
	return items;
}

/** `transllm probe` and `transllm pivot-data`. */
export const probeCommands: CommandTable = {
	probe: {
		description: "PROM / logit-lens layer probe: per-layer P(English) vs P(target) of the next word, and the regulation decision (λ)",
		options: {
			model: { type: "string", description: "model directory (Optimum-exported decoder: model.onnx, config.json, tokenizer.json)", valueName: "<dir>", required: true },
			lexicon: { type: "string", description: "bilingual word lexicon: MUSE `en tgt` lines or TSV (header `en<TAB>th[<TAB>src]` names columns); one per --lang, in order", valueName: "<file>", multiple: true },
			lang: { type: "string", description: "target language code (repeat, or comma-separate, to probe several; one plot panel each)", valueName: "<code>", multiple: true, required: true },
			out: { type: "string", description: "output directory: report.json, probe.svg", valueName: "<dir>", required: true },
			task: { type: "string", description: "translation | repetition | cloze (Wendler et al. 2024)", default: "translation", valueName: "<task>" },
			cloze: { type: "string", description: "cloze items JSONL {sentence (with ___), target, en}; one per --lang (task cloze)", valueName: "<file>", multiple: true },
			"source-lang": { type: "string", description: "source language of translation prompts; a third lexicon column (default en)", valueName: "<code>" },
			shots: { type: "string", description: "solved examples before the open one", default: "5", valueName: "<n>" },
			names: { type: "string", description: "language names in prompts: native (as Wendler) or english", default: "native", valueName: "<style>" },
			"pivot-layer": { type: "string", description: "pivot layer n, 1-based (default round(24/32 · layers): PROM's n = 24 for Llama-2-7B)", valueName: "<n>" },
			"layer-range": { type: "string", description: "layers the decision averages over, e.g. 20-26 (default: the pivot layer alone)", valueName: "<a-b>" },
			lambda: { type: "string", description: "λ to keep when English is the pivot (PROM: 0.1)", default: String(PROM_DEFAULTS.lambda), valueName: "<x>" },
			"max-examples": { type: "string", description: "probe at most this many lexicon entries per language", valueName: "<n>" },
			"batch-size": { type: "string", description: "prompts per logit-lens run", default: "8", valueName: "<n>" },
			seed: { type: "string", description: "seed for choosing the few-shot examples", default: "0", valueName: "<seed>" },
			"execution-provider": { type: "string", description: "auto | cpu | cuda", default: "auto", valueName: "<ep>" },
		},
		details: "Writes report.json (curves with 95% bands, entropy, skipped examples, decision with the averaged layer range and a suggested pivot layer) and probe.svg.",
		async run({ values }, { stdout }) {
			const langs = listOption(values, "lang");
			const task = (optionalString(values, "task") ?? "translation") as ProbeTask;
			if (!["translation", "repetition", "cloze"].includes(task)) throw new ConfigError(`--task must be translation, repetition or cloze, got "${task}"`);
			const sources = task === "cloze" ? fileListOption(values, "cloze") : fileListOption(values, "lexicon");
			if (sources.length !== langs.length) {
				throw new ConfigError(`give one ${task === "cloze" ? "--cloze" : "--lexicon"} file per --lang (${langs.length} languages, ${sources.length} files)`);
			}
			const names = optionalString(values, "names") ?? "native";
			if (names !== "native" && names !== "english") throw new ConfigError(`--names must be native or english, got "${names}"`);
			const modelDir = stringOption(values, "model");
			const model = await loadModel(modelDir, { executionProvider: (optionalString(values, "execution-provider") ?? "auto") as "auto" | "cpu" | "cuda" });
			try {
				const vocabulary = probeVocabulary(await readJsonFile<Record<string, unknown>>(join(modelDir, "tokenizer.json"), "tokenizer.json"));
				const reports: ProbeReport[] = [];
				const maxExamples = numberOption(values, "max-examples", Number.POSITIVE_INFINITY, { min: 1, integer: true });
				for (const [index, lang] of langs.entries()) {
					const common = { lang, shots: numberOption(values, "shots", 5, { min: 0, integer: true }), languageNames: names as "native" | "english", seed: optionalString(values, "seed") ?? "0" };
					let prompts: ProbePrompt[];
					// --max-examples limits the examples probed, not the pool the few-shot examples are drawn from.
					if (task === "cloze") prompts = buildClozePrompts(await readCloze(sources[index] as string), common).slice(0, maxExamples);
					else {
						const entries = await readLexicon(sources[index] as string, { targetLang: lang, sourceLang: optionalString(values, "source-lang") });
						prompts = buildWordPrompts(entries, { ...common, task, sourceLang: optionalString(values, "source-lang") }).slice(0, maxExamples);
					}
					const pivot = optionalString(values, "pivot-layer");
					reports.push(
						await probeLanguage({
							model,
							vocabulary,
							prompts,
							lang,
							task,
							pivotLayer: pivot === undefined ? undefined : numberOption(values, "pivot-layer", 0, { min: 1, integer: true }),
							range: layerRange(optionalString(values, "layer-range")),
							lambda: numberOption(values, "lambda", PROM_DEFAULTS.lambda, { min: 0 }),
							batchSize: numberOption(values, "batch-size", 8, { min: 1, integer: true }),
						}),
					);
				}
				const out = stringOption(values, "out");
				await writeJsonAtomic(join(out, "report.json"), { model: modelDir, executionProvider: model.executionProvider, reports });
				await writeFileAtomic(join(out, "probe.svg"), probePlotSvg(reports.map((r) => ({ lang: r.lang, curves: r.curves, decision: r.decision }))));
				for (const r of reports) {
					const d = r.decision;
					stdout.write(
						`${r.lang}: ${r.examples.used}/${r.examples.prompts} examples; layers ${d.range.from}-${d.range.to}: mean P(en) ${d.meanEnglish.toFixed(4)} vs P(${r.lang}) ${d.meanTarget.toFixed(4)} → λ = ${d.lambda} (${d.pivoted ? "English pivot" : "no English pivot"}); suggested pivot layer ${d.suggestedPivotLayer}\n`,
					);
				}
				stdout.write(`wrote ${join(out, "report.json")} and ${join(out, "probe.svg")}\n`);
			} finally {
				await model.dispose();
			}
		},
	},
	"pivot-data": {
		description: "PROM pivoted-objective data: English rows (layer-n head loss) and target rows, with the trainer settings and recipe",
		options: {
			input: { type: "string", description: "translated records JSONL {id, query_en, response_en, query_t, response_t, lang}", valueName: "<file>", required: true },
			lang: { type: "string", description: "target language code", valueName: "<code>", required: true },
			out: { type: "string", description: "output directory: english.jsonl, target.jsonl, settings.json, RECIPE.md", valueName: "<dir>", required: true },
			report: { type: "string", description: "a `transllm probe` report.json: λ and the pivot layer come from its decision for --lang", valueName: "<file>" },
			lambda: { type: "string", description: "λ when no report is given", default: String(PROM_DEFAULTS.lambda), valueName: "<x>" },
			"pivot-layer": { type: "string", description: "pivot layer n when no report is given", default: String(PROM_DEFAULTS.pivotLayer), valueName: "<n>" },
			"label-smoothing": { type: "string", description: "α of the layer-n loss", default: String(PROM_DEFAULTS.labelSmoothing), valueName: "<x>" },
			"on-bad-record": { type: "string", description: "error | skip (skipped lines go to target.jsonl.rejects.jsonl)", default: "error", valueName: "<policy>" },
			"special-tokens": { type: "string", description: "texts holding </s>, <EN>, <RESPONSE>, a language-ID or chat control token: error (a bad record) | escape (U+2060 after the first character) | allow", default: "error", valueName: "<policy>" },
			force: { type: "boolean", description: "overwrite existing outputs" },
		},
		async run({ values }, { stdout }) {
			const lang = stringOption(values, "lang");
			let lambda = numberOption(values, "lambda", PROM_DEFAULTS.lambda, { min: 0 });
			let pivotLayer = numberOption(values, "pivot-layer", PROM_DEFAULTS.pivotLayer, { min: 1, integer: true });
			let source = "flags";
			const reportPath = optionalString(values, "report");
			if (reportPath !== undefined) {
				const report = await readJsonFile<{ reports?: ProbeReport[] }>(reportPath, "probe report");
				const entry = report.reports?.find((r) => r.lang === lang);
				if (!entry) throw new InputError(`the report has no decision for "${lang}"`, { file: reportPath, field: "reports" });
				lambda = entry.decision.lambda;
				pivotLayer = entry.decision.pivotLayer;
				source = reportPath;
			}
			const policy = optionalString(values, "on-bad-record") ?? "error";
			if (policy !== "error" && policy !== "skip") throw new ConfigError(`--on-bad-record must be error or skip, got "${policy}"`);
			const result = await writePivotedData({
				input: stringOption(values, "input"),
				outDir: stringOption(values, "out"),
				lang,
				lambda,
				pivotLayer,
				labelSmoothing: numberOption(values, "label-smoothing", PROM_DEFAULTS.labelSmoothing, { min: 0, max: 1 }),
				source,
				onBadRecord: policy,
				specialTokens: choiceOption(values, "special-tokens", ["error", "escape", "allow"] as const),
				overwrite: values.force === true,
			});
			stdout.write(`english rows ${result.english}, target rows ${result.target}, rejected ${result.rejected}; λ = ${lambda}, pivot layer ${pivotLayer}\n`);
		},
	},
};
