import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SeededRng, TransllmError } from "@transllm/core";
import {
	MinHashLSH,
	MinHashSigner,
	MinHasher,
	Shingler,
	decodeSignatureHeader,
	encodeSignatureHeader,
	estimateJaccard,
	exactJaccard,
	murmur3Bytes,
	normalizeText,
	planBands,
	radixSortRuns,
	sCurve,
	uniqueSorted,
} from "../src/index.js";
import { jaccardOfSets, outOfDictionaryThaiWords, shingleStrings, udhrWords } from "../bench/generate-corpus.js";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("murmur3Bytes", () => {
	it("should match the reference MurmurHash3 x86-32 vectors", () => {
		expect(murmur3Bytes(utf8(""), 0, 0, 0)).toBe(0);
		expect(murmur3Bytes(utf8(""), 0, 0, 1)).toBe(0x514e28b7);
		expect(murmur3Bytes(utf8("hello"), 0, 5, 0)).toBe(613153351);
		expect(murmur3Bytes(utf8("The quick brown fox jumps over the lazy dog"), 0, 43, 0)).toBe(0x2e4ff723);
	});
});

describe("normalizeText", () => {
	it("should apply NFKC, case folding, and drop zero-width characters and punctuation", () => {
		expect(normalizeText("  Ｈｅｌｌｏ,\u200b WORLD!\n\tagain ")).toBe("hello world again");
		expect(normalizeText("สวัส\u200bดี")).toBe("สวัสดี");
	});
});

describe("Shingler", () => {
	const thai = udhrWords("th").slice(0, 120);
	it("should segment Thai words with Intl.Segmenter (whitespace shingling finds none)", () => {
		const text = thai.join("");
		const shingler = new Shingler({ ngram: 5, unit: "word" });
		const { shingles, units } = shingler.shingle(text);
		expect(units).toBeGreaterThan(80);
		expect(shingles).toBe(units - 4);
		// Whitespace splitting would see one "word" and no 5-gram at all.
		expect(text.split(" ").length).toBeLessThan(5);
	});
	it("should give a one-word Thai edit a high Jaccard, and report short documents", () => {
		const shingler = new Shingler({ ngram: 5, lang: "th", unit: "word" });
		const a = thai.join("");
		const b = [...thai.slice(0, 60), "แมว", ...thai.slice(61)].join("");
		expect(jaccardOfSets(shingleStrings(a, shingler), shingleStrings(b, shingler))).toBeGreaterThan(0.85);
		expect(shingler.shingle("สวัสดีครับ")).toEqual({ shingles: 0, units: 2 });
		expect(shingler.shingle(" ,. ")).toEqual({ shingles: 0, units: 0 });
	});
	it("should hash the same shingle the same way whatever the spacing, case or punctuation", () => {
		const shingler = new Shingler({ ngram: 3 });
		shingler.shingle("One two, THREE four");
		const first = Array.from(shingler.hashes.subarray(0, 2));
		shingler.shingle("one   two three\nfour!");
		expect(Array.from(shingler.hashes.subarray(0, 2))).toEqual(first);
		// word shingle = MurmurHash3 of the UTF-8 words joined by one space
		expect(first[0]).toBe(murmur3Bytes(utf8("one two three"), 0, 13, 0));
	});
	it("should shingle words, and characters of scripts without spaces, by default (auto), as the string ground truth does", () => {
		const shingler = new Shingler({ ngram: 5, seed: 3 });
		const english = udhrWords("en").slice(0, 40).join(" ");
		const texts = [
			english,
			thai.join(""),
			thai.slice(0, 60).join(" "),
			`${thai.slice(0, 20).join("")} Human Rights, ${thai.slice(20, 40).join("")} 1948 café ไทยabc123ไทย`,
			`東京都に住んでいます ｶﾀｶﾅ and 𠀋𠀌 ${udhrWords("zh").slice(0, 30).join("")}`,
			`😀 word😀word \u0e31กขค ${udhrWords("km").slice(0, 20).join("")} ${udhrWords("lo").slice(0, 20).join(" ")}`,
		];
		for (const text of texts) {
			const { shingles } = shingler.shingle(text);
			const ours = [...new Set(shingler.hashes.subarray(0, shingles))].sort((a, b) => a - b);
			const truth = [...shingleStrings(text, shingler)].map((shingle) => murmur3Bytes(utf8(shingle), 0, utf8(shingle).length, 3)).sort((a, b) => a - b);
			expect(ours, text.slice(0, 30)).toEqual(truth);
		}
		// English is word 5-grams, the same hashes as --unit word.
		const word = new Shingler({ ngram: 5, seed: 3, unit: "word" });
		const count = word.shingle(english).shingles;
		expect(Array.from(shingler.hashes.subarray(0, shingler.shingle(english).shingles))).toEqual(Array.from(word.hashes.subarray(0, count)));
		// Thai is character 5-grams of the text without its spaces: phrase spacing does not matter.
		const thaiOnly = thai.filter((word) => /^[\u0e00-\u0e7f]+$/.test(word)).join(" ");
		expect(shingler.shingle(thaiOnly).shingles).toBe([...normalizeText(thaiOnly).replaceAll(" ", "")].length - 4);
	});
	it("should keep a small edit of out-of-dictionary Thai similar by default, where ICU words are unstable", () => {
		const words = outOfDictionaryThaiWords(400, "test").slice(0, 150);
		const a = words.join("");
		const b = words.map((word, i) => (i % 25 === 7 ? (words[(i + 200) % words.length] as string) : word)).join(""); // 4% of words edited
		const auto = new Shingler({ ngram: 5 });
		const icu = new Shingler({ ngram: 5, lang: "th", unit: "word" });
		const jAuto = jaccardOfSets(shingleStrings(a, auto), shingleStrings(b, auto));
		const jIcu = jaccardOfSets(shingleStrings(a, icu), shingleStrings(b, icu));
		// A near-duplicate at J ≥ 0.8 by default; ICU's words put it below the threshold.
		expect(jAuto).toBeGreaterThan(0.85);
		expect(jIcu).toBeLessThan(0.8);
	});
	it("should make character n-grams on request", () => {
		const shingler = new Shingler({ ngram: 3, unit: "char" });
		expect(shingler.shingle("abcde").shingles).toBe(3);
		expect(shingler.shingle("สวัสดี").shingles).toBe(4);
	});
});

