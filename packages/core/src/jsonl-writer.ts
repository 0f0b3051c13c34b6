import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { fsyncDirectory } from "./atomic-write.js";
import { TransllmError } from "./errors.js";
import { readLines } from "./jsonl-reader.js";

export interface OpenJsonlWriterOptions<T> {
	/**
	 * Continue an unfinished output (`<path>.partial`) after its last complete record. If the output is already
	 * finished, the writer opens in the `alreadyComplete` state and refuses writes.
	 */
	resume?: boolean;
	/**
	 * Start over (`--force`): replace a finished output and discard an unfinished one (default: refuse both, so that
	 * nothing written is lost by mistake).
	 */
	overwrite?: boolean;
	/** With `resume`: collect a key of every record already written (e.g. its id) into `existingKeys`. */
	keyOf?: (record: T) => string;
	/** Bytes buffered before a write to disk (default 1 MiB). */
	bufferBytes?: number;
}

/** `<path>.partial`: where an unfinished output lives until `finish()` renames it into place. */
export function partialPathFor(path: string): string {
	return `${path}.partial`;
}

async function exists(path: string): Promise<boolean> {
	return stat(path).then(
		() => true,
		() => false,
	);
}

/**
 * Scans a partial JSONL file: counts its complete records, collects keys, and returns the byte length up to
 * the last complete, parseable record (a torn last line is cut off).
 */
async function scanPartial<T>(path: string, keyOf?: (record: T) => string): Promise<{ count: number; validBytes: number; keys: Set<string> }> {
	const keys = new Set<string>();
	let count = 0;
	let offset = 0;
	let validBytes = 0;
	const size = (await stat(path)).size;
	for await (const { bytes } of readLines(path)) {
		const lineEnd = offset + bytes.length + 1;
		offset = lineEnd;
		if (lineEnd > size) break; // the last line has no newline: torn
		let record: T;
		try {
			record = JSON.parse(bytes.toString("utf8")) as T;
		} catch {
			break; // torn write: everything from here is redone
		}
		count += 1;
		validBytes = lineEnd;
		if (keyOf) keys.add(keyOf(record));
	}
	return { count, validBytes, keys };
}

/**
 * A JSONL writer that is atomic on finish and resumable.
 *
 * Records go to `<path>.partial`; `finish()` flushes, fsyncs and renames it to `path` (gzipping first when
 * `path` ends in `.gz`). Reopening with `resume` truncates the partial file after its last complete record and
 * continues there, so a killed job restarted with the same input never duplicates or loses a record.
 */
export class JsonlWriter<T = unknown> {
	readonly path: string;
	readonly partialPath: string;
	/** Records in the output: those found on resume plus those written since. */
	count: number;
	/** Records that were already in the output when it was opened. */
	readonly resumedCount: number;
	/** True when `resume` found the output already finished: nothing is left to write. */
	readonly alreadyComplete: boolean;
	/** Keys (`keyOf`) of records already written when the writer was opened with `resume`. */
	readonly existingKeys: Set<string>;
	private handle: FileHandle | undefined;
	private buffer: string[] = [];
	private bufferedBytes = 0;
	private readonly bufferLimit: number;

	private constructor(path: string, handle: FileHandle | undefined, count: number, complete: boolean, keys: Set<string>, bufferLimit: number) {
		this.path = path;
		this.partialPath = partialPathFor(path);
		this.handle = handle;
		this.count = count;
		this.resumedCount = count;
		this.alreadyComplete = complete;
		this.existingKeys = keys;
		this.bufferLimit = bufferLimit;
	}

