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
	const origin = { ...options.origin, record: options.record, field };
	return guardSpecialTokens(requireText(value, origin), tokens, options.specialTokens ?? "error", origin).trim();
}

/**
 * Recovery KD instance (Sec. 2.2.3): x = q^α, y = cat(⟨RESPONSE⟩, a^α), i.e. `"<RESPONSE> <English answer>"`.
 */
export function buildRecoveryKdInstance(record: KdRecord, options: InstanceOptions = {}): TrainingInstance {
	const tokens = options.guardTokens ?? guardedSpecialTokens();
	const part = (value: unknown, field: string) => instancePart(value, field, tokens, { ...options, record: record.id });
	return {
		id: `${record.id}:recovery-kd`,
		kind: "recovery-kd",
		lang: "en",
		query: part(record.query_en, "query_en"),
		response: `${RESPONSE_TOKEN} ${part(record.response_en, "response_en")}`,
		group: record.id,
	};
}

/**
 * TCOT instance (Sec. 2.2.3): x = q^β, y = cat(⟨α⟩, q^α, ⟨RESPONSE⟩, a^α, ⟨β⟩, a^β), i.e.
 * `"<EN> <English query> <RESPONSE> <English answer> <TH> <Thai answer>"` (the seed repository's own example).
 */
export function buildTcotInstance(record: TranslatedRecord, options: InstanceOptions = {}): TrainingInstance {
	const lang = normalizeLanguage(record.lang);
	if (lang === "en") {
		throw new InputError(`record ${JSON.stringify(record.id)}: a TCOT target language cannot be English`, { ...options.origin, field: "lang" });
	}
	const tokens = options.guardTokens ?? guardedSpecialTokens();
	const part = (value: unknown, field: string) => instancePart(value, field, tokens, { ...options, record: record.id });
	const queryTarget = part(record.query_t, "query_t");
	return {
		id: `${record.id}:tcot:${lang}`,
		kind: "tcot",
		lang,
		query: queryTarget,
		response: `${EN_TOKEN} ${part(record.query_en, "query_en")} ${RESPONSE_TOKEN} ${part(record.response_en, "response_en")} ${targetLanguageToken(lang)} ${part(record.response_t, "response_t")}`,
		group: record.id,
	};
}
