import { SentencePieceProcessor } from "@sctg/sentencepiece-js";
import { ConfigError, Reservoir, SeededRng, TransllmError, createProgress, scriptPattern } from "@transllm/core";
import { Tokenizer as JsTokenizer } from "@huggingface/tokenizers";
import type { BaseTokenizer } from "./base-tokenizer.js";
import { startingTokenizerJson } from "./extend-tokenizer.js";
import type { ExtendedTokenizer, ExtensionPlan, NewToken } from "./extend-tokenizer.js";
import { encodeLineJs } from "./hf-tokenizers.js";
import { writeSentencePieceModel } from "./sentencepiece-model.js";
import { TokenizerWorker } from "./tokenizer-worker.js";

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
	 * The target-language training corpus the plan was learned on: the lines, or a function that streams them again
	 * (for corpora too large to hold). It is read once; see `checkExtension` for which lines are encoded.
	 */
	training: readonly string[] | (() => AsyncIterable<string>);
	/** Training lines sampled (seeded, uniform) for the round-trip and agreement checks (default 5000, as before sampling replaced the full pass: a smaller default would weaken the check). */
	sampleSize?: number;
	/** The base side, started before learning by `startBaseReference` (default: started here). Closed by the checks. */
	reference?: BaseReference;
	/** Progress reporter options; silent by default. */
	progress?: { silent?: boolean; stream?: NodeJS.WritableStream };
}

/**
 * The base tokenizer's side of the checks, on a second thread: its Rust tokenizer and its ids for the regression
 * corpus. None of it depends on what is learned, so the CLI starts it before learning.
 */
export interface BaseReference {
	readonly base: BaseTokenizer;
	readonly regression: readonly string[];
	/** The regression lines' base ids under the Rust binding. */
	readonly rust: Promise<number[][]>;
	/** The base tokenizer.json text (the JS base tokenizer is built from it only when needed). */
	readonly json: string;
	readonly worker: TokenizerWorker;
}

/** Starts building the base Rust tokenizer and encoding the regression corpus with it, on a second thread. */
export function startBaseReference(params: { base: BaseTokenizer; regression: readonly string[] }): BaseReference {
	const worker = new TokenizerWorker();
	const json = JSON.stringify(startingTokenizerJson(params.base, false));
	const rust = after(worker.load("base", json, { rust: true }), worker.encode("base", "rust", params.regression));
	return { base: params.base, regression: params.regression, rust, json, worker };
}

/** The result of a worker request sent right after the load it needs, failing with the load's error first. */
function after<T>(loaded: Promise<void>, request: Promise<T>): Promise<T> {
	const result = Promise.all([loaded, request]).then(([, value]) => value);
	// Awaited by the checks; a failure must not surface as an unhandled rejection before that.
	result.catch(() => undefined);
	return result;
}

/** Which new tokens the extended tokenizer produces: emitted, or a part (transitively) of an emitted new token. */
class ProducedTokens {
	readonly reached = new Set<string>();
	readonly emitted = new Set<string>();
	private readonly byId: Map<number, NewToken>;
	private readonly byToken: Map<string, NewToken>;

	constructor(readonly tokens: readonly NewToken[]) {
		this.byId = new Map(tokens.map((t) => [t.id, t]));
		this.byToken = new Map(tokens.map((t) => [t.token, t]));
	}

	add(ids: readonly number[]): void {
		for (const id of ids) {
			const token = this.byId.get(id);
			if (!token || this.emitted.has(token.token)) continue;
			this.emitted.add(token.token);
			this.reach(token.token);
		}
	}

	private reach(token: string): void {
		this.reached.add(token);
		for (const part of this.byToken.get(token)?.merge ?? []) if (this.byToken.has(part) && !this.reached.has(part)) this.reach(part);
	}

	get complete(): boolean {
		return this.reached.size === this.tokens.length;
	}
}

/**
 * The checks that block writing an extension:
 * 1. the English + code regression corpus encodes to the same ids as with the base tokenizer, under both the
 *    Rust `tokenizers` binding and the pure-JS @huggingface/tokenizers (every regression line);
 * 2. decoding round-trips every regression line and every sampled training line that the base tokenizer
 *    round-trips (a seeded uniform sample of `sampleSize` lines);
 * 3. every new token is produced on the training corpus: emitted, or built on the way to an emitted new token
 *    (a BPE intermediate). A token that BPE never reaches is what `tokenizer.add_tokens` produces, and is refused.
 *    Exact without encoding the whole corpus: the tokenizer encodes the sampled lines and the line where the
 *    learner saw each new token, and only if a token is still missing, the other lines holding a character of the
 *    target script (no other line can produce one), until every token is found;
 * 4. with tokenizer.model, SentencePiece itself (the WASM build) encodes every regression and sampled line as
 *    tokenizer.json does.
 * Each tokenizer is built once: the base and extended Rust ones on a second thread (`startBaseReference`), which
 * also runs every Rust encoding; the JS base tokenizer only if the JS extended one differs from the Rust base ids.
 */
