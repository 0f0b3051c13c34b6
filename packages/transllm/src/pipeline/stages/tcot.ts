import { join, relative } from "node:path";
import { buildTrainingFiles } from "@transllm/tcot";
import type { PipelineConfig } from "../config.js";
import type { StageRecord } from "../lock-file.js";
import { languagesOf, missingPaths, upstreamOutputs } from "../stage.js";
import type { Stage, StageContext } from "../stage.js";
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

/** What every task of the build is given (the same inputs and options: a task reads all and keeps its records). */
function buildOptions(context: StageContext) {
	const { config } = context;
	const { translated, parallel, english } = sources(config, context.upstream);
	return {
		translated,
		parallel,
		english,
		format: config.tcot.format,
		seed: config.seed,
		validationSize: config.tcot.val_size,
		langs: languagesOf(config),
		datasetName: config.tcot.dataset_name,
		onBadRecord: "error" as const,
		progress: context.progress,
	};
}

/** Rank r's instances, unmixed (the finishing step mixes the parts). */
const instancesPart = (dir: string, rank: number): string => join(dir, "ranks", `instances.${rank}.jsonl`);

/**
 * tcot: the transfer fine-tuning data — recovery KD + TCOT + translation instances mixed with a validation split,
 * and the translation pre-training text, for LLaMA-Factory or TRL (TransLLM Sec. 2.2.2–2.2.3; `buildTrainingFiles`
 * of @transllm/tcot). Resumes; the same inputs and seed give the same files. Sharded: rank r builds the instances of
 * the records whose id hashes to r, the finishing step mixes them and writes the files, byte-identical to one task's.
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
	sharded: {
		// Rank r builds the instances of the records whose id hashes to r; the finishing step mixes every rank's.
		async runRank(context, rank, worldSize) {
			const dir = join(context.dir, "ranks", String(rank));
			await buildTrainingFiles({ ...buildOptions(context), outDir: dir, rank, worldSize, instancesOut: instancesPart(context.dir, rank), resume: false, force: true });
		},
	},
	async run(context) {
		const worldSize = context.config.executor.world_size;
		const parts = worldSize > 1 ? Array.from({ length: worldSize }, (_, rank) => instancesPart(context.dir, rank)) : undefined;
		const result = await buildTrainingFiles({ ...buildOptions(context), outDir: context.dir, ...(parts ? { instanceParts: parts } : {}), resume: context.resume, force: !context.resume });
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
