import { basename, resolve } from "node:path";
import { InputError, JsonlWriter, createProgress, readJsonl } from "@transllm/core";
import { fixed, htmlTable } from "./html.js";
import type { EvalResult } from "./report-section.js";
import { histogramSvg } from "./svg.js";

/** One held-out recovery-KD pair: the English query x and the chat model's own answer y. */
interface KdPair {
	id: string;
	query: string;
	response: string;
}

/** The score of one pair under one model. */
export interface PairScore {
	id: string;
	/** Answer tokens scored (the prefix, if any, is conditioned on, not scored). */
	tokens: number;
	/** log P(y | x) in nats: the sum over the answer's tokens. */
	logprob: number;
	/** exp(logprob / tokens): P(y|x) normalised per token (the geometric mean of the token probabilities). */
	p: number;
}

/** One line of the forgetting output: a pair's per-token P(y|x) before and after, and the change. */
export interface ForgettingRecord {
	id: string;
	tokens: number;
	p_before: number;
	p_after: number;
	/** p_after − p_before. */
	delta: number;
}

export interface ForgettingResults {
	before: string;
	after: string;
	examples: number;
	/** Mean per-token P(y|x) under each model (Table 8's "probability"). */
	meanBefore: number;
	meanAfter: number;
	/** Mean of |p_after − p_before| over examples (Table 8's "difference"). */
	meanAbsDelta: number;
	/** Mean of p_after − p_before. */
	meanDelta: number;
	normalisation: string;
	histogram: { bins: number };
}

/** The subset of @transllm/runtime's ChatModel that scoring uses. */
interface ScoringModel {
	score(params: { pairs: readonly { prompt: string; response: string }[]; chat?: boolean; batchSize?: number }): Promise<{ sum: number; tokens: number; tokenLogprobs: number[] }[]>;
	tokenizer: { encode(text: string, options?: { addSpecialTokens?: boolean }): number[] };
	dispose(): Promise<void>;
}

async function readPairs(path: string, limit?: number): Promise<KdPair[]> {
	const pairs: KdPair[] = [];
	const seen = new Set<string>();
	for await (const { value, line } of readJsonl(path)) {
		const query = value.query_en ?? value.query ?? value.instruction;
		const response = value.response_en ?? value.response ?? value.output;
		if (typeof query !== "string" || typeof response !== "string") throw new InputError('a held-out KD pair needs {query_en, response_en} (or {query, response})', { file: path, line });
		if (response.trim() === "") throw new InputError("empty response: P(y|x) of an empty answer is undefined", { file: path, line, field: "response_en" });
		const id = String(value.id ?? line);
		if (seen.has(id)) throw new InputError(`duplicate id "${id}"`, { file: path, line, field: "id" });
		seen.add(id);
		pairs.push({ id, query, response });
		if (limit !== undefined && pairs.length >= limit) break;
	}
	return pairs;
}

/**
 * Scores every pair under one model (in-graph scoring of @transllm/runtime), resumably: the chunks of `batchSize`
 * pairs are fixed by position and each is written with one write, so a resumed run scores the same batches and
 * writes the same bytes. The query is rendered with the model's chat template; `prefix` (e.g. `<RESPONSE>` for a
 * TransLLM model, whose recovery-KD label is cat(⟨RESPONSE⟩, a^α): Sec. 2.2.3) is scored with the answer and then
 * left out of the sum, so it is conditioned on rather than counted.
 */
export async function scorePairs(model: ScoringModel, pairs: readonly KdPair[], out: string, options: { prefix?: string; batchSize?: number; resume?: boolean; progress?: NodeJS.WritableStream | false; label?: string } = {}): Promise<PairScore[]> {
	const batchSize = options.batchSize ?? 8;
	const writer = await JsonlWriter.open<PairScore>(out, { resume: options.resume, overwrite: !options.resume, bufferBytes: Number.MAX_SAFE_INTEGER });
	const scores: PairScore[] = [];
	for await (const { value } of writer.resumedCount > 0 ? readJsonl<PairScore>(writer.alreadyComplete ? out : writer.partialPath) : []) scores.push(value);
	if (writer.alreadyComplete) return scores;
	const prefix = options.prefix ?? "";
	const prefixTokens = prefix ? model.tokenizer.encode(prefix, { addSpecialTokens: false }).length : 0;
	const progress = createProgress({ label: options.label ?? "score", total: pairs.length, initial: scores.length, unit: "pairs", silent: options.progress === false, stream: options.progress || undefined });
	try {
		for (let start = Math.floor(scores.length / batchSize) * batchSize; start < pairs.length; start += batchSize) {
			const chunk = pairs.slice(start, start + batchSize);
			const results = await model.score({ pairs: chunk.map((pair) => ({ prompt: pair.query, response: `${prefix}${pair.response}` })), chat: true, batchSize });
			for (const [i, result] of results.entries()) {
				if (start + i < scores.length) continue;
				const logprobs = result.tokenLogprobs.slice(prefixTokens);
				const logprob = logprobs.reduce((a, b) => a + b, 0);
				const score: PairScore = { id: (chunk[i] as KdPair).id, tokens: logprobs.length, logprob, p: logprobs.length ? Math.exp(logprob / logprobs.length) : 0 };
				scores.push(score);
				await writer.write(score);
			}
			// One write per chunk: a kill leaves whole chunks only.
			await writer.flush();
			progress.tick(chunk.length);
		}
		await writer.finish();
		progress.done();
		return scores;
	} catch (error) {
		await writer.close();
		throw error;
	}
}

