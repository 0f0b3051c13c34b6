import { join } from "node:path";
import { JsonlWriter } from "@transllm/core";
import type { AuditEntry, AuditSink } from "./filter.js";

/**
 * Audit files of a filter run: `<directory>/<filter>.jsonl`, one line per dropped record, opened on the first
 * drop. With `resume`, each file keeps the entries it already has and the first that many drops of that filter
 * are not written again: filters are deterministic, so rerunning a shard from its start drops the same records
 * in the same order, and the audit equals an uninterrupted run's.
 */
export class FilterAudit<T> implements AuditSink<T> {
	private readonly writers = new Map<string, { writer: JsonlWriter<AuditEntry<T>>; skip: number }>();

	constructor(
		readonly directory: string,
		private readonly options: { resume?: boolean } = {},
	) {}

	async record(entry: AuditEntry<T>): Promise<void> {
		let slot = this.writers.get(entry.filter);
		if (!slot) {
			const writer = await JsonlWriter.open<AuditEntry<T>>(this.pathOf(entry.filter), { resume: this.options.resume, overwrite: true });
			slot = { writer, skip: writer.resumedCount };
			this.writers.set(entry.filter, slot);
		}
		if (slot.writer.alreadyComplete) return;
		if (slot.skip > 0) {
			slot.skip -= 1;
			return;
		}
		await slot.writer.write(entry);
	}

	/** The audit file of a filter. */
	pathOf(filter: string): string {
		return join(this.directory, `${filter}.jsonl`);
	}

	/** Finishes every audit file (atomic rename into place). */
	async finish(): Promise<void> {
		for (const { writer } of this.writers.values()) await writer.finish();
	}

	/** Flushes without finishing, so that a later `resume` continues the files. */
	async close(): Promise<void> {
		for (const { writer } of this.writers.values()) if (!writer.alreadyComplete) await writer.close();
	}
}
