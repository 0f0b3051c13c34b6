import { join, relative } from "node:path";
import { generateAnswers, guessQuestionFormat, languageFidelity, localAnswerModel, measureForgetting, writeEvalResult } from "@transllm/eval";
import type { EvalResult } from "@transllm/eval";
import type { PipelineConfig } from "../config.js";
import type { StageRecord } from "../lock-file.js";
import { languagesOf, missingPaths, upstreamOutputs } from "../stage.js";
import type { Stage } from "../stage.js";

/** The model evaluated: the export stage's ONNX model, else eval.model. */
function evaluatedModel(config: PipelineConfig, upstream: Record<string, StageRecord>): string | undefined {
	if (upstream.export) return join(config.workdir, "export", "model");
	return config.eval.model;
}

/**
 * eval: TransLLM's evaluation of the exported model (@transllm/eval): TCOT answers to each language's questions
 * (Sec. 2.3, 3.1), their language fidelity, and forgetting — P(y|x) of the recovery-KD answers under the base and the
 * transferred model (Table 8). Judged win rates need a judge endpoint and stay with `transllm eval judge`.
 */
export const evalStage: Stage = {
	name: "eval",
	title: "evaluation: TCOT answers, language fidelity, forgetting",
	paper: "TransLLM Sec. 3, Table 8",
	packages: ["@transllm/eval", "@transllm/runtime"],
	after: ["export", "kd-generate"],
	disabled: (config) => (!config.eval.enabled ? "eval.enabled is false" : !config.export.enabled && config.eval.model === undefined ? "nothing to evaluate: enable export or set eval.model" : undefined),
	settings: (config) => ({ eval: { ...config.eval, model: undefined } }),
	inputs: (config, upstream) => [
		...[evaluatedModel(config, upstream)].filter((path): path is string => path !== undefined),
		config.base_model.model,
		...languagesOf(config).flatMap((lang) => config.languages[lang]?.questions ?? []),
		...upstreamOutputs(config.workdir, upstream, "kd-generate"),
	],
	check: async (config) => missingPaths([config.eval.model, ...languagesOf(config).flatMap((lang) => config.languages[lang]?.questions ?? [])], "eval"),
	async run(context) {
		const { config, upstream, workdir } = context;
		const model = evaluatedModel(config, upstream) as string;
		const outputs: string[] = [];
		const figures: Record<string, unknown> = {};
		const keep = async (name: string, result: EvalResult<unknown>) => {
			const path = join(context.dir, name);
			await writeEvalResult(path, result);
			outputs.push(relative(workdir, path));
		};
		const answering = await localAnswerModel(model, { batchSize: 8 });
		try {
			for (const lang of languagesOf(config)) {
				for (const [index, questions] of (config.languages[lang]?.questions ?? []).entries()) {
					const out = join(context.dir, `answers.${lang}.${index}.jsonl`);
					const summary = await generateAnswers({ questions, format: guessQuestionFormat(questions), out, model: answering, mode: "tcot", lang, params: { temperature: 0, max_tokens: config.eval.max_tokens }, resume: context.resume, overwrite: !context.resume, progress: context.progress });
					outputs.push(relative(workdir, out));
					const fidelity = await languageFidelity({ answers: out, lang });
					await keep(`language.${lang}.${index}.json`, fidelity);
					figures[lang] = { answers: summary.records, inLanguage: fidelity.results.inLanguage, "share %": fidelity.results.share, flagged: summary.flagged };
				}
			}
		} finally {
			await answering.close();
		}
		const kd = upstreamOutputs(workdir, upstream, "kd-generate")[0];
		if (kd && config.eval.forgetting) {
			const forgetting = await measureForgetting({ before: config.base_model.model, after: model, data: kd, out: join(context.dir, "forgetting.jsonl"), afterPrefix: "<RESPONSE> ", resume: context.resume, progress: context.progress });
			await keep("forgetting.json", forgetting);
			outputs.push(relative(workdir, join(context.dir, "forgetting.jsonl")));
			figures.forgetting = { examples: forgetting.results.examples, meanBefore: forgetting.results.meanBefore, meanAfter: forgetting.results.meanAfter, meanAbsDelta: forgetting.results.meanAbsDelta };
		}
		return { outputs, figures };
	},
};
