import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { ConfigError, InputError, excerpt } from "./errors.js";
import type { RejectsWriter } from "./rejects-writer.js";

/** What to do with a record that cannot be used: stop with an error (default) or set it aside and go on. */
export type BadRecordPolicy = "error" | "skip";

/** One record of a JSONL file, with where it came from. */
export interface JsonlRecord<T> {
	value: T;
	file: string;
	/** 1-based line number in the (decompressed) file. */
	line: number;
}

/** Counters a reader keeps; pass one object to several readers to sum them. */
export interface ReadStats {
	records: number;
	rejected: number;
	blankLines: number;
	bytes: number;
}

export function emptyReadStats(): ReadStats {
	return { records: 0, rejected: 0, blankLines: 0, bytes: 0 };
}

export interface ReadJsonlOptions {
	/** `error` (default) throws an InputError naming file:line; `skip` writes the line to `rejects` and goes on. */
	onBadRecord?: BadRecordPolicy;
	/** Where skipped lines go (required with `skip`, so that a bad record never silently disappears). */
	rejects?: RejectsWriter;
	/** Top-level fields that must be present and not null. */
	required?: readonly string[];
	/** Extra check of a parsed record: return a reason string to reject it. */
	validate?: (value: Record<string, unknown>) => string | undefined;
	/** Counters to update (records yielded, rejected, blank lines, bytes read). */
	stats?: ReadStats;
	/** Lines longer than this are bad records (default 64 MiB). */
	maxLineBytes?: number;
	/** Skip this many good records first (resuming a job whose output already holds them). */
	skipRecords?: number;
}

const NEWLINE = 0x0a;
const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

async function isGzipFile(path: string): Promise<boolean> {
	if (path.endsWith(".gz")) return true;
	const handle = await open(path, "r");
	try {
		const head = Buffer.alloc(2);
		const { bytesRead } = await handle.read(head, 0, 2, 0);
		return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
	} finally {
		await handle.close();
	}
}

/** Streams the raw lines (as bytes, without the newline) of a plain or gzip file, with 1-based numbers. */
export async function* readLines(path: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): AsyncGenerator<{ bytes: Buffer; line: number; tooLong: boolean }> {
	let gzip: boolean;
	try {
		gzip = await isGzipFile(path);
	} catch (error) {
		throw new InputError(`cannot open input: ${(error as Error).message}`, { file: path }, { cause: error });
	}
	const raw = createReadStream(path, { highWaterMark: 1 << 20 });
	const stream = gzip ? raw.pipe(createGunzip()) : raw;
	if (gzip) raw.on("error", (error) => stream.destroy(error));
	let pending: Buffer[] = [];
	let pendingBytes = 0;
	let tooLong = false;
	let line = 0;
	try {
		for await (const chunk of stream as AsyncIterable<Buffer>) {
			let start = 0;
			for (;;) {
				const end = chunk.indexOf(NEWLINE, start);
				if (end === -1) break;
				line += 1;
				const piece = chunk.subarray(start, end);
				let bytes: Buffer;
				if (pendingBytes === 0) bytes = piece;
				else {
					pending.push(piece);
					bytes = Buffer.concat(pending, pendingBytes + piece.length);
					pending = [];
					pendingBytes = 0;
				}
				yield { bytes: tooLong ? bytes.subarray(0, 4096) : bytes, line, tooLong: tooLong || bytes.length > maxLineBytes };
				tooLong = false;
				start = end + 1;
			}
			if (start < chunk.length) {
				const rest = chunk.subarray(start);
				if (pendingBytes + rest.length > maxLineBytes) {
					// Keep only a head for the excerpt; the line is rejected when it ends.
					if (!tooLong) {
						pending.push(rest);
						pendingBytes += rest.length;
						const head = Buffer.concat(pending, pendingBytes).subarray(0, 4096);
						pending = [Buffer.from(head)];
						pendingBytes = head.length;
					}
					tooLong = true;
				} else {
					pending.push(Buffer.from(rest));
					pendingBytes += rest.length;
				}
			}
		}
	} catch (error) {
		if (error instanceof InputError) throw error;
		throw new InputError(`cannot read input: ${(error as Error).message}`, { file: path, line: line + 1 }, { cause: error });
	}
	if (pendingBytes > 0 || tooLong) {
		line += 1;
		yield { bytes: Buffer.concat(pending, pendingBytes), line, tooLong };
	}
}

