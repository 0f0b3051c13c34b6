import { ConfigError, checkLanguage, getLanguage } from "@transllm/core";
import bundled from "./translation-templates.json";

/**
 * A translation instruction template: prompt(s) of `../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.2.3
 * ("we first wrap the source sentence using translation prompt templates"), written in `lang`.
 */
export interface TranslationTemplate {
	id: string;
	/** The language the instruction is written in. */
	lang: string;
	/** Text with the slots `{source}` and `{target_language}` (once each) and optionally `{source_language}` (once). */
	text: string;
	/** For a translated template: the id of the English template it translates (footnote 2 of the paper). */
	translates?: string;
}

const SLOT = /\{([a-z_]+)\}/g;
const REQUIRED_SLOTS = ["source", "target_language"] as const;
const KNOWN_SLOTS = new Set(["source", "target_language", "source_language"]);

/**
 * Checks templates: every id unique, `{source}` and `{target_language}` exactly once, `{source_language}` at most
 * once, no other slot, a translated template naming an existing English template, and the instruction text (slots
 * removed) identified as its stated language by core's `checkLanguage` among the template languages. Returns the
 * list of problems (empty when all are valid).
 */
export function validateTranslationTemplates(templates: readonly TranslationTemplate[]): string[] {
	const problems: string[] = [];
	const ids = new Set<string>();
	const byLanguage = new Map<string, string[]>();
	const known = templates.flatMap((template) => {
		try {
			return [getLanguage(template.lang).code];
		} catch {
			return [];
		}
	});
	const candidates = [...new Set(known)].length > 1 ? [...new Set(known)] : undefined;
	for (const template of templates) {
		const where = `template ${JSON.stringify(template.id)}`;
		if (ids.has(template.id)) problems.push(`${where}: duplicate id`);
		ids.add(template.id);
		let lang: string;
		try {
			lang = getLanguage(template.lang).code;
		} catch (error) {
			problems.push(`${where}: ${(error as Error).message}`);
			continue;
		}
		const counts = new Map<string, number>();
		for (const match of template.text.matchAll(SLOT)) counts.set(match[1] as string, (counts.get(match[1] as string) ?? 0) + 1);
		for (const slot of REQUIRED_SLOTS) {
			if (counts.get(slot) !== 1) problems.push(`${where}: slot {${slot}} must appear exactly once (found ${counts.get(slot) ?? 0})`);
		}
		if ((counts.get("source_language") ?? 0) > 1) problems.push(`${where}: slot {source_language} may appear at most once`);
		for (const slot of counts.keys()) if (!KNOWN_SLOTS.has(slot)) problems.push(`${where}: unknown slot {${slot}}`);
		if (template.translates !== undefined && !templates.some((other) => other.id === template.translates && other.lang === "en")) {
			problems.push(`${where}: translates ${JSON.stringify(template.translates)}, which is not an English template`);
		}
		const instruction = instructionText(template, lang);
		const check = checkLanguage(instruction, lang, { candidates });
		// Trigram identification is unreliable on a dozen words: a short instruction passes on its script, and the
		// language as a whole is identified on all its templates together below.
		const short = (instruction.match(/\p{L}/gu)?.length ?? 0) < SHORT_LETTERS;
		if (!check.ok && !(short && check.scriptRatio >= 0.5)) problems.push(`${where}: text is not ${lang}: ${check.reason ?? `identified as ${check.detected}`}`);
		byLanguage.set(lang, [...(byLanguage.get(lang) ?? []), instruction]);
	}
	for (const [lang, texts] of byLanguage) {
		const check = checkLanguage(texts.join("\n"), lang, { candidates });
		if (!check.ok) problems.push(`templates in ${JSON.stringify(lang)} are not ${lang} as a whole: ${check.reason ?? `identified as ${check.detected}`}`);
	}
	return problems;
}

const SHORT_LETTERS = 40;

// The instruction as a user reads it (language names filled in, no source text): what the language check sees.
function instructionText(template: TranslationTemplate, lang: string): string {
	const other = lang === "en" ? "th" : "en";
	return renderTranslationPrompt({ ...template, lang }, { source: "", sourceLang: lang, targetLang: other }).trim();
}

