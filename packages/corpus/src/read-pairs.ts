import { isUtf8 } from "node:buffer";
import { basename } from "node:path";
import { ConfigError, InputError, excerpt, getLanguage, readJsonl, readLines } from "@transllm/core";
import type { BadRecordPolicy, RejectsWriter } from "@transllm/core";
import { asyncBufferFromFile, parquetMetadataAsync, parquetSchema } from "hyparquet";
import type { CorpusPair } from "./document.js";
import { getFieldPath } from "./field-path.js";
import { readParquetRows } from "./read-parquet-rows.js";

export type PairFormat = "moses" | "tsv" | "jsonl" | "parquet";
export const PAIR_FORMATS: readonly PairFormat[] = ["moses", "tsv", "jsonl", "parquet"];

export interface ReadPairsParams {
	format: PairFormat;
	/**
	 * moses: the two aligned files `[corpus.en, corpus.th]`, or one prefix `corpus` completed with the language
	 * codes; tsv / jsonl / parquet: the files.
	 */
	paths: readonly string[];
	sourceLang: string;
	targetLang: string;
	/** tsv: 0-based columns of source and target (default 0 and 1). */
	sourceColumn?: number;
	targetColumn?: number;
	/**
	 * jsonl / parquet: fields of source and target (dotted paths allowed). Default: the first present of
	 * `source`, `translation.<lang>` (Hugging Face translation datasets) and `<lang>`.
	 */
	sourceField?: string;
	targetField?: string;
	/** `error` (default) or `skip` into `rejects` for lines that cannot be read. */
	onBadRecord?: BadRecordPolicy;
	rejects?: RejectsWriter;
}

interface Side {
	lang: string;
	field: string | undefined;
	fallback: readonly string[];
}

function sideValue(record: Record<string, unknown>, side: Side): unknown {
	if (side.field !== undefined) return getFieldPath(record, side.field);
	for (const field of side.fallback) {
		const value = getFieldPath(record, field);
		if (value !== undefined) return value;
	}
	return undefined;
}

/** Moses paths: two files, or a prefix completed with `.src` / `.tgt` language codes. */
export function mosesPaths(paths: readonly string[], sourceLang: string, targetLang: string): [string, string] {
	if (paths.length === 2) return [paths[0] as string, paths[1] as string];
	if (paths.length === 1) return [`${paths[0]}.${sourceLang}`, `${paths[0]}.${targetLang}`];
	throw new ConfigError(`moses input takes two aligned files (corpus.${sourceLang} corpus.${targetLang}) or one prefix, got ${paths.length} paths`);
}

/**
 * Streams parallel pairs from Moses-style aligned files (`corpus.en` + `corpus.th`, line i of one translates
 * line i of the other), TSV, JSONL or Parquet. Aligned files of different lengths are an error naming both
 * files and the line where one ended. Empty sides are passed on (the length filters drop and audit them).
 */
