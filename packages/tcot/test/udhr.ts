import { udhrDeclaration } from "@transllm/udhr-text";

/** Real text for the tests: UDHR article number → its paragraphs (and list items), in order; the preamble is left out. */
export function udhrArticles(code: string): Map<number, string[]> {
	return new Map(udhrDeclaration(code).articles.filter((article) => article.number > 0).map((article) => [article.number, article.paragraphs]));
}

/** English and Thai UDHR articles aligned by number: [number, English text, Thai text]. */
export function alignedArticles(target = "tha2"): [number, string, string][] {
	const other = udhrArticles(target);
	return [...udhrArticles("eng")].flatMap(([number, paragraphs]) => {
		const translated = other.get(number);
		return translated ? [[number, paragraphs.join("\n"), translated.join("\n")] as [number, string, string]] : [];
	});
}
