import { closeSync, openSync, readSync, statSync } from "node:fs";
import { BinaryFileWriter } from "./binary-file.js";

/**
 * Band tables on disk are sorted runs of fixed 12-byte little-endian records `(keyHigh u32, keyLow u32,
 * doc u32)`, ordered by the 64-bit key then the document. No header: `numpy.fromfile(path, "<u4").reshape(-1, 3)`
 * or Spark's `sc.binaryRecords(path, 12)` read them as they are.
 */
export const RUN_RECORD_WORDS = 3;

/**
 * Sorts `count` records of `records` (3 words each) by (keyHigh, keyLow) with a stable LSD radix sort on
 * 16-bit digits: four linear passes, no comparator calls. Documents are appended in increasing order, so
 * stability keeps them sorted within a key. The result is in `records` (four passes end where they began).
 */
export function radixSortRuns(records: Uint32Array, count: number, scratch: Uint32Array): void {
	const counts = new Uint32Array(65536);
	let from = records;
	let to = scratch;
	for (let pass = 0; pass < 4; pass++) {
		const word = pass < 2 ? 1 : 0; // keyLow first (least significant), then keyHigh
		const shift = pass % 2 === 0 ? 0 : 16;
		counts.fill(0);
		for (let i = 0; i < count; i++) {
			const digit = ((from[i * 3 + word] as number) >>> shift) & 0xffff;
			counts[digit] = (counts[digit] as number) + 1;
		}
		let sum = 0;
		for (let d = 0; d < 65536; d++) {
			const c = counts[d] as number;
			counts[d] = sum;
			sum += c;
		}
		for (let i = 0; i < count; i++) {
			const digit = ((from[i * 3 + word] as number) >>> shift) & 0xffff;
			const at = counts[digit] as number;
			counts[digit] = at + 1;
			to[at * 3] = from[i * 3] as number;
			to[at * 3 + 1] = from[i * 3 + 1] as number;
			to[at * 3 + 2] = from[i * 3 + 2] as number;
		}
		const swap = from;
		from = to;
		to = swap;
	}
}

/** Sorts and writes one run (atomically). */
export function writeSortedRun(path: string, records: Uint32Array, count: number, scratch: Uint32Array): void {
	radixSortRuns(records, count, scratch);
	const writer = new BinaryFileWriter(path, 1 << 20);
	writer.writeWords(records.subarray(0, count * RUN_RECORD_WORDS));
	writer.finish();
}

/** Streams one sorted run in chunks. */
class RunReader {
	private readonly fd: number;
	private readonly buffer: Uint32Array;
	private readonly bytes: Uint8Array;
	private position = 0;
	private readonly size: number;
	private length = 0;
	index = 0;

	constructor(
		readonly path: string,
		readonly docOffset: number,
		bufferRecords: number,
	) {
		this.fd = openSync(path, "r");
		this.size = statSync(path).size;
		if (this.size % (RUN_RECORD_WORDS * 4) !== 0) throw new Error(`${path}: size ${this.size} is not a multiple of the 12-byte record`);
		this.buffer = new Uint32Array(bufferRecords * RUN_RECORD_WORDS);
		this.bytes = new Uint8Array(this.buffer.buffer);
	}

	/** Loads the next chunk; false at the end of the run. */
	fill(): boolean {
		if (this.position >= this.size) return false;
		const want = Math.min(this.bytes.length, this.size - this.position);
		let got = 0;
		while (got < want) got += readSync(this.fd, this.bytes, got, want - got, this.position + got);
		this.position += got;
		this.length = got / 4;
		this.index = 0;
		return true;
	}

	get high(): number {
		return this.buffer[this.index] as number;
	}
	get low(): number {
		return this.buffer[this.index + 1] as number;
	}
	get doc(): number {
		return this.buffer[this.index + 2] as number;
	}

	/** Moves to the next record; false at the end. */
	next(): boolean {
		this.index += RUN_RECORD_WORDS;
		return this.index < this.length || this.fill();
	}

	close(): void {
		closeSync(this.fd);
	}
}

function before(a: RunReader, b: RunReader): boolean {
	if (a.high !== b.high) return a.high < b.high;
	if (a.low !== b.low) return a.low < b.low;
	return a.doc + a.docOffset < b.doc + b.docOffset;
}

/**
 * k-way merge of sorted runs (a binary heap of run readers): calls `onRecord` for every record in global key
 * order with the document index shifted by its run's `docOffset`. Memory: `bufferRecords` × 12 bytes per run.
 */
export function mergeSortedRuns(
	runs: readonly { path: string; docOffset: number }[],
	bufferRecords: number,
	onRecord: (high: number, low: number, doc: number) => void,
): void {
	const heap: RunReader[] = [];
	const sift = (start: number): void => {
		let i = start;
		for (;;) {
			const left = 2 * i + 1;
			const right = left + 1;
			let smallest = i;
			if (left < heap.length && before(heap[left] as RunReader, heap[smallest] as RunReader)) smallest = left;
			if (right < heap.length && before(heap[right] as RunReader, heap[smallest] as RunReader)) smallest = right;
			if (smallest === i) return;
			const swap = heap[i] as RunReader;
			heap[i] = heap[smallest] as RunReader;
			heap[smallest] = swap;
			i = smallest;
		}
	};
	try {
		for (const run of runs) {
			const reader = new RunReader(run.path, run.docOffset, bufferRecords);
			if (reader.fill()) heap.push(reader);
			else reader.close();
		}
		for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) sift(i);
		while (heap.length > 0) {
			const top = heap[0] as RunReader;
			onRecord(top.high, top.low, top.doc + top.docOffset);
			if (!top.next()) {
				top.close();
				const last = heap.pop() as RunReader;
				if (heap.length === 0) break;
				heap[0] = last;
			}
			sift(0);
		}
	} finally {
		for (const reader of heap) reader.close();
	}
}
