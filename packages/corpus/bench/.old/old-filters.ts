// The filters as they were before the performance work (from the sources read at 01:33 UTC), for a same-load comparison.
import { identifyLanguage, getLanguage, isKnownLanguage } from "@transllm/core";
import { DuplicateLineFilter, LengthFilter, ScriptRatioFilter, cleanCorpus, drop, roundRatio } from "../../src/index.js";

const segmenters = new Map<string, Intl.Segmenter>();
function wordSegmenter(lang: string): Intl.Segmenter {
	let s = segmenters.get(lang);
	if (!s) { s = new Intl.Segmenter(isKnownLanguage(lang) ? getLanguage(lang).bcp47 : lang, { granularity: "word" }); segmenters.set(lang, s); }
	return s;
}
function splitWords(text: string, lang: string): string[] {
	if (isKnownLanguage(lang) ? getLanguage(lang).spaceDelimited : true) return text.split(/\s+/u).filter((w) => w !== "");
	const words: string[] = [];
	for (const segment of wordSegmenter(lang).segment(text)) if (segment.isWordLike) words.push(segment.segment);
	return words;
}
class OldLanguageId { name = "language_id"; filter(d: { text: string }) { const { lang, confidence } = identifyLanguage(d.text, {}); if (lang !== "th") return drop("wrong_language", { detected: lang, confidence }); if (confidence < 0.05) return drop("low_language_confidence", { detected: lang, confidence }); return true as const; } }
class OldNgram {
	name = "ngram_repetition";
	top: [number, number][] = [[2, 0.2], [3, 0.18], [4, 0.16]];
	duplicate: [number, number][] = [[5, 0.15], [6, 0.14], [7, 0.13], [8, 0.12], [9, 0.11], [10, 0.1]];
	filter(document: { text: string }) {
		const words = splitWords(document.text, "th");
		if (words.length === 0 || words.length < 50) return true as const;
		const vocabulary = new Map<string, number>(); const ids: number[] = []; const prefix = new Float64Array(words.length + 1);
		for (let i = 0; i < words.length; i++) { const word = words[i] as string; let id = vocabulary.get(word); if (id === undefined) { id = vocabulary.size; vocabulary.set(word, id); } ids.push(id); prefix[i + 1] = (prefix[i] as number) + word.length; }
		const total = prefix[words.length] as number; if (total === 0) return true as const;
		const width = vocabulary.size > 0xffff ? 2 : 1; let code = "";
		for (const id of ids) code += width === 1 ? String.fromCharCode(id) : String.fromCharCode(id >>> 16, id & 0xffff);
		const key = (s: number, n: number) => code.substring(s * width, (s + n) * width);
		const chars = (s: number, n: number) => (prefix[s + n] as number) - (prefix[s] as number);
		for (const [n, limit] of this.top) { if (words.length < n * 2) continue; const counts = new Map<string, number>(); let best = 0; let bestChars = 0;
			for (let i = 0; i + n <= words.length; i++) { const g = key(i, n); const c = (counts.get(g) ?? 0) + 1; counts.set(g, c); const cov = chars(i, n) * c; if (c > best || (c === best && cov > bestChars)) { best = c; bestChars = cov; } }
			if (best >= 2 && bestChars / total > limit) return drop(`top_${n}_gram`, { fraction: roundRatio(bestChars / total) }); }
		for (const [n, limit] of this.duplicate) { if (words.length < n * 2) continue; const seen = new Set<string>(); let rep = 0; let i = 0;
			while (i + n <= words.length) { const g = key(i, n); if (seen.has(g)) { rep += chars(i, n); i += n; } else { seen.add(g); i += 1; } }
			if (rep / total > limit) return drop(`duplicate_${n}_grams`, { fraction: roundRatio(rep / total) }); }
		return true as const;
	}
}
interface Node { next: Map<string, Node>; word?: string }
class OldWordList {
	name = "word_list"; root: Node = { next: new Map() };
	constructor(words: string[]) { for (const w of words) { let n = this.root; for (let i = 0; i < w.length; i++) { const c = w[i] as string; let ch = n.next.get(c); if (!ch) { ch = { next: new Map() }; n.next.set(c, ch); } n = ch; } n.word = w; } }
	filter(d: { text: string }) {
		const lower = d.text.toLowerCase(); const hits: { start: number; end: number; word: string }[] = [];
		for (let start = 0; start < lower.length; start++) { let node = this.root.next.get(lower[start] as string); let end = start + 1;
			while (node) { if (node.word !== undefined) hits.push({ start, end, word: node.word }); if (end >= lower.length) break; node = node.next.get(lower[end] as string); end += 1; } }
		if (hits.length === 0) return true as const;
		const b = new Set<number>([lower.length]); for (const s of wordSegmenter("th").segment(lower)) b.add(s.index);
		const found: string[] = []; for (const h of hits) if (b.has(h.start) && b.has(h.end)) { found.push(h.word); break; }
		return found.length >= 1 ? drop("word_list", { words: found }) : true as const;
	}
}
const { inputs, outDir } = JSON.parse(process.argv[2] as string) as { inputs: string[]; outDir: string };
const filters = [new LengthFilter({ minChars: 20 }), new ScriptRatioFilter({ lang: "th" }), new OldLanguageId(), new DuplicateLineFilter(), new OldNgram(), new OldWordList(["ทาส", "การพนัน", "ยาเสพติด"].sort())];
const start = performance.now();
const summary = await cleanCorpus({ inputs, outDir, filters: filters as never, force: true, silent: true });
const seconds = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ mode: "filters-before", documents: summary.read, filtered: summary.filtered, dropped: summary.dropped, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
