import { configSchema } from "./config-schema.js";
import type { SchemaNode } from "./schema-walk.js";
import { typeText } from "./schema-walk.js";

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function rows(node: SchemaNode, path: string, required: readonly string[], out: string[]): void {
	for (const [key, child] of Object.entries(node.properties ?? {})) {
		const at = path ? `${path}.${key}` : key;
		const def = child.default !== undefined && !(typeof child.default === "object" && !Array.isArray(child.default)) ? `\`${JSON.stringify(child.default)}\`` : required.includes(key) ? "required" : "";
		out.push(`| \`${at}\` | ${cell(typeText(child))} | ${def} | ${cell(child.description ?? "")} |`);
		if (child.properties) rows(child, at, child.required ?? [], out);
		if (child.additionalProperties && typeof child.additionalProperties === "object" && !child.properties) {
			const inner = child.additionalProperties;
			rows(inner, `${at}.<lang>`, inner.required ?? [], out);
		}
	}
}

/** The config reference in Markdown, generated from the JSON Schema (the README's section; a test keeps it in sync). */
export function configReference(): string {
	const schema = configSchema as unknown as SchemaNode;
	const out = ["| key | type | default | what |", "| --- | --- | --- | --- |"];
	rows(schema, "", schema.required ?? [], out);
	return out.join("\n");
}

/** Replaces the text between the config-reference markers of a README. */
export function withConfigReference(readme: string): string {
	const begin = "<!-- config-reference:begin -->";
	const end = "<!-- config-reference:end -->";
	const from = readme.indexOf(begin);
	const to = readme.indexOf(end);
	if (from === -1 || to === -1) throw new Error(`the README has no ${begin} … ${end} markers`);
	return `${readme.slice(0, from + begin.length)}\n${configReference()}\n${readme.slice(to)}`;
}
