import { InputError } from "./errors.js";
import type { InputLocation } from "./errors.js";
import { listLanguages } from "./language-registry.js";

/**
 * The one special-token policy of every package: what to do with user text that already contains a special token
 * (`<RESPONSE>` inside a KD answer, `</s>` in a corpus line). Such text corrupts training data (the model learns a
 * wrong chain, a parser splits it there) or, in a prompt, ends or steers a turn. `error` (the default for training
 * data) rejects the record, naming it and its field; `escape` inserts U+2060 WORD JOINER after the token's first
 * character (`<\u2060RESPONSE>`), which looks the same but is no longer the token for a tokenizer or a parser;
 * `allow` keeps the text as it is (the user asked for it).
 */
export type SpecialTokenPolicy = "error" | "escape" | "allow";

/** Control tokens of the chat models transllm targets (Llama-2/3, ChatML, Mistral, Gemma), besides the TCOT markers. */
export const CHAT_CONTROL_TOKENS = [
	"<s>",
	"</s>",
	"<unk>",
	"<<SYS>>",
	"<</SYS>>",
	"<|begin_of_text|>",
	"<|end_of_text|>",
	"<|start_header_id|>",
	"<|end_header_id|>",
	"<|eot_id|>",
	"<|im_start|>",
	"<|im_end|>",
	"<start_of_turn>",
	"<end_of_turn>",
] as const;

/**
 * TCOT's ⟨RESPONSE⟩ marker (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.2.3): it directs the model to answer
 * the English query. Defined here so every package guards it; @transllm/tcot re-exports it.
 */
export const RESPONSE_TOKEN = "<RESPONSE>";

let trainingTokens: readonly string[] | undefined;

/**
 * Every token user text must not carry into training data or a prompt: the chat control tokens, ⟨RESPONSE⟩ and the
 * language-ID token of every registered language (`<EN>`, `<TH>`, …; TransLLM Sec. 2.2.2). A text holding one
 * would teach a wrong TCOT chain or end a turn, whatever language the run is for.
 */
export function guardedSpecialTokens(): readonly string[] {
	trainingTokens ??= [...new Set([...CHAT_CONTROL_TOKENS, RESPONSE_TOKEN, ...listLanguages().map((language) => language.idToken)])];
	return trainingTokens;
}

/** Zero-width, no-break: the tokenizer no longer matches the special token, a reader sees the same text. */
export const SPECIAL_TOKEN_ESCAPE = "\u2060";

/** Where a text field came from, for the error message: record id, field name, and file:line when known. */
export interface TextOrigin extends InputLocation {
	record?: string;
}

/** A token list as a set and its distinct lengths, so a text is scanned once at each `<`, not once per token. */
interface TokenMatcher {
	set: Set<string>;
	lengths: number[];
}
const matchers = new WeakMap<readonly string[], TokenMatcher>();

function matcherOf(tokens: readonly string[]): TokenMatcher {
	let matcher = matchers.get(tokens);
	if (!matcher) {
		matcher = { set: new Set(tokens), lengths: [...new Set(tokens.map((token) => token.length))].sort((a, b) => a - b) };
		matchers.set(tokens, matcher);
	}
	return matcher;
}

/**
 * The first special token found in `text` (the leftmost; every token starts with `<`), if any. The guarded list
 * holds every registered language's ID token (hundreds), so the text is walked once from `<` to `<`, each looked up
 * at the token lengths the list has.
 */
export function findSpecialToken(text: string, tokens: readonly string[]): string | undefined {
	let at = text.indexOf("<");
	if (at === -1) return undefined;
	if (tokens.length <= 8) {
		let first: { token: string; index: number } | undefined;
		for (const token of tokens) {
			const index = text.indexOf(token, at);
			if (index !== -1 && (first === undefined || index < first.index)) first = { token, index };
		}
		return first?.token;
	}
	const { set, lengths } = matcherOf(tokens);
	while (at !== -1) {
		for (const length of lengths) {
			if (at + length > text.length) break;
			const candidate = text.slice(at, at + length);
			if (set.has(candidate)) return candidate;
		}
		at = text.indexOf("<", at + 1);
	}
	return undefined;
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
/** Why the `error` policy refuses a text holding `token` (the one wording of every package). */
export function specialTokenReason(token: string): string {
	return `text contains the special token ${token}, which would corrupt the training data; remove it, or pass --special-tokens escape (or allow)`;
}

/**
 * Under the `error` policy, a record's bad-record reason: the first of `fields` whose text holds a guarded token
 * (`field "x": text contains …`); undefined when none does. Non-string fields are the caller's check.
 */
export function specialTokenProblem(record: Record<string, unknown>, fields: readonly string[], tokens: readonly string[] = guardedSpecialTokens()): string | undefined {
	for (const field of fields) {
		const text = record[field];
		const token = typeof text === "string" ? findSpecialToken(text, tokens) : undefined;
		if (token !== undefined) return `field "${field}": ${specialTokenReason(token)}`;
	}
	return undefined;
}

export function guardSpecialTokens(text: string, tokens: readonly string[], policy: SpecialTokenPolicy, origin: TextOrigin = {}): string {
	if (policy === "allow") return text;
	const found = findSpecialToken(text, tokens);
	if (found === undefined) return text;
	if (policy === "escape") return escapeSpecialTokens(text, tokens);
	const record = origin.record !== undefined ? `record ${JSON.stringify(origin.record)}: ` : "";
	throw new InputError(`${record}${specialTokenReason(found)}`, { file: origin.file, line: origin.line, field: origin.field });
}

/** A text that must be a non-empty string; names the record and field otherwise. */
export function requireText(value: unknown, origin: TextOrigin): string {
	if (typeof value !== "string" || value.trim() === "") {
		const record = origin.record !== undefined ? `record ${JSON.stringify(origin.record)}: ` : "";
		throw new InputError(`${record}must be a non-empty string`, { file: origin.file, line: origin.line, field: origin.field });
	}
	return value;
}
