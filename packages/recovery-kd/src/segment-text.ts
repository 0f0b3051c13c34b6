/** A piece of a text: kept as it is, or sent to translation. Joining all pieces gives the text back. */
export interface TextUnit {
	translate: boolean;
	text: string;
}

/**
 * How a translation engine takes text: `line` sends each line's words alone (list markers, heading marks and
 * indentation stay outside: Google in HTML mode does not keep newlines), `block` sends each run of prose lines
 * between code blocks as one text (an LLM translator keeps the lines and gets the context).
 */
export type Granularity = "line" | "block";

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const LINE_PREFIX = /^(\s*(?:(?:[-*+]|\d+[.)])\s+|#{1,6}\s+|>\s?)*)/;
const LETTER = /\p{L}/u;

function splitLines(text: string): string[] {
	const lines = text.split(/(?<=\n)/);
	return lines.length === 1 && lines[0] === "" ? [] : lines;
}

function proseUnits(lines: string[], granularity: Granularity, out: TextUnit[]): void {
	if (granularity === "block") {
		const block = lines.join("");
		const match = /^(\s*)([\s\S]*?)(\s*)$/.exec(block);
		const [lead, body, trail] = [match?.[1] ?? "", match?.[2] ?? "", match?.[3] ?? ""];
		if (lead) out.push({ translate: false, text: lead });
		if (body) out.push({ translate: LETTER.test(body), text: body });
		if (trail) out.push({ translate: false, text: trail });
		return;
	}
	for (const line of lines) {
		const prefix = LINE_PREFIX.exec(line)?.[1] ?? "";
		const rest = line.slice(prefix.length);
		const body = rest.replace(/\s+$/, "");
		const trail = rest.slice(body.length);
		if (prefix) out.push({ translate: false, text: prefix });
		if (body) out.push({ translate: LETTER.test(body), text: body });
		if (trail) out.push({ translate: false, text: trail });
	}
}

/**
 * Splits a text (Markdown as chat models write it) into units: fenced code blocks are never translated (the
 * paper saw Google Translate rewrite code: Sec. 3.1), nor are lines without letters; the rest is prose, by
 * line or by block. Inline spans (code, URLs, LaTeX …) are masked later, inside the prose units.
 */
export function segmentForTranslation(text: string, granularity: Granularity): TextUnit[] {
	const out: TextUnit[] = [];
	let prose: string[] = [];
	let fence: string | undefined;
	let code: string[] = [];
	const flushProse = (): void => {
		if (prose.length) proseUnits(prose, granularity, out);
		prose = [];
	};
	for (const line of splitLines(text)) {
		const marker = FENCE.exec(line)?.[1];
		if (fence === undefined) {
			if (marker) {
				flushProse();
				fence = marker;
				code = [line];
			} else prose.push(line);
		} else {
			code.push(line);
			if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
				out.push({ translate: false, text: code.join("") });
				fence = undefined;
				code = [];
			}
		}
	}
	// An unclosed fence (a truncated answer) is code to its end.
	if (fence !== undefined) out.push({ translate: false, text: code.join("") });
	flushProse();
	return out;
}