describe("MinHasher", () => {
	const rng = new SeededRng("minhash-test");
	const sets = (overlap: number): [Uint32Array, Uint32Array] => {
		const shared = Array.from({ length: overlap }, () => rng.nextUint32());
		const a = Uint32Array.from([...shared, ...Array.from({ length: 400 - overlap }, () => rng.nextUint32())]);
		const b = Uint32Array.from([...shared, ...Array.from({ length: 400 - overlap }, () => rng.nextUint32())]);
		return [a, b];
	};
	for (const scheme of ["oph", "kperm"] as const) {
		it(`should estimate Jaccard within sampling error (${scheme})`, () => {
			const hasher = new MinHasher({ numPerm: 256, scheme });
			for (const overlap of [100, 250, 360]) {
				const [a, b] = sets(overlap);
				const sa = new Uint32Array(256);
				const sb = new Uint32Array(256);
				hasher.signature(a, a.length, sa);
				hasher.signature(b, b.length, sb);
				const exact = exactJaccard(a.slice().sort(), b.slice().sort());
				expect(Math.abs(estimateJaccard(sa, sb) - exact)).toBeLessThan(0.1);
			}
		});
	}
	it("should compute (a·x + b) mod (2^31 − 1) exactly (checked with BigInt)", () => {
		const hasher = new MinHasher({ numPerm: 8, scheme: "kperm", seed: 7 });
		const internal = hasher as unknown as { a: Float64Array; b: Float64Array };
		const p = 2147483647n;
		for (const x of [0, 1, 2147483646, 2147483647, 4294967295, 123456789, 3000000000]) {
			const signature = new Uint32Array(8);
			hasher.signature(Uint32Array.of(x), 1, signature);
			for (let i = 0; i < 8; i++) {
				const expected = (BigInt(internal.a[i] as number) * (BigInt(x) % p) + BigInt(internal.b[i] as number)) % p;
				expect(signature[i]).toBe(Number(expected));
			}
		}
	});
	it("should densify every empty one-permutation bin", () => {
		const hasher = new MinHasher({ numPerm: 128 });
		const signature = new Uint32Array(128);
		hasher.signature(Uint32Array.of(5, 999999999), 2, signature);
		expect(new Set(signature)).toEqual(new Set([5, 999999999]));
	});
});

describe("planBands", () => {
	it("should reproduce datasketch's 9 × 13 for threshold 0.8, 128 permutations and equal weights", () => {
		const plan = planBands({ threshold: 0.8, numPerm: 128, falseNegativeWeight: 0.5 });
		expect([plan.bands, plan.rows]).toEqual([9, 13]);
		expect(plan.candidateProbabilityAtThreshold).toBeLessThan(0.45);
	});
	it("should lean on recall by default (candidates are verified)", () => {
		const plan = planBands();
		expect(plan.bands * plan.rows).toBeLessThanOrEqual(128);
		expect(plan.candidateProbabilityAtThreshold).toBeGreaterThan(0.97);
		const curve = sCurve(plan.bands, plan.rows);
		for (let i = 1; i < curve.length; i++) expect(curve[i]?.probability).toBeGreaterThanOrEqual(curve[i - 1]?.probability as number);
	});
	it("should reject a threshold outside (0, 1)", () => {
		expect(() => planBands({ threshold: 1.2 })).toThrow(/threshold/);
	});
});

