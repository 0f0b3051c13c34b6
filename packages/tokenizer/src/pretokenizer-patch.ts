import { ConfigError } from "@transllm/core";

/**
 * Lets letters carry their combining marks in a split regex: `\p{L}` becomes `[\p{L}\p{M}]` outside a character
 * class and `\p{L}\p{M}` inside one (and `\P{L}`-free classes stay as they are). Llama-3's pattern matches words
 * with `\p{L}+`, so Thai vowels and tone marks (`\p{Mn}`) end a word and a Thai word falls apart into letters
 * and marks before BPE ever sees it. Text without combining marks (English, code) splits exactly as before.
 */
export function patchCombiningMarks(pattern: string): string {
	let out = "";
	let inClass = false;
	for (let i = 0; i < pattern.length; i++) {
		const char = pattern[i] as string;
		if (char === "\\") {
			const escape = pattern.slice(i, i + 5);
			if (escape === "\\p{L}") {
				out += inClass ? "\\p{L}\\p{M}" : "[\\p{L}\\p{M}]";
				i += 4;
				continue;
			}
			out += pattern.slice(i, i + 2);
			i += 1;
			continue;
		}
		if (char === "[" && !inClass) inClass = true;
		else if (char === "]" && inClass) inClass = false;
		out += char;
	}
	return out;
}

/** Applies patchCombiningMarks to every Split regex of a tokenizer.json pre-tokenizer (a copy is returned). */
export function patchPreTokenizer(preTokenizer: unknown): unknown {
	let patched = 0;
	const visit = (node: unknown): unknown => {
		if (Array.isArray(node)) return node.map(visit);
		if (typeof node !== "object" || node === null) return node;
		const record = node as Record<string, unknown>;
		const copy: Record<string, unknown> = {};
		for (const [key, value] of Object.entries(record)) copy[key] = visit(value);
		const regex = (record.pattern as { Regex?: unknown } | undefined)?.Regex;
		if (record.type === "Split" && typeof regex === "string") {
			copy.pattern = { Regex: patchCombiningMarks(regex) };
			patched += 1;
		}
		return copy;
	};
	const result = visit(preTokenizer);
	if (patched === 0) throw new ConfigError("the pre-tokenizer has no Split regex to patch (only byte-level BPE tokenizers such as Llama-3's have one)");
	return result;
}
