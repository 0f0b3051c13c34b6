import { isUtf8 } from "node:buffer";
import { basename } from "node:path";
import { ConfigError, InputError, excerpt, readLines } from "@transllm/core";
import type { BadRecordPolicy, RejectsWriter } from "@transllm/core";
import type { CorpusDocument } from "./document.js";

/** `line`: every non-blank line is a document; `paragraph`: blocks separated by blank lines are documents. */
export type TextDocumentMode = "line" | "paragraph";

export interface ReadTextDocumentsParams {
	/** Plain text files, optionally gzip-compressed. */
	paths: readonly string[];
	mode?: TextDocumentMode;
	/** What to do with a line that is not valid UTF-8 (default `error`). */
	onBadRecord?: BadRecordPolicy;
	rejects?: RejectsWriter;
}

/**
 * Streams the documents of plain text files: one per line, or one per blank-line separated block (the
 * layout of many monolingual dumps). Each document's `line` is the first line of its block.
 */
export async function* readTextDocuments(params: ReadTextDocumentsParams): AsyncGenerator<CorpusDocument> {
	const mode = params.mode ?? "line";
	const policy = params.onBadRecord ?? "error";
	if (policy === "skip" && !params.rejects) throw new ConfigError('onBadRecord "skip" needs a rejects writer so that skipped lines are kept');
	for (const file of params.paths) {
		const name = basename(file);
		let block: string[] = [];
		let blockLine = 0;
		const flush = (): CorpusDocument | undefined => {
			const text = block.join("\n");
			block = [];
			return text.trim() === "" ? undefined : { id: `${name}:${blockLine}`, text, metadata: {}, file, line: blockLine };
		};
		for await (const { bytes, line, tooLong } of readLines(file)) {
			if (tooLong || !isUtf8(bytes)) {
				const reason = tooLong ? "line too long" : "invalid UTF-8";
				const raw = bytes.toString(tooLong ? "utf8" : "latin1");
				if (policy === "error") throw new InputError(reason, { file, line, excerpt: excerpt(raw) });
				await params.rejects?.reject({ file, line, reason, raw });
				continue;
			}
			let text = bytes.toString("utf8");
			if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
			if (text.endsWith("\r")) text = text.slice(0, -1);
			if (mode === "line") {
				if (text.trim() !== "") yield { id: `${name}:${line}`, text, metadata: {}, file, line };
				continue;
			}
			if (text.trim() === "") {
				const document = flush();
				if (document) yield document;
				continue;
			}
			if (block.length === 0) blockLine = line;
			block.push(text);
		}
		const last = flush();
		if (last) yield last;
	}
}
