import { SentencePieceProcessor } from "@sctg/sentencepiece-js";
import { Reservoir, SeededRng, TransllmError, createProgress } from "@transllm/core";
import type { BaseTokenizer } from "./base-tokenizer.js";
import { startingTokenizerJson } from "./extend-tokenizer.js";
import type { ExtendedTokenizer, ExtensionPlan } from "./extend-tokenizer.js";
import { encodeIdsRust, encodeLineJs, encodeLinesRust, jsTokenizer, rustTokenizer } from "./hf-tokenizers.js";
import { writeSentencePieceModel } from "./sentencepiece-model.js";

/** One check's outcome, with a few failing examples. */
export interface CheckResult {
	name: "english-regression-rust" | "english-regression-js" | "decode-round-trip" | "new-tokens-produced" | "sentencepiece-agrees";
	ok: boolean;
	checked: number;
	failures: number;
	summary: string;
	examples: { line?: string; token?: string; expected?: unknown; actual?: unknown }[];
}

export interface CheckReport {
	ok: boolean;
	checks: CheckResult[];
}

/** The extension failed a check; nothing was written. `report` says which and shows examples. */
export class ExtensionCheckError extends TransllmError {
	constructor(readonly report: CheckReport) {
		super("E_CHECK_FAILED", `the extended tokenizer failed its checks, nothing was written:\n${formatCheckReport(report)}`);
		this.name = "ExtensionCheckError";
	}
}

/** A readable report: one line per check, failing examples indented below it. */
export function formatCheckReport(report: CheckReport): string {
	const lines: string[] = [];
	for (const check of report.checks) {
		lines.push(`${check.ok ? "PASS" : "FAIL"} ${check.name}: ${check.summary}`);
		if (!check.ok) for (const example of check.examples) lines.push(`    ${JSON.stringify(example).slice(0, 400)}`);
	}
	return lines.join("\n");
}

const MAX_EXAMPLES = 5;
const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export interface CheckParams {
	base: BaseTokenizer;
	plan: ExtensionPlan;
	extended: ExtendedTokenizer;
	/** English and code lines that must encode exactly as with the base. */
	regression: readonly string[];
	/**
	 * The target-language training corpus: the lines, or a function that streams them again (for corpora too large
	 * to hold). Every line is encoded for the new-tokens check; the round-trip and SentencePiece checks use a seeded
	 * sample of `sampleSize` lines.
	 */
	training: readonly string[] | (() => AsyncIterable<string>);
	/** Training lines sampled for the round-trip and agreement checks (default 5000). */
	sampleSize?: number;
	/** Progress reporter options; silent by default. */
	progress?: { silent?: boolean; stream?: NodeJS.WritableStream };
}

/**
 * The checks that block writing an extension:
 * 1. the English + code regression corpus encodes to the same ids as with the base tokenizer, under both the
 *    Rust `tokenizers` binding and the pure-JS @huggingface/tokenizers;
 * 2. decoding round-trips every regression and training line that the base tokenizer round-trips;
 * 3. every new token is produced on the training corpus: emitted, or built on the way to an emitted new token
 *    (a BPE intermediate). A token that BPE never reaches is what `tokenizer.add_tokens` produces, and is refused;
 * 4. with tokenizer.model, SentencePiece itself (the WASM build) encodes every line as tokenizer.json does.
 */
