import { relative } from "node:path";
import { buildTrainingFiles } from "@transllm/tcot";
import type { PipelineConfig } from "../config.js";
import type { StageRecord } from "../lock-file.js";
import { languagesOf, missingPaths, upstreamOutputs } from "../stage.js";
import type { Stage } from "../stage.js";
import { translatedFiles } from "./translated-records.js";

function sources(config: PipelineConfig, upstream: Record<string, StageRecord>) {
	const of = (stage: string, suffix: string) => upstreamOutputs(config.workdir, upstream, stage, (path) => path.endsWith(suffix));
	return {
		translated: languagesOf(config).flatMap((lang) => translatedFiles(config, upstream, lang)),
		// LLaMAX's code-switched pseudo-parallel pairs (the augment stage, when on) join the checked pairs.
		parallel: [...of("pretraining", "/pairs.jsonl"), ...of("augment", "/augmented.jsonl")],
		english: of("pretraining", "/english.jsonl"),
	};
}

/**
 * tcot: the transfer fine-tuning data — recovery KD + TCOT + translation instances mixed with a validation split,
 * and the translation pre-training text, for LLaMA-Factory or TRL (TransLLM Sec. 2.2.2–2.2.3; `buildTrainingFiles`
 * of @transllm/tcot). Resumes; the same inputs and seed give the same files.
 */
export const tcotStage: Stage = {
	name: "tcot",
	title: "TCOT transfer fine-tuning data (KD + TCOT + translation)",
	paper: "TransLLM Sec. 2.2.2–2.2.3",
	packages: ["@transllm/tcot"],
	after: ["kd-translate", "pretraining", "augment"],
	disabled: (config) => (config.kd || languagesOf(config).some((lang) => (config.languages[lang]?.translated.length ?? 0) > 0) ? undefined : "no `kd` section and no `translated` files"),
	settings: (config) => ({ tcot: config.tcot, seed: config.seed, languages: languagesOf(config) }),
	inputs: (config, upstream) => Object.values(sources(config, upstream)).flat(),
	check: async (config) => missingPaths(languagesOf(config).flatMap((lang) => config.languages[lang]?.translated ?? []), "translated"),
	async run(context) {
		const { config } = context;
		const { translated, parallel, english } = sources(config, context.upstream);
		const result = await buildTrainingFiles({
			translated,
			parallel,
			english,
			outDir: context.dir,
			format: config.tcot.format,
			seed: config.seed,
			validationSize: config.tcot.val_size,
			langs: languagesOf(config),
			datasetName: config.tcot.dataset_name,
			onBadRecord: "error",
			resume: context.resume,
			force: !context.resume,
			progress: context.progress,
		});
		return {
			outputs: Object.values(result.files).map((path) => relative(context.workdir, path)),
			figures: {
				records: result.counts.records,
				instances: result.counts.instances,
				pretrainingRecords: result.counts.pretrainingRecords,
				pretrainingLines: result.counts.pretrainingLines,
				specialTokens: result.specialTokens,
				rejected: result.rejected,
			},
		};
	},
};
