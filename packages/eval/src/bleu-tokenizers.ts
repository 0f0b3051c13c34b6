import { ConfigError } from "@transllm/core";
import { codePoints, pythonSplit } from "./python-text.js";

/**
 * The BLEU tokenizers of sacreBLEU 2.x that need no model file: `13a` (mteval-v13a, sacreBLEU's default and the
 * paper's: App. A.4.2 quotes "tok:13a"), `char` (every character a token: for Thai, which writes no spaces between
 * words) and `none`. `flores200` (SentencePiece) needs a model download and is not offered.
 */
export type BleuTokenizerName = "13a" | "char" | "none";

export const BLEU_TOKENIZERS: readonly BleuTokenizerName[] = ["13a", "char", "none"];

// sacrebleu/tokenizers/tokenizer_re.py, in order.
const POST_TOKENIZER: [RegExp, string][] = [
	// Punctuation, except the apostrophe.
	[/([{-~[-` -&(-+:-@/])/g, " $1 "],
	// Period and comma unless preceded by a digit …
	[/([^0-9])([.,])/g, "$1 $2 "],
	// … or followed by one.
	[/([.,])([^0-9])/g, " $1 $2"],
	// A dash after a digit.
	[/([0-9])(-)/g, "$1 $2 "],
];

/** sacreBLEU's `Tokenizer13a` (sacrebleu/tokenizers/tokenizer_13a.py). */
export function tokenize13a(line: string): string {
	let text = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
	if (text.includes("&")) text = text.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
	text = ` ${text} `;
	for (const [pattern, replacement] of POST_TOKENIZER) text = text.replace(pattern, replacement);
	return pythonSplit(text).join(" ");
}

/** sacreBLEU's `TokenizerChar`: every code point, spaces included, joined by spaces. */
export function tokenizeChar(line: string): string {
	return codePoints(line).join(" ");
}

export function bleuTokenizer(name: string): (line: string) => string {
	if (name === "13a") return tokenize13a;
	if (name === "char") return tokenizeChar;
	if (name === "none") return (line) => line;
	throw new ConfigError(`unknown BLEU tokenizer "${name}": choose ${BLEU_TOKENIZERS.join(", ")}`);
}
