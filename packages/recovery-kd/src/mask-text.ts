import { findProtectedSpans } from "./do-not-translate.js";

/**
 * How protected spans travel through a translation engine:
 * - `placeholder`: each span becomes a token `⟦n⟧` that the prompt of an LLM translator asks it to keep;
 * - `html`: the text is sent as HTML with each span inside `<span translate="no">…</span>`, the markup that
 *   Google Cloud Translation documents for text it must not translate (it needs `format: "html"`).
 */
export type MaskStyle = "placeholder" | "html";

/** A text with its protected spans masked, ready for a translation engine. */
export interface MaskedText {
	style: MaskStyle;
	/** What is sent to the engine. */
	text: string;
	/** The protected spans, in order of appearance in the source. */
	spans: string[];
}

/** The outcome of restoring the spans in a translation. */
export type UnmaskResult = { ok: true; text: string } | { ok: false; reason: string };

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", "#39": "'" };

/** Decodes the entities a translation engine returns in HTML mode (named basics and numeric references). */
export function unescapeHtml(text: string): string {
	return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[A-Za-z]+);/g, (whole, name: string) => {
		if (name.startsWith("#x")) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
		if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
		return NAMED_ENTITIES[name] ?? whole;
	});
}

const NO_TRANSLATE_OPEN = '<span translate="no">';

/** Masks the protected spans of `text` (see MaskStyle). */
export function maskText(text: string, style: MaskStyle): MaskedText {
	const spans = findProtectedSpans(text);
	const parts: string[] = [];
	let at = 0;
	const plain = (s: string): string => (style === "html" ? escapeHtml(s).replace(/\n/g, "<br>") : s);
	spans.forEach((span, index) => {
		parts.push(plain(text.slice(at, span.start)));
		const value = text.slice(span.start, span.end);
		parts.push(style === "html" ? `${NO_TRANSLATE_OPEN}${escapeHtml(value)}</span>` : `⟦${index}⟧`);
		at = span.end;
	});
	parts.push(plain(text.slice(at)));
	return { style, text: parts.join(""), spans: spans.map((span) => text.slice(span.start, span.end)) };
}

function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
	if (a.length !== b.length) return false;
	const x = [...a].sort();
	const y = [...b].sort();
	return x.every((value, i) => value === y[i]);
}

/**
 * Puts the protected spans back into a translation. Fails — never guesses — when a span is missing,
 * repeated, altered, or unknown, so that the caller can retry or fall back.
 */
export function unmaskText(translated: string, masked: MaskedText): UnmaskResult {
	if (masked.style === "placeholder") {
		const found: number[] = [];
		const text = translated.replace(/⟦\s*(\d+)\s*⟧/gu, (whole, digits: string) => {
			const index = Number(digits);
			found.push(index);
			return masked.spans[index] ?? whole;
		});
		const expected = masked.spans.map((_, i) => i);
		if (!sameMultiset(found.map(String), expected.map(String))) {
			const missing = expected.filter((i) => !found.includes(i));
			return { ok: false, reason: missing.length ? `mask ${missing.map((i) => `⟦${i}⟧`).join(", ")} lost` : `masks repeated or unknown: ${found.join(",")}` };
		}
		return { ok: true, text };
	}
	const contents: string[] = [];
	const withoutSpans = translated.replace(/<span\s+translate\s*=\s*["']?no["']?\s*>([\s\S]*?)<\/span>/giu, (_whole, inner: string) => {
		const value = unescapeHtml(inner);
		contents.push(value);
		return `\u0000${contents.length - 1}\u0000`;
	});
	if (!sameMultiset(contents, masked.spans)) return { ok: false, reason: `protected spans changed: expected ${masked.spans.length}, got ${contents.length} intact` };
	if (/<\/?span\b/i.test(withoutSpans)) return { ok: false, reason: "stray <span> markup in the translation" };
	const text = unescapeHtml(withoutSpans.replace(/<br\s*\/?>/giu, "\n")).replace(/\u0000(\d+)\u0000/g, (_w, i: string) => contents[Number(i)] ?? "");
	return { ok: true, text };
}

/** The translation without its protected spans: what the language check looks at. */
export function prose(text: string): string {
	const spans = findProtectedSpans(text);
	let out = "";
	let at = 0;
	for (const span of spans) {
		out += `${text.slice(at, span.start)} `;
		at = span.end;
	}
	return out + text.slice(at);
}
