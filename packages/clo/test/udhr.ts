import { udhrDeclaration } from "@transllm/udhr-text";
import type { CloSourceRecord } from "../src/index.js";

/** The articles of one UDHR translation (`en`, `sw`, `fr` …) by article number, paragraphs joined by newlines. */
export function udhrArticles(language: string): Map<number, string> {
	return new Map(udhrDeclaration(language).articles.filter((article) => article.number > 0).map((article) => [article.number, article.text]));
}

/**
 * Translated SFT-style records from the UDHR aligned by article: record k asks with article 2k−1 and answers
 * with article 2k, in English and in the target translation.
 */
export function udhrRecords(target = "sw", count = 15): CloSourceRecord[] {
	const en = udhrArticles("en");
	const t = udhrArticles(target);
	const records: CloSourceRecord[] = [];
	for (let k = 1; k <= count; k++) {
		records.push({
			id: `udhr-${k}`,
			query_en: en.get(2 * k - 1) as string,
			response_en: en.get(2 * k) as string,
			query_t: t.get(2 * k - 1) as string,
			response_t: t.get(2 * k) as string,
		});
	}
	return records;
}
