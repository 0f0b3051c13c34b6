import { ConfigError } from "./errors.js";

// ISO 15924 code → the Unicode Script property values that make up that writing system.
const SCRIPT_PROPERTIES: Record<string, readonly string[]> = {
	Latn: ["Latin"],
	Thai: ["Thai"],
	Arab: ["Arabic"],
	Telu: ["Telugu"],
	Beng: ["Bengali"],
	Grek: ["Greek"],
	Mlym: ["Malayalam"],
	Deva: ["Devanagari"],
	Taml: ["Tamil"],
	Hans: ["Han"],
	Hant: ["Han"],
	Kore: ["Hangul", "Han"],
	Jpan: ["Han", "Hiragana", "Katakana"],
	Laoo: ["Lao"],
	Khmr: ["Khmer"],
	Mymr: ["Myanmar"],
	Hebr: ["Hebrew"],
	Cyrl: ["Cyrillic"],
	Sinh: ["Sinhala"],
	Gujr: ["Gujarati"],
	Knda: ["Kannada"],
	Guru: ["Gurmukhi"],
	Ethi: ["Ethiopic"],
	Geor: ["Georgian"],
	Armn: ["Armenian"],
};

const patternCache = new Map<string, RegExp>();

/** A global regex matching one character of the script (ISO 15924 code). */
export function scriptPattern(script: string): RegExp {
	let pattern = patternCache.get(script);
	if (!pattern) {
		const properties = SCRIPT_PROPERTIES[script];
		if (!properties) throw new ConfigError(`unknown ISO 15924 script "${script}"; known: ${Object.keys(SCRIPT_PROPERTIES).join(", ")}`);
		pattern = new RegExp(`[${properties.map((name) => `\\p{Script=${name}}`).join("")}]`, "gu");
		patternCache.set(script, pattern);
	}
	pattern.lastIndex = 0;
	return pattern;
}

const LETTER = /[\p{L}\p{M}]/gu;

function count(text: string, pattern: RegExp): number {
	pattern.lastIndex = 0;
	let n = 0;
	while (pattern.exec(text) !== null) n += 1;
	return n;
}

/**
 * Fraction of the letters (and combining marks) of `text` that belong to `script`; digits, punctuation and
 * spaces are not counted. Returns 0 for text without letters.
 */
export function scriptRatio(text: string, script: string): number {
	const letters = count(text, LETTER);
	if (letters === 0) return 0;
	return count(text, scriptPattern(script)) / letters;
}

// Scripts that share characters with another entry (Han) are left out of the vote; Hangul stands for Korean.
const DISTINCT_SCRIPTS = Object.keys(SCRIPT_PROPERTIES).filter((script) => !["Hant", "Jpan", "Kore"].includes(script));
const HANGUL = /\p{Script=Hangul}/gu;

/** The script (ISO 15924) with the most letters in `text`, or undefined when it has none. */
export function dominantScript(text: string): string | undefined {
	let best: string | undefined;
	let bestCount = 0;
	for (const script of DISTINCT_SCRIPTS) {
		const n = count(text, scriptPattern(script));
		if (n > bestCount) {
			best = script;
			bestCount = n;
		}
	}
	return count(text, HANGUL) > bestCount ? "Kore" : best;
}

/** Known ISO 15924 codes. */
export function knownScripts(): string[] {
	return Object.keys(SCRIPT_PROPERTIES);
}
