const MARKER = Symbol.for("transllm.error");

/** Stable machine-readable error codes shared by every transllm package. */
export type TransllmErrorCode =
	| "E_INPUT"
	| "E_CONFIG"
	| "E_UNKNOWN_LANGUAGE"
	| "E_SPECIAL_TOKEN"
	| "E_FORMAT"
	| "E_IO"
	| "E_MODEL"
	| "E_REMOTE"
	| "E_CHECK_FAILED"
	| "E_INTERRUPTED";

/**
 * Base error of transllm. `isInstance` checks a `Symbol.for` marker rather than the prototype chain, so it
 * still works when two copies of @transllm/core are installed (the Vercel AI SDK pattern).
 */
export class TransllmError extends Error {
	readonly [MARKER] = true;
	readonly code: TransllmErrorCode;

	constructor(code: TransllmErrorCode, message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.name = "TransllmError";
		this.code = code;
	}

	static isInstance(error: unknown): error is TransllmError {
		return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
	}
}

/** Where a bad input sits: a file, optionally a 1-based line, optionally a field. */
export interface InputLocation {
	file?: string;
	line?: number;
	field?: string;
}

/** Formats `file:line field "x"` for messages. */
export function formatLocation(location: InputLocation): string {
	const parts: string[] = [];
	if (location.file !== undefined) parts.push(location.line !== undefined ? `${location.file}:${location.line}` : location.file);
	else if (location.line !== undefined) parts.push(`line ${location.line}`);
	if (location.field !== undefined) parts.push(`field "${location.field}"`);
	return parts.join(" ");
}

/** Shortens a raw input line for an error message. */
export function excerpt(raw: string, max = 120): string {
	const flat = raw.replace(/\s+/g, " ").trim();
	return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A bad record or bad input value; names the file, line and field, the reason and a short excerpt. */
export class InputError extends TransllmError {
	readonly file?: string;
	readonly line?: number;
	readonly field?: string;
	readonly reason: string;
	readonly excerpt?: string;

	constructor(reason: string, location: InputLocation & { excerpt?: string } = {}, options?: { cause?: unknown }) {
		const where = formatLocation(location);
		const tail = location.excerpt !== undefined ? ` — ${JSON.stringify(location.excerpt)}` : "";
		super("E_INPUT", `${where ? `${where}: ` : ""}${reason}${tail}`, options);
		this.name = "InputError";
		this.file = location.file;
		this.line = location.line;
		this.field = location.field;
		this.reason = reason;
		this.excerpt = location.excerpt;
	}
}

/** A bad option or configuration value. */
export class ConfigError extends TransllmError {
	constructor(message: string, options?: { cause?: unknown }) {
		super("E_CONFIG", message, options);
		this.name = "ConfigError";
	}
}

/** A language code that the registry does not know. */
export class UnknownLanguageError extends TransllmError {
	readonly languageCode: string;
	constructor(languageCode: string, known: readonly string[]) {
		super(
			"E_UNKNOWN_LANGUAGE",
			`unknown language code "${languageCode}"; known codes: ${known.join(", ")} (ISO 639-1, ISO 639-3 or BCP-47 such as th, tha, th-TH)`,
		);
		this.name = "UnknownLanguageError";
		this.languageCode = languageCode;
	}
}
