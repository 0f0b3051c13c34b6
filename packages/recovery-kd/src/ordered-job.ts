import { JsonlWriter, RejectsWriter, TransllmError, createProgress } from "@transllm/core";
import { mapOrdered } from "./ordered-map.js";
import { RemoteError } from "./retry.js";
import { countRecords, flagReport, rejectedInputLines } from "./resume-state.js";
import { assertResumable, finishManifestRun, manifestPathFor, sha256File, startManifestRun } from "./run-manifest.js";
import type { RunManifest } from "./run-manifest.js";

/** One unit of work read from the input, with where it came from. */
export interface JobItem<I> {
	id: string;
	value: I;
	file: string;
	line: number;
}

export interface OrderedJobOptions<I, O> {
	/** The package that runs the job (default @transllm/recovery-kd). */
	tool?: string;
	step: RunManifest["step"];
	/** The paper section the step implements (for the manifest). */
	paper: string;
	input: string;
	out: string;
	/** Backend, model, parameters for the manifest (never a key). */
	settings: Record<string, unknown>;
	/** Progress label. */
	label: string;
	/** Records in flight at once. */
	concurrency: number;
	/** The backend's retry counter so far. */
	retries: () => number;
	/** Reads the input (bad lines go to `rejects` under the skip policy). */
	read: (rejects: RejectsWriter) => AsyncIterable<JobItem<I>>;
	/** Produces the output record of one item. */
	run: (item: JobItem<I>) => Promise<O>;
	/** What the rejects file says when the server refuses one record ("generation failed"). */
	failure: string;
	limit?: number;
	/** This process's share of the input (datatrove's tasks): items r, r+W, r+2W, … of the input as read. */
	rank?: number;
	worldSize?: number;
	resume?: boolean;
	overwrite?: boolean;
	progress?: NodeJS.WritableStream | false;
	signal?: AbortSignal;
}

/** Checks rank/worldSize and returns them (0 of 1 when unsharded). */
export function shardOf(options: { rank?: number; worldSize?: number }): { rank: number; worldSize: number } {
	const worldSize = options.worldSize ?? 1;
	const rank = options.rank ?? 0;
	if (!Number.isInteger(worldSize) || worldSize < 1) throw new TransllmError("E_CONFIG", `worldSize must be an integer ≥ 1 (got ${worldSize})`);
	if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new TransllmError("E_CONFIG", `rank must be an integer in 0…${worldSize - 1} (got ${rank})`);
	return { rank, worldSize };
}

export interface OrderedJobSummary {
	out: string;
	manifest: string;
	/** Records in the finished output. */
	records: number;
	/** Records this call produced (the rest were there from an earlier run). */
	produced: number;
	resumed: number;
	rejected: number;
	flagged: Record<string, number>;
	retries: number;
}

const interrupted = (): TransllmError => new TransllmError("E_INTERRUPTED", "interrupted: the partial output is kept; run again with --resume");

/**
 * The resumable, ordered job both steps are: read the input, run up to `concurrency` items at once, write the
 * outputs in input order to `<out>.partial` as they are ready, set aside records a server refuses on their own,
 * and record every run in `<out>.manifest.json`. With `resume`, the complete records already written and the
 * lines already rejected are skipped, so the finished file equals an uninterrupted run's.
 */
