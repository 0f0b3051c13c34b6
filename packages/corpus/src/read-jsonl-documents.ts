import { basename } from "node:path";
import { readJsonl } from "@transllm/core";
import type { BadRecordPolicy, RejectsWriter } from "@transllm/core";
import type { CorpusDocument } from "./document.js";
import { getFieldPath } from "./field-path.js";

export interface ReadJsonlDocumentsParams {
	/** `.jsonl` or `.jsonl.gz` files (gzip is detected by its magic bytes too). */
	paths: readonly string[];
	/** Field holding the text; a dotted path reaches into nested objects (default `text`). */
	textField?: string;
	/** Field holding the document id (default `id`; `<file>:<line>` where absent). */
	idField?: string;
	/** `error` (default): stop at the first bad line naming file:line; `skip`: set it aside in `rejects`. */
	onBadRecord?: BadRecordPolicy;
	rejects?: RejectsWriter;
}

/**
 * Streams the documents of JSONL files. A line without a string text field is a bad record whose reason lists
 * the keys it does have, so a wrong `textField` is obvious at the first line (datatrove's reader warning).
 */
export async function* readJsonlDocuments(params: ReadJsonlDocumentsParams): AsyncGenerator<CorpusDocument> {
	const textField = params.textField ?? "text";
	const idField = params.idField ?? "id";
	const validate = (record: Record<string, unknown>): string | undefined =>
		typeof getFieldPath(record, textField) === "string"
			? undefined
			: `no string field "${textField}" (fields found: ${Object.keys(record).join(", ") || "none"})`;
	for await (const { value, file, line } of readJsonl(params.paths, { onBadRecord: params.onBadRecord, rejects: params.rejects, validate })) {
		const { [textField]: text, [idField]: id, ...metadata } = value;
		const body = typeof text === "string" ? text : (getFieldPath(value, textField) as string);
		yield { id: id === undefined || id === null ? `${basename(file)}:${line}` : String(id), text: body, metadata, file, line };
	}
}
