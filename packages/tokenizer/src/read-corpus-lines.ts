import { createReadStream } from "node:fs";
import { InputError, findSpecialToken } from "@transllm/core";

/**
 * The longest corpus line read (characters). Longer lines are an InputError naming file and line: the merge learner
 * and the SentencePiece check would spend minutes and gigabytes on one (a 50 MB line aborted SentencePiece's WASM).
 */
export const MAX_CORPUS_LINE_CHARS = 1 << 20;

/**
 * Streams a UTF-8 text corpus, one text per line (LF or CRLF), skipping blank lines, in 1 MiB reads. A line over
 * MAX_CORPUS_LINE_CHARS, or one that is not valid UTF-8 (a U+FFFD from the decoder), is an InputError naming file
 * and line rather than a silently altered training text.
 */
export async function* readCorpusLines(file: string, options: { specialTokens?: readonly string[] } = {}): AsyncGenerator<string> {
	const special = options.specialTokens ?? [];
	const stream = createReadStream(file, { highWaterMark: 1 << 20 });
	// TextDecoder, not StringDecoder: the same replacement of invalid bytes by U+FFFD, at about half the CPU.
	const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
	let number = 0;
	let rest = "";
	const tooLong = (line: number): InputError =>
		new InputError(`line longer than ${MAX_CORPUS_LINE_CHARS} characters (the per-line limit of a tokenizer corpus: one text per line; split it)`, { file, line });
	function* emit(text: string): Generator<string> {
		const lines = text.split("\n");
		rest = lines.pop() as string;
		if (rest.length > MAX_CORPUS_LINE_CHARS) throw tooLong(number + lines.length + 1);
		for (let line of lines) {
			number += 1;
			if (line.endsWith("\r")) line = line.slice(0, -1);
			if (line.length > MAX_CORPUS_LINE_CHARS) throw tooLong(number);
			if (line.includes("\uFFFD")) throw new InputError("not valid UTF-8 (or contains U+FFFD)", { file, line: number, excerpt: line });
			const token = special.length > 0 ? findSpecialToken(line, special) : undefined;
			if (token !== undefined) {
				throw new InputError(`holds the special token ${token}: tokenizers read it as a control token, so the extension's checks cannot agree; remove it from the corpus`, { file, line: number, excerpt: line });
			}
			if (line.trim() !== "") yield line;
		}
	}
	try {
		for await (const chunk of stream) yield* emit(rest + decoder.decode(chunk as Buffer, { stream: true }));
		yield* emit(`${rest}${decoder.decode()}\n`);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new InputError("corpus file not found", { file });
		throw error;
	} finally {
		stream.destroy();
	}
}

/** Reads all lines of a corpus (see readCorpusLines). */
export async function readCorpus(file: string): Promise<string[]> {
	const out: string[] = [];
	for await (const line of readCorpusLines(file)) out.push(line);
	return out;
}
