import { basename } from "node:path";
import { ConfigError, InputError, excerpt, getLanguage, readLines } from "@transllm/core";

/** A bilingual dictionary file: MUSE (`src tgt` per line, space- or tab-separated) or TSV (`src<TAB>tgt`). */
export interface BilingualDictionary {
	path: string;
	sourceLang: string;
	targetLang: string;
}

/** A word of the lexicon with its language (LLaMAX writes `{entity}_{language}`, e.g. `hello_en`). */
export interface LexiconEntry {
	lang: string;
	word: string;
}

/**
 * The language pair of a MUSE dictionary from its file name: `en-fr.txt`, `en-th.0-5000.txt`, `en-de.tsv`.
 * Returns undefined when the name does not say.
 */
export function dictionaryLanguages(path: string): { sourceLang: string; targetLang: string } | undefined {
	const match = /^([a-z]{2,3}(?:-[A-Za-z]{4})?)-([a-z]{2,3}(?:-[A-Za-z]{4})?)(?:[._]|$)/.exec(basename(path));
	if (!match) return undefined;
	return { sourceLang: match[1] as string, targetLang: match[2] as string };
}

/**
 * LLaMAX's multilingual lexicon (`../shared/papers/002_b49e5c8fa0bdac53.txt` Sec. 2.1, "Step 1: Building
 * multilingual lexicons"): every entry of every bilingual dictionary links `{word}_{lang}` to its translation,
 * so the en-fr, en-de and en-zh dictionaries put `hello_en, bonjour_fr, hallo_de, 你好_zh` in one entry.
 * Translations are looked up 1-hop (words linked directly, LLaMAX's choice: App. F, Table 10 shows 2-hop adds
 * nothing) or 2-hop (through one intermediate word: dog_en → chien_fr → hund_de, Table 11). Words are stored
 * lower-cased, as LLaMAX lower-cases sentences before lookup.
 */
export class MultilingualLexicon {
	private readonly ids = new Map<string, number>();
	private readonly nodes: LexiconEntry[] = [];
	private readonly links: number[][] = [];
	/** Dictionary entries added (a repeated entry counts once). */
	entries = 0;

	private key(lang: string, word: string): string {
		return `${lang}\u0000${word}`;
	}

	private idOf(lang: string, word: string): number {
		const key = this.key(lang, word);
		let id = this.ids.get(key);
		if (id === undefined) {
			id = this.nodes.length;
			this.ids.set(key, id);
			this.nodes.push({ lang, word });
			this.links.push([]);
		}
		return id;
	}

	/** Links two words as translations of each other (both directions). */
	add(sourceLang: string, sourceWord: string, targetLang: string, targetWord: string): void {
		const a = this.idOf(sourceLang, sourceWord.trim().toLowerCase());
		const b = this.idOf(targetLang, targetWord.trim().toLowerCase());
		if (a === b || (this.links[a] as number[]).includes(b)) return;
		(this.links[a] as number[]).push(b);
		(this.links[b] as number[]).push(a);
		this.entries += 1;
	}

	/** Number of distinct `{word}_{lang}` entities. */
	get size(): number {
		return this.nodes.length;
	}

	/** Languages with at least one entity. */
	languages(): string[] {
		return [...new Set(this.nodes.map((node) => node.lang))].sort();
	}

	/**
	 * Translations of a word into languages other than its own, 1-hop or 2-hop, in a stable order (direct ones
	 * first). `languages` restricts the languages to choose from.
	 */
	translations(lang: string, word: string, options: { hops?: 1 | 2; languages?: ReadonlySet<string> } = {}): LexiconEntry[] {
		const hops = options.hops ?? 1;
		const start = this.ids.get(this.key(lang, word.toLowerCase()));
		if (start === undefined) return [];
		const found = new Set<number>();
		const direct = this.links[start] as number[];
		for (const id of direct) found.add(id);
		if (hops === 2) for (const id of direct) for (const next of this.links[id] as number[]) found.add(next);
		const out: LexiconEntry[] = [];
		for (const id of found) {
			const node = this.nodes[id] as LexiconEntry;
			if (node.lang === lang || (options.languages && !options.languages.has(node.lang))) continue;
			out.push(node);
		}
		return out;
	}

	/**
	 * Reads bilingual dictionaries into one lexicon. A line is `src tgt` (MUSE) or `src<TAB>tgt` (TSV, where
	 * phrases may hold spaces); blank lines and `#` comments are skipped; any other line is an error naming
	 * file:line.
	 */
	static async fromDictionaries(dictionaries: readonly BilingualDictionary[]): Promise<MultilingualLexicon> {
		if (dictionaries.length === 0) throw new ConfigError("the multilingual lexicon needs at least one bilingual dictionary");
		const lexicon = new MultilingualLexicon();
		for (const dictionary of dictionaries) {
			const sourceLang = getLanguage(dictionary.sourceLang).code;
			const targetLang = getLanguage(dictionary.targetLang).code;
			for await (const { bytes, line, tooLong } of readLines(dictionary.path)) {
				const text = bytes.toString("utf8").replace(/^\uFEFF/, "").replace(/\r$/, "");
				if (tooLong) throw new InputError("a dictionary line is too long", { file: dictionary.path, line, excerpt: excerpt(text) });
				if (text.trim() === "" || text.startsWith("#")) continue;
				const fields = text.includes("\t") ? text.split("\t").map((field) => field.trim()) : text.trim().split(/\s+/);
				if (fields.length !== 2 || fields[0] === "" || fields[1] === "") {
					throw new InputError(`a dictionary line is "source target" (MUSE) or "source<TAB>target" (TSV), found ${fields.length} fields`, {
						file: dictionary.path,
						line,
						excerpt: excerpt(text),
					});
				}
				lexicon.add(sourceLang, fields[0] as string, targetLang, fields[1] as string);
			}
		}
		return lexicon;
	}
}
