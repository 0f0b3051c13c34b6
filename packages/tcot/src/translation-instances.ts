import { ConfigError, InputError } from "@transllm/core";
import type { SeededRng } from "@transllm/core";
import { normalizeLanguage, tcotSpecialTokens, targetLanguageToken } from "./special-tokens.js";
import { instancePart, joinInstanceParts } from "./training-instance.js";
import type { InstanceOptions, InstanceParts, TrainingInstance } from "./training-instance.js";
import { defaultTranslationTemplates, translationPromptParts } from "./translation-templates.js";
import type { TranslationTemplate } from "./translation-templates.js";

/** A translation pair: `source` in `sourceLang`, `target` its translation in `targetLang`. */
export interface ParallelPair {
	source: string;
	target: string;
	sourceLang: string;
	targetLang: string;
}

/**
 * Which language the translation instruction is written in. `source` (default): the language of the text to
 * translate, so a Thai text comes with a Thai instruction (the case Sec. 2.2.3 adds translation data for: "the
 * model may be confused about the translation instruction in β"); `en`: always English; `target`: the language
 * translated into; `random`: English or the non-English side, uniformly. Languages without templates use English.
 */
export type InstructionLanguage = "source" | "en" | "target" | "random";

export interface TranslationInstanceOptions extends InstanceOptions {
	/** Draws the template (and the instruction language under `random`); seeded for reproducible data. */
	rng: SeededRng;
	/** Instance id prefix (default: the group). */
	id: string;
	/** Group for the validation split (instances of one source stay together). */
	group?: string;
	templates?: readonly TranslationTemplate[];
	instructionLanguage?: InstructionLanguage;
}

// Templates by instruction language, per template list (a data set draws from the same few lists again and again).
const templatesByLanguage = new WeakMap<readonly TranslationTemplate[], { length: number; byLanguage: Map<string, readonly TranslationTemplate[]> }>();

function templatesIn(templates: readonly TranslationTemplate[], lang: string): readonly TranslationTemplate[] {
	let cached = templatesByLanguage.get(templates);
	if (cached === undefined || cached.length !== templates.length) {
		cached = { length: templates.length, byLanguage: new Map() };
		templatesByLanguage.set(templates, cached);
	}
	const byLanguage = cached.byLanguage;
	let chosen = byLanguage.get(lang);
	if (chosen === undefined) {
		const own = templates.filter((template) => template.lang === lang);
		chosen = own.length > 0 ? own : templates.filter((template) => template.lang === "en");
		if (chosen.length === 0) throw new ConfigError(`no translation template in ${lang} and no English template to fall back on`);
		byLanguage.set(lang, chosen);
	}
	return chosen;
}

function instructionLanguageFor(choice: InstructionLanguage, from: string, to: string, rng: SeededRng): string {
	if (choice === "source") return from;
	if (choice === "target") return to;
	if (choice === "en") return "en";
	return rng.bernoulli(0.5) ? "en" : from === "en" ? to : from;
}

/**
 * Translation data in both directions from one parallel pair (Sec. 2.2.3): x = prompt(s^α), y = cat(⟨β⟩, s^β)
 * and x = prompt(s^β), y = cat(⟨α⟩, s^α), e.g. y = `"<TH> <Thai text>"` and `"<EN> <English text>"`. Each
 * direction draws its own template.
 */
export function buildTranslationInstances(pair: ParallelPair, options: TranslationInstanceOptions): [TrainingInstance, TrainingInstance] {
	const { sourceLang, targetLang } = translationLanguages(pair, options);
	const tokens = options.guardTokens ?? tcotSpecialTokens([sourceLang, targetLang]);
	const source = instancePart(pair.source, "source", tokens, { ...options, record: options.id });
	const target = instancePart(pair.target, "target", tokens, { ...options, record: options.id });
	const [forward, backward] = translationParts({ source, target, sourceLang, targetLang }, { ...options, idHead: options.id, idMid: "" });
	return [joinInstanceParts(forward), joinInstanceParts(backward)];
}

/** A pair's two languages, normalised; the same language on both sides is an InputError. */
export function translationLanguages(pair: Pick<ParallelPair, "sourceLang" | "targetLang">, options: { id: string; origin?: InstanceOptions["origin"] }): { sourceLang: string; targetLang: string } {
	const sourceLang = normalizeLanguage(pair.sourceLang);
	const targetLang = normalizeLanguage(pair.targetLang);
	if (sourceLang === targetLang) {
		throw new InputError(`pair ${JSON.stringify(options.id)}: source and target language are both ${sourceLang}`, { ...options.origin, field: "targetLang" });
	}
	return { sourceLang, targetLang };
}

/**
 * The two translation instances of checked texts (languages normalised), as parts; ids are
 * `idHead + idMid + ":translation:" + from-to`.
 */
export function translationParts<T>(
	pair: { source: T; target: T; sourceLang: string; targetLang: string },
	options: Pick<TranslationInstanceOptions, "rng" | "group" | "templates" | "instructionLanguage"> & { idHead: string; idMid: string },
): [InstanceParts<T>, InstanceParts<T>] {
	const templates = options.templates ?? defaultTranslationTemplates();
	const choice = options.instructionLanguage ?? "source";
	const direction = (fromLang: string, fromText: T, toLang: string, toText: T): InstanceParts<T> => {
		const template = options.rng.pick(templatesIn(templates, instructionLanguageFor(choice, fromLang, toLang, options.rng)));
		return {
			idHead: options.idHead,
			idTail: translationTail(options.idMid, fromLang, toLang),
			kind: "translation",
			lang: toLang,
			group: options.group ?? options.idHead + options.idMid,
			query: translationPromptParts(template, { source: fromText, sourceLang: fromLang, targetLang: toLang }),
			response: [responseMarker(toLang), toText],
		};
	};
	return [direction(pair.sourceLang, pair.source, pair.targetLang, pair.target), direction(pair.targetLang, pair.target, pair.sourceLang, pair.source)];
}

// Id tails and response markers, made once per language pair (and id part).
const tails = new Map<string, string>();
function translationTail(mid: string, from: string, to: string): string {
	const key = `${mid}\u0000${from}\u0000${to}`;
	let tail = tails.get(key);
	if (tail === undefined) {
		tail = `${mid}:translation:${from}-${to}`;
		tails.set(key, tail);
	}
	return tail;
}
const markers = new Map<string, string>();
function responseMarker(lang: string): string {
	let marker = markers.get(lang);
	if (marker === undefined) {
		marker = `${targetLanguageToken(lang)} `;
		markers.set(lang, marker);
	}
	return marker;
}
