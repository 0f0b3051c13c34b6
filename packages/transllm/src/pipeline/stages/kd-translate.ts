import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { ConfigError, readJsonl, rejectsPathFor, writeFileAtomic } from "@transllm/core";
import { GOOGLE_KEY_VARIABLES, GOOGLE_TRANSLATE_V2_ENDPOINT, createChatTranslationBackend, createGoogleTranslateBackend, mergeTranslatedKdRanks, translateRecoveryKd } from "@transllm/recovery-kd";
import type { TranslatedKdRecord, TranslationBackend } from "@transllm/recovery-kd";
import type { PipelineConfig } from "../config.js";
import { languagesOf, upstreamOutputs } from "../stage.js";
import type { Stage, StageContext } from "../stage.js";
import { endpointBackend, localBackend, modelFilesProblems, reachable, secretFromEnv } from "./backends.js";

type Translation = NonNullable<PipelineConfig["kd"]>["translation"];

/** The env variable of the Google key: the config's, else the first of recovery-kd's defaults. */
const googleKeyVariable = (t: Translation): string => t.api_key_env ?? GOOGLE_KEY_VARIABLES[0];

async function translationBackend(config: PipelineConfig, t: Translation): Promise<TranslationBackend> {
	if (t.backend === "google") {
		const apiKey = secretFromEnv(googleKeyVariable(t), "kd.translation");
		if (!apiKey) throw new ConfigError("kd.translation: google needs an API key");
		return createGoogleTranslateBackend({ apiKey, endpoint: t.endpoint ?? GOOGLE_TRANSLATE_V2_ENDPOINT, concurrency: t.concurrency });
	}
	const generator = t.backend === "local" ? await localBackend(config, 8) : endpointBackend(t, "kd.translation");
	return createChatTranslationBackend({ generator, maxTokens: t.max_tokens });
}

/** The KD generation output this stage translates. */
function kdInput(context: StageContext): string {
	const input = upstreamOutputs(context.workdir, context.upstream, "kd-generate")[0];
	if (!input) throw new Error("kd-generate recorded no output");
	return input;
}

/** Rank r's part of a language's translations (the finishing step merges the parts). */
const rankPart = (dir: string, lang: string, rank: number): string => join(dir, "ranks", `${lang}.${rank}.jsonl`);

/**
 * kd-translate: machine translation of the recovery-KD pairs into each target language, with language checks
 * that flag (never drop) bad translations (TransLLM Sec. 2.2.3; `translateRecoveryKd` of @transllm/recovery-kd).
 * Sharded: rank r translates records r, r+W, …; the merged file is byte-identical to one process's.
 */
export const kdTranslateStage: Stage = {
	name: "kd-translate",
	title: "machine translation of the KD pairs",
	paper: "TransLLM Sec. 2.2.3",
	packages: ["@transllm/recovery-kd", "@transllm/runtime"],
	after: ["kd-generate"],
	disabled: (config) => (config.kd ? undefined : "no `kd` section"),
	settings: (config) => ({ translation: config.kd?.translation, languages: languagesOf(config) }),
	inputs: (config, upstream) => [...upstreamOutputs(config.workdir, upstream, "kd-generate"), ...(config.kd?.translation.backend === "local" ? [config.base_model.model] : [])],
	async check(config) {
		const t = config.kd?.translation;
		if (!t) return [];
		if (t.backend === "local") return modelFilesProblems(config.base_model.model, "base_model.model");
		const problems: string[] = [];
		try {
			secretFromEnv(t.backend === "google" ? googleKeyVariable(t) : t.api_key_env, "kd.translation");
		} catch (error) {
			problems.push((error as Error).message);
		}
		if (t.backend === "endpoint" && (!t.endpoint || !t.model_name)) problems.push("kd.translation: backend endpoint needs endpoint and model_name");
		else problems.push(...(await reachable(t.endpoint ?? GOOGLE_TRANSLATE_V2_ENDPOINT, "kd.translation")));
		return problems;
	},
	sharded: {
		// Rank r translates records r, r+W, … of the KD file into its own part per language; the finishing step merges.
		async runRank(context, rank, worldSize) {
			const { config } = context;
			const t = config.kd?.translation;
			if (!t) throw new Error("no kd section");
			const input = kdInput(context);
			for (const lang of languagesOf(config)) {
				const backend = await translationBackend(config, t);
				try {
					await translateRecoveryKd({ input, out: rankPart(context.dir, lang, rank), lang, backend, rank, worldSize, resume: true, onBadRecord: "error", progress: context.progress });
				} finally {
					await backend.close();
				}
			}
		},
	},
	async run(context) {
		const { config } = context;
		const t = config.kd?.translation;
		if (!t) throw new Error("no kd section");
		const input = kdInput(context);
		const worldSize = config.executor.world_size;
		const outputs: string[] = [];
		const figures: Record<string, unknown> = {};
		for (const lang of languagesOf(config)) {
			const out = join(context.dir, `${lang}.jsonl`);
			let rejected = 0;
			if (worldSize > 1) {
				const parts = Array.from({ length: worldSize }, (_, rank) => rankPart(context.dir, lang, rank));
				await mergeTranslatedKdRanks({ input, parts, out, onBadRecord: "error" });
				for (const part of parts) rejected += (await readFile(rejectsPathFor(part), "utf8").catch(() => "")).split("\n").filter(Boolean).length;
			} else {
				const backend = await translationBackend(config, t);
				try {
					rejected = (await translateRecoveryKd({ input, out, lang, backend, resume: context.resume, overwrite: !context.resume, onBadRecord: "error", progress: context.progress })).rejected;
				} finally {
					await backend.close();
				}
			}
			// Flagged records are kept in <lang>.jsonl (the package never drops them); the later stages read the
			// checked file, without the records whose translation failed its language check.
			let records = 0;
			const flagged: Record<string, number> = {};
			const examples: { id: string; flags: string[] }[] = [];
			const checked: string[] = [];
			for await (const { value } of readJsonl<TranslatedKdRecord>(out)) {
				records += 1;
				for (const flag of value.flags ?? []) flagged[flag] = (flagged[flag] ?? 0) + 1;
				if (value.flags?.length && examples.length < 3) examples.push({ id: value.id, flags: value.flags });
				if (!value.flags?.some((flag) => t.exclude_flags.includes(flag))) checked.push(JSON.stringify(value));
			}
			const checkedPath = join(context.dir, `${lang}.checked.jsonl`);
			await writeFileAtomic(checkedPath, checked.length > 0 ? `${checked.join("\n")}\n` : "");
			outputs.push(relative(context.workdir, out), relative(context.workdir, checkedPath));
			figures[lang] = { records, kept: checked.length, excluded: records - checked.length, rejected, flagged, flaggedExamples: examples };
		}
		return { outputs, figures };
	},
};
