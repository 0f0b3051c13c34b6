import { JsonlWriter } from "@transllm/core";
import type { InstanceStore } from "./instance-store.js";
import type { InstanceKind, TrainingInstance } from "./training-instance.js";

type Field = "id" | "query" | "response" | "group";
/** The JSON line of a record: literal runs (UTF-8 as they are) and the instance fields between them. */
type Skeleton = { runs: string[]; fields: Field[]; runLength: number };

const MARKED = /\\u0000(id|query|response|group)\\u0000/;

/**
 * The line `toRecord` makes of an instance, as literal runs around its fields: found by serialising a probe whose
 * fields are markers, so the exporters (toShareGpt, toAlpaca, toTrl*) stay the one definition of each format and
 * the bytes stay those of `JSON.stringify(toRecord(instance))`. Kind and lang are the probe's own (an exporter may
 * copy them), hence one skeleton per kind and language.
 */
function skeletonOf(toRecord: (instance: TrainingInstance) => unknown, kind: InstanceKind, lang: string): Skeleton {
	const marker = (field: Field) => `\u0000${field}\u0000`;
	// The key order of every instance the builders make.
	const probe: TrainingInstance = { id: marker("id"), kind, lang, query: marker("query"), response: marker("response"), group: marker("group") };
	const split = `${JSON.stringify(toRecord(probe))}\n`.split(MARKED);
	const runs = split.filter((_, index) => index % 2 === 0);
	const fields = split.filter((_, index) => index % 2 === 1) as Field[];
	if (fields.filter((field) => field === "query").length !== 1 || fields.filter((field) => field === "response").length !== 1) {
		throw new Error("an exporter must hold the instance's query and response once each, as they are");
	}
	return { runs, fields, runLength: runs.reduce((sum, run) => sum + run.length, 0) };
}

const CHUNK_BYTES = 4 << 20;

/**
 * Writes the instances of `store` in `order` as JSONL records made by `toRecord`, atomically and resumably (core's
 * JsonlWriter: with `resume` an unfinished file keeps its complete records and receives the rest; `header`, when
 * given, is the first line). The bytes are those of `JSON.stringify(toRecord(instance))` per line, written in 4 MiB
 * chunks of whole lines. Returns the number of lines in the file.
 */
export async function writeInstances(
	path: string,
	store: InstanceStore,
	order: readonly number[],
	toRecord: (instance: TrainingInstance) => unknown,
	options: { resume?: boolean; overwrite?: boolean; header?: unknown } = {},
): Promise<number> {
	const writer = await JsonlWriter.open(path, { resume: options.resume, overwrite: options.overwrite });
	if (writer.alreadyComplete) return writer.count;
	let skip = writer.resumedCount;
	const skeletons = new Map<InstanceKind, Map<string, Skeleton>>();
	let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
	let used = 0;
	let lines = 0;
	try {
		if (options.header !== undefined) {
			if (skip > 0) skip -= 1;
			else await writer.write(options.header);
		}
		for (let position = skip; position < order.length; position++) {
			const index = order[position] as number;
			const kind = store.kind(index);
			const lang = store.lang(index);
			let byLang = skeletons.get(kind);
			if (byLang === undefined) skeletons.set(kind, (byLang = new Map()));
			let skeleton = byLang.get(lang);
			if (skeleton === undefined) {
				skeleton = skeletonOf(toRecord, kind, lang);
				byLang.set(lang, skeleton);
			}
			const { runs, fields } = skeleton;
			let id: string | undefined;
			let group: string | undefined;
			let length = skeleton.runLength + store.escapedLength(index);
			for (const field of fields) {
				if (field === "id") length += (id ??= JSON.stringify(store.id(index)).slice(1, -1)).length;
				else if (field === "group") length += (group ??= JSON.stringify(store.group(index)).slice(1, -1)).length;
			}
			// UTF-8 takes at most three bytes per UTF-16 unit.
			if (used + 3 * length > buffer.length) {
				await writer.writeLines(buffer.subarray(0, used), lines);
				used = 0;
				lines = 0;
				if (3 * length > buffer.length) buffer = Buffer.allocUnsafe(3 * length);
			}
			// One string per line, one UTF-8 write: fewer calls than a write per piece, and V8 flattens the line once.
			let line = runs[0] as string;
			for (let field = 0; field < fields.length; field++) {
				const name = fields[field] as Field;
				line = name === "query" || name === "response" ? store.appendEscaped(index, name, line) : line + (name === "id" ? (id as string) : (group as string));
				line += runs[field + 1] as string;
			}
			used += buffer.write(line, used);
			lines += 1;
		}
		if (used > 0) await writer.writeLines(buffer.subarray(0, used), lines);
		return await writer.finish();
	} catch (error) {
		await writer.close();
		throw error;
	}
}
