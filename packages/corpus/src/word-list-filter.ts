import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigError, InputError, segmentText } from "@transllm/core";
import type { Filter, FilterVerdict } from "./filter.js";
import type { FilterSpec } from "./filter-spec.js";
import { drop } from "./filter.js";
import { sharedBoundaries } from "./split-words.js";

interface TrieNode {
	/** Children by UTF-16 code unit (numbers: a one-character string of a Thai letter would be allocated per lookup). */
	next: Map<number, TrieNode>;
	/** The list entry that ends here. */
	word?: string;
}

export interface WordListFilterParams {
	/** The words and phrases (case-insensitive). */
	words: Iterable<string>;
	/** Language of the documents: decides word boundaries (`Intl.Segmenter`, dictionary-based for Thai). */
	lang: string;
	/** Drop a document once it holds this many matches (default 1). */
	threshold?: number;
	/** Filter name (default `word_list`). */
	name?: string;
}

/**
 * Drops documents that contain a listed word as a whole word: TransLLM filters its Thai/Arabic pre-training
 * data "using the sensitive word list" (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 3.1). Occurrences are
 * found with a character trie; one counts only when it starts and ends on a word boundary of `Intl.Segmenter`,
 * so `ass` never matches inside `class`, and Thai, written without spaces, gets the same whole-word semantics
 * from ICU's dictionary segmentation. Documents without any substring hit are never segmented (the common case).
 */
export class WordListFilter implements Filter<{ text: string }> {
	readonly name: string;
	readonly #root: TrieNode = { next: new Map() };
	readonly #words: string[];
	private readonly threshold: number;
	private readonly lang: string;
	readonly size: number;
	/** SHA-256 of the sorted list: part of a run's configuration, so that resuming with another list is refused. */
	readonly digest: string;

	constructor(params: WordListFilterParams) {
		this.name = params.name ?? "word_list";
		this.lang = params.lang;
		this.threshold = params.threshold ?? 1;
		if (!Number.isInteger(this.threshold) || this.threshold < 1) throw new ConfigError(`word-list threshold must be an integer ≥ 1, got ${this.threshold}`);
		let size = 0;
		const words = [...new Set([...params.words].map((raw) => raw.trim().toLowerCase()).filter((word) => word !== ""))].sort();
		this.#words = words;
		this.digest = createHash("sha256").update(words.join("\n")).digest("hex");
		for (const word of words) {
			let node = this.#root;
			// UTF-16 code units, as the scan in `matches` reads them.
			for (let i = 0; i < word.length; i++) {
				const char = word.charCodeAt(i);
				let child = node.next.get(char);
				if (!child) {
					child = { next: new Map() };
					node.next.set(char, child);
				}
				node = child;
			}
			size += 1;
			node.word = word;
		}
		this.size = size;
	}

	/** Whole-word matches of listed words in `text`, in order, at most `limit`. */
	matches(text: string, limit = Number.POSITIVE_INFINITY): string[] {
		const lower = text.toLowerCase();
		const hits: { start: number; end: number; word: string }[] = [];
		const root = this.#root.next;
		for (let start = 0; start < lower.length; start++) {
			let node = root.get(lower.charCodeAt(start));
			let end = start + 1;
			while (node) {
				if (node.word !== undefined) hits.push({ start, end, word: node.word });
				if (end >= lower.length) break;
				node = node.next.get(lower.charCodeAt(end));
				end += 1;
			}
		}
		if (hits.length === 0) return [];
		// Lower-casing rarely changes a text (never a Thai one): then its segmentation is the one the other filters share.
		let boundaries: Set<number>;
		if (lower === text) boundaries = new Set(sharedBoundaries(text, this.lang));
		else {
			boundaries = new Set<number>([lower.length]);
			for (const segment of segmentText(lower, this.lang)) boundaries.add(segment.index);
		}
		const found: string[] = [];
		for (const hit of hits) {
			if (boundaries.has(hit.start) && boundaries.has(hit.end)) {
				found.push(hit.word);
				if (found.length >= limit) break;
			}
		}
		return found;
	}

	/** This filter as data (`FilterSpec`), to build it again in a filter worker. */
	spec(): FilterSpec {
		return { kind: "word_list", params: { words: this.#words, lang: this.lang, threshold: this.threshold, name: this.name } };
	}

	filter(document: { text: string }): FilterVerdict {
		const found = this.matches(document.text, this.threshold);
		return found.length >= this.threshold ? drop("word_list", { words: found }) : true;
	}
}

/** Reads word-list files: one word or phrase per line; blank lines and lines starting with `#` are ignored. */
export async function loadWordLists(paths: readonly string[]): Promise<string[]> {
	const words: string[] = [];
	for (const path of paths) {
		let text: string;
		try {
			text = await readFile(path, "utf8");
		} catch (error) {
			throw new InputError(`cannot read word list: ${(error as Error).message}`, { file: path }, { cause: error });
		}
		for (const line of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
			const word = line.trim();
			if (word !== "" && !word.startsWith("#")) words.push(word);
		}
	}
	return words;
}
