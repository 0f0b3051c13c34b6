import { mkdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { readJsonl, writeFileAtomic, writeJsonAtomic } from "@transllm/core";
import { PROM_DEFAULTS, buildWordPrompts, probeLanguage, probePlotSvg, probeVocabulary, readLexicon, writePivotedData } from "@transllm/prom-probe";
import type { ProbeReport } from "@transllm/prom-probe";
import { loadModel } from "@transllm/runtime";
import type { PipelineConfig } from "../config.js";
import { languagesOf, missingPaths } from "../stage.js";
import type { Stage } from "../stage.js";
import { modelFilesProblems } from "./backends.js";
import { translatedFiles } from "./translated-records.js";

const probed = (config: PipelineConfig): string[] => languagesOf(config).filter((lang) => config.languages[lang]?.lexicon !== undefined);

/** Concatenates JSONL files into one (pivot-data reads one file), line for line. */
async function concatenate(files: readonly string[], out: string): Promise<void> {
	const lines: string[] = [];
	for (const file of files) for await (const { value } of readJsonl(file)) lines.push(JSON.stringify(value));
	await writeFileAtomic(out, lines.length ? `${lines.join("\n")}\n` : "");
}

/**
 * probe: PROM's logit-lens probe — does the model pivot through English? — with its λ decision, then the
 * pivoted-objective data from the translated records (PROM Sec. 2.2–2.3; @transllm/prom-probe).
 */
export const probeStage: Stage = {
	name: "probe",
	title: "PROM probe (λ, pivot layer) + pivoted-objective data",
	paper: "PROM Sec. 2.2–2.3",
	packages: ["@transllm/prom-probe", "@transllm/runtime"],
	after: ["kd-translate"],
	disabled: (config) => (!config.probe.enabled ? "probe.enabled is false" : probed(config).length === 0 ? "no language has a `lexicon`" : undefined),
	settings: (config) => ({ probe: config.probe, seed: config.seed }),
	inputs: (config, upstream) => [config.base_model.model, ...probed(config).flatMap((lang) => [config.languages[lang]?.lexicon as string, ...translatedFiles(config, upstream, lang)])],
	check: async (config) => [...(await modelFilesProblems(config.base_model.model, "base_model.model")), ...(await missingPaths(probed(config).map((lang) => config.languages[lang]?.lexicon), "lexicon"))],
	async run(context) {
		const { config } = context;
		const model = await loadModel(config.base_model.model, { executionProvider: "auto" });
		const reports: ProbeReport[] = [];
		try {
			const vocabulary = probeVocabulary(JSON.parse(await readFile(join(config.base_model.model, "tokenizer.json"), "utf8")) as Record<string, unknown>);
			for (const lang of probed(config)) {
				const entries = await readLexicon(config.languages[lang]?.lexicon as string, { targetLang: lang });
				const prompts = buildWordPrompts(entries, { lang, task: "translation", shots: config.probe.shots, languageNames: "native", seed: String(config.seed) }).slice(0, config.probe.max_examples ?? Number.POSITIVE_INFINITY);
				reports.push(await probeLanguage({ model, vocabulary, prompts, lang, task: "translation", lambda: PROM_DEFAULTS.lambda, silent: true }));
			}
		} finally {
			await model.dispose();
		}
		const report = join(context.dir, "report.json");
		const plot = join(context.dir, "probe.svg");
		await writeJsonAtomic(report, { reports });
		await writeFileAtomic(plot, probePlotSvg(reports.map((r) => ({ lang: r.lang, curves: r.curves, decision: r.decision }))));
		const outputs = [report, plot];
		const figures: Record<string, unknown> = {};
		for (const r of reports) {
			const dir = join(context.dir, r.lang);
			await mkdir(dir, { recursive: true });
			const input = join(dir, "translated.jsonl");
			await concatenate(translatedFiles(config, context.upstream, r.lang), input);
			const pivot = await writePivotedData({ input, outDir: dir, lang: r.lang, lambda: r.decision.lambda, pivotLayer: r.decision.pivotLayer, source: "probe/report.json", onBadRecord: "error", overwrite: true });
			outputs.push(...["english.jsonl", "target.jsonl", "settings.json"].map((name) => join(dir, name)));
			figures[r.lang] = { lambda: r.decision.lambda, pivoted: r.decision.pivoted, pivotLayer: r.decision.pivotLayer, layers: r.layers, examples: r.examples.used, englishRows: pivot.english, targetRows: pivot.target };
		}
		return { outputs: outputs.map((path) => relative(context.workdir, path)), figures };
	},
};