export async function checkExtension(params: CheckParams): Promise<CheckReport> {
	const { extended, regression } = params;
	const baseJson = startingTokenizerJson(params.base, false);
	const baseRust = rustTokenizer(baseJson);
	const newRust = rustTokenizer(extended.tokenizerJson);
	const checks: CheckResult[] = [];

	const [baseRegression, newRegression] = await Promise.all([encodeLinesRust(baseRust, regression), encodeLinesRust(newRust, regression)]);
	checks.push(compareLines("english-regression-rust", regression, baseRegression.map((e) => e.ids), newRegression.map((e) => e.ids), "regression lines encode to the base ids (tokenizers, Rust)"));

	const baseJs = jsTokenizer(baseJson, params.base.tokenizerConfig);
	const newJs = jsTokenizer(extended.tokenizerJson, extended.tokenizerConfig);
	checks.push(
		compareLines(
			"english-regression-js",
			regression,
			regression.map((line) => encodeLineJs(baseJs, line)),
			regression.map((line) => encodeLineJs(newJs, line)),
			"regression lines encode to the base ids (@huggingface/tokenizers, JS)",
		),
	);

	// One pass over the training corpus: which ids the new tokenizer emits, and a sample for the line checks.
	const emitted = new Set<number>();
	const reservoir = new Reservoir<string>(params.sampleSize ?? 5000, new SeededRng("extension-checks"));
	const stream = typeof params.training === "function" ? params.training() : params.training;
	let batch: string[] = [];
	const progress = createProgress({ label: "checking new tokens on the corpus", unit: "lines", silent: params.progress?.silent ?? true, stream: params.progress?.stream });
	const flush = async (): Promise<void> => {
		for (const ids of await encodeIdsRust(newRust, batch)) for (const id of ids) emitted.add(id);
		progress.tick(batch.length);
		batch = [];
	};
	for await (const line of stream) {
		batch.push(line);
		reservoir.offer(line);
		if (batch.length >= 2048) await flush();
	}
	await flush();
	progress.done();
	const training = reservoir.items;
	const newTraining = await encodeLinesRust(newRust, training);
	{
		const lines = [...regression, ...training];
		const encodings = [...newRegression, ...newTraining];
		const baseEncodings = [...baseRegression, ...(await encodeLinesRust(baseRust, training))];
		const failures: CheckResult["examples"] = [];
		let checked = 0;
		let failed = 0;
		// Decoded in batches: one call into Rust per list, not per line (same strings as `decode`).
		const baseTexts = await baseRust.decodeBatch(baseEncodings.map((e) => e.ids), false);
		const texts = await newRust.decodeBatch(encodings.map((e) => e.ids), false);
		for (let i = 0; i < lines.length; i++) {
			const line = lines[i] as string;
			if (baseTexts[i] !== line) continue;
			checked += 1;
			const text = texts[i];
			if (text !== line) {
				failed += 1;
				if (failures.length < MAX_EXAMPLES) failures.push({ line, actual: text });
			}
		}
		checks.push({ name: "decode-round-trip", ok: failed === 0, checked, failures: failed, summary: `${checked - failed}/${checked} lines decode back to themselves`, examples: failures });
	}

	{
		const reached = new Set<string>();
		const byToken = new Map(extended.newTokens.map((t) => [t.token, t]));
		const markParts = (token: string): void => {
			const entry = byToken.get(token);
			if (!entry?.merge) return;
			for (const part of entry.merge) {
				if (byToken.has(part) && !reached.has(part)) {
					reached.add(part);
					markParts(part);
				}
			}
		};
		let emittedCount = 0;
		for (const token of extended.newTokens) {
			if (emitted.has(token.id)) {
				emittedCount += 1;
				reached.add(token.token);
				markParts(token.token);
			}
		}
		const missing = extended.newTokens.filter((t) => !reached.has(t.token));
		checks.push({
			name: "new-tokens-produced",
			ok: missing.length === 0,
			checked: extended.newTokens.length,
			failures: missing.length,
			summary: `${extended.newTokens.length - missing.length}/${extended.newTokens.length} new tokens produced on the training corpus (${emittedCount} emitted, ${extended.newTokens.length - missing.length - emittedCount} as BPE intermediates)`,
			examples: missing.slice(0, MAX_EXAMPLES).map((t) => ({ token: t.token })),
		});
	}

	if (extended.sentencePiece) {
		const processor = new SentencePieceProcessor();
		await processor.loadFromB64StringModel(Buffer.from(writeSentencePieceModel(extended.sentencePiece)).toString("base64"));
		const lines = [...regression, ...training];
		const encodings = [...newRegression, ...newTraining];
		checks.push(
			compareLines(
				"sentencepiece-agrees",
				lines,
				encodings.map((e) => e.ids),
				lines.map((line) => processor.encodeIds(line)),
				"SentencePiece (tokenizer.model) and tokenizer.json give the same ids",
			),
		);
	}
	return { ok: checks.every((c) => c.ok), checks };
}

function compareLines(name: CheckResult["name"], lines: readonly string[], expected: readonly number[][], actual: readonly number[][], what: string): CheckResult {
	const examples: CheckResult["examples"] = [];
	let failures = 0;
	lines.forEach((line, i) => {
		if (!same(expected[i] as number[], actual[i] as number[])) {
			failures += 1;
			if (examples.length < MAX_EXAMPLES) examples.push({ line, expected: expected[i], actual: actual[i] });
		}
	});
	return { name, ok: failures === 0, checked: lines.length, failures, summary: `${lines.length - failures}/${lines.length} ${what}`, examples };
}
