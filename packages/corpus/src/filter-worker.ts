// A filter worker (worker_threads): builds the filters from their specs, then filters the shards it is sent,
// one at a time, with the same `filterShard` the calling thread runs, and reports progress and results.
import { parentPort, workerData } from "node:worker_threads";
import { TransllmError } from "@transllm/core";
import type { CorpusDocument } from "./document.js";
import type { Filter } from "./filter.js";
import { filterShard } from "./filter-shard.js";
import type { ShardJob } from "./filter-shard.js";
import { filterFromSpec } from "./filter-spec.js";
import type { FilterWorkerData, FilterWorkerMessage } from "./filter-workers.js";

const { specs, read } = workerData as FilterWorkerData;
const filters = specs.map((spec) => filterFromSpec(spec)) as Filter<CorpusDocument>[];
const port = parentPort as NonNullable<typeof parentPort>;
const post = (message: FilterWorkerMessage): void => port.postMessage(message);
// Progress is reported in batches: a message per document would cost more than some filters.
const PROGRESS_BATCH = 256;

port.on("message", (job: ShardJob) => {
	let unreported = 0;
	filterShard(job, read, filters, (n) => {
		unreported += n;
		if (unreported >= PROGRESS_BATCH) {
			post({ type: "progress", documents: unreported });
			unreported = 0;
		}
	}).then(
		(result) => post({ type: "done", index: job.index, documents: unreported, result }),
		(error: unknown) => {
			const e = error instanceof Error ? error : new Error(String(error));
			const fields = TransllmError.isInstance(e) ? { ...(e as unknown as Record<string, unknown>), code: e.code } : {};
			post({ type: "error", index: job.index, error: { ...fields, name: e.name, message: e.message, stack: e.stack } });
		},
	);
});
