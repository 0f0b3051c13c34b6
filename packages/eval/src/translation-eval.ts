import { readFile } from "node:fs/promises";
import { ConfigError, InputError, getLanguage, readJsonl, writeFileAtomic } from "@transllm/core";
import { runOrderedJob } from "@transllm/recovery-kd";
import type { GenerationBackend, TranslationBackend } from "@transllm/recovery-kd";
import { defaultTranslationTemplates, renderTranslationPrompt, targetLanguageToken } from "@transllm/tcot";
import { corpusBleu } from "./bleu.js";
import type { BleuScore } from "./bleu.js";
import type { BleuTokenizerName } from "./bleu-tokenizers.js";
import { corpusChrf } from "./chrf.js";
import { fixed, htmlTable } from "./html.js";
import type { EvalResult } from "./report-section.js";
import { barChartSvg } from "./svg.js";

/** One sentence pair of a parallel test set. */
export interface ParallelSentence {
	id: string;
	/** Text by language code. */
	texts: Record<string, string>;
	file: string;
	line: number;
}

/** One translated sentence (a line of the output). */
export interface TranslationRecord {
	id: string;
	/** `en-th`: source-target. */
	direction: string;
	source: string;
	reference: string;
	hypothesis: string;
	flags?: string[];
}

/** How the model is asked: TransLLM's translation instruction (tcot's templates, answer `<β> text`), or a chat translator. */
export type TranslationPromptKind = "tcot" | "chat";

export interface TranslationEvalOptions {
	/** JSONL `{id?, en: …, th: …}` (fields named by language code). */
	data?: string;
	/** Flores-style: one sentence per line, aligned (`eng_Latn.devtest`, `tha_Thai.devtest`). */
	sourceFile?: string;
	targetFile?: string;
	/** The two languages: `en` and the target language. */
	source: string;
	target: string;
	/** Directions to run (default both). */
	directions?: ("forward" | "backward")[];
	/** A TransLLM model through its translation instruction … */
	generator?: GenerationBackend;
	/** … or a translation backend (recovery-kd's chat translation, Google v2). */
	translator?: TranslationBackend;
	prompt?: TranslationPromptKind;
	/** BLEU tokenizer per target language (default 13a everywhere, the paper's signature). */
	tokenize?: Partial<Record<string, BleuTokenizerName>>;
	out: string;
	limit?: number;
	maxTokens?: number;
	resume?: boolean;
	overwrite?: boolean;
	progress?: NodeJS.WritableStream | false;
	signal?: AbortSignal;
}

export interface DirectionScore {
	direction: string;
	sentences: number;
	bleu: number;
	chrf: number;
	bleuSignature: string;
	chrfSignature: string;
	bleuDetails: Pick<BleuScore, "counts" | "totals" | "precisions" | "bp" | "sysLen" | "refLen">;
	hypothesisFile: string;
	referenceFile: string;
}

export interface TranslationEvalResults {
	model: string;
	directions: DirectionScore[];
}

async function readParallel(options: TranslationEvalOptions, source: string, target: string): Promise<ParallelSentence[]> {
	if (options.data) {
		const sentences: ParallelSentence[] = [];
		for await (const { value, line } of readJsonl(options.data, { required: [source, target] })) {
			for (const code of [source, target]) if (typeof value[code] !== "string") throw new InputError(`field "${code}" must be a string`, { file: options.data, line, field: code });
			sentences.push({ id: String(value.id ?? line), texts: { [source]: value[source] as string, [target]: value[target] as string }, file: options.data, line });
		}
		return sentences;
	}
	if (!options.sourceFile || !options.targetFile) throw new ConfigError("give --data (JSONL) or both --source-file and --target-file (one sentence per line)");
	const lines = async (path: string): Promise<string[]> => (await readFile(path, "utf8")).replace(/\r?\n$/, "").split(/\r?\n/);
	const a = await lines(options.sourceFile);
	const b = await lines(options.targetFile);
	if (a.length !== b.length) throw new InputError(`${a.length} lines, but ${options.targetFile} has ${b.length}: the files must be aligned line by line`, { file: options.sourceFile });
	return a.map((text, i) => ({ id: String(i + 1), texts: { [source]: text, [target]: b[i] as string }, file: options.sourceFile as string, line: i + 1 }));
}

/**
 * The TransLLM translation instruction (Sec. 2.2.3: x = prompt(s^α), y = cat(⟨β⟩, s^β)), written in the source
 * language as in the training data (tcot's default), with the first bundled template of that language so that every
 * run asks the same way.
 */
export function tcotTranslationPrompt(text: string, from: string, to: string): string {
	const templates = defaultTranslationTemplates();
	const template = templates.find((t) => t.lang === from) ?? templates.find((t) => t.lang === "en");
	if (!template) throw new ConfigError("no translation template");
	return renderTranslationPrompt(template, { source: text, sourceLang: from, targetLang: to });
}

/** The translation in a TransLLM answer: the text after the target language's ID token (`<TH> …`). */
export function tcotTranslationOutput(text: string, to: string): string {
	const token = targetLanguageToken(to);
	const at = text.indexOf(token);
	return (at >= 0 ? text.slice(at + token.length) : text).trim();
}

/**
 * `eval translate` (Table 9 of the paper: Flores-200 EN-TH and TH-EN): translates a parallel test set in both
 * directions and scores corpus BLEU and chrF++ with sacreBLEU's definitions (see bleu.ts, chrf.ts). Hypotheses and
 * references are also written as plain text files, one sentence per line, so `sacrebleu` can score the same files.
 */
