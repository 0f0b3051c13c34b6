import { UnknownLanguageError } from "./errors.js";

/** A language as transllm needs it: codes, names, script, word delimiting and its language-ID token. */
export interface Language {
	/** The short code transllm uses: ISO 639-1 where one exists, else ISO 639-3. */
	code: string;
	iso639_1?: string;
	iso639_3: string;
	/** BCP-47 tag with the script subtag where it is not implied (e.g. `zh-Hans`). */
	bcp47: string;
	/** English name, from Node's ICU (`Intl.DisplayNames`). */
	englishName: string;
	/** Name in the language itself, from Node's ICU. */
	nativeName: string;
	/** ISO 15924 script code of the usual written form. */
	script: string;
	/** Whether words are separated by spaces (false for Thai, Lao, Khmer, Myanmar, Chinese, Japanese). */
	spaceDelimited: boolean;
	/** The language-ID token of TransLLM (`<TH>`; `../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.2.2). */
	idToken: string;
}

type Row = readonly [iso639_1: string | undefined, iso639_3: string, script: string, spaceDelimited: boolean, bcp47?: string];

// Every language named in the papers (TransLLM: th ar pt te tr; PROM: ar bn el ml mr sw ta te th; CLO: zh de ko
// id sw yo; plus en) and the others users most often adapt to.
const ROWS: readonly Row[] = [
	["en", "eng", "Latn", true],
	["th", "tha", "Thai", false],
	["ar", "ara", "Arab", true],
	["pt", "por", "Latn", true],
	["te", "tel", "Telu", true],
	["tr", "tur", "Latn", true],
	["bn", "ben", "Beng", true],
	["el", "ell", "Grek", true],
	["ml", "mal", "Mlym", true],
	["mr", "mar", "Deva", true],
	["sw", "swa", "Latn", true],
	["ta", "tam", "Taml", true],
	["zh", "zho", "Hans", false, "zh-Hans"],
	["de", "deu", "Latn", true],
	["ko", "kor", "Kore", true],
	["id", "ind", "Latn", true],
	["yo", "yor", "Latn", true],
	["ja", "jpn", "Jpan", false],
	["lo", "lao", "Laoo", false],
	["km", "khm", "Khmr", false],
	["my", "mya", "Mymr", false],
	["vi", "vie", "Latn", true],
	["hi", "hin", "Deva", true],
	["ur", "urd", "Arab", true],
	["fa", "fas", "Arab", true],
	["he", "heb", "Hebr", true],
	["ru", "rus", "Cyrl", true],
	["uk", "ukr", "Cyrl", true],
	["fr", "fra", "Latn", true],
	["es", "spa", "Latn", true],
	["it", "ita", "Latn", true],
	["nl", "nld", "Latn", true],
	["pl", "pol", "Latn", true],
	["ms", "msa", "Latn", true],
	["tl", "tgl", "Latn", true],
	["ne", "nep", "Deva", true],
	["si", "sin", "Sinh", true],
	["gu", "guj", "Gujr", true],
	["kn", "kan", "Knda", true],
	["pa", "pan", "Guru", true],
	["am", "amh", "Ethi", true],
	["ha", "hau", "Latn", true],
	["ig", "ibo", "Latn", true],
	["zu", "zul", "Latn", true],
	["ka", "kat", "Geor", true],
	["hy", "hye", "Armn", true],
];

const englishNames = new Intl.DisplayNames(["en"], { type: "language" });

function nativeNameOf(tag: string): string {
	try {
		return new Intl.DisplayNames([tag], { type: "language" }).of(tag) ?? tag;
	} catch {
		return tag;
	}
}

function build(row: Row): Language {
	const [iso639_1, iso639_3, script, spaceDelimited, bcp47Override] = row;
	const code = iso639_1 ?? iso639_3;
	const bcp47 = bcp47Override ?? code;
	return {
		code,
		iso639_1,
		iso639_3,
		bcp47,
		englishName: englishNames.of(code) ?? code,
		nativeName: nativeNameOf(bcp47),
		script,
		spaceDelimited,
		idToken: `<${code.toUpperCase()}>`,
	};
}

const LANGUAGES: readonly Language[] = ROWS.map(build);
const BY_CODE = new Map<string, Language>();
for (const language of LANGUAGES) {
	BY_CODE.set(language.code, language);
	BY_CODE.set(language.iso639_3, language);
	BY_CODE.set(language.bcp47.toLowerCase(), language);
}
// Macrolanguage and legacy aliases people type.
for (const [alias, code] of [
	["arb", "ar"],
	["cmn", "zh"],
	["zsm", "ms"],
	["pes", "fa"],
	["swh", "sw"],
	["fil", "tl"],
	["iw", "he"],
	["in", "id"],
] as const) {
	const language = BY_CODE.get(code);
	if (language) BY_CODE.set(alias, language);
}

/** Every language in the registry. */
export function listLanguages(): readonly Language[] {
	return LANGUAGES;
}

/**
 * Looks a language up by ISO 639-1 (`th`), ISO 639-3 (`tha`) or BCP-47 (`th-TH`, `zh-Hans-CN`). Region and
 * other subtags are ignored after the script; an unknown code throws UnknownLanguageError.
 */
export function getLanguage(code: string): Language {
	const normalized = code.trim().replace(/_/g, "-").toLowerCase();
	const direct = BY_CODE.get(normalized);
	if (direct) return direct;
	const [primary, second] = normalized.split("-");
	if (primary !== undefined && second !== undefined && second.length === 4) {
		const withScript = BY_CODE.get(`${primary}-${second}`);
		if (withScript) return withScript;
	}
	const byPrimary = primary === undefined ? undefined : BY_CODE.get(primary);
	if (byPrimary) return byPrimary;
	throw new UnknownLanguageError(code, LANGUAGES.map((language) => language.code));
}

/** Whether `code` names a known language. */
export function isKnownLanguage(code: string): boolean {
	try {
		getLanguage(code);
		return true;
	} catch {
		return false;
	}
}

/** The TransLLM language-ID token of a language (`th` → `<TH>`, `en` → `<EN>`). */
export function languageIdToken(code: string): string {
	return getLanguage(code).idToken;
}
