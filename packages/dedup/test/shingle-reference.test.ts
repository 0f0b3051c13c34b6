import { describe, expect, it } from "vitest";
import { getLanguage } from "@transllm/core";
import { Shingler, murmur3Bytes, normalizeText } from "../src/index.js";
import { udhrWords } from "../bench/generate-corpus.js";

// The shingling of release 0.1.0, kept verbatim as the reference: the table-driven normalisation and the
// run-by-run segmentation must give exactly the same shingle hashes, or indexes built before no longer match.
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
const PUNCTUATION_OR_SPACE = /[\p{P}\p{S}\s]+/gu;
const UNSPACED_SCRIPT = /[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
const referenceNormalize = (text: string): string => text.normalize("NFKC").toLowerCase().replace(INVISIBLE, "").replace(PUNCTUATION_OR_SPACE, " ").trim();
function referenceShingles(text: string, ngram: number, seed: number, lang?: string): number[] {
	const language = lang === undefined ? undefined : getLanguage(lang);
	const normalized = referenceNormalize(text);
	let canonical = normalized;
	if ((language !== undefined && !language.spaceDelimited) || UNSPACED_SCRIPT.test(normalized)) {
		const words: string[] = [];
		for (const segment of new Intl.Segmenter(language?.bcp47, { granularity: "word" }).segment(normalized)) if (segment.isWordLike) words.push(segment.segment);
		canonical = words.join(" ");
	}
	if (canonical.length === 0) return [];
	const words = canonical.split(" ");
	const hashes: number[] = [];
	for (let i = 0; i + ngram <= words.length; i++) {
		const bytes = new TextEncoder().encode(words.slice(i, i + ngram).join(" "));
		hashes.push(murmur3Bytes(bytes, 0, bytes.length, seed));
	}
	return hashes;
}

describe("Shingler against the 0.1.0 reference", () => {
	const thai = udhrWords("th");
	const english = udhrWords("en");
	const texts: string[] = [
		thai.slice(0, 400).join(""),
		thai.slice(0, 400).join(" "),
		english.slice(0, 400).join(" "),
		// Mixed: Thai phrases with English words, digits, Latin-1 and punctuation between them.
		thai.slice(0, 300).map((word, i) => (i % 7 === 0 ? ` ${english[i]}, ` : i % 11 === 0 ? ` café ${i} ` : word)).join(""),
		// Edge cases of the run splitting: a token starting with a Thai vowel mark or a format character,
		// emoji and astral letters, lone surrogates, CJK, kana, Arabic with a direction mark, no-break spaces.
		`ไทย \u0e31กขค english ${thai.slice(0, 30).join("")}`,
		`abc \u200eعربي ${thai.slice(0, 30).join("")} \u200fxyz`,
		`😀 word😀word 𝐀𝐁𝐂 ${thai.slice(0, 20).join("")} \ud800 lone \udc00 end`,
		`東京都に住んでいます ｶﾀｶﾅ and ${thai.slice(0, 20).join("")}\u00a0\u3000ok`,
		"english \u0e31กขค ไทย",
		"abc123 123abc x1y2 ไทยabc123ไทย 2024 ปี 2567 ñandú",
		"abc \u0301abc ไทย x \u0001y ab \ue000cd",
		"straße ÉCOLE naïve œuvre ﬁne ½ x² ①",
		"",
		" ,. ",
	];
	for (const lang of [undefined, "th", "en"]) {
		it(`should give exactly the 0.1.0 shingle hashes on UDHR Thai, English and mixed text (lang ${lang ?? "unset"})`, () => {
			for (const ngram of [1, 5]) {
				const shingler = new Shingler({ ngram, lang, seed: 7, unit: "word" });
				for (const text of texts) {
					const { shingles } = shingler.shingle(text);
					expect(Array.from(shingler.hashes.subarray(0, shingles)), JSON.stringify(text.slice(0, 40))).toEqual(referenceShingles(text, ngram, 7, lang));
				}
			}
		});
	}
	it("should normalise every code point alone and between words exactly as the 0.1.0 regex did", () => {
		let differing = 0;
		for (let c = 0; c < 0x110000; c += c < 0x10000 ? 1 : 61) {
			const ch = String.fromCodePoint(c);
			for (const text of [`a${ch}b`, `a ${ch}${ch} b`, ch]) if (normalizeText(text) !== referenceNormalize(text)) differing += 1;
		}
		expect(differing).toBe(0);
	});
});
