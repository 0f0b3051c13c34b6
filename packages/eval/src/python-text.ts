// Python's str methods that sacreBLEU relies on, with Python's definitions (the scores must equal sacreBLEU's).

/** Python's `str.isspace()` characters: what `str.split()` and `str.rstrip()` cut on (JavaScript's \s differs: it has U+FEFF, lacks U+001C–U+001F and U+0085). */
const PYTHON_WHITESPACE = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const SPLIT = new RegExp(`${PYTHON_WHITESPACE}+`, "u");
const TRAILING = new RegExp(`${PYTHON_WHITESPACE}+$`, "u");

/** Python's `str.split()` with no argument: runs of whitespace separate, no empty pieces. */
export function pythonSplit(text: string): string[] {
	return text.split(SPLIT).filter((piece) => piece !== "");
}

/** Python's `str.rstrip()`. */
export function pythonRstrip(text: string): string {
	return text.replace(TRAILING, "");
}

/** Code points (Python indexes strings by code point, JavaScript by UTF-16 unit). */
export function codePoints(text: string): string[] {
	return Array.from(text);
}