export async function* readPairs(params: ReadPairsParams): AsyncGenerator<CorpusPair> {
	if (!PAIR_FORMATS.includes(params.format)) throw new ConfigError(`unknown pair format "${params.format}"; known: ${PAIR_FORMATS.join(", ")}`);
	const sourceLang = getLanguage(params.sourceLang).code;
	const targetLang = getLanguage(params.targetLang).code;
	const policy = params.onBadRecord ?? "error";
	if (policy === "skip" && !params.rejects) throw new ConfigError('onBadRecord "skip" needs a rejects writer so that skipped lines are kept');
	const bad = async (file: string, line: number, reason: string, raw: string): Promise<void> => {
		if (policy === "error") throw new InputError(reason, { file, line, excerpt: excerpt(raw) });
		await params.rejects?.reject({ file, line, reason, raw });
	};
	const make = (file: string, line: number, source: string, target: string, id?: unknown): CorpusPair => ({
		id: id === undefined || id === null ? `${basename(file)}:${line}` : String(id),
		source,
		target,
		sourceLang,
		targetLang,
		file,
		line,
	});
	const decode = (bytes: Buffer, line: number): string | undefined => {
		if (!isUtf8(bytes)) return undefined;
		let text = bytes.toString("utf8");
		if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
		return text.endsWith("\r") ? text.slice(0, -1) : text;
	};

	if (params.format === "moses") {
		const [sourcePath, targetPath] = mosesPaths(params.paths, params.sourceLang, params.targetLang);
		const targets = readLines(targetPath)[Symbol.asyncIterator]();
		for await (const { bytes, line, tooLong } of readLines(sourcePath)) {
			const next = await targets.next();
			if (next.done) throw new InputError(`aligned files differ in length: ${targetPath} ends before line ${line} of ${sourcePath}`, { file: targetPath, line });
			// readLines hands over only the head of an over-long line: a pair made of it would be silently cut.
			if (tooLong || next.value.tooLong) {
				await bad(tooLong ? sourcePath : targetPath, line, "line too long", (tooLong ? bytes : next.value.bytes).toString("utf8"));
				continue;
			}
			const source = decode(bytes, line);
			const target = decode(next.value.bytes, line);
			if (source === undefined || target === undefined) {
				await bad(source === undefined ? sourcePath : targetPath, line, "invalid UTF-8", (source === undefined ? bytes : next.value.bytes).toString("latin1"));
				continue;
			}
			yield make(sourcePath, line, source, target);
		}
		const extra = await targets.next();
		if (!extra.done) throw new InputError(`aligned files differ in length: ${sourcePath} ends before line ${extra.value.line} of ${targetPath}`, { file: sourcePath, line: extra.value.line });
		return;
	}

	if (params.format === "tsv") {
		const sourceColumn = params.sourceColumn ?? 0;
		const targetColumn = params.targetColumn ?? 1;
		for (const file of params.paths) {
			for await (const { bytes, line, tooLong } of readLines(file)) {
				if (tooLong) {
					await bad(file, line, "line too long", bytes.toString("utf8"));
					continue;
				}
				const text = decode(bytes, line);
				if (text === undefined) {
					await bad(file, line, "invalid UTF-8", bytes.toString("latin1"));
					continue;
				}
				if (text.trim() === "") continue;
				const columns = text.split("\t");
				const source = columns[sourceColumn];
				const target = columns[targetColumn];
				if (source === undefined || target === undefined) {
					await bad(file, line, `expected at least ${Math.max(sourceColumn, targetColumn) + 1} tab-separated columns, found ${columns.length}`, text);
					continue;
				}
				yield make(file, line, source, target);
			}
		}
		return;
	}

	const sides: [Side, Side] = [
		{ lang: sourceLang, field: params.sourceField, fallback: ["source", `translation.${sourceLang}`, sourceLang] },
		{ lang: targetLang, field: params.targetField, fallback: ["target", `translation.${targetLang}`, targetLang] },
	];
	const check = (record: Record<string, unknown>): string | undefined => {
		for (const side of sides) {
			if (typeof sideValue(record, side) !== "string") return `no string field ${describeSide(side)} for ${side.lang} (fields found: ${Object.keys(record).join(", ")})`;
		}
		return undefined;
	};
	if (params.format === "jsonl") {
		for await (const { value, file, line } of readJsonl(params.paths, { onBadRecord: policy, rejects: params.rejects, validate: check })) {
			yield make(file, line, sideValue(value, sides[0]) as string, sideValue(value, sides[1]) as string, value.id);
		}
		return;
	}
	const columns = sides.flatMap((side) => (side.field !== undefined ? [side.field] : []));
	for (const file of params.paths) {
		const wanted = columns.length === 2 ? columns : await parquetDefaultColumns(file, sides);
		for await (const { values, row } of readParquetRows(file, wanted)) {
			const reason = check(values);
			if (reason !== undefined) {
				await bad(file, row, reason, JSON.stringify(values, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
				continue;
			}
			yield make(file, row, sideValue(values, sides[0]) as string, sideValue(values, sides[1]) as string);
		}
	}
}

/** The Parquet columns of the default field names that the file has (a `translation` struct or plain columns). */
async function parquetDefaultColumns(file: string, sides: readonly Side[]): Promise<string[]> {
	const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
	const top = new Set(parquetSchema(metadata).children.map((child) => child.element.name));
	const found = new Set<string>();
	for (const side of sides) {
		const field = (side.field !== undefined ? [side.field] : side.fallback).find((candidate) => top.has(candidate.split(".")[0] as string));
		if (field === undefined) throw new InputError(`no column ${describeSide(side)} (columns: ${[...top].join(", ")})`, { file });
		found.add(field.split(".")[0] as string);
	}
	return [...found];
}

function describeSide(side: Side): string {
	return side.field !== undefined ? `"${side.field}"` : side.fallback.map((f) => `"${f}"`).join(" or ");
}
