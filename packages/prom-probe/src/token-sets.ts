import { BYTE_LEVEL_ALPHABET, ConfigError, toByteLevel } from "@transllm/core";

/** What the probe needs of a tokenizer: its vocabulary and how it marks word starts and bytes. */
export interface ProbeVocabulary {
	tokenToId: ReadonlyMap<string, number>;
	/** `sentencepiece`: `▁` word marker and `<0xE0>` byte-fallback tokens (Llama-2, Mistral); `byte-level`: GPT-2 byte alphabet and `Ġ` (Llama-3). */
	family: "sentencepiece" | "byte-level";
}

/** Reads the vocabulary of a Hugging Face tokenizer.json (BPE with Metaspace/▁ or ByteLevel pre-tokenization). */
export function probeVocabulary(tokenizerJson: Record<string, unknown>): ProbeVocabulary {
	const model = tokenizerJson.model as { type?: string; vocab?: Record<string, number> } | undefined;
	if (!model?.vocab || typeof model.vocab !== "object") throw new ConfigError("tokenizer.json has no model.vocab (only BPE tokenizers are supported)");
	const tokenToId = new Map<string, number>(Object.entries(model.vocab));
	for (const added of (tokenizerJson.added_tokens as { content: string; id: number }[] | undefined) ?? []) tokenToId.set(added.content, added.id);
	const text = JSON.stringify([tokenizerJson.pre_tokenizer, tokenizerJson.decoder]);
	const family = text.includes("ByteLevel") ? "byte-level" : "sentencepiece";
	return { tokenToId, family };
}

/**
 * Wendler et al.'s token set of a word: every prefix of the word that is a vocabulary token, with and without
 * the word-start marker, plus the first byte token when the word starts with a character that byte fallback
 * spells in bytes. The probability of a language version is the sum over its set
 * (../shared/papers/003_1fd9d4be5b8f566c.txt Sec. 2.3: "following the definition by Wendler et al. (2024)").
 */
export function wordTokenSet(word: string, vocabulary: ProbeVocabulary): number[] {
	const ids = new Set<number>();
	const characters = [...word];
	const marker = vocabulary.family === "sentencepiece" ? "▁" : toByteLevel(" ");
	const spell = vocabulary.family === "sentencepiece" ? (s: string) => s : toByteLevel;
	for (let end = 1; end <= characters.length; end++) {
		const prefix = characters.slice(0, end).join("");
		for (const candidate of [spell(prefix), marker + spell(prefix)]) {
			const id = vocabulary.tokenToId.get(candidate);
			if (id !== undefined) ids.add(id);
		}
	}
	const first = characters[0];
	if (first !== undefined && Buffer.byteLength(first, "utf8") > 1) {
		const firstByte = Buffer.from(first, "utf8")[0] as number;
		const byteToken = vocabulary.family === "sentencepiece" ? `<0x${firstByte.toString(16).toUpperCase().padStart(2, "0")}>` : BYTE_LEVEL_ALPHABET[firstByte];
		const id = byteToken === undefined ? undefined : vocabulary.tokenToId.get(byteToken);
		if (id !== undefined) ids.add(id);
	}
	return [...ids].sort((a, b) => a - b);
}

/** Why an example cannot be probed, or undefined when it can. */
export type SkipReason = "sets-intersect" | "english-in-target" | "no-english-token" | "no-target-token";

/**
 * Wendler's filter: an example is skipped when its English and target sets share a token, or when the English
 * word is contained in the target word (a loanword would count twice). Empty sets cannot be measured.
 */
export function skipReason(en: string, target: string, enSet: readonly number[], targetSet: readonly number[]): SkipReason | undefined {
	if (enSet.length === 0) return "no-english-token";
	if (targetSet.length === 0) return "no-target-token";
	if (target.toLowerCase().includes(en.toLowerCase())) return "english-in-target";
	const english = new Set(enSet);
	if (targetSet.some((id) => english.has(id))) return "sets-intersect";
	return undefined;
}
