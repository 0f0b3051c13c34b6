import { RejectsWriter } from "@transllm/core";
import type { BadRecordPolicy } from "@transllm/core";
import { queryMessages } from "./generation-backend.js";
import type { GenerationBackend, GenerationParams, GenerationResult } from "./generation-backend.js";
import { readKdQueries } from "./kd-query.js";
import type { KdQuery } from "./kd-query.js";
import { runOrderedJob } from "./ordered-job.js";
import { mergeRankOutputs } from "./rank-merge.js";

/** Why a record is flagged (kept in the output, counted in the manifest). */
export type GenerationFlag = "empty" | "truncated";

/** One line of the recovery-KD output: the chat model's own answer to an English query. */
export interface RecoveryKdRecord {
	id: string;
	query_en: string;
	response_en: string;
	model: string;
	params: GenerationParams;
	finish_reason: string;
	/** Present when the answer is empty or was cut at max_tokens: flagged, never dropped. */
	flags?: GenerationFlag[];
}

/** Default parameters: greedy decoding (paper App. A.1), answers of up to 1024 new tokens. */
export const DEFAULT_GENERATION_PARAMS: GenerationParams = { temperature: 0, max_tokens: 1024 };

export interface GenerateRecoveryKdOptions {
	/** English queries, JSONL (Alpaca shape or `{id, query}`). */
	queries: string;
	/** Output JSONL (`.gz` to compress); `<out>.manifest.json` and `<out>.rejects.jsonl` go beside it. */
	out: string;
	backend: GenerationBackend;
	params?: Partial<GenerationParams>;
	/** Continue an interrupted run (or return at once when the output is complete). */
	resume?: boolean;
	/** Replace a finished output. */
	overwrite?: boolean;
	/** Only the first `limit` queries (50 000 in the paper, Sec. 3.1). */
	limit?: number;
	/** This process's share (datatrove's tasks): queries r, r+W, … of the input; merge the parts with the merge function. */
	rank?: number;
	worldSize?: number;
	onBadRecord?: BadRecordPolicy;
	/** Where progress goes (default stderr); false for none. */
	progress?: NodeJS.WritableStream | false;
	signal?: AbortSignal;
}

export interface GenerateRecoveryKdSummary {
	out: string;
	manifest: string;
	/** Records in the finished output. */
	records: number;
	/** Records this call generated (the rest were there from an earlier run). */
	generated: number;
	resumed: number;
	rejected: number;
	flagged: Record<string, number>;
	retries: number;
}

/** The flags of one answer: empty (nothing but whitespace) and truncated (cut at max_tokens). */
export function generationFlags(text: string, finishReason: string): GenerationFlag[] {
	const flags: GenerationFlag[] = [];
	if (text.trim() === "") flags.push("empty");
	if (finishReason === "length") flags.push("truncated");
	return flags;
}

/** Builds the output record of one answer (field order fixed: outputs compare byte for byte). */
export function recoveryKdRecord(query: KdQuery, result: GenerationResult, model: string, params: GenerationParams): RecoveryKdRecord {
	// Chat templates leave a leading space or newline before the answer (Llama-2's "[/INST] "): trimmed.
	const response = result.text.trim();
	const flags = generationFlags(response, result.finishReason);
	return { id: query.id, query_en: query.query, response_en: response, model, params, finish_reason: result.finishReason, ...(flags.length ? { flags } : {}) };
}

/**
 * Recovery KD generation (paper Sec. 2.2.3): the chat model answers the English queries itself, greedily.
 * Every answer is kept — safety refusals are knowledge to recover, never filtered. Output order is input
 * order whatever the concurrency, and a run killed at any moment and restarted with `resume` produces the
 * same file as an uninterrupted run.
 */
export async function generateRecoveryKd(options: GenerateRecoveryKdOptions): Promise<GenerateRecoveryKdSummary> {
	const { backend } = options;
	const params: GenerationParams = { ...DEFAULT_GENERATION_PARAMS, ...options.params };
	const { produced, ...summary } = await runOrderedJob<{ query: string }, RecoveryKdRecord>({
		step: "generate",
		paper: "TransLLM (../shared/papers/000_1ce36f3811662daf.txt) Sec. 2.2.3 recovery KD; App. A.1 greedy decoding",
		input: options.queries,
		out: options.out,
		settings: { backend: backend.kind, location: backend.location, model: backend.model, params, concurrency: backend.concurrency, limit: options.limit ?? null },
		label: "kd generate",
		concurrency: backend.concurrency,
		retries: () => backend.retries,
		read: async function* (rejects) {
			for await (const query of readKdQueries(options.queries, { onBadRecord: options.onBadRecord, rejects, limit: options.limit })) {
				yield { id: query.id, value: { query: query.query }, file: query.file, line: query.line };
			}
		},
		run: async (item) => {
			const result = await backend.generate(queryMessages(item.value.query, params.system), params, options.signal);
			return recoveryKdRecord({ id: item.id, query: item.value.query, file: item.file, line: item.line }, result, backend.model, params);
		},
		failure: "generation failed",
		limit: options.limit,
		rank: options.rank,
		worldSize: options.worldSize,
		resume: options.resume,
		overwrite: options.overwrite,
		progress: options.progress,
		signal: options.signal,
	});
	return { ...summary, generated: produced };
}

/**
 * Merges the parts written by ranks 0…W-1 of `generateRecoveryKd` (same queries, limit and policy; `parts` in rank
 * order) into one output, byte-identical to an unsharded run's. Bad query lines go to `<out>.rejects.jsonl` under
 * the skip policy, as they did in every rank.
 */
export async function mergeRecoveryKdRanks(options: { queries: string; parts: readonly string[]; out: string; limit?: number; onBadRecord?: BadRecordPolicy }): Promise<{ out: string; records: number }> {
	const rejects = await RejectsWriter.open(options.out);
	try {
		async function* ids(): AsyncGenerator<string> {
			for await (const query of readKdQueries(options.queries, { onBadRecord: options.onBadRecord, rejects, limit: options.limit })) yield query.id;
		}
		return await mergeRankOutputs({ ids: ids(), parts: options.parts, out: options.out });
	} finally {
		await rejects.close();
	}
}
