import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { readJsonl, rejectsPathFor } from "@transllm/core";
import { generateRecoveryKd, mergeRecoveryKdRanks } from "@transllm/recovery-kd";
import type { RecoveryKdRecord } from "@transllm/recovery-kd";
import type { PipelineConfig } from "../config.js";
import { missingPaths } from "../stage.js";
import type { Stage } from "../stage.js";
import { endpointBackend, localBackend, modelFilesProblems, reachable, secretFromEnv } from "./backends.js";

type KdConfig = NonNullable<PipelineConfig["kd"]>;

const generationBackend = (config: PipelineConfig, kd: KdConfig) => (kd.generation.backend === "local" ? localBackend(config, kd.generation.batch_size) : Promise.resolve(endpointBackend(kd.generation, "kd.generation")));

const jobOptions = (kd: KdConfig) => ({ queries: kd.queries, params: { temperature: 0, max_tokens: kd.max_tokens }, limit: kd.limit, onBadRecord: "error" as const });

/** Rank r's part of the output (the finishing step merges the parts). */
const rankPart = (dir: string, rank: number): string => join(dir, "ranks", `kd.en.${rank}.jsonl`);

/** Lines of a file (0 when it is not there): a part's set-aside records. */
async function countLines(path: string): Promise<number> {
	const text = await readFile(path, "utf8").catch(() => "");
	return text.split("\n").filter(Boolean).length;
}

/**
 * kd-generate: recovery KD — the chat model answers English queries greedily (TransLLM Sec. 2.2.3, App. A.1;
 * `generateRecoveryKd` of @transllm/recovery-kd), locally or through an OpenAI-compatible endpoint. Resumes. Sharded:
 * rank r answers queries r, r+W, …; the merged file is byte-identical to one process's.
 */
export const kdGenerateStage: Stage = {
	name: "kd-generate",
	title: "recovery KD: the chat model answers English queries",
	paper: "TransLLM Sec. 2.2.3, App. A.1",
	packages: ["@transllm/recovery-kd", "@transllm/runtime"],
	after: [],
	disabled: (config) => (config.kd ? undefined : "no `kd` section"),
	settings: (config) => ({ limit: config.kd?.limit, max_tokens: config.kd?.max_tokens, generation: config.kd?.generation, model_name: config.base_model.name }),
	inputs: (config) => [config.kd?.queries ?? "", ...(config.kd?.generation.backend === "local" ? [config.base_model.model] : [])],
	async check(config) {
		const kd = config.kd;
		if (!kd) return [];
		const problems = await missingPaths([kd.queries], "kd.queries");
		const g = kd.generation;
		if (g.backend === "local") problems.push(...(await modelFilesProblems(config.base_model.model, "base_model.model")));
		else if (!g.endpoint || !g.model_name) problems.push("kd.generation: backend endpoint needs endpoint and model_name");
		else {
			try {
				secretFromEnv(g.api_key_env, "kd.generation");
			} catch (error) {
				problems.push((error as Error).message);
			}
			problems.push(...(await reachable(g.endpoint, "kd.generation")));
		}
		return problems;
	},
	sharded: {
		// Rank r answers queries r, r+W, … into its own part; the finishing step merges them in input order.
		async runRank(context, rank, worldSize) {
			const kd = context.config.kd;
			if (!kd) throw new Error("no kd section");
			const backend = await generationBackend(context.config, kd);
			try {
				await generateRecoveryKd({ ...jobOptions(kd), out: rankPart(context.dir, rank), backend, rank, worldSize, resume: true, progress: context.progress });
			} finally {
				await backend.close();
			}
		},
	},
	async run(context) {
		const kd = context.config.kd;
		if (!kd) throw new Error("no kd section");
		const out = join(context.dir, "kd.en.jsonl");
		const worldSize = context.config.executor.world_size;
		let rejected: number;
		if (worldSize > 1) {
			const parts = Array.from({ length: worldSize }, (_, rank) => rankPart(context.dir, rank));
			await mergeRecoveryKdRanks({ queries: kd.queries, limit: kd.limit, onBadRecord: "error", parts, out });
			rejected = (await Promise.all(parts.map((part) => countLines(rejectsPathFor(part))))).reduce((a, b) => a + b, 0);
		} else {
			const backend = await generationBackend(context.config, kd);
			try {
				rejected = (await generateRecoveryKd({ ...jobOptions(kd), out, backend, resume: context.resume, overwrite: !context.resume, progress: context.progress })).rejected;
			} finally {
				await backend.close();
			}
		}
		let records = 0;
		const flagged: Record<string, number> = {};
		const finishReasons: Record<string, number> = {};
		const examples: { id: string; query: string; response: string; flags: string[] }[] = [];
		for await (const { value } of readJsonl<RecoveryKdRecord>(out)) {
			records += 1;
			finishReasons[value.finish_reason] = (finishReasons[value.finish_reason] ?? 0) + 1;
			for (const flag of value.flags ?? []) flagged[flag] = (flagged[flag] ?? 0) + 1;
			if (value.flags?.length && examples.length < 3) examples.push({ id: value.id, query: value.query_en.slice(0, 200), response: value.response_en.slice(0, 200), flags: value.flags });
		}
		return { outputs: [relative(context.workdir, out)], figures: { records, rejected, flagged, finishReasons, flaggedExamples: examples } };
	},
};
