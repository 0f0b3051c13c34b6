import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** One article of the declaration (number 0 is the preamble). */
export interface UdhrArticle {
	number: number;
	paragraphs: string[];
	text: string;
}

export interface UdhrDeclaration {
	/** The UDHR file code (e.g. `tha`, `cmn_hans`). */
	code: string;
	title: string;
	articles: UdhrArticle[];
}

// transllm language code → the UDHR declaration used for it (the most standard variant where several exist).
const DECLARATION_FOR: Record<string, string> = {
	en: "eng",
	th: "tha",
	ar: "arb",
	pt: "por_BR",
	te: "tel",
	tr: "tur",
	bn: "ben",
	el: "ell_monotonic",
	ml: "mal",
	mr: "mar",
	sw: "swh",
	ta: "tam",
	zh: "cmn_hans",
	de: "deu_1996",
	ko: "kor",
	id: "ind",
	yo: "yor",
	ja: "jpn",
	vi: "vie",
	hi: "hin",
	ru: "rus",
	fr: "fra",
	es: "spa",
	lo: "lao",
	km: "khm",
	my: "mya",
};

const declarationDirectory = join(dirname(createRequire(import.meta.url).resolve("udhr")), "declaration");

function decodeEntities(text: string): string {
	return text
		.replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
		.replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number.parseInt(dec, 10)))
		.replace(/&quot;/g, '"')
		.replace(/&apos;/g, "'")
		.replace(/&lt;/g, "<")
		.replace(/&gt;/g, ">")
		.replace(/&amp;/g, "&");
}

function paragraphsOf(html: string): string[] {
	return [...html.matchAll(/<(?:p|li)[^>]*>([\s\S]*?)<\/(?:p|li)>/g)]
		.map((m) => decodeEntities((m[1] ?? "").replace(/<[^>]+>/g, "")).replace(/\s+/g, " ").trim())
		.filter(Boolean);
}

const cache = new Map<string, UdhrDeclaration>();

/** The declaration for a transllm language code (`th`) or a UDHR file code (`tha2`), split into articles. */
export function udhrDeclaration(language: string): UdhrDeclaration {
	const code = DECLARATION_FOR[language] ?? language;
	const cached = cache.get(code);
	if (cached) return cached;
	const html = readFileSync(join(declarationDirectory, `${code}.html`), "utf8");
	const title = decodeEntities(/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? "").trim();
	const articles: UdhrArticle[] = [];
	const preamble = /<header>([\s\S]*?)<\/header>/.exec(html)?.[1];
	if (preamble) {
		const paragraphs = paragraphsOf(preamble);
		articles.push({ number: 0, paragraphs, text: paragraphs.join("\n") });
	}
	for (const match of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
		const paragraphs = paragraphsOf(match[2] ?? "");
		articles.push({ number: Number(match[1]), paragraphs, text: paragraphs.join("\n") });
	}
	const declaration = { code, title, articles };
	cache.set(code, declaration);
	return declaration;
}

/** Articles of two languages paired by article number (articles missing on either side are left out). */
export function alignedArticles(languageA: string, languageB: string): { number: number; a: string; b: string }[] {
	const b = new Map(udhrDeclaration(languageB).articles.map((article) => [article.number, article.text]));
	return udhrDeclaration(languageA)
		.articles.filter((article) => article.text && b.get(article.number))
		.map((article) => ({ number: article.number, a: article.text, b: b.get(article.number) as string }));
}

/** Paragraphs of the declaration (preamble and articles), each a sentence-sized piece of real text. */
export function udhrParagraphs(language: string): string[] {
	return udhrDeclaration(language).articles.flatMap((article) => article.paragraphs);
}
