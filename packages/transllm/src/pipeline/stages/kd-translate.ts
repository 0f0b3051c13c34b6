import { join, relative } from "node:path";
import { ConfigError, readJsonl, writeFileAtomic } from "@transllm/core";
import { GOOGLE_KEY_VARIABLES, GOOGLE_TRANSLATE_V2_ENDPOINT, createChatTranslationBackend, createGoogleTranslateBackend, translateRecoveryKd } from "@transllm/recovery-kd";
import type { TranslatedKdRecord, TranslationBackend } from "@transllm/recovery-kd";
import type { PipelineConfig } from "../config.js";
import { languagesOf, upstreamOutputs } from "../stage.js";
import type { Stage } from "../stage.js";
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

/**
 * kd-translate: machine translation of the recovery-KD pairs into each target language, with language checks
 * that flag (never drop) bad translations (TransLLM Sec. 2.2.3; `translateRecoveryKd` of @transllm/recovery-kd).
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
	async run(context) {
		const { config } = context;
		const t = config.kd?.translation;
		if (!t) throw new Error("no kd section");
		const input = upstreamOutputs(context.workdir, context.upstream, "kd-generate")[0];
		if (!input) throw new Error("kd-generate recorded no output");
		const outputs: string[] = [];
		const figures: Record<string, unknown> = {};
		for (const lang of languagesOf(config)) {
			const backend = await translationBackend(config, t);
			const out = join(context.dir, `${lang}.jsonl`);
			try {
				const summary = await translateRecoveryKd({ input, out, lang, backend, resume: context.resume, overwrite: !context.resume, onBadRecord: "error", progress: context.progress });
				// Flagged records are kept in <lang>.jsonl (the package never drops them); the later stages read the
				// checked file, without the records whose translation failed its language check.
				const examples: { id: string; flags: string[] }[] = [];
				const checked: string[] = [];
				for await (const { value } of readJsonl<TranslatedKdRecord>(out)) {
					if (value.flags?.length && examples.length < 3) examples.push({ id: value.id, flags: value.flags });
					if (!value.flags?.some((flag) => t.exclude_flags.includes(flag))) checked.push(JSON.stringify(value));
				}
				const checkedPath = join(context.dir, `${lang}.checked.jsonl`);
				await writeFileAtomic(checkedPath, checked.length > 0 ? `${checked.join("\n")}\n` : "");
				outputs.push(relative(context.workdir, out), relative(context.workdir, checkedPath));
				figures[lang] = { records: summary.records, kept: checked.length, excluded: summary.records - checked.length, rejected: summary.rejected, flagged: summary.flagged, flaggedExamples: examples };
			} finally {
				await backend.close();
			}
		}
		return { outputs, figures };
	},
};
