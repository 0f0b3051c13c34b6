import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { InputError } from "@transllm/core";

/**
 * Streams a UTF-8 text corpus, one text per line, skipping blank lines. A line that is not valid UTF-8 (a
 * U+FFFD from the decoder) is an InputError naming file and line rather than a silently altered training text.
 */
export async function* readCorpusLines(file: string): AsyncGenerator<string> {
	const stream = createReadStream(file, { encoding: "utf8" });
	const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
	let number = 0;
	try {
		for await (const line of lines) {
			number += 1;
			if (line.includes("\uFFFD")) throw new InputError("not valid UTF-8 (or contains U+FFFD)", { file, line: number, excerpt: line });
			if (line.trim() !== "") yield line;
		}
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new InputError("corpus file not found", { file });
		throw error;
	} finally {
		lines.close();
		stream.destroy();
	}
}

/** Reads all lines of a corpus (see readCorpusLines). */
export async function readCorpus(file: string): Promise<string[]> {
	const out: string[] = [];
	for await (const line of readCorpusLines(file)) out.push(line);
	return out;
}
