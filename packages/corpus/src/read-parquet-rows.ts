import { InputError } from "@transllm/core";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet";
import { compressors } from "hyparquet-compressors";

export interface ParquetRow {
	/** The row's columns (only those asked for), nested structs as objects. */
	values: Record<string, unknown>;
	/** 1-based row number in the file. */
	row: number;
}

/**
 * Streams the rows of a Parquet file one row group at a time (hyparquet), so memory holds one row group of the
 * requested columns, never the file. Snappy, gzip, zstd, brotli and LZ4 pages are decoded
 * (hyparquet-compressors), which covers the codecs mC4 and OPUS exports use.
 */
export async function* readParquetRows(path: string, columns: readonly string[]): AsyncGenerator<ParquetRow> {
	let file;
	let metadata;
	try {
		file = await asyncBufferFromFile(path);
		metadata = await parquetMetadataAsync(file);
	} catch (error) {
		throw new InputError(`not a readable Parquet file: ${(error as Error).message}`, { file: path }, { cause: error });
	}
	const topLevel = new Set(parquetSchema(metadata).children.map((child) => child.element.name));
	const roots = [...new Set(columns.map((column) => (topLevel.has(column) ? column : (column.split(".")[0] ?? column))))];
	for (const root of roots) {
		if (!topLevel.has(root)) throw new InputError(`no column "${root}" (columns: ${[...topLevel].join(", ")})`, { file: path, field: root });
	}
	let rowStart = 0;
	for (const group of metadata.row_groups) {
		const rowEnd = rowStart + Number(group.num_rows);
		let rows: Record<string, unknown>[];
		try {
			rows = await parquetReadObjects({ file, metadata, columns: roots, rowStart, rowEnd, compressors });
		} catch (error) {
			throw new InputError(`cannot decode rows ${rowStart + 1}–${rowEnd}: ${(error as Error).message}`, { file: path }, { cause: error });
		}
		for (let i = 0; i < rows.length; i++) yield { values: rows[i] as Record<string, unknown>, row: rowStart + i + 1 };
		rowStart = rowEnd;
	}
}
