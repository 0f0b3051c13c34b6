import { parentPort, workerData } from "node:worker_threads";
import { DocumentHasher } from "./document-hasher.js";
import type { HasherConfig, HashedBatch } from "./document-hasher.js";

// A worker_threads entry: hashes batches of texts sent by HashPool and transfers the typed arrays back.
const hasher = new DocumentHasher(workerData as HasherConfig);
parentPort?.on("message", (message: { id: number; texts: string[] }) => {
	const batch: HashedBatch = hasher.hashBatch(message.texts);
	const transfer: ArrayBuffer[] = [batch.signatures.buffer, batch.bandKeys.buffer, batch.shingles.buffer, batch.units.buffer] as ArrayBuffer[];
	if (batch.sets && batch.setOffsets) transfer.push(batch.sets.buffer as ArrayBuffer, batch.setOffsets.buffer as ArrayBuffer);
	parentPort?.postMessage({ id: message.id, batch }, transfer);
});