	static async open<T = unknown>(path: string, options: OpenJsonlWriterOptions<T> = {}): Promise<JsonlWriter<T>> {
		const partial = partialPathFor(path);
		const bufferLimit = options.bufferBytes ?? 1 << 20;
		await mkdir(dirname(path), { recursive: true });
		const hasPartial = await exists(partial);
		const hasFinal = await exists(path);
		if (options.resume) {
			if (hasPartial) {
				const { count, validBytes, keys } = await scanPartial(partial, options.keyOf);
				const handle = await open(partial, "r+");
				await handle.truncate(validBytes);
				await handle.close();
				return new JsonlWriter<T>(path, await open(partial, "a"), count, false, keys, bufferLimit);
			}
			if (hasFinal) {
				const { count, keys } = await scanPartial(path, options.keyOf);
				return new JsonlWriter<T>(path, undefined, count, true, keys, bufferLimit);
			}
		} else {
			if (hasPartial && !options.overwrite) {
				throw new TransllmError("E_IO", `${partial} holds an unfinished output: continue it with --resume, or start over with --force`);
			}
			if (hasFinal && !options.overwrite) {
				throw new TransllmError("E_IO", `${path} exists: pass overwrite (--force) to replace it, or resume to keep it`);
			}
		}
		return new JsonlWriter<T>(path, await open(partial, "w"), 0, false, new Set(), bufferLimit);
	}

	private writable(): FileHandle {
		if (this.alreadyComplete) throw new TransllmError("E_IO", `${this.path} is already complete; nothing more can be written`);
		if (!this.handle) throw new TransllmError("E_IO", `${this.path}: writer is closed`);
		return this.handle;
	}

	/** Buffers one record (one line); writes to disk when the buffer is full. */
	async write(record: T): Promise<void> {
		this.writable();
		const line = `${JSON.stringify(record)}\n`;
		this.buffer.push(line);
		this.bufferedBytes += line.length;
		this.count += 1;
		if (this.bufferedBytes >= this.bufferLimit) await this.flush();
	}

	/**
	 * Appends `lines` complete JSONL lines serialised by the caller (UTF-8, each ending in a newline): for writers
	 * that build the bytes themselves rather than one `JSON.stringify` per record. Buffered records go first.
	 */
	async writeLines(bytes: Uint8Array, lines: number): Promise<void> {
		const handle = this.writable();
		await this.flush();
		for (let offset = 0; offset < bytes.length; ) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
		this.count += lines;
	}

	/** Writes buffered records to the partial file (complete lines only). */
	async flush(): Promise<void> {
		if (this.buffer.length === 0) return;
		const text = this.buffer.join("");
		this.buffer = [];
		this.bufferedBytes = 0;
		await this.writable().write(text);
	}

	/** Flushes, fsyncs and atomically moves the output into place. Returns the number of records. */
	async finish(): Promise<number> {
		if (this.alreadyComplete) return this.count;
		await this.flush();
		const handle = this.writable();
		await handle.sync();
		await handle.close();
		this.handle = undefined;
		if (this.path.endsWith(".gz")) {
			const temporary = `${this.path}.tmp-${process.pid}`;
			await pipeline(createReadStream(this.partialPath), createGzip(), createWriteStream(temporary));
			const gzHandle = await open(temporary, "r");
			await gzHandle.sync();
			await gzHandle.close();
			await rename(temporary, this.path);
			await rm(this.partialPath);
		} else {
			await rename(this.partialPath, this.path);
		}
		await fsyncDirectory(dirname(this.path));
		return this.count;
	}

	/** Flushes and closes without finishing: the partial output stays for a later resume. */
	async close(): Promise<void> {
		if (!this.handle) return;
		await this.flush();
		await this.handle.sync();
		await this.handle.close();
		this.handle = undefined;
	}
}

/**
 * Writes a deterministic stream of records to a JSONL output atomically and resumably: with `resume`, a finished
 * output is left as it is, and an unfinished one keeps its complete records and receives the rest of the stream
 * (the records it already holds are skipped, not written twice). Without either, an existing output is an error
 * unless `overwrite`. Returns the number of records in the output.
 */
export async function writeJsonlStream<T>(
	path: string,
	records: AsyncIterable<T> | Iterable<T>,
	options: { resume?: boolean; overwrite?: boolean } = {},
): Promise<number> {
	const writer = await JsonlWriter.open<T>(path, { resume: options.resume, overwrite: options.overwrite });
	if (writer.alreadyComplete) return writer.count;
	let skip = writer.resumedCount;
	try {
		for await (const record of records) {
			if (skip > 0) {
				skip -= 1;
				continue;
			}
			await writer.write(record);
		}
		return await writer.finish();
	} catch (error) {
		await writer.close();
		throw error;
	}
}
