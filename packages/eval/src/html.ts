/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
	return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A table: header cells and rows of cells (strings are escaped; numbers printed as given). */
export function htmlTable(header: readonly string[], rows: readonly (readonly (string | number)[])[], caption?: string): string {
	const cell = (tag: string, value: string | number): string => `<${tag}>${escapeHtml(String(value))}</${tag}>`;
	return [
		"<table>",
		caption ? `<caption>${escapeHtml(caption)}</caption>` : "",
		`<thead><tr>${header.map((h) => cell("th", h)).join("")}</tr></thead>`,
		`<tbody>${rows.map((row) => `<tr>${row.map((value) => cell("td", value)).join("")}</tr>`).join("")}</tbody>`,
		"</table>",
	].join("");
}

/** A short excerpt of a text for a report (one line, at most `max` characters). */
export function shorten(text: string, max = 160): string {
	const flat = text.replace(/\s+/g, " ").trim();
	const chars = Array.from(flat);
	return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : flat;
}

/** Fixed-point with `digits` decimals (the paper's tables use two). */
export function fixed(value: number, digits = 2): string {
	return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

/** A p-value as tables print it: three significant digits, `< 0.001` below that. */
export function pValue(p: number): string {
	return p < 0.001 ? "< 0.001" : p.toPrecision(3);
}