/** Validates templates and throws a ConfigError listing every problem (naming `source`, e.g. the file). */
export function assertTranslationTemplates(templates: readonly TranslationTemplate[], source: string): TranslationTemplate[] {
	if (!Array.isArray(templates) || templates.length === 0) throw new ConfigError(`${source}: no translation templates`);
	const problems = validateTranslationTemplates(templates);
	if (problems.length > 0) throw new ConfigError(`${source}: invalid translation templates:\n  ${problems.join("\n  ")}`);
	return templates.map((template) => ({ ...template, lang: getLanguage(template.lang).code }));
}

let bundledTemplates: TranslationTemplate[] | undefined;

/**
 * The bundled templates (`src/translation-templates.json`): 22 English templates and 6 translations each for
 * th, ar, pt, te and tr. Validated on first use.
 */
export function defaultTranslationTemplates(): TranslationTemplate[] {
	bundledTemplates ??= assertTranslationTemplates((bundled as { templates: TranslationTemplate[] }).templates, "translation-templates.json");
	return bundledTemplates;
}

/** The name of language `code` written in language `inLang` (ICU, via `Intl.DisplayNames`): `en` in `th` → อังกฤษ. */
export function languageNameIn(code: string, inLang: string): string {
	const key = `${code}\u0000${inLang}`;
	let name = languageNames.get(key);
	if (name === undefined) {
		name = new Intl.DisplayNames([getLanguage(inLang).bcp47], { type: "language" }).of(getLanguage(code).bcp47) ?? getLanguage(code).englishName;
		languageNames.set(key, name);
	}
	return name;
}

// Building an Intl.DisplayNames costs far more than a lookup, and a data set asks for the same few names again and again.
const languageNames = new Map<string, string>();

/**
 * Fills a template: `{source}` with the text, `{source_language}` / `{target_language}` with the languages' names
 * in the template's language. One pass, so slot-like text inside the source is left alone.
 */
export function renderTranslationPrompt(template: TranslationTemplate, params: { source: string; sourceLang: string; targetLang: string }): string {
	return translationPromptParts(template, params).join("");
}

/**
 * The filled template as literal runs around the source text (`["Translate into Thai:\n", source]`), for builders
 * that keep the source apart. The runs are made once per template and language pair.
 */
export function translationPromptParts<T>(template: TranslationTemplate, params: { source: T; sourceLang: string; targetLang: string }): (string | T)[] {
	const runs = promptRuns(template, params.sourceLang, params.targetLang);
	const parts: (string | T)[] = [];
	for (let index = 0; index < runs.length; index++) {
		if (index > 0) parts.push(params.source);
		if (runs[index] !== "") parts.push(runs[index] as string);
	}
	return parts;
}

// Per template object: its text when the runs were made (a changed text is made again) and runs per language pair.
const runCache = new WeakMap<TranslationTemplate, { text: string; lang: string; byPair: Map<string, string[]> }>();

function promptRuns(template: TranslationTemplate, sourceLang: string, targetLang: string): string[] {
	let cached = runCache.get(template);
	if (cached === undefined || cached.text !== template.text || cached.lang !== template.lang) {
		cached = { text: template.text, lang: template.lang, byPair: new Map() };
		runCache.set(template, cached);
	}
	const pair = `${sourceLang}\u0000${targetLang}`;
	let runs = cached.byPair.get(pair);
	if (runs === undefined) {
		runs = [];
		let run = "";
		let at = 0;
		for (const match of template.text.matchAll(SLOT)) {
			run += template.text.slice(at, match.index);
			at = (match.index as number) + match[0].length;
			const slot = match[1] as string;
			if (slot === "source") {
				runs.push(run);
				run = "";
			} else if (slot === "source_language") run += languageNameIn(sourceLang, template.lang);
			else if (slot === "target_language") run += languageNameIn(targetLang, template.lang);
			else run += match[0];
		}
		runs.push(run + template.text.slice(at));
		cached.byPair.set(pair, runs);
	}
	return runs;
}
