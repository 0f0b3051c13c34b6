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

// Unicode Script property values of all known scripts (Han appears once, shared by Hans, Hant, Jpan and Kore).
const PROPERTIES = [...new Set(Object.values(SCRIPT_PROPERTIES).flat())];
const PROPERTY_TESTS = PROPERTIES.map((name) => new RegExp(`^\\p{Script=${name}}$`, "u"));
const LETTER_OR_MARK = /^[\p{L}\p{M}]$/u;
const INHERITED = /^[\p{Script=Inherited}\p{Script=Common}]$/u;
const NOT_A_LETTER = 1;
const OTHER_LETTER = 2;
const FIRST_PROPERTY = 3;

// Class of every code point, filled on first sight: scanning text is then one table look-up per character
// instead of one regular-expression pass per script.
const classes = new Uint8Array(0x110000);

function classify(codePoint: number): number {
	const char = String.fromCodePoint(codePoint);
	let value = NOT_A_LETTER;
	// Combining marks of no script of their own (U+0300 …) belong to their base letter: they are not counted.
	if (LETTER_OR_MARK.test(char) && !INHERITED.test(char)) {
		value = OTHER_LETTER;
		for (let i = 0; i < PROPERTY_TESTS.length; i++) {
			if ((PROPERTY_TESTS[i] as RegExp).test(char)) {
				value = FIRST_PROPERTY + i;
				break;
			}
		}
	}
	classes[codePoint] = value;
	return value;
}

/** Letters of a text, counted per Unicode script, in one pass. */
export interface ScriptProfile {
	/** Letters and script-bearing combining marks (digits, punctuation, spaces and inherited marks excluded). */
	letters: number;
	/** Letters per Unicode Script property value (`Latin`, `Thai`, `Han` …). */
	byProperty: Record<string, number>;
}

export function scriptProfile(text: string): ScriptProfile {
	const counts = new Uint32Array(FIRST_PROPERTY + PROPERTIES.length);
	for (let i = 0; i < text.length; i++) {
		let codePoint = text.charCodeAt(i);
		if (codePoint >= 0xd800 && codePoint <= 0xdbff && i + 1 < text.length) {
			codePoint = text.codePointAt(i) as number;
			i += 1;
		}
		counts[classes[codePoint] || classify(codePoint)]! += 1;
	}
	const byProperty: Record<string, number> = {};
	PROPERTIES.forEach((name, i) => {
		const n = counts[FIRST_PROPERTY + i] as number;
		if (n > 0) byProperty[name] = n;
	});
	let letters = 0;
	for (let c = OTHER_LETTER; c < counts.length; c++) letters += counts[c] as number;
	return { letters, byProperty };
}

function lettersIn(profile: ScriptProfile, script: string): number {
	const properties = SCRIPT_PROPERTIES[script];
	if (!properties) throw new ConfigError(`unknown ISO 15924 script "${script}"; known: ${Object.keys(SCRIPT_PROPERTIES).join(", ")}`);
	return properties.reduce((sum, name) => sum + (profile.byProperty[name] ?? 0), 0);
}

/**
 * Fraction of the letters of `text` that belong to `script` (ISO 15924); digits, punctuation, spaces and
 * combining marks without a script of their own are not counted. Returns 0 for text without letters.
 */
export function scriptRatio(text: string, script: string, profile: ScriptProfile = scriptProfile(text)): number {
	const inScript = lettersIn(profile, script);
	return profile.letters === 0 ? 0 : inScript / profile.letters;
}

// Scripts that share characters with another entry (Han) are left out of the vote; Hangul stands for Korean.
const DISTINCT_SCRIPTS = Object.keys(SCRIPT_PROPERTIES).filter((script) => !["Hant", "Jpan", "Kore"].includes(script));

/** The script (ISO 15924) with the most letters in `text`, or undefined when it has none. */
export function dominantScript(text: string, profile: ScriptProfile = scriptProfile(text)): string | undefined {
	let best: string | undefined;
	let bestCount = 0;
	for (const script of DISTINCT_SCRIPTS) {
		const n = lettersIn(profile, script);
		if (n > bestCount) {
			best = script;
			bestCount = n;
		}
	}
	return (profile.byProperty.Hangul ?? 0) > bestCount ? "Kore" : best;
}

/** Known ISO 15924 codes. */
export function knownScripts(): string[] {
	return Object.keys(SCRIPT_PROPERTIES);
}
