/** A kind of span that machine translation must leave alone. */
export type ProtectedKind = "inline-code" | "url" | "email" | "latex" | "placeholder" | "identifier" | "mask-token";

/** A span of text to keep verbatim, by character offsets. */
export interface ProtectedSpan {
	start: number;
	end: number;
	kind: ProtectedKind;
}

// Patterns in priority order: where two overlap, the earlier start wins, then the longer span, then the
// earlier pattern. The paper needed GPT-4 to find "do not translate" spans because Google Translate rewrote
// variables in code (../shared/papers/000_1ce36f3811662daf.txt Sec. 3.1, "Training Data"); these rules find
// the same kinds of span without a model.
const PATTERNS: readonly (readonly [ProtectedKind, RegExp, tier: 0 | 1])[] = [
	// Our own mask tokens occurring in the source are protected too, so that restoring cannot confuse them.
	["mask-token", /⟦\s*\d+\s*⟧/gu, 0],
	["inline-code", /(`+)(?!`)[^\n]*?[^`]\1(?!`)/gu, 0],
	// Display math claims its span before anything that starts inside or before it.
	["latex", /\$\$[^$]+\$\$|\\\[[\s\S]+?\\\]|\\\([\s\S]+?\\\)/gu, 0],
	// Inline math: `$x$`; one that starts with a digit needs an operator and no English words inside ($5 and $10 is money).
	["latex", /\$(?=[^\s$\d])[^$\n]*?[^\s$\\]\$(?!\d)|\$\d(?![^$\n]*\s[A-Za-z]{3,}\s)[^$\n;]{0,40}?[=^_\\+][^$\n;]{0,40}?[^\s$]\$(?!\d)/gu, 1],
	["latex", /\\[A-Za-z]+(?:\{[^{}\n]*\}|\[[^\]\n]*\])+/gu, 1],
	["url", /\b(?:https?|ftp):\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}]|\bwww\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:\/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}])?/gu, 1],
	["email", /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/gu, 1],
	// {{name}}, {name}, {0}, ${var}, %s, %(name)s, %-5.2f, <noinput> and other <tag>s.
	["placeholder", /\{\{[^{}\n]+\}\}|\$\{[^{}\n]+\}|\{[A-Za-z0-9_.:!-]*\}|%\([A-Za-z_]\w*\)[sdifr]|%[-+ #0]*\d*(?:\.\d+)?[sdifxXeEgGcr](?![A-Za-z])|<\/?[A-Za-z][\w-]*(?:\s[^<>\n]*)?\/?>/gu, 1],
	// snake_case, camelCase, PascalCase with two humps, dotted names (os.path.join), calls (print(), len(x)).
	["identifier", /\b[A-Za-z_][A-Za-z0-9]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\([^()\s]{0,40}\)/gu, 1],
	["identifier", /\b[A-Za-z_][A-Za-z0-9]{1,}(?:\.[A-Za-z_][A-Za-z0-9_]{1,})+\b/gu, 1],
	["identifier", /\b[A-Za-z0-9]*_[A-Za-z0-9_]*[A-Za-z0-9]\b|\b_[A-Za-z0-9_]+\b/gu, 1],
	["identifier", /\b[a-z]+[A-Z][A-Za-z0-9]*\b|\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b/gu, 1],
];

// "friend(s)", "e.g(x)" are words, not calls; a call needs a name of two or more characters or empty parens.
function isWordWithParenthesis(text: string): boolean {
	return /^[A-Za-z]+\((?:s|es)\)$/.test(text);
}

/**
 * Finds the spans of `text` that must survive translation unchanged: inline code, URLs, e-mail addresses,
 * LaTeX, template placeholders and code identifiers. Spans do not overlap and are sorted. (Fenced code
 * blocks are kept out of translation whole by `segmentForTranslation`.)
 */
export function findProtectedSpans(text: string): ProtectedSpan[] {
	const candidates: (ProtectedSpan & { priority: number; tier: number })[] = [];
	PATTERNS.forEach(([kind, pattern, tier], priority) => {
		pattern.lastIndex = 0;
		for (const match of text.matchAll(pattern)) {
			const start = match.index ?? 0;
			const value = match[0];
			if (kind === "identifier" && isWordWithParenthesis(value)) continue;
			candidates.push({ start, end: start + value.length, kind, priority, tier });
		}
	});
	candidates.sort((a, b) => a.tier - b.tier || a.start - b.start || b.end - b.start - (a.end - a.start) || a.priority - b.priority);
	const spans: ProtectedSpan[] = [];
	for (const candidate of candidates) {
		if (spans.some((span) => candidate.start < span.end && span.start < candidate.end)) continue;
		spans.push({ start: candidate.start, end: candidate.end, kind: candidate.kind });
	}
	return spans.sort((a, b) => a.start - b.start);
}