export async function evaluateTranslation(options: TranslationEvalOptions): Promise<EvalResult<TranslationEvalResults>> {
	const source = getLanguage(options.source).code;
	const target = getLanguage(options.target).code;
	const sentences = (await readParallel(options, source, target)).slice(0, options.limit);
	const directions = (options.directions ?? ["forward", "backward"]).map((d) => (d === "forward" ? [source, target] : [target, source]) as [string, string]);
	const model = options.generator?.model ?? options.translator?.model ?? options.translator?.kind;
	if (!model) throw new ConfigError("evaluateTranslation needs a generator (a model) or a translator");
	const concurrency = options.generator?.concurrency ?? options.translator?.concurrency ?? 1;
	const retries = (): number => options.generator?.retries ?? options.translator?.retries ?? 0;
	const prompt = options.prompt ?? (options.generator ? "tcot" : "chat");
	const input = options.data ?? (options.sourceFile as string);
	await runOrderedJob<{ from: string; to: string; sentence: ParallelSentence }, TranslationRecord>({
		tool: "@transllm/eval",
		step: "translate",
		paper: "TransLLM (../shared/papers/000_1ce36f3811662daf.txt) Table 9 (Flores-200), App. A.4.2 sacreBLEU",
		input,
		out: options.out,
		settings: { model, prompt, directions: directions.map((d) => d.join("-")), limit: options.limit ?? null, targetFile: options.targetFile ?? null },
		label: `eval translate (${model})`,
		concurrency,
		retries,
		read: async function* () {
			for (const [from, to] of directions) {
				for (const sentence of sentences) yield { id: `${from}-${to}:${sentence.id}`, value: { from, to, sentence }, file: sentence.file, line: sentence.line };
			}
		},
		run: async (item) => {
			const { from, to, sentence } = item.value;
			const text = sentence.texts[from] as string;
			let hypothesis: string;
			const flags: string[] = [];
			if (options.generator && prompt === "tcot") {
				const result = await options.generator.generate([{ role: "user", content: tcotTranslationPrompt(text, from, to) }], { temperature: 0, max_tokens: options.maxTokens ?? 512 }, options.signal);
				hypothesis = tcotTranslationOutput(result.text, to);
				if (result.finishReason === "length") flags.push("truncated");
			} else if (options.translator) {
				const [output] = await options.translator.translate([text], { source: from, target: to, signal: options.signal });
				hypothesis = output?.text ?? "";
				if (output?.truncated) flags.push("truncated");
			} else throw new ConfigError('prompt "chat" needs a translator backend');
			// One sentence per line in the hypothesis file: a line break inside a translation would shift every later line.
			hypothesis = hypothesis.replace(/\s*\n\s*/g, " ").trim();
			if (hypothesis === "") flags.push("empty");
			return { id: item.id, direction: `${from}-${to}`, source: text, reference: sentence.texts[to] as string, hypothesis, ...(flags.length ? { flags } : {}) };
		},
		failure: "translation failed",
		resume: options.resume,
		overwrite: options.overwrite,
		progress: options.progress,
		signal: options.signal,
	});
	const records = (await loadAnswersLike(options.out)) as TranslationRecord[];
	const scores: DirectionScore[] = [];
	for (const [from, to] of directions) {
		const direction = `${from}-${to}`;
		const rows = records.filter((r) => r.direction === direction);
		const hypotheses = rows.map((r) => r.hypothesis);
		const references = rows.map((r) => r.reference.replace(/\s*\n\s*/g, " "));
		const base = options.out.replace(/\.jsonl$/, "");
		const hypothesisFile = `${base}.${direction}.hyp.txt`;
		const referenceFile = `${base}.${direction}.ref.txt`;
		await writeFileAtomic(hypothesisFile, hypotheses.map((h) => `${h}\n`).join(""));
		await writeFileAtomic(referenceFile, references.map((r) => `${r}\n`).join(""));
		const bleu = corpusBleu(hypotheses, references, { tokenize: options.tokenize?.[to] ?? "13a" });
		const chrf = corpusChrf(hypotheses, references);
		scores.push({
			direction,
			sentences: rows.length,
			bleu: bleu.score,
			chrf: chrf.score,
			bleuSignature: bleu.signature,
			chrfSignature: chrf.signature,
			bleuDetails: { counts: bleu.counts, totals: bleu.totals, precisions: bleu.precisions, bp: bleu.bp, sysLen: bleu.sysLen, refLen: bleu.refLen },
			hypothesisFile,
			referenceFile,
		});
	}
	const html = [
		htmlTable(["Direction", "Sentences", "BLEU", "chrF++", "BLEU signature", "chrF++ signature"], scores.map((s) => [s.direction.toUpperCase(), s.sentences, fixed(s.bleu), fixed(s.chrf), s.bleuSignature, s.chrfSignature]), `${model}: shaped like Table 9`),
		barChartSvg(scores.flatMap((s) => [{ label: `${s.direction} BLEU`, value: s.bleu }, { label: `${s.direction} chrF++`, value: s.chrf }]), { title: "Translation quality" }),
	].join("\n");
	return { tool: "@transllm/eval", kind: "translate", paper: "TransLLM Table 9 (Flores-200); App. A.4.2 sacreBLEU", results: { model, directions: scores }, section: { title: `Translation (${model})`, html } };
}

// The job's output lines, in order.
async function loadAnswersLike(path: string): Promise<unknown[]> {
	const rows: unknown[] = [];
	for await (const { value } of readJsonl(path)) rows.push(value);
	return rows;
}
