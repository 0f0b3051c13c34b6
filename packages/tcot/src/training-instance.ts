import { InputError } from "@transllm/core";
import { EN_TOKEN, RESPONSE_TOKEN, normalizeLanguage, targetLanguageToken } from "./special-tokens.js";
import { guardSpecialTokens, guardedSpecialTokens, requireText } from "@transllm/core";
import type { SpecialTokenPolicy, TextOrigin } from "@transllm/core";

/** The three kinds of transfer fine-tuning data (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.2.3). */
export type InstanceKind = "recovery-kd" | "tcot" | "translation";

/**
 * One supervised instance: the model sees `query` (the paper's x) in its chat format and learns to produce
 * `response` (the paper's y).
 */
export interface TrainingInstance {
	/** Unique id: the source record's id plus the kind (`42:tcot:th`). */
	id: string;
	kind: InstanceKind;
	/** The language the response ends in: `en` for recovery KD, β for TCOT, the translation's target language. */
	lang: string;
	/** x */
	query: string;
	/** y */
	response: string;
	/**
	 * Instances derived from one source (a KD query and all its translations, or one parallel pair) share a group;
	 * the validation split keeps groups whole so no held-out query leaks into training.
	 */
	group: string;
}

/** An English recovery-KD record: a query and the target chat LLM's own answer (Sec. 2.2.3). */
export interface KdRecord {
	id: string;
	query_en: string;
	response_en: string;
}

/** A recovery-KD record with its machine translation (q^β, a^β) into `lang` (Sec. 2.2.3, TCOT data). */
export interface TranslatedRecord {
	id: string;
	query_en: string;
	response_en: string;
	query_t: string;
	response_t: string;
	lang: string;
}

export interface InstanceOptions {
	/** What to do with text that already holds a special token (default `error`). */
	specialTokens?: SpecialTokenPolicy;
	/** Tokens to guard against (default: core's guardedSpecialTokens — chat control tokens, `<RESPONSE>`, every language-ID token). */
	guardTokens?: readonly string[];
	/** file:line of the record, for error messages. */
	origin?: TextOrigin;
}

/**
 * One text part of an instance: checked, guarded and trimmed. Parts are joined by single spaces around the
 * markers, so outer whitespace of a part is dropped (inner whitespace and newlines are kept).
 */
export function instancePart(value: unknown, field: string, tokens: readonly string[], options: InstanceOptions & { record?: string }): string {
	// Named fields rather than a spread of options.origin: this runs for every text, and a spread costs more than the checks.
	const origin: TextOrigin = { file: options.origin?.file, line: options.origin?.line, record: options.record, field };
	return guardSpecialTokens(requireText(value, origin), tokens, options.specialTokens ?? "error", origin).trim();
}

/**
 * An instance before its texts are joined: `query` and `response` as runs of literal strings (markers, template
 * words) and texts of type `T`. The public builders join them into strings; the transfer-data builder keeps each
 * record text once, escaped, however many instances repeat it (see InstanceStore). The id is `idHead + idTail`:
 * the instances of one record share the head, so they sort by their tails.
 */
export interface InstanceParts<T> {
	idHead: string;
	idTail: string;
	kind: InstanceKind;
	lang: string;
	group: string;
	query: readonly (string | T)[];
	response: readonly (string | T)[];
}

/** The instance the parts stand for, its texts joined. */
export function joinInstanceParts(parts: InstanceParts<string>): TrainingInstance {
	return { id: parts.idHead + parts.idTail, kind: parts.kind, lang: parts.lang, query: parts.query.join(""), response: parts.response.join(""), group: parts.group };
}

// The few literal runs of the formats, made once (a data set asks for the same ones for every record).
const literals = new Map<string, string>();
function literal(key: string, make: () => string): string {
	let text = literals.get(key);
	if (text === undefined) {
		text = make();
		literals.set(key, text);
	}
	return text;
}

/** Recovery KD (Sec. 2.2.3): x = q^α, y = cat(⟨RESPONSE⟩, a^α). */
export function recoveryKdParts<T>(id: string, texts: { queryEn: T; responseEn: T }): InstanceParts<T> {
	return { idHead: id, idTail: ":recovery-kd", kind: "recovery-kd", lang: "en", group: id, query: [texts.queryEn], response: [`${RESPONSE_TOKEN} `, texts.responseEn] };
}

/** TCOT (Sec. 2.2.3): x = q^β, y = cat(⟨α⟩, q^α, ⟨RESPONSE⟩, a^α, ⟨β⟩, a^β), markers and texts joined by single spaces. */
export function tcotParts<T>(id: string, lang: string, texts: { queryT: T; queryEn: T; responseEn: T; responseT: T }): InstanceParts<T> {
	return {
		idHead: id,
		idTail: literal(`tail\u0000${lang}`, () => `:tcot:${lang}`),
		kind: "tcot",
		lang,
		group: id,
		query: [texts.queryT],
		response: [`${EN_TOKEN} `, texts.queryEn, ` ${RESPONSE_TOKEN} `, texts.responseEn, literal(`token\u0000${lang}`, () => ` ${targetLanguageToken(lang)} `), texts.responseT],
	};
}

/**
 * Recovery KD instance (Sec. 2.2.3): x = q^α, y = cat(⟨RESPONSE⟩, a^α), i.e. `"<RESPONSE> <English answer>"`.
 */
export function buildRecoveryKdInstance(record: KdRecord, options: InstanceOptions = {}): TrainingInstance {
	const tokens = options.guardTokens ?? guardedSpecialTokens();
	const partOptions = { specialTokens: options.specialTokens, origin: options.origin, record: record.id };
	const part = (value: unknown, field: string) => instancePart(value, field, tokens, partOptions);
	const queryEn = part(record.query_en, "query_en");
	return joinInstanceParts(recoveryKdParts(record.id, { queryEn, responseEn: part(record.response_en, "response_en") }));
}

/** The language of a TCOT instance: β, which cannot be English. */
export function tcotLanguage(record: Pick<TranslatedRecord, "id" | "lang">, origin?: TextOrigin): string {
	const lang = normalizeLanguage(record.lang);
	if (lang === "en") throw new InputError(`record ${JSON.stringify(record.id)}: a TCOT target language cannot be English`, { ...origin, field: "lang" });
	return lang;
}

/** The four texts of a translated record, checked, guarded and trimmed in the order a TCOT instance reads them. */
export function translatedTexts(record: TranslatedRecord, options: InstanceOptions = {}): { queryT: string; queryEn: string; responseEn: string; responseT: string } {
	const tokens = options.guardTokens ?? guardedSpecialTokens();
	const partOptions = { specialTokens: options.specialTokens, origin: options.origin, record: record.id };
	const part = (value: unknown, field: string) => instancePart(value, field, tokens, partOptions);
	const queryT = part(record.query_t, "query_t");
	const queryEn = part(record.query_en, "query_en");
	const responseEn = part(record.response_en, "response_en");
	return { queryT, queryEn, responseEn, responseT: part(record.response_t, "response_t") };
}

/**
 * TCOT instance (Sec. 2.2.3): x = q^β, y = cat(⟨α⟩, q^α, ⟨RESPONSE⟩, a^α, ⟨β⟩, a^β), i.e.
 * `"<EN> <English query> <RESPONSE> <English answer> <TH> <Thai answer>"` (the seed repository's own example).
 */
export function buildTcotInstance(record: TranslatedRecord, options: InstanceOptions = {}): TrainingInstance {
	const lang = tcotLanguage(record, options.origin);
	return joinInstanceParts(tcotParts(record.id, lang, translatedTexts(record, options)));
}