/**
 * Deepest JSON nesting a record may have. Deeper records parse, but writing, copying (structuredClone to a worker) or
 * walking them overflows the stack: they are bad records at the door (Python's json stops near 1000 levels too).
 */
export const MAX_JSON_DEPTH = 512;

/** Whether JSON text nests deeper than MAX_JSON_DEPTH (brackets inside strings do not count). Linear, no allocation. */
function tooDeep(text: string): boolean {
	// Each level takes two characters at least: a shorter line cannot be too deep.
	if (text.length <= 2 * MAX_JSON_DEPTH) return false;
	let depth = 0;
	let inString = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5c) i += 1;
			else if (c === 0x22) inString = false;
		} else if (c === 0x22) inString = true;
		else if (c === 0x7b || c === 0x5b) {
			if (++depth > MAX_JSON_DEPTH) return true;
		} else if (c === 0x7d || c === 0x5d) depth -= 1;
	}
	return false;
}

/** Parses one JSONL line; returns the object or the reason it is bad. */
export function parseJsonlLine(
	bytes: Buffer,
	options: Pick<ReadJsonlOptions, "required" | "validate"> & { firstLine?: boolean },
): { value: Record<string, unknown> } | { reason: string; raw: string } | { blank: true } {
	if (!isUtf8(bytes)) return { reason: "invalid UTF-8", raw: bytes.toString("latin1") };
	let text = bytes.toString("utf8");
	if (options.firstLine && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
	if (text.endsWith("\r")) text = text.slice(0, -1);
	if (text.trim() === "") return { blank: true };
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		return { reason: `invalid JSON: ${(error as Error).message}`, raw: text };
	}
	if (typeof value !== "object" || value === null || Array.isArray(value)) {
		return { reason: "a record must be a JSON object", raw: text };
	}
	if (tooDeep(text)) return { reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, raw: text };
	const record = value as Record<string, unknown>;
	for (const field of options.required ?? []) {
		if (record[field] === undefined || record[field] === null) {
			return { reason: `missing required field "${field}"`, raw: text };
		}
	}
	const invalid = options.validate?.(record);
	if (invalid !== undefined) return { reason: invalid, raw: text };
	return { value: record };
}

/**
 * Streams the records of one or more `.jsonl` / `.jsonl.gz` files (gzip is also detected by its magic bytes).
 * Every record knows its file and line. Invalid UTF-8, invalid JSON, non-object lines, missing required fields
 * and failed `validate` checks are bad records, handled by `onBadRecord`.
 */
export async function* readJsonl<T = Record<string, unknown>>(
	source: string | readonly string[],
	options: ReadJsonlOptions = {},
): AsyncGenerator<JsonlRecord<T>> {
	const policy = options.onBadRecord ?? "error";
	if (policy === "skip" && options.rejects === undefined) {
		throw new ConfigError('onBadRecord "skip" needs a rejects writer (RejectsWriter.open(outputPath)) so that skipped lines are kept');
	}
	const stats = options.stats;
	let toSkip = options.skipRecords ?? 0;
	for (const file of typeof source === "string" ? [source] : source) {
		for await (const { bytes, line, tooLong } of readLines(file, options.maxLineBytes)) {
			if (stats) stats.bytes += bytes.length + 1;
			const parsed = tooLong
				? { reason: `line longer than ${options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES} bytes`, raw: bytes.toString("utf8") }
				: parseJsonlLine(bytes, { required: options.required, validate: options.validate, firstLine: line === 1 });
			if ("blank" in parsed) {
				if (stats) stats.blankLines += 1;
				continue;
			}
			if ("reason" in parsed) {
				if (policy === "error") throw new InputError(parsed.reason, { file, line, excerpt: excerpt(parsed.raw) });
				await options.rejects?.reject({ file, line, reason: parsed.reason, raw: parsed.raw });
				if (stats) stats.rejected += 1;
				continue;
			}
			if (toSkip > 0) {
				toSkip -= 1;
				continue;
			}
			if (stats) stats.records += 1;
			yield { value: parsed.value as T, file, line };
		}
	}
}