export async function runOrderedJob<I, O extends { id: string }>(options: OrderedJobOptions<I, O>): Promise<OrderedJobSummary> {
	const { rank, worldSize } = shardOf(options);
	// A rank's output resumes only under the same sharding; unsharded settings stay as they were.
	const settings = worldSize > 1 ? { ...options.settings, rank, worldSize } : options.settings;
	const manifestPath = manifestPathFor(options.out);
	const inputHash = await sha256File(options.input).catch((error: Error) => {
		throw new TransllmError("E_INPUT", `cannot read input ${options.input}: ${error.message}`);
	});
	if (options.resume) await assertResumable(manifestPath, { path: options.input, sha256: inputHash }, settings, options.out);
	// Every record is written as soon as it is ready: a kill loses only the records in flight or waiting for
	// an earlier one.
	const writer = await JsonlWriter.open<O>(options.out, { resume: options.resume, overwrite: options.overwrite, keyOf: (record) => record.id, bufferBytes: 0 });
	if (writer.alreadyComplete) {
		const { records, flagged } = await flagReport(options.out);
		return { out: options.out, manifest: manifestPath, records, produced: 0, resumed: records, rejected: 0, flagged, retries: 0 };
	}
	let rejects: RejectsWriter | undefined;
	let manifest: RunManifest | undefined;
	const retriesBefore = options.retries();
	let produced = 0;
	// Records the server refused (set aside in the rejects file beside the bad input lines).
	let refused = 0;
	try {
		const skipLines = options.resume ? await rejectedInputLines(options.out) : new Set<string>();
		const open = await RejectsWriter.open(options.out, { resume: options.resume });
		rejects = open;
		manifest = await startManifestRun(
			manifestPath,
			{ tool: options.tool ?? "@transllm/recovery-kd", step: options.step, paper: options.paper, input: { path: options.input, sha256: inputHash }, output: { path: options.out }, settings },
			{ resumedRecords: writer.resumedCount, resuming: Boolean(options.resume) },
		);
		const total = options.progress === false ? 0 : await countRecords(options.input, options.limit);
		const progress = createProgress({ label: options.label, total, unit: "records", initial: writer.resumedCount, silent: options.progress === false, stream: options.progress || undefined });
		let read = 0;
		let mine = 0;
		async function* pending(): AsyncGenerator<JobItem<I>> {
			for await (const item of options.read(open)) {
				if (read++ % worldSize !== rank) continue;
				mine += 1;
				if (!writer.existingKeys.has(item.id) && !skipLines.has(`${item.file}:${item.line}`)) yield item;
			}
		}
		for await (const outcome of mapOrdered(pending(), options.run, { concurrency: options.concurrency })) {
			if (options.signal?.aborted) throw interrupted();
			if (outcome.ok) {
				await writer.write(outcome.value);
				produced += 1;
			} else {
				const error = outcome.error;
				if (!RemoteError.isRemote(error) || error.retryable || error.fatal) throw error;
				// A request the server refuses for this record alone (400: prompt too long …): set aside, named.
				const item = outcome.item;
				await open.reject({ file: item.file, line: item.line, reason: `${options.failure}: ${error.message}`, raw: JSON.stringify({ id: item.id, ...item.value }) });
				refused += 1;
			}
			progress.tick();
		}
		// An output without a record is a failed run, never "complete": the input was empty, every line was a bad
		// record, or the server refused the rest — said as it is (a bad input is no remote failure). A rank whose
		// share of a non-empty input is empty (more ranks than records) finishes with an empty part.
		if (writer.count === 0 && !(worldSize > 1 && read > 0 && mine === 0)) {
			const badLines = open.count - refused;
			throw new TransllmError(
				refused > 0 ? "E_REMOTE" : "E_INPUT",
				refused > 0
					? `every record was refused by the server or rejected (${refused} refused, ${badLines} bad line(s), see ${open.path}): nothing was produced`
					: open.count > 0
						? `every record was rejected (${open.count} bad line(s), see ${open.path}): nothing was produced`
						: `${options.input} holds no record to process: nothing was produced`,
			);
		}
		await writer.finish();
		await open.close();
		const { records, flagged, report } = await flagReport(options.out);
		await finishManifestRun(manifestPath, manifest, {
			status: "complete",
			producedRecords: produced,
			retries: options.retries() - retriesBefore,
			output: { path: options.out, records, rejected: open.count, flagged },
			report,
		});
		progress.done();
		return { out: options.out, manifest: manifestPath, records, produced, resumed: writer.resumedCount, rejected: open.count, flagged, retries: options.retries() - retriesBefore };
	} catch (error) {
		await writer.close();
		await rejects?.close();
		if (manifest) {
			const stopped = TransllmError.isInstance(error) && error.code === "E_INTERRUPTED";
			await finishManifestRun(manifestPath, manifest, {
				status: stopped ? "interrupted" : "failed",
				producedRecords: produced,
				retries: options.retries() - retriesBefore,
				error: error instanceof Error ? error.message : String(error),
			});
		}
		if (RemoteError.isRemote(error) && error.retryable) {
			throw new RemoteError(`${error.message} (gave up after ${error.attempts} attempts; the partial output is kept: run again with --resume)`, { status: error.status, retryable: true, cause: error });
		}
		throw error;
	}
}