export interface ForgettingOptions {
	/** The original chat model's directory. */
	before: string;
	/** The transferred model's directory. */
	after: string;
	/** Held-out recovery-KD pairs (`kd generate` output). */
	data: string;
	/** Output JSONL of per-example records; `<out>.before.jsonl` / `<out>.after.jsonl` hold each model's scores. */
	out: string;
	/** Text scored before the answer but not counted (per model). */
	beforePrefix?: string;
	afterPrefix?: string;
	batchSize?: number;
	limit?: number;
	bins?: number;
	resume?: boolean;
	executionProvider?: "auto" | "cpu" | "cuda";
	progress?: NodeJS.WritableStream | false;
	/** Loads a model (default: @transllm/runtime's loadModel). */
	load?: (dir: string) => Promise<ScoringModel>;
}

/**
 * `eval forgetting` (Table 8 of `../shared/papers/000_1ce36f3811662daf.txt`, Sec. 4.2): the generation probability of
 * the held-out English recovery-KD answers under the original and the transferred model. P(y|x) is normalised per
 * token — exp of the mean token log-probability — since TransLLM's reported ≈ 0.2352 can only be a per-token figure
 * for answers of hundreds of tokens. The paper's "difference" is read as the mean per-example |ΔP|. One model is
 * loaded at a time.
 */
export async function measureForgetting(options: ForgettingOptions): Promise<EvalResult<ForgettingResults>> {
	const pairs = await readPairs(options.data, options.limit);
	const load =
		options.load ??
		(async (dir: string) => {
			const { loadModel } = await import("@transllm/runtime");
			return loadModel(dir, { executionProvider: options.executionProvider ?? "auto" });
		});
	const side = async (dir: string, which: "before" | "after", prefix: string | undefined): Promise<PairScore[]> => {
		const model = await load(dir);
		try {
			return await scorePairs(model, pairs, `${options.out.replace(/\.jsonl$/, "")}.${which}.jsonl`, { prefix, batchSize: options.batchSize, resume: options.resume, progress: options.progress, label: `P(y|x) ${which}` });
		} finally {
			await model.dispose();
		}
	};
	const before = await side(options.before, "before", options.beforePrefix);
	const after = await side(options.after, "after", options.afterPrefix);
	const records: ForgettingRecord[] = pairs.map((pair, i) => {
		const b = before[i] as PairScore;
		const a = after[i] as PairScore;
		return { id: pair.id, tokens: a.tokens, p_before: b.p, p_after: a.p, delta: a.p - b.p };
	});
	const writer = await JsonlWriter.open<ForgettingRecord>(options.out, { overwrite: true });
	for (const record of records) await writer.write(record);
	await writer.finish();
	const mean = (values: number[]): number => (values.length ? values.reduce((x, y) => x + y, 0) / values.length : 0);
	const bins = options.bins ?? 30;
	const results: ForgettingResults = {
		before: basename(resolve(options.before)),
		after: basename(resolve(options.after)),
		examples: records.length,
		meanBefore: mean(records.map((r) => r.p_before)),
		meanAfter: mean(records.map((r) => r.p_after)),
		meanAbsDelta: mean(records.map((r) => Math.abs(r.delta))),
		meanDelta: mean(records.map((r) => r.delta)),
		normalisation: "per token: P(y|x) = exp(mean over answer tokens of log P(y_t | x, y_<t)); difference = mean |P_after − P_before| per example",
		histogram: { bins },
	};
	const html = [
		htmlTable(["Model", "P(y|x) per token", "Difference (mean |ΔP|)"], [
			[results.before, fixed(results.meanBefore, 4), "–"],
			[results.after, fixed(results.meanAfter, 4), fixed(results.meanAbsDelta, 4)],
		], `Held-out recovery-KD answers (${records.length} examples), shaped like Table 8`),
		histogramSvg(records.map((r) => r.delta), { bins, title: "Per-example change of P(y|x)", xLabel: "P_after − P_before" }),
	].join("\n");
	return { tool: "@transllm/eval", kind: "forgetting", paper: "TransLLM Table 8 (Sec. 4.2)", results, section: { title: "Forgetting: P(y|x) of held-out recovery-KD answers", html } };
}
