import { join, resolve } from "node:path";
import { rm } from "node:fs/promises";
import { ConfigError, JsonlWriter, createProgress, readJsonl, recordRunSettings, writeJsonAtomic } from "@transllm/core";
import type { ProgressOptions } from "@transllm/core";
import type { ChatModel, ExecutionProviderRequest } from "@transllm/runtime";
import { CLO_DEFAULTS, cloObjective } from "./clo-objective.js";
import type { CloConditionals, CloObjective, CloPairLogprobs, SftReduction } from "./clo-objective.js";
import { readPreferencePairs } from "./preference-rows.js";
import type { PreferencePair } from "./preference-rows.js";

/** How the four conditionals of a pair are scored. */
export interface ScoreConditionalsOptions {
	/** Pairs per model run (default 8); each pair is four sequences. */
	batchSize?: number;
	/** Render the query as a user turn of the model's chat template (default true), as the trainers do. */
	chat?: boolean;
	/** Score the EOS token after each answer (default true): TRL and LLaMA-Factory end every answer with it. */
	appendEos?: boolean;
}

/** The four conditionals of Eq. 11–12 in the order they are scored for each pair. */
const ORDER = ["enGivenEn", "targetGivenEn", "targetGivenTarget", "enGivenTarget"] as const;

/**
 * Scores the four conditionals of each pair with one model (Eq. 11–12): log π(y_en|x_en), log π(y_t|x_en),
 * log π(y_t|x_t) and log π(y_en|x_t), each as the sum of the answer tokens' log-probabilities and their count.
 */
export async function scoreCloConditionals(model: ChatModel, pairs: readonly PreferencePair[], options: ScoreConditionalsOptions = {}): Promise<CloConditionals[]> {
	const chat = options.chat ?? true;
	const prompt = (content: string) => (chat ? [{ role: "user" as const, content }] : content);
	const items = pairs.flatMap(({ record }) => [
		{ prompt: prompt(record.query_en), response: record.response_en },
		{ prompt: prompt(record.query_en), response: record.response_t },
		{ prompt: prompt(record.query_t), response: record.response_t },
		{ prompt: prompt(record.query_t), response: record.response_en },
	]);
	const results = await model.score({ pairs: items, batchSize: 4 * (options.batchSize ?? 8), appendEos: options.appendEos ?? true });
	return pairs.map((_, i) => {
		const entry: Partial<CloConditionals> = {};
		ORDER.forEach((field, k) => {
			const result = results[4 * i + k] as { sum: number; tokens: number };
			entry[field] = { sum: result.sum, tokens: result.tokens };
		});
		return entry as CloConditionals;
	});
}

export interface ScoreCloPairsParams extends ScoreConditionalsOptions {
	/** Policy model directory (π_θatt: the trained model, LoRA merged). */
	policy: string;
	/** Reference model directory (π_ref: the model before CLO). */
	reference: string;
	/** Pairs file written by `transllm clo pairs` (validation_pairs.jsonl, pairs.jsonl, or a TRL/LLaMA-Factory file). */
	pairs: string;
	/** Directory for `scores.jsonl` (per-pair log-probabilities, resumable) and `objective.json`. */
	out?: string;
	beta?: number;
	lambda?: number;
	sftReduction?: SftReduction;
	executionProvider?: ExecutionProviderRequest;
	/** Continue an interrupted run from `out/scores.jsonl`. */
	resume?: boolean;
	/** Replace an earlier `out/scores.jsonl`. */
	overwrite?: boolean;
	progress?: Pick<ProgressOptions, "stream" | "silent" | "intervalMs">;
}

export interface CloScoreReport extends CloObjective {
	policy: string;
	reference: string;
	pairsFile: string;
	/** Pair ids in the order of zEn and zT. */
	pairIds: string[];
}

type ModelRole = "policy" | "reference";

/** One line of scores.jsonl: one model's four conditionals of one pair. */
interface ScoreLine {
	pair_id: string;
	model: ModelRole;
	conditionals: CloConditionals;
}

