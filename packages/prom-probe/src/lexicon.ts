import { isUtf8 } from "node:buffer";
import { InputError, isKnownLanguage, readLines } from "@transllm/core";

/** One lexicon entry: an English word, its target-language translation, and optionally a source-language word. */
export interface LexiconEntry {
	en: string;
	target: string;
	/** The word in a third language, for Wendler's translation task from a non-English source. */
	source?: string;
	file: string;
	line: number;
}

/**
 * Reads a bilingual word lexicon: MUSE-style `en tgt` lines (whitespace separated), or TSV. A file whose first
 * non-comment line is a header of language codes (`en\tth` or `en\tth\tfr`) names its columns; otherwise the first
 * column is English and the second the target. Lines starting with `#` and blank lines are ignored; a line without
 * two words, a MUSE line with more than two, or a header without the target language is an InputError naming
 * file:line.
 */
export async function readLexicon(path: string, options: { targetLang: string; sourceLang?: string }): Promise<LexiconEntry[]> {
	const entries: LexiconEntry[] = [];
	let columns: { en: number; target: number; source?: number } = { en: 0, target: 1 };
	let first = true;
	let headed = false;
	for await (const { bytes, line } of readLines(path)) {
		if (!isUtf8(bytes)) throw new InputError("not valid UTF-8", { file: path, line, excerpt: bytes.toString("latin1").slice(0, 80) });
		const text = bytes.toString("utf8").replace(/\r$/, "").replace(/^\ufeff/, "");
		if (text.trim() === "" || text.startsWith("#")) continue;
		const tsv = text.includes("\t");
		const fields = (tsv ? text.split("\t") : text.trim().split(/\s+/)).map((f) => f.trim());
		// The header is the first line that is not a comment; a header of codes without the target language
		// (an en-th file given for --lang ar) must not be read as a word pair.
		const header = first && fields.includes("en") && (fields.includes(options.targetLang) || fields.every((f) => isKnownLanguage(f)));
		first = false;
		if (header && !fields.includes(options.targetLang)) {
			throw new InputError(`the header names the columns ${fields.join(", ")}, none of them "${options.targetLang}"`, { file: path, line });
		}
		if (header) {
			headed = true;
			columns = { en: fields.indexOf("en"), target: fields.indexOf(options.targetLang) };
			if (options.sourceLang !== undefined) {
				const source = fields.indexOf(options.sourceLang);
				if (source === -1) throw new InputError(`the header has no column for source language "${options.sourceLang}"`, { file: path, line });
				columns.source = source;
			}
			continue;
		}
		// A MUSE line is exactly two words; a third one would otherwise be dropped without a word.
		if (!tsv && !headed && fields.length > 2) {
			throw new InputError(`a MUSE lexicon line has two words (English, then ${options.targetLang}); this one has ${fields.length} (use a TSV for multi-word entries)`, { file: path, line, excerpt: text.slice(0, 80) });
		}
		const en = fields[columns.en];
		const target = fields[columns.target];
		if (!en || !target) throw new InputError("a lexicon line needs an English word and its translation", { file: path, line, excerpt: text.slice(0, 80) });
		const source = columns.source !== undefined ? fields[columns.source] : undefined;
		if (columns.source !== undefined && !source) throw new InputError(`missing the ${options.sourceLang} word`, { file: path, line, excerpt: text.slice(0, 80) });
		entries.push({ en, target, source, file: path, line });
	}
	if (options.sourceLang !== undefined && columns.source === undefined) {
		throw new InputError(`a source language needs a TSV header naming the columns (e.g. "en\\t${options.targetLang}\\t${options.sourceLang}")`, { file: path });
	}
	return entries;
}
