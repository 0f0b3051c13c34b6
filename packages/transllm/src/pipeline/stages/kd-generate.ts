import { join, relative } from "node:path";
import { readJsonl } from "@transllm/core";
import { generateRecoveryKd } from "@transllm/recovery-kd";
import type { RecoveryKdRecord } from "@transllm/recovery-kd";
import { missingPaths } from "../stage.js";
import type { Stage } from "../stage.js";
import { endpointBackend, localBackend, modelFilesProblems, reachable, secretFromEnv } from "./backends.js";

/**
 * kd-generate: recovery KD — the chat model answers English queries greedily (TransLLM Sec. 2.2.3, App. A.1;
 * `generateRecoveryKd` of @transllm/recovery-kd), locally or through an OpenAI-compatible endpoint. Resumes.
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
	async run(context) {
		const kd = context.config.kd;
		if (!kd) throw new Error("no kd section");
		const backend = kd.generation.backend === "local" ? await localBackend(context.config, kd.generation.batch_size) : endpointBackend(kd.generation, "kd.generation");
		const out = join(context.dir, "kd.en.jsonl");
		try {
			const summary = await generateRecoveryKd({
				queries: kd.queries,
				out,
				backend,
				params: { temperature: 0, max_tokens: kd.max_tokens },
				limit: kd.limit,
				resume: context.resume,
				overwrite: !context.resume,
				onBadRecord: "error",
				progress: context.progress,
			});
			const finishReasons: Record<string, number> = {};
			const examples: { id: string; query: string; response: string; flags: string[] }[] = [];
			for await (const { value } of readJsonl<RecoveryKdRecord>(out)) {
				finishReasons[value.finish_reason] = (finishReasons[value.finish_reason] ?? 0) + 1;
				if (value.flags?.length && examples.length < 3) examples.push({ id: value.id, query: value.query_en.slice(0, 200), response: value.response_en.slice(0, 200), flags: value.flags });
			}
			return { outputs: [relative(context.workdir, out)], figures: { records: summary.records, rejected: summary.rejected, flagged: summary.flagged, finishReasons, flaggedExamples: examples } };
		} finally {
			await backend.close();
		}
	},
};
