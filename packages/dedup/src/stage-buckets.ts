import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Completions } from "@transllm/core";
import { BinaryFileWriter } from "./binary-file.js";
import { layout } from "./dedup-config.js";
import type { DedupConfig } from "./dedup-config.js";
import type { DocSource } from "./doc-sources.js";
import { mergeSortedRuns } from "./sorted-runs.js";

/** What the buckets stage of one band records in its completion marker. */
export interface BucketsDone {
	band: number;
	/** Candidate pairs written. */
	pairs: number;
	/** Buckets holding two or more documents. */
	buckets: number;
	/** Buckets over maxBucketSize (compared as a star and a chain). */
	oversizedBuckets: number;
	largestBucket: number;
}

export function bucketsMarker(band: number): string {
	return `buckets-${band}`;
}

/**
 * Stage 2 (datatrove's MinhashDedupBuckets), one task per band: k-way merges every rank's sorted runs of the
 * band (and those of `against` runs) and writes the candidate pairs of documents sharing a band key to
 * candidates/b<band>.bin as little-endian uint32 pairs. Memory: a read buffer per run and one bucket.
 */
export async function runBucketsStage(params: { config: DedupConfig; outDir: string; band: number; sources: readonly DocSource[]; memoryLimitMb: number }): Promise<BucketsDone> {
	const { config, outDir, band, sources } = params;
	const completions = new Completions(outDir);
	const done = await completions.read<BucketsDone>(bucketsMarker(band));
	if (done) return done;
	const runs: { path: string; docOffset: number }[] = [];
	for (const source of sources) {
		const dir = layout.bandDir(source.dir, band);
		const prefix = `${String(source.rank).padStart(5, "0")}-`;
		const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(prefix) && name.endsWith(".bin")).sort();
		for (const name of names) runs.push({ path: join(dir, name), docOffset: source.offset });
	}
	const bufferRecords = Math.max(1024, Math.min(1 << 18, Math.floor((params.memoryLimitMb * 1048576 * 0.5) / Math.max(1, runs.length) / 12)));
	const writer = new BinaryFileWriter(layout.candidates(outDir, band));
	const pairs = new Uint32Array(8192);
	let pairCount = 0;
	const info: BucketsDone = { band, pairs: 0, buckets: 0, oversizedBuckets: 0, largestBucket: 0 };
	const emit = (a: number, b: number): void => {
		pairs[pairCount * 2] = a;
		pairs[pairCount * 2 + 1] = b;
		pairCount += 1;
		info.pairs += 1;
		if (pairCount * 2 === pairs.length) {
			writer.writeWords(pairs);
			pairCount = 0;
		}
	};
	const bucket: number[] = [];
	const closeBucket = (): void => {
		const size = bucket.length;
		if (size >= 2) {
			info.buckets += 1;
			if (size > info.largestBucket) info.largestBucket = size;
			if (size <= config.maxBucketSize) {
				for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) emit(bucket[i] as number, bucket[j] as number);
			} else {
				// A huge bucket (boilerplate, or a band key shared by chance) would cost size² comparisons: compare
				// each document with the first and with its predecessor instead.
				info.oversizedBuckets += 1;
				for (let j = 1; j < size; j++) {
					emit(bucket[0] as number, bucket[j] as number);
					if (j > 1) emit(bucket[j - 1] as number, bucket[j] as number);
				}
			}
		}
		bucket.length = 0;
	};
	let high = -1;
	let low = -1;
	mergeSortedRuns(runs, bufferRecords, (keyHigh, keyLow, doc) => {
		if (keyHigh !== high || keyLow !== low) {
			closeBucket();
			high = keyHigh;
			low = keyLow;
		}
		bucket.push(doc);
	});
	closeBucket();
	writer.writeWords(pairs.subarray(0, pairCount * 2));
	writer.finish();
	await completions.markDone(bucketsMarker(band), info);
	return info;
}
