import { ConfigError, InputError } from "@transllm/core";
import type { SeededRng } from "@transllm/core";
import { normalizeLanguage, tcotSpecialTokens, targetLanguageToken } from "./special-tokens.js";
import { instancePart } from "./training-instance.js";
import type { InstanceOptions, TrainingInstance } from "./training-instance.js";
import { defaultTranslationTemplates, renderTranslationPrompt } from "./translation-templates.js";
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

function templatesIn(templates: readonly TranslationTemplate[], lang: string): readonly TranslationTemplate[] {
	const own = templates.filter((template) => template.lang === lang);
	if (own.length > 0) return own;
	const english = templates.filter((template) => template.lang === "en");
	if (english.length === 0) throw new ConfigError(`no translation template in ${lang} and no English template to fall back on`);
	return english;
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
	const sourceLang = normalizeLanguage(pair.sourceLang);
	const targetLang = normalizeLanguage(pair.targetLang);
	if (sourceLang === targetLang) {
		throw new InputError(`pair ${JSON.stringify(options.id)}: source and target language are both ${sourceLang}`, { ...options.origin, field: "targetLang" });
	}
	const tokens = options.guardTokens ?? tcotSpecialTokens([sourceLang, targetLang]);
	const source = instancePart(pair.source, "source", tokens, { ...options, record: options.id });
	const target = instancePart(pair.target, "target", tokens, { ...options, record: options.id });
	const templates = options.templates ?? defaultTranslationTemplates();
	const choice = options.instructionLanguage ?? "source";
	const direction = (fromLang: string, fromText: string, toLang: string, toText: string): TrainingInstance => {
		const template = options.rng.pick(templatesIn(templates, instructionLanguageFor(choice, fromLang, toLang, options.rng)));
		return {
			id: `${options.id}:translation:${fromLang}-${toLang}`,
			kind: "translation",
			lang: toLang,
			query: renderTranslationPrompt(template, { source: fromText, sourceLang: fromLang, targetLang: toLang }),
			response: `${targetLanguageToken(toLang)} ${toText}`,
			group: options.group ?? options.id,
		};
	};
	return [direction(sourceLang, source, targetLang, target), direction(targetLang, target, sourceLang, source)];
}
