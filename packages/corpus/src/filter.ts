import type { Stats } from "@transllm/core";

/** Why a filter drops a record: a short snake_case reason (counted as `dropped_<reason>`) and optional detail. */
export interface FilterDrop {
	reason: string;
	/** What triggered it (the matched word, the detected language, the measured ratio …), kept in the audit file. */
	detail?: unknown;
}

/** A ratio rounded to 4 decimals for audit details. */
export function roundRatio(value: number): number {
	return Number(value.toFixed(4));
}

/** `true` keeps the record; a `FilterDrop` removes it. */
export type FilterVerdict = true | FilterDrop;

/** Builds a drop verdict. */
export function drop(reason: string, detail?: unknown): FilterDrop {
	return detail === undefined ? { reason } : { reason, detail };
}

/**
 * A filter decides keep or (drop, reason) for one record, nothing else (datatrove's `BaseFilter.filter`):
 * `applyFilters` does the counting and the audit files.
 */
export interface Filter<T> {
	/** Names the filter in counters (`<name>/dropped_<reason>`) and its audit file (`<name>.jsonl`). */
	readonly name: string;
	filter(record: T): FilterVerdict;
}

/** One line of an audit file: the dropped record, the filter, the reason and its detail. */
export interface AuditEntry<T> {
	filter: string;
	reason: string;
	detail?: unknown;
	record: T;
}

/** Where dropped records go (`FilterAudit` writes one JSONL file per filter). */
export interface AuditSink<T> {
	record(entry: AuditEntry<T>): Promise<void>;
}

export interface ApplyFiltersOptions<T> {
	/** Counters `<filter>/seen`, `<filter>/kept`, `<filter>/dropped_<reason>` are added here. */
	stats?: Stats;
	/** Receives every dropped record (a record never disappears without a trace). */
	audit?: AuditSink<T>;
}

/**
 * Runs records through filters in order; the first filter that drops a record stops it there, so each drop is
 * counted once, by the filter that made it. Streams: one record in flight at a time.
 */
export async function* applyFilters<T>(records: AsyncIterable<T> | Iterable<T>, filters: readonly Filter<T>[], options: ApplyFiltersOptions<T> = {}): AsyncGenerator<T> {
	const { stats, audit } = options;
	next: for await (const record of records) {
		for (const filter of filters) {
			stats?.count(`${filter.name}/seen`);
			const verdict = filter.filter(record);
			if (verdict === true) {
				stats?.count(`${filter.name}/kept`);
				continue;
			}
			stats?.count(`${filter.name}/dropped_${verdict.reason}`);
			await audit?.record({ filter: filter.name, reason: verdict.reason, ...(verdict.detail === undefined ? {} : { detail: verdict.detail }), record });
			continue next;
		}
		yield record;
	}
}
