import { open, readFile } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/** One bad record set aside by the `skip` policy. */
export interface RejectedRecord {
	file: string;
	line: number;
	reason: string;
	/** The raw line (invalid UTF-8 is shown as latin1). */
	raw: string;
}

/** `<output>.rejects.jsonl` for an output path (a `.gz` suffix is dropped: rejects are plain text). */
export function rejectsPathFor(outputPath: string): string {
	return `${outputPath.replace(/\.gz$/, "")}.rejects.jsonl`;
}

/**
 * Appends rejected records to `<output>.rejects.jsonl`. Reopening it (a resumed job) keeps what is there and
 * never writes the same file:line twice, so a resumed run's rejects equal an uninterrupted run's.
 */
export class RejectsWriter {
	readonly path: string;
	private handle: FileHandle;
	private readonly seen: Set<string>;
	/** Rejected records written by this writer, plus those found when it was reopened. */
	count: number;
	/** Rejected records per reason (the reason's text up to its first colon). */
	readonly byReason: Record<string, number> = {};

	private constructor(path: string, handle: FileHandle, seen: Set<string>) {
		this.path = path;
		this.handle = handle;
		this.seen = seen;
		this.count = seen.size;
	}

	/** Opens the rejects file of `outputPath`; `resume` keeps existing entries, otherwise the file is emptied. */
	static async open(outputPath: string, options: { resume?: boolean } = {}): Promise<RejectsWriter> {
		const path = rejectsPathFor(outputPath);
		await mkdir(dirname(path), { recursive: true });
		const seen = new Set<string>();
		if (options.resume) {
			const text = await readFile(path, "utf8").catch(() => "");
			const complete = text.slice(0, text.lastIndexOf("\n") + 1);
			for (const line of complete.split("\n")) {
				if (!line) continue;
				try {
					const entry = JSON.parse(line) as RejectedRecord;
					seen.add(`${entry.file}:${entry.line}`);
				} catch {
					// A torn last write: the record will be rejected again and rewritten.
				}
			}
			const handle = await open(path, "a");
			await handle.truncate(Buffer.byteLength(complete));
			return new RejectsWriter(path, handle, seen);
		}
		return new RejectsWriter(path, await open(path, "w"), seen);
	}

	async reject(record: RejectedRecord): Promise<void> {
		const key = `${record.file}:${record.line}`;
		const reason = record.reason.split(":")[0] ?? record.reason;
		this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
		if (this.seen.has(key)) return;
		this.seen.add(key);
		this.count += 1;
		await this.handle.write(`${JSON.stringify(record)}\n`);
	}

	async close(): Promise<void> {
		await this.handle.sync();
		await this.handle.close();
	}
}
