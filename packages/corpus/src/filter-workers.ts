import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { InputError, TransllmError } from "@transllm/core";
import type { TransllmErrorCode } from "@transllm/core";
import type { ShardJob, ShardReadOptions, ShardResult } from "./filter-shard.js";
import type { FilterSpec } from "./filter-spec.js";

/** What a filter worker starts with. */
export interface FilterWorkerData {
	specs: FilterSpec[];
	read: ShardReadOptions;
}

/** Messages from a filter worker. */
export type FilterWorkerMessage =
	| { type: "progress"; documents: number }
	| { type: "done"; index: number; documents: number; result: ShardResult }
	| { type: "error"; index: number; error: Record<string, unknown> & { name: string; message: string; stack?: string } };

function startWorker(data: FilterWorkerData): Worker {
	const built = fileURLToPath(new URL("./filter-worker.js", import.meta.url));
	if (existsSync(built)) return new Worker(built, { workerData: data });
	// From the TypeScript sources (tests, tsx): register tsx's loader inside the worker, then import the worker
	// module, resolving workspace packages to their sources like the parent does (as @transllm/dedup's hash pool).
	const tsxRoot = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
	const tsx = pathToFileURL(join(tsxRoot, "dist", "esm", "api", "index.mjs")).href;
	const entry = new URL("./filter-worker.ts", import.meta.url).href;
	const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
	return new Worker(code, { eval: true, workerData: data, execArgv: ["--conditions", "source"] });
}

/** The worker's error as the calling thread's: an `InputError` keeps its class, file and line. */
function reviveError(error: FilterWorkerMessage & { type: "error" }): Error {
	const fields = error.error;
	let revived: Error;
	if (fields.name === "InputError" && typeof fields.reason === "string") {
		revived = new InputError(fields.reason, { file: fields.file as string | undefined, line: fields.line as number | undefined, field: fields.field as string | undefined, excerpt: fields.excerpt as string | undefined });
	} else if (typeof fields.code === "string") {
		revived = new TransllmError(fields.code as TransllmErrorCode, fields.message);
		revived.name = fields.name;
	} else revived = new Error(fields.message);
	if (fields.stack !== undefined) revived.stack = fields.stack;
	return revived;
}

/**
 * Filters shards on `workers` worker threads, each shard whole on one thread (a shard's output and audit files
 * are written by one `filterShard` call, exactly as in the calling thread, so the files do not depend on the
 * number of workers). `onShardDone` runs in the calling thread as each shard finishes (its completion marker);
 * the first failure stops every worker and rejects.
 */
export async function filterShardsInWorkers(
	jobs: readonly ShardJob[],
	data: FilterWorkerData,
	workers: number,
	onDocuments: (n: number) => void,
	onShardDone: (job: ShardJob, result: ShardResult) => Promise<void>,
): Promise<void> {
	const queue = [...jobs];
	const pool = Array.from({ length: Math.min(workers, jobs.length) }, () => startWorker(data));
	try {
		await Promise.all(
			pool.map(
				(worker) =>
					new Promise<void>((resolve, reject) => {
						let current: ShardJob | undefined;
						const next = (): void => {
							current = queue.shift();
							if (current === undefined) resolve();
							else worker.postMessage(current);
						};
						worker.on("message", (message: FilterWorkerMessage) => {
							if (message.type === "progress") onDocuments(message.documents);
							else if (message.type === "error") reject(reviveError(message));
							else {
								onDocuments(message.documents);
								onShardDone(current as ShardJob, message.result).then(next, reject);
							}
						});
						worker.on("error", reject);
						worker.on("exit", (code) => {
							if (current !== undefined || queue.length > 0) reject(new Error(`filter worker exited with code ${code} before finishing its shards`));
						});
						next();
					}),
			),
		);
	} finally {
		await Promise.all(pool.map((worker) => worker.terminate()));
	}
}
