import { InputError } from "@transllm/core";
import type { InputLocation } from "@transllm/core";

/**
 * What to do with user text that already contains a special token (`<RESPONSE>` inside a KD answer, say): such
 * text would corrupt the instance (the model would learn a wrong chain and the parser would split it there).
 * `error` (default) rejects the record, naming it and its field; `escape` inserts U+2060 WORD JOINER after the
 * `<` (`<\u2060RESPONSE>`), which looks the same but is no longer the token for the tokenizer or the parser.
 */
export type SpecialTokenPolicy = "error" | "escape";

/** Zero-width, no-break: the tokenizer no longer matches the special token, a reader sees the same text. */
export const SPECIAL_TOKEN_ESCAPE = "\u2060";

/** Where a text field came from, for the error message: record id, field name, and file:line when known. */
export interface TextOrigin extends InputLocation {
	record?: string;
}

/** The first special token found in `text`, if any. */
export function findSpecialToken(text: string, tokens: readonly string[]): string | undefined {
	if (!text.includes("<")) return undefined;
	let first: { token: string; index: number } | undefined;
	for (const token of tokens) {
		const index = text.indexOf(token);
		if (index !== -1 && (first === undefined || index < first.index)) first = { token, index };
	}
	return first?.token;
}

/** Replaces every occurrence of the special tokens with its escaped form (`<` + U+2060 + `RESPONSE>`). */
export function escapeSpecialTokens(text: string, tokens: readonly string[]): string {
	let escaped = text;
	for (const token of tokens) {
		if (escaped.includes(token)) escaped = escaped.split(token).join(`${token.slice(0, 1)}${SPECIAL_TOKEN_ESCAPE}${token.slice(1)}`);
	}
	return escaped;
}

/**
 * Returns `text` ready to go into an instance: unchanged when it holds no special token, escaped under the
 * `escape` policy, otherwise an InputError (code E_INPUT) naming the record, the field and the token.
 */
export function guardSpecialTokens(text: string, tokens: readonly string[], policy: SpecialTokenPolicy, origin: TextOrigin = {}): string {
	const found = findSpecialToken(text, tokens);
	if (found === undefined) return text;
	if (policy === "escape") return escapeSpecialTokens(text, tokens);
	const record = origin.record !== undefined ? `record ${JSON.stringify(origin.record)}: ` : "";
	throw new InputError(
		`${record}text contains the special token ${found}, which would corrupt the TCOT instance; remove it or pass the escape policy (--special-tokens escape)`,
		{ file: origin.file, line: origin.line, field: origin.field },
	);
}

/** A text that must be a non-empty string; names the record and field otherwise. */
export function requireText(value: unknown, origin: TextOrigin): string {
	if (typeof value !== "string" || value.trim() === "") {
		const record = origin.record !== undefined ? `record ${JSON.stringify(origin.record)}: ` : "";
		throw new InputError(`${record}must be a non-empty string`, { file: origin.file, line: origin.line, field: origin.field });
	}
	return value;
}
