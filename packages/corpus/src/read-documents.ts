import type { BadRecordPolicy, RejectsWriter, SpecialTokenPolicy } from "@transllm/core";
import { ConfigError, InputError, escapeSpecialTokens, findSpecialToken, guardedSpecialTokens, specialTokenReason } from "@transllm/core";
import type { CorpusDocument } from "./document.js";
import { readJsonlDocuments } from "./read-jsonl-documents.js";
import { readParquetDocuments } from "./read-parquet-documents.js";
import type { TextDocumentMode } from "./read-text-documents.js";
import { readTextDocuments } from "./read-text-documents.js";

export type DocumentFormat = "jsonl" | "text" | "parquet";
export const DOCUMENT_FORMATS: readonly DocumentFormat[] = ["jsonl", "text", "parquet"];

/** The format of a file from its name: `.parquet`; `.jsonl`, `.ndjson`, `.json` (optionally `.gz`); anything else is text. */
export function detectDocumentFormat(path: string): DocumentFormat {
	const name = path.toLowerCase().replace(/\.gz$/, "");
	if (name.endsWith(".parquet")) return "parquet";
	if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) return "jsonl";
	return "text";
}

export interface ReadDocumentsParams {
	paths: readonly string[];
	/** `auto` (default) decides per file from its name. */
	format?: DocumentFormat | "auto";
	/** JSONL field / Parquet column of the text (default `text`). */
	textField?: string;
	/** JSONL field / Parquet column of the id. */
	idField?: string;
	/** Parquet columns passed through as metadata (JSONL passes every other field through). */
	metadataFields?: readonly string[];
	/** Plain text: a document per line (default) or per blank-line separated paragraph block. */
	textMode?: TextDocumentMode;
	onBadRecord?: BadRecordPolicy;
	rejects?: RejectsWriter;
	/**
	 * Documents holding a special token (`</s>`, `<EN>`, a chat control token), which would end or steer turns in the
	 * trained model: `error` (default) makes them bad records (stop naming file:line, or the rejects file under skip),
	 * `escape` escapes the tokens (U+2060 after the first character), `allow` keeps them.
	 */
	specialTokens?: SpecialTokenPolicy;
}

/** Streams documents from files of any supported format (JSONL/JSONL.gz, plain text, Parquet), file by file. */
export async function* readDocuments(params: ReadDocumentsParams): AsyncGenerator<CorpusDocument> {
	const policy = params.specialTokens ?? "error";
	const guarded = guardedSpecialTokens();
	for await (const document of readEveryDocument(params)) {
		if (policy === "allow") {
			yield document;
			continue;
		}
		const token = findSpecialToken(document.text, guarded);
		if (token === undefined) yield document;
		else if (policy === "escape") yield { ...document, text: escapeSpecialTokens(document.text, guarded) };
		else {
			const reason = specialTokenReason(token);
			if (params.onBadRecord !== "skip") throw new InputError(reason, { file: document.file, line: document.line, field: "text" });
			await params.rejects?.reject({ file: document.file, line: document.line, reason, raw: document.text });
		}
	}
}

async function* readEveryDocument(params: ReadDocumentsParams): AsyncGenerator<CorpusDocument> {
	const format = params.format ?? "auto";
	if (format !== "auto" && !DOCUMENT_FORMATS.includes(format)) {
		throw new ConfigError(`unknown document format "${String(format)}"; known: auto, ${DOCUMENT_FORMATS.join(", ")}`);
	}
	for (const path of params.paths) {
		const kind = format === "auto" ? detectDocumentFormat(path) : format;
		const common = { paths: [path], onBadRecord: params.onBadRecord, rejects: params.rejects };
		if (kind === "jsonl") yield* readJsonlDocuments({ ...common, textField: params.textField, idField: params.idField });
		else if (kind === "parquet") yield* readParquetDocuments({ ...common, textField: params.textField, idField: params.idField, metadataFields: params.metadataFields });
		else yield* readTextDocuments({ ...common, mode: params.textMode });
	}
}