describe("signature file header", () => {
	it("should round-trip the parameters and refuse other versions", () => {
		const params = { numPerm: 128, ngram: 5, seed: 42, scheme: "kperm" as const, unit: "word" as const };
		const header = encodeSignatureHeader(params, 1234);
		expect(decodeSignatureHeader(header, "x.sig")).toEqual({ ...params, count: 1234 });
		header[4] = 9;
		expect(() => decodeSignatureHeader(header, "x.sig")).toThrow(/version 9/);
		expect(() => decodeSignatureHeader(new Uint8Array(64), "y.sig")).toThrow(TransllmError);
	});
});

describe("radixSortRuns and uniqueSorted", () => {
	it("should sort (keyHigh, keyLow, doc) records like a comparator sort, stably", () => {
		const rng = new SeededRng("radix");
		const count = 5000;
		const records = new Uint32Array(count * 3);
		for (let i = 0; i < count; i++) {
			records[i * 3] = rng.int(4) * 0x40000000 + rng.int(3);
			records[i * 3 + 1] = rng.bernoulli(0.5) ? rng.nextUint32() : rng.int(5);
			records[i * 3 + 2] = i;
		}
		const expected = Array.from({ length: count }, (_, i) => Array.from(records.subarray(i * 3, i * 3 + 3))).sort((x, y) => (x[0] as number) - (y[0] as number) || (x[1] as number) - (y[1] as number) || (x[2] as number) - (y[2] as number));
		radixSortRuns(records, count, new Uint32Array(count * 3));
		expect(Array.from({ length: count }, (_, i) => Array.from(records.subarray(i * 3, i * 3 + 3)))).toEqual(expected);
		const values = Uint32Array.of(5, 3, 5, 1, 3);
		expect(Array.from(values.subarray(0, uniqueSorted(values, 5)))).toEqual([1, 3, 5]);
	});
});

describe("MinHashLSH", () => {
	const signer = new MinHashSigner({ numPerm: 128 });
	const words = udhrWords("en");
	const doc = (start: number): string[] => words.slice(start, start + 300);
	const base = doc(0);
	const near = [...base];
	near[150] = "zebra";
	const other = doc(600);
	const sign = (list: string[]): Uint32Array => signer.sign(list.join(" ")) as Uint32Array;

	it("should insert, query, remove, save, load and merge", async () => {
		const index = new MinHashLSH({ threshold: 0.8, numPerm: 128 });
		index.insert("base", sign(base));
		index.insert("other", sign(other));
		expect(index.query(sign(near)).map((match) => match.id)).toEqual(["base"]);
		expect(index.query(sign(doc(1200)))).toEqual([]); // unseen bands: no throw, no match
		expect(() => index.insert("base", sign(base))).toThrow(/already/);
		const path = `${process.env.TMPDIR ?? "/tmp"}/transllm-lsh-${process.pid}.idx`;
		await index.save(path);
		const loaded = await MinHashLSH.load(path);
		expect(loaded.size).toBe(2);
		expect(loaded.query(sign(near))[0]?.id).toBe("base");
		expect(loaded.remove("base")).toBe(true);
		expect(loaded.query(sign(near))).toEqual([]);
		const shard = new MinHashLSH({ threshold: 0.8, numPerm: 128 });
		shard.insert("near", sign(near));
		loaded.merge(shard);
		expect(loaded.query(sign(base)).map((match) => match.id)).toEqual(["near"]);
		expect(() => loaded.merge(new MinHashLSH({ numPerm: 64 }))).toThrow(/merge/);
		// A truncated or corrupt file is a clear format error naming the file, whatever byte it stops at.
		const saved = readFileSync(path);
		for (const cut of [saved.length - 2, saved.length - 4, 30]) {
			writeFileSync(path, saved.subarray(0, cut));
			const error = await MinHashLSH.load(path).catch((e: unknown) => e);
			expect(TransllmError.isInstance(error) && (error as TransllmError).code, `cut at ${cut}`).toBe("E_FORMAT");
			expect((error as Error).message).toContain(path);
		}
		expect(signer.sign("too short")).toBeUndefined();
	});
});
