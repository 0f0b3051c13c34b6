import { join, relative } from "node:path";
import { writeCloDataset } from "@transllm/clo";
import { languagesOf } from "../stage.js";
import type { Stage } from "../stage.js";
import { translatedFiles } from "./translated-records.js";

/**
 * clo: CLO's cross-lingual preference pairs, laid out so that each pair shares a batch, with trainer exports
 * (CLO Sec. 3.2; `writeCloDataset` of @transllm/clo), per language.
 */
export const cloStage: Stage = {
	name: "clo",
	title: "CLO preference pairs + trainer exports",
	paper: "CLO Sec. 3.2",
	packages: ["@transllm/clo"],
	after: ["kd-translate"],
	disabled: (config) => (config.clo.enabled ? undefined : "clo.enabled is false"),
	settings: (config) => ({ clo: config.clo, seed: config.seed }),
	inputs: (config, upstream) => languagesOf(config).flatMap((lang) => translatedFiles(config, upstream, lang)),
	async run(context) {
		const { config } = context;
		const outputs: string[] = [];
		const figures: Record<string, unknown> = {};
		for (const lang of languagesOf(config)) {
			const input = translatedFiles(config, context.upstream, lang);
			if (input.length === 0) continue;
			const summary = await writeCloDataset({
				input,
				lang,
				out: join(context.dir, lang),
				format: config.clo.format,
				perDeviceBatchSize: config.clo.batch_size,
				seed: config.seed,
				validationPairs: config.clo.validation_pairs,
				onBadRecord: "error",
				overwrite: !context.resume,
				resume: context.resume,
				progress: { silent: true },
			});
			outputs.push(...summary.files.map((name) => relative(context.workdir, join(context.dir, lang, name))));
			figures[lang] = { records: summary.records, pairs: summary.pairs, trainPairs: summary.trainPairs, validationPairs: summary.validationPairs, droppedPairs: summary.droppedPairs, audited: summary.audited, steps: summary.steps };
		}
		return { outputs, figures };
	},
};
