import { francAll } from "franc";
import { getLanguage, isKnownLanguage, listLanguages } from "./language-registry.js";
import { dominantScript, scriptProfile, scriptRatio } from "./script.js";
import type { ScriptProfile } from "./script.js";

/** The language a text is written in, as far as identification can tell. */
export interface LanguageIdentification {
	/** transllm code (`th`), the ISO 639-3 code for languages outside the registry, or `und`. */
	lang: string;
	/**
	 * Margin of the best language over the runner-up in [0, 1] (franc's normalised trigram distance: the best
	 * scores 1, so this is 1 − the second score). A script that only one candidate uses gives 1.
	 */
	confidence: number;
	/** Dominant script (ISO 15924). */
	script?: string;
}

export interface IdentifyOptions {
	/** Restrict the answer to these languages (transllm codes). */
	candidates?: readonly string[];
	/** The text's script profile, when the caller already has it (saves a pass over the text). */
	profile?: ScriptProfile;
}

// Text shorter than this is not identified by trigrams (too few of them); script decides alone.
const MIN_IDENTIFY_CHARACTERS = 10;

function toTransllmCode(iso6393: string): string {
	return isKnownLanguage(iso6393) ? getLanguage(iso6393).code : iso6393;
}

/**
 * franc's ranking of the languages a text may be in: transllm codes with franc's normalised trigram scores
 * (the best scores 1), restricted to `candidates` when given.
 */
export function rankLanguages(text: string, candidates?: readonly string[]): [lang: string, score: number][] {
	const only = candidates?.map((code) => getLanguage(code).iso639_3);
	return francAll(text, { minLength: 1, only: only ? [...only, ...macroVariants(only)] : undefined })
		.filter(([code]) => code !== "und")
		.map(([code, score]) => [toTransllmCode(code), score]);
}

/**
 * Identifies the language of a text with franc (trigram profiles for 400+ languages), chosen by measuring
 * eld, franc, tinyld and cld3-asm on UDHR sentences of every language the papers name (bench/language-id.ts;
 * table in the README).
 */
export function identifyLanguage(text: string, options: IdentifyOptions = {}): LanguageIdentification {
	const script = dominantScript(text, options.profile);
	if ([...text.trim()].length < MIN_IDENTIFY_CHARACTERS) {
		const byScript = options.candidates?.filter((code) => getLanguage(code).script === script) ?? [];
		return byScript.length === 1 ? { lang: byScript[0] as string, confidence: 1, script } : { lang: "und", confidence: 0, script };
	}
	const [best, second] = rankLanguages(text, options.candidates);
	if (!best) return { lang: "und", confidence: 0, script };
	return { lang: best[0], confidence: second ? 1 - second[1] : 1, script };
}

// franc names individual languages where the registry lists the macrolanguage (arb for ara, swh for swa …).
function macroVariants(codes: readonly string[]): string[] {
	const variants: Record<string, string[]> = { ara: ["arb"], swa: ["swh"], zho: ["cmn"], msa: ["zlm", "zsm"], fas: ["pes"], nep: ["npi"], ori: ["ory"] };
	return codes.flatMap((code) => variants[code] ?? []);
}

const REGISTRY_CODES = listLanguages().map((language) => language.code);

export interface LanguageCheckOptions {
	/**
	 * How far the expected language's normalised score may trail the best one (default 0.15). Short texts make
	 * close languages tie: "At what temperature does water boil at sea level?" scores Portuguese 1 and English 0.89.
	 * Measured on UDHR sentences and short English instructions (bench/language-id.ts): 0.15 accepts 99.9% of
	 * good texts and still rejects 99.99% of texts checked against a wrong language.
	 */
	tolerance?: number;
	/** With the expected language ranked first: minimum margin over the runner-up (default 0). */
	minConfidence?: number;
	/** Minimum share of letters in the expected language's script (default 0.5: room for code and names). */
	minScriptRatio?: number;
	/**
	 * Languages the identifier may choose among (default: the registry's languages, so that a close relative
	 * outside it — Scots for English, Sundanese for Swahili — does not reject a good text).
	 */
	candidates?: readonly string[];
}

export interface LanguageCheck {
	ok: boolean;
	detected: string;
	confidence: number;
	scriptRatio: number;
	reason?: string;
}

/**
 * Checks that a text is in the expected language: its letters must be mostly in that language's script, and,
 * where the script is shared with other languages (Latin, Arabic, Devanagari, Cyrillic …), the identifier must
 * name the expected language. Text too short to identify passes on the script check alone.
 */
export function checkLanguage(text: string, expected: string, options: LanguageCheckOptions = {}): LanguageCheck {
	const language = getLanguage(expected);
	const minScriptRatio = options.minScriptRatio ?? 0.5;
	const minConfidence = options.minConfidence ?? 0;
	const tolerance = options.tolerance ?? 0.15;
	const profile = scriptProfile(text);
	const ratio = scriptRatio(text, language.script, profile);
	const candidates = options.candidates ?? REGISTRY_CODES;
	const short = [...text.trim()].length < MIN_IDENTIFY_CHARACTERS;
	const ranking = short ? [] : rankLanguages(text, candidates);
	const identified = short
		? identifyLanguage(text, { candidates, profile })
		: { lang: ranking[0]?.[0] ?? "und", confidence: ranking[0] ? (ranking[1] ? 1 - ranking[1][1] : 1) : 0 };
	const base = { detected: identified.lang, confidence: identified.confidence, scriptRatio: ratio };
	if (ratio < minScriptRatio) {
		return { ok: false, ...base, reason: `only ${(ratio * 100).toFixed(0)}% of letters are in the ${language.script} script of ${language.englishName} (minimum ${(minScriptRatio * 100).toFixed(0)}%)` };
	}
	if (identified.lang === "und") return { ok: true, ...base, reason: "too short to identify: script check only" };
	if (identified.lang !== language.code) {
		const expectedScore = ranking.find(([code]) => code === language.code)?.[1] ?? 0;
		if (expectedScore >= 1 - tolerance) return { ok: true, ...base, reason: `close call: ${identified.lang} scored best, ${language.code} ${expectedScore.toFixed(3)}` };
		return { ok: false, ...base, reason: `identified as ${identified.lang}, expected ${language.code}` };
	}
	if (identified.confidence < minConfidence) {
		return { ok: false, ...base, reason: `identified as ${language.code} with margin ${identified.confidence.toFixed(3)} < ${minConfidence}` };
	}
	return { ok: true, ...base };
}