/**
 * `transllm clo score`: L_CLO, L_SFT, L_CL, z_en, z_t and the pairwise accuracy (Eq. 8–12) of a policy against
 * its reference on a pairs file, with @transllm/runtime. The models are loaded one after the other (one model's
 * memory at a time); with `out`, every scored batch is kept in scores.jsonl, so a killed run resumes.
 */
export async function scoreCloPairs(params: ScoreCloPairsParams): Promise<CloScoreReport> {
	const pairs: PreferencePair[] = [];
	for await (const pair of readPreferencePairs(params.pairs)) pairs.push(pair);
	if (pairs.length === 0) throw new ConfigError(`${params.pairs} holds no pairs`);
	const ids = new Set(pairs.map((pair) => pair.pairId));
	if (ids.size !== pairs.length) throw new ConfigError(`${params.pairs}: pair ids repeat; each pair must be scored once`);
	const batchSize = params.batchSize ?? 8;
	if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batch size must be a positive integer, got ${batchSize}`);

	const scored = new Map<string, CloConditionals>();
	const key = (role: ModelRole, id: string) => `${role}\u0000${id}`;
	let writer: JsonlWriter<ScoreLine> | undefined;
	if (params.out !== undefined) {
		const path = join(resolve(params.out), "scores.jsonl");
		if (params.overwrite && !params.resume) await Promise.all([rm(path, { force: true }), rm(`${path}.partial`, { force: true })]);
		// The scores kept must come from the same models and scoring as the ones still to compute.
		const settings = { pairs: resolve(params.pairs), policy: resolve(params.policy), reference: resolve(params.reference), chat: params.chat ?? true, appendEos: params.appendEos ?? true };
		await recordRunSettings(`${path}.settings.json`, settings, { resume: params.resume, output: path });
		writer = await JsonlWriter.open<ScoreLine>(path, { resume: params.resume });
		if (writer.resumedCount > 0) {
			for await (const { value } of readJsonl<ScoreLine>(writer.alreadyComplete ? path : writer.partialPath)) scored.set(key(value.model, value.pair_id), value.conditionals);
		}
	}
	const { loadModel } = await import("@transllm/runtime");
	try {
		for (const role of ["policy", "reference"] as const) {
			const todo = pairs.filter((pair) => !scored.has(key(role, pair.pairId)));
			if (todo.length === 0) continue;
			const progress = createProgress({ label: `clo score (${role})`, unit: "pairs", total: pairs.length, initial: pairs.length - todo.length, ...params.progress });
			const model = await loadModel(params[role], { executionProvider: params.executionProvider });
			try {
				for (let start = 0; start < todo.length; start += batchSize) {
					const batch = todo.slice(start, start + batchSize);
					const conditionals = await scoreCloConditionals(model, batch, params);
					for (const [i, pair] of batch.entries()) {
						scored.set(key(role, pair.pairId), conditionals[i] as CloConditionals);
						await writer?.write({ pair_id: pair.pairId, model: role, conditionals: conditionals[i] as CloConditionals });
					}
					await writer?.flush();
					progress.tick(batch.length);
				}
			} finally {
				await model.dispose();
			}
			progress.done();
		}
	} catch (error) {
		await writer?.close();
		throw error;
	}
	if (writer && !writer.alreadyComplete) await writer.finish();

	const logprobs: CloPairLogprobs[] = pairs.map((pair) => ({
		pairId: pair.pairId,
		policy: scored.get(key("policy", pair.pairId)) as CloConditionals,
		reference: scored.get(key("reference", pair.pairId)) as CloConditionals,
	}));
	const objective = cloObjective(logprobs, { beta: params.beta ?? CLO_DEFAULTS.beta, lambda: params.lambda ?? CLO_DEFAULTS.lambda, sftReduction: params.sftReduction });
	const report: CloScoreReport = { policy: params.policy, reference: params.reference, pairsFile: params.pairs, pairIds: pairs.map((pair) => pair.pairId), ...objective };
	if (params.out !== undefined) await writeJsonAtomic(join(resolve(params.out), "objective.json"), report);
	return report;
}
