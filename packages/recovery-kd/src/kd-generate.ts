import { JsonlWriter, RejectsWriter, TransllmError, createProgress } from "@transllm/core";
import type { BadRecordPolicy } from "@transllm/core";
import { queryMessages } from "./generation-backend.js";
import type { GenerationBackend, GenerationParams, GenerationResult } from "./generation-backend.js";
import { readKdQueries } from "./kd-query.js";
import type { KdQuery } from "./kd-query.js";
import { mapOrdered } from "./ordered-map.js";
import { RemoteError } from "./retry.js";
import { countRecords, flagReport, rejectedInputLines } from "./resume-state.js";
import { finishManifestRun, manifestPathFor, sha256File, startManifestRun } from "./run-manifest.js";

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
	const manifestPath = manifestPathFor(options.out);
	const inputHash = await sha256File(options.queries).catch((error: Error) => {
		throw new TransllmError("E_INPUT", `cannot read queries ${options.queries}: ${error.message}`);
	});
	const writer = await JsonlWriter.open<RecoveryKdRecord>(options.out, {
		resume: options.resume,
		overwrite: options.overwrite,
		keyOf: (record) => record.id,
		// Every record is written as soon as it is ready: a kill loses at most the records in flight.
		bufferBytes: 0,
	});
	if (writer.alreadyComplete) {
		const { records, flagged } = await flagReport(options.out);
		return { out: options.out, manifest: manifestPath, records, generated: 0, resumed: records, rejected: 0, flagged, retries: 0 };
	}
	const skipLines = options.resume ? await rejectedInputLines(options.out) : new Set<string>();
	const rejects = await RejectsWriter.open(options.out, { resume: options.resume });
	const manifest = await startManifestRun(
		manifestPath,
		{
			tool: "@transllm/recovery-kd",
			step: "generate",
			paper: "TransLLM (../shared/papers/000_1ce36f3811662daf.txt) Sec. 2.2.3 recovery KD; App. A.1 greedy decoding",
			input: { path: options.queries, sha256: inputHash },
			output: { path: options.out },
			settings: { backend: backend.kind, location: backend.location, model: backend.model, params, concurrency: backend.concurrency, limit: options.limit ?? null },
		},
		{ resumedRecords: writer.resumedCount, resuming: Boolean(options.resume) },
	);
	const total = options.progress === false ? 0 : await countRecords(options.queries, options.limit);
	const progress = createProgress({ label: "kd generate", total, unit: "records", initial: writer.resumedCount, silent: options.progress === false, stream: options.progress || undefined });
	const retriesBefore = backend.retries;
	let generated = 0;

	async function* pending(): AsyncGenerator<KdQuery> {
		for await (const query of readKdQueries(options.queries, { onBadRecord: options.onBadRecord, rejects, limit: options.limit })) {
			if (writer.existingKeys.has(query.id) || skipLines.has(`${query.file}:${query.line}`)) continue;
			yield query;
		}
	}

	try {
		for await (const outcome of mapOrdered(pending(), (query) => backend.generate(queryMessages(query.query, params.system), params, options.signal), {
			concurrency: backend.concurrency,
		})) {
			if (options.signal?.aborted) throw new TransllmError("E_INTERRUPTED", "interrupted: the partial output is kept; run again with --resume");
			const query = outcome.item;
			if (outcome.ok) {
				await writer.write(recoveryKdRecord(query, outcome.value, backend.model, params));
				generated += 1;
			} else {
				const error = outcome.error;
				if (options.signal?.aborted) throw new TransllmError("E_INTERRUPTED", "interrupted: the partial output is kept; run again with --resume");
				if (!RemoteError.isRemote(error) || error.retryable || error.fatal) throw error;
				// A request the server refuses for this record alone (400: prompt too long …): set aside, named.
				await rejects.reject({ file: query.file, line: query.line, reason: `generation failed: ${error.message}`, raw: JSON.stringify({ id: query.id, query: query.query }) });
			}
			progress.tick();
		}
		await writer.finish();
		await rejects.close();
	} catch (error) {
		await writer.close();
		await rejects.close();
		const interrupted = TransllmError.isInstance(error) && error.code === "E_INTERRUPTED";
		await finishManifestRun(manifestPath, manifest, {
			status: interrupted ? "interrupted" : "failed",
			producedRecords: generated,
			retries: backend.retries - retriesBefore,
			error: error instanceof Error ? error.message : String(error),
		});
		if (RemoteError.isRemote(error) && error.retryable) {
			throw new RemoteError(`${error.message} (gave up after ${error.attempts} attempts; the partial output is kept: run again with --resume)`, { status: error.status, retryable: true, cause: error });
		}
		throw error;
	}
	const { records, flagged } = await flagReport(options.out);
	await finishManifestRun(manifestPath, manifest, {
		status: "complete",
		producedRecords: generated,
		retries: backend.retries - retriesBefore,
		output: { path: options.out, records, rejected: rejects.count, flagged },
	});
	progress.done();
	return { out: options.out, manifest: manifestPath, records, generated, resumed: writer.resumedCount, rejected: rejects.count, flagged, retries: backend.retries - retriesBefore };
}
