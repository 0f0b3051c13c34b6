import { basename } from "node:path";
import { ConfigError, InputError } from "@transllm/core";
import type { BadRecordPolicy, RejectsWriter } from "@transllm/core";
import type { CorpusDocument } from "./document.js";
import { getFieldPath } from "./field-path.js";
import { readParquetRows } from "./read-parquet-rows.js";

export interface ReadParquetDocumentsParams {
	paths: readonly string[];
	/** Column holding the text (dotted path into a struct column allowed; default `text`). */
	textField?: string;
	/** Column holding the id (default: `<file>:<row>`; read only when named). */
	idField?: string;
	/** Further columns to pass through as metadata (e.g. `url`, `timestamp` of mC4). */
	metadataFields?: readonly string[];
	/** A row whose text is null or not a string: `error` (default) or `skip` into `rejects`. */
	onBadRecord?: BadRecordPolicy;
	rejects?: RejectsWriter;
}

/** Streams the documents of Parquet files (mC4 and most Hugging Face corpora ship as Parquet), row group by row group. */
export async function* readParquetDocuments(params: ReadParquetDocumentsParams): AsyncGenerator<CorpusDocument> {
	const textField = params.textField ?? "text";
	const policy = params.onBadRecord ?? "error";
	if (policy === "skip" && !params.rejects) throw new ConfigError('onBadRecord "skip" needs a rejects writer so that skipped rows are kept');
	const columns = [textField, ...(params.idField ? [params.idField] : []), ...(params.metadataFields ?? [])];
	for (const file of params.paths) {
		for await (const { values, row } of readParquetRows(file, columns)) {
			const text = getFieldPath(values, textField);
			if (typeof text !== "string") {
				const reason = `column "${textField}" is ${text === null || text === undefined ? "null" : `a ${typeof text}`}, not a string`;
				if (policy === "error") throw new InputError(reason, { file, line: row, field: textField });
				await params.rejects?.reject({ file, line: row, reason, raw: JSON.stringify(values, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) });
				continue;
			}
			const id = params.idField ? getFieldPath(values, params.idField) : undefined;
			const metadata: Record<string, unknown> = {};
			for (const field of params.metadataFields ?? []) {
				const value = getFieldPath(values, field);
				metadata[field] = typeof value === "bigint" ? value.toString() : value instanceof Date ? value.toISOString() : value;
			}
			yield { id: id === undefined || id === null ? `${basename(file)}:${row}` : String(id), text, metadata, file, line: row };
		}
	}
}
