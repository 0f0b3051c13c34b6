import { InputError, readLines } from "@transllm/core";

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
 * Reads a bilingual word lexicon: MUSE-style `en tgt` lines (whitespace separated), or TSV. A TSV whose first
 * line is a header of language codes (`en\tth` or `en\tth\tfr`) names its columns; otherwise the first column is
 * English and the second the target. Lines starting with `#` and blank lines are ignored; a line without two
 * words is an InputError naming file:line.
 */
export async function readLexicon(path: string, options: { targetLang: string; sourceLang?: string }): Promise<LexiconEntry[]> {
	const entries: LexiconEntry[] = [];
	let columns: { en: number; target: number; source?: number } = { en: 0, target: 1 };
	for await (const { bytes, line } of readLines(path)) {
		const text = bytes.toString("utf8").replace(/\r$/, "").replace(/^\ufeff/, "");
		if (text.trim() === "" || text.startsWith("#")) continue;
		const fields = (text.includes("\t") ? text.split("\t") : text.trim().split(/\s+/)).map((f) => f.trim());
		if (line === 1 && fields.includes("en") && fields.includes(options.targetLang)) {
			columns = { en: fields.indexOf("en"), target: fields.indexOf(options.targetLang) };
			if (options.sourceLang !== undefined) {
				const source = fields.indexOf(options.sourceLang);
				if (source === -1) throw new InputError(`the header has no column for source language "${options.sourceLang}"`, { file: path, line });
				columns.source = source;
			}
			continue;
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
