// Zero-width and invisible format characters that change bytes but not what a reader sees (ZWSP, ZWNJ, ZWJ,
// word joiner, BOM, soft hyphen). Thai web text is full of ZWSP used as a hidden word break.
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
// Punctuation (and symbols) split words: "rights," and "rights" are the same word for near-duplicate purposes.
const PUNCTUATION_OR_SPACE = /[\p{P}\p{S}\s]/u;
// PUNCTUATION_OR_SPACE as a table over the BMP: a regex replace over it cost ~12 µs per 2 KB document (most
// of normalisation), a table scan that only rewrites runs other than one plain space costs ~2 µs.
const SEPARATOR_BMP = new Uint8Array(0x10000);
for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) SEPARATOR_BMP[c] = PUNCTUATION_OR_SPACE.test(String.fromCharCode(c)) ? 1 : 0;

/** Code units of the separator at `i` (2 for an astral one), or 0 when `text[i]` is not a separator. */
function separatorWidth(text: string, i: number): number {
	const c = text.charCodeAt(i);
	if (c < 0xd800 || c > 0xdbff) return SEPARATOR_BMP[c] as number;
	const low = text.charCodeAt(i + 1);
	if (!(low >= 0xdc00 && low <= 0xdfff)) return 0;
	return PUNCTUATION_OR_SPACE.test(text.slice(i, i + 2)) ? 2 : 0;
}

/** Every run of punctuation, symbols and whitespace turned into one space (a lone space is left alone). */
function collapseSeparators(text: string): string {
	let out = "";
	let copied = 0;
	const length = text.length;
	for (let i = 0; i < length; ) {
		let width = separatorWidth(text, i);
		if (width === 0) {
			i += (text.charCodeAt(i) & 0xfc00) === 0xd800 ? 2 : 1;
			continue;
		}
		const start = i;
		while (width > 0) {
			i += width;
			width = i < length ? separatorWidth(text, i) : 0;
		}
		if (i - start === 1 && text.charCodeAt(start) === 0x20) continue;
		out += `${text.slice(copied, start)} `;
		copied = i;
	}
	return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Normalises a document before shingling: Unicode NFKC, case folding, invisible characters removed,
 * punctuation and every run of whitespace turned into a single space, trimmed. Two documents that differ only
 * in these respects get the same shingles.
 */
export function normalizeText(text: string): string {
	return collapseSeparators(text.normalize("NFKC").toLowerCase().replace(INVISIBLE, "")).trim();
}
