import { open } from "node:fs/promises";
import { InputError, readJsonl } from "@transllm/core";
import type { BadRecordPolicy, RejectsWriter } from "@transllm/core";

/** One English query of recovery KD, with where it came from. */
export interface KdQuery {
	/** Kept from the input (`id`), or assigned from the record's position: `q<index>` (0-based, blank lines not counted). */
	id: string;
	/** The user turn: `instruction`, then `input` on the next line when there is one (LLaMA-Factory's Alpaca join). */
	query: string;
	file: string;
	line: number;
}

/**
 * The query of one input record: Alpaca shape (`instruction`, optional `input`) or plain `{id, query}`.
 * Returns a reason string when the record has neither.
 */
export function queryFromRecord(value: Record<string, unknown>): string | { reason: string } {
	if (typeof value.query === "string") {
		return value.query.trim() === "" ? { reason: 'field "query" is empty' } : value.query;
	}
	if (typeof value.instruction === "string") {
		if (value.instruction.trim() === "") return { reason: 'field "instruction" is empty' };
		if (value.input !== undefined && value.input !== null && typeof value.input !== "string") return { reason: 'field "input" must be a string' };
		const input = typeof value.input === "string" ? value.input.trim() : "";
		// Alpaca (Taori et al., 2023) keeps an optional context in `input`; chat models get it in the same user
		// turn after the instruction, joined by a newline as LLaMA-Factory's alpaca converter does.
		return input ? `${value.instruction}\n${input}` : value.instruction;
	}
	return { reason: 'a query record needs "query" (string) or "instruction" (Alpaca shape)' };
}

export interface ReadKdQueriesOptions {
	/** `error` (default) stops at a bad record naming file:line; `skip` sets it aside in `rejects`. */
	onBadRecord?: BadRecordPolicy;
	rejects?: RejectsWriter;
	/** Use only the first `limit` queries (the paper uses the first 50K Alpaca queries: Sec. 3.1). */
	limit?: number;
}

/**
 * Streams the queries of a JSONL file (plain or gzip). Ids are kept when present (string or number) and
 * otherwise assigned from the record's position, so a rerun assigns the same ids; a repeated id is an error
 * naming both lines, because resuming is keyed by id.
 */
export async function* readKdQueries(path: string, options: ReadKdQueriesOptions = {}): AsyncGenerator<KdQuery> {
	await refuseJsonArray(path);
	const seen = new Map<string, number>();
	let index = 0;
	for await (const record of readJsonl(path, {
		onBadRecord: options.onBadRecord,
		rejects: options.rejects,
		validate: (value) => {
			const query = queryFromRecord(value);
			if (typeof query !== "string") return query.reason;
			if (value.id !== undefined && typeof value.id !== "string" && typeof value.id !== "number") return 'field "id" must be a string or a number';
			return undefined;
		},
	})) {
		if (options.limit !== undefined && index >= options.limit) return;
		const value = record.value;
		const id = value.id === undefined ? `q${index}` : String(value.id);
		index += 1;
		const first = seen.get(id);
		if (first !== undefined) {
			throw new InputError(`duplicate id "${id}" (first on line ${first}); ids must be unique to resume by id`, { file: record.file, line: record.line, field: "id" });
		}
		seen.set(id, record.line);
		yield { id, query: queryFromRecord(value) as string, file: record.file, line: record.line };
	}
}

/** Alpaca ships as one JSON array (alpaca_data.json): say how to make it JSONL instead of failing on line 1. */
async function refuseJsonArray(path: string): Promise<void> {
	let head = "";
	try {
		const handle = await open(path, "r");
		try {
			const buffer = Buffer.alloc(64);
			const { bytesRead } = await handle.read(buffer, 0, 64, 0);
			head = buffer.subarray(0, bytesRead).toString("utf8");
		} finally {
			await handle.close();
		}
	} catch {
		return; // the reader names the file when it cannot open it
	}
	if (/^\uFEFF?\s*\[/.test(head)) {
		throw new InputError("this is a JSON array, not JSONL (one object per line): convert it first, e.g. jq -c '.[]' alpaca_data.json > alpaca.jsonl", { file: path, line: 1 });
	}
}