export async function checkExtension(params: CheckParams): Promise<CheckReport> {
	const reference = params.reference ?? startBaseReference({ base: params.base, regression: params.regression });
	try {
		if (reference.base !== params.base || reference.regression.length !== params.regression.length || reference.regression.some((line, i) => line !== params.regression[i])) {
			throw new ConfigError("checkExtension: the base reference was started for another base tokenizer or regression corpus");
		}
		return await runChecks(params, reference);
	} finally {
		await reference.worker.close();
	}
}

async function runChecks(params: CheckParams, reference: BaseReference): Promise<CheckReport> {
	const { extended, regression, plan } = params;
	const { worker } = reference;
	const checks: CheckResult[] = [];
	// The Rust extended tokenizer is built and run on the worker (after the base one) while this thread reads the
	// corpus. So that both threads end together, the slowest other step stays here: SentencePiece when there is a
	// tokenizer.model (the JS tokenizer then goes to the worker), otherwise the JS tokenizer (Llama-3's takes seconds).
	const jsOnWorker = extended.sentencePiece !== undefined;
	const loaded = worker.load("extended", JSON.stringify(extended.tokenizerJson), { rust: true, js: jsOnWorker, config: extended.tokenizerConfig });
	const rustIds = (lines: readonly string[]): Promise<number[][]> => after(loaded, worker.encode("extended", "rust", lines));
	const newRegressionIds = rustIds(regression);

	// One pass over the training corpus: a seeded sample for the line checks, and the lines where the learner saw
	// each new token (line numbers count non-blank lines, as learnExtension does).
	const witnessLine = new Map<string, number>();
	for (const entry of [...plan.chars, ...plan.merges]) if (entry.line !== undefined) witnessLine.set(entry.token, entry.line);
	const wanted = new Set<number>();
	for (const token of extended.newTokens) {
		const line = witnessLine.get(token.token);
		if (line !== undefined) wanted.add(line);
	}
	const reservoir = new Reservoir<[string, number]>(params.sampleSize ?? 5000, new SeededRng("extension-checks"));
	const witnesses: [string, number][] = [];
	const progress = createProgress({ label: "reading the corpus for the checks", unit: "lines", silent: params.progress?.silent ?? true, stream: params.progress?.stream });
	let corpusLines = 0;
	for await (const line of stream(params.training)) {
		if (line.trim() === "") continue;
		reservoir.offer([line, corpusLines]);
		if (wanted.has(corpusLines)) witnesses.push([line, corpusLines]);
		corpusLines += 1;
		progress.tick();
	}
	progress.done();
	const training = reservoir.items.map(([line]) => line);
	const newTrainingIds = rustIds(training);

	let newJsIds: Promise<number[][]> | number[][];
	if (jsOnWorker) newJsIds = after(loaded, worker.encode("extended", "js", regression));
	else {
		// The JS library neither copies nor modifies the object it is given, so the tokenizer.json is used as is.
		const newJs = new JsTokenizer(extended.tokenizerJson, extended.tokenizerConfig ?? {});
		newJsIds = regression.map((line) => encodeLineJs(newJs, line));
	}
	const lines = [...regression, ...training];
	let spmIds: number[][] | undefined;
	if (extended.sentencePiece) {
		const processor = new SentencePieceProcessor();
		await processor.loadFromB64StringModel(Buffer.from(writeSentencePieceModel(extended.sentencePiece)).toString("base64"));
		spmIds = lines.map((line) => processor.encodeIds(line));
	}

	const [baseRust, newRegression, newTraining, newJsRegression] = await Promise.all([reference.rust, newRegressionIds, newTrainingIds, newJsIds]);
	checks.push(compareLines("english-regression-rust", regression, baseRust, newRegression, "regression lines encode to the base ids (tokenizers, Rust)"));
	{
		// The base ids are the Rust binding's; the JS base tokenizer (seconds for Llama-3) is built only when the JS
		// extended one differs from them, and a line where the JS library already differs on the base tokenizer
		// passes when the extension keeps the JS library's own base ids.
		const differ = regression.flatMap((_, i) => (same(baseRust[i] as number[], newJsRegression[i] as number[]) ? [] : [i]));
		const baseJs = differ.length > 0 ? await after(worker.load("base-js", reference.json, { js: true, config: params.base.tokenizerConfig }), worker.encode("base-js", "js", differ.map((i) => regression[i] as string))) : [];
		const expected = [...baseRust];
		differ.forEach((i, k) => {
			expected[i] = baseJs[k] as number[];
		});
		checks.push(compareLines("english-regression-js", regression, expected, newJsRegression, "regression lines encode to the base ids (@huggingface/tokenizers, JS)"));
	}

	const encodings = [...newRegression, ...newTraining];
	{
		// Decoded in one batch; only a line the extension does not round-trip is asked of the base (a line that
		// the base tokenizer does not round-trip either, e.g. one it normalizes, is excused).
		const texts = await worker.decode("extended", encodings);
		const changed = lines.flatMap((line, i) => (texts[i] === line ? [] : [i]));
		const baseTexts = changed.length > 0 ? await worker.roundTrip("base", changed.map((i) => lines[i] as string)) : [];
		const failures: CheckResult["examples"] = [];
		let excused = 0;
		changed.forEach((i, k) => {
			const line = lines[i] as string;
			if (baseTexts[k] !== line) excused += 1;
			else if (failures.length < MAX_EXAMPLES) failures.push({ line, actual: texts[i] });
		});
		const checked = lines.length - excused;
		const failed = changed.length - excused;
		checks.push({ name: "decode-round-trip", ok: failed === 0, checked, failures: failed, summary: `${checked - failed}/${checked} lines decode back to themselves (${regression.length} regression, ${training.length} sampled training lines)`, examples: failures });
	}

	{
		const produced = new ProducedTokens(extended.newTokens);
		for (const ids of newTraining) produced.add(ids);
		// Then the learner's line for each token the sample did not produce.
		const encoded = new Set(reservoir.items.map(([, index]) => index));
		const needed = new Set<number>();
		for (const token of extended.newTokens) {
			const line = witnessLine.get(token.token);
			if (!produced.reached.has(token.token) && line !== undefined && !encoded.has(line)) needed.add(line);
		}
		const extra = witnesses.filter(([, index]) => needed.has(index));
		for (const [, index] of extra) encoded.add(index);
		if (extra.length > 0) for (const ids of await rustIds(extra.map(([line]) => line))) produced.add(ids);
		let searched = 0;
		if (!produced.complete) {
			// Exact fallback: every other line that can produce a new token (one with a target-script character).
			const script = new RegExp(scriptPattern(plan.script).source, "u");
			const search = createProgress({ label: "looking for the remaining new tokens in the corpus", unit: "lines", silent: params.progress?.silent ?? true, stream: params.progress?.stream });
			let batch: string[] = [];
			const flush = async (): Promise<void> => {
				for (const ids of await rustIds(batch)) produced.add(ids);
				searched += batch.length;
				search.tick(batch.length);
				batch = [];
			};
			let index = 0;
			for await (const line of stream(params.training)) {
				if (line.trim() === "") continue;
				if (!encoded.has(index++) && script.test(line)) batch.push(line);
				if (batch.length >= 2048) {
					await flush();
					if (produced.complete) break;
				}
			}
			await flush();
			search.done();
		}
		const tokens = extended.newTokens;
		const missing = tokens.filter((t) => !produced.reached.has(t.token));
		const reached = tokens.length - missing.length;
		checks.push({
			name: "new-tokens-produced",
			ok: missing.length === 0,
			checked: tokens.length,
			failures: missing.length,
			summary: `${reached}/${tokens.length} new tokens produced on the training corpus (${produced.emitted.size} emitted, ${reached - produced.emitted.size} as BPE intermediates; encoded ${training.length} sampled lines, ${extra.length} lines where the learner saw a token${searched > 0 ? `, ${searched} more of ${corpusLines} lines searched` : ""})`,
			examples: missing.slice(0, MAX_EXAMPLES).map((t) => ({ token: t.token })),
		});
	}

	if (spmIds) checks.push(compareLines("sentencepiece-agrees", lines, encodings, spmIds, "SentencePiece (tokenizer.model) and tokenizer.json give the same ids"));
	return { ok: checks.every((c) => c.ok), checks };
}

function stream(training: CheckParams["training"]): AsyncIterable<string> | Iterable<string> {
	return typeof training === "function" ? training() : training;
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
