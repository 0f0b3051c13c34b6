import { getLanguage } from "@transllm/core";
import type { KdChatMessage } from "./generation-backend.js";

/**
 * The translation instruction: the first (evaluation) template of X-LLM that the paper's translation data
 * uses (../shared/papers/000_1ce36f3811662daf.txt Sec. 2.2.3, footnote 2), plus what an LLM translator must
 * be told about masks and about answering with the translation only.
 */
export function translationMessages(text: string, source: string, target: string, options: { hasMasks?: boolean } = {}): KdChatMessage[] {
	const from = getLanguage(source).englishName;
	const to = getLanguage(target).englishName;
	const lines = [`Translate the following sentences from ${from} to ${to}.`];
	if (options.hasMasks) lines.push("Copy every token of the form ⟦0⟧, ⟦1⟧, … unchanged into the translation, where it belongs.");
	lines.push(`Answer with the ${to} translation only, keeping the line breaks.`, "", text);
	return [{ role: "user", content: lines.join("\n") }];
}

const PREAMBLE = /^(?:sure|certainly|of course|okay|ok|here(?:'s| is| are)|translation|the translation)\b[^\n]*:\s*\n+/iu;

/**
 * The translation inside a chat model's answer: chat models often open with "Sure! Here is the translation:"
 * or wrap it in quotes; both are removed when the source has neither.
 */
export function extractTranslation(answer: string, source: string): string {
	let text = answer.trim();
	if (!PREAMBLE.test(source.trim())) text = text.replace(PREAMBLE, "");
	const quoted = /^"([\s\S]*)"$/u.exec(text);
	if (quoted && !/^".*"$/su.test(source.trim())) text = quoted[1] as string;
	return text.trim();
}
