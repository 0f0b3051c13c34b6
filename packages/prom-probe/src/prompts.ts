import { ConfigError, SeededRng, getLanguage } from "@transllm/core";
import type { LexiconEntry } from "./lexicon.js";

/**
 * The probe tasks of Wendler et al. 2024 ("Do Llamas Work in English?"), which PROM follows
 * (../shared/papers/003_1fd9d4be5b8f566c.txt Sec. 2.3, footnote 3):
 * - `translation`: `<Source>: "word" - <Target>: "translation"` lines, the last one open after the quote;
 * - `repetition`: the same shape with the target word on both sides (no English word in the prompt);
 * - `cloze`: target-language sentences with a masked word, the answer quoted, the last one open.
 */
export type ProbeTask = "translation" | "repetition" | "cloze";

/** A cloze item: a sentence with `___` where the word goes, the target-language answer and its English version. */
export interface ClozeItem {
	sentence: string;
	target: string;
	en: string;
}

/** One probe prompt: the text, and the English and target versions of the expected next word. */
export interface ProbePrompt {
	prompt: string;
	en: string;
	target: string;
	/** Where the example came from (lexicon line or cloze item index). */
	origin: string;
}

export interface PromptOptions {
	task: ProbeTask;
	/** Target language (transllm code). */
	lang: string;
	/** Source language of the translation task (default English, from a bilingual lexicon). */
	sourceLang?: string;
	/** Number of solved examples before the open one (Wendler: 5 … PROM: "5-shot"). */
	shots?: number;
	/** `native` names (`ไทย`, as Wendler's prompts: `Français`, `中文`) or `english` (`Thai`). */
	languageNames?: "native" | "english";
	/** Label before the cloze answer (default `Answer`). */
	clozeLabel?: string;
	seed?: string | number;
}

function nameOf(code: string, style: "native" | "english"): string {
	const language = getLanguage(code);
	return style === "native" ? language.nativeName.charAt(0).toLocaleUpperCase(language.bcp47) + language.nativeName.slice(1) : language.englishName;
}

/** Few-shot word prompts from a lexicon: each entry is asked once, with `shots` other entries solved before it. */
export function buildWordPrompts(entries: readonly LexiconEntry[], options: PromptOptions): ProbePrompt[] {
	const shots = options.shots ?? 5;
	if (options.task === "cloze") throw new ConfigError("cloze prompts are built from sentences: use buildClozePrompts");
	if (entries.length < shots + 1) throw new ConfigError(`the lexicon has ${entries.length} entries; ${shots}-shot prompts need at least ${shots + 1}`);
	const style = options.languageNames ?? "native";
	const targetName = nameOf(options.lang, style);
	const sourceLang = options.sourceLang ?? "en";
	const sourceName = options.task === "repetition" ? targetName : nameOf(sourceLang, style);
	const rng = new SeededRng(options.seed ?? 0).fork(`prompts/${options.task}`);
	const sourceWord = (entry: LexiconEntry): string => {
		if (options.task === "repetition") return entry.target;
		if (sourceLang === "en") return entry.en;
		if (entry.source === undefined) throw new ConfigError(`${entry.file}:${entry.line}: no ${sourceLang} word for the translation task`);
		return entry.source;
	};
	const line = (entry: LexiconEntry): string => `${sourceName}: "${sourceWord(entry)}" - ${targetName}: "${entry.target}"`;
	return entries.map((entry, index) => {
		const others = entries.filter((_, j) => j !== index);
		const solved = rng.sample(others, shots).map(line);
		return {
			prompt: [...solved, `${sourceName}: "${sourceWord(entry)}" - ${targetName}: "`].join("\n"),
			en: entry.en,
			target: entry.target,
			origin: `${entry.file}:${entry.line}`,
		};
	});
}

/** Few-shot cloze prompts: `<sentence> <label>: "<answer>".` lines, the last one open after the quote. */
export function buildClozePrompts(items: readonly ClozeItem[], options: Omit<PromptOptions, "task">): ProbePrompt[] {
	const shots = options.shots ?? 5;
	if (items.length < shots + 1) throw new ConfigError(`${items.length} cloze items; ${shots}-shot prompts need at least ${shots + 1}`);
	const label = options.clozeLabel ?? "Answer";
	const rng = new SeededRng(options.seed ?? 0).fork("prompts/cloze");
	return items.map((item, index) => {
		if (!item.sentence.includes("___")) throw new ConfigError(`cloze item ${index + 1} has no "___" mask: ${item.sentence.slice(0, 60)}`);
		const solved = rng.sample(items.filter((_, j) => j !== index), shots).map((other) => `${other.sentence} ${label}: "${other.target}".`);
		return { prompt: [...solved, `${item.sentence} ${label}: "`].join("\n"), en: item.en, target: item.target, origin: `cloze:${index + 1}` };
	});
}
