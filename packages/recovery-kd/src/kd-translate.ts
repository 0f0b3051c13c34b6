import { InputError, RejectsWriter, checkLanguage, getLanguage, readJsonl } from "@transllm/core";
import type { BadRecordPolicy } from "@transllm/core";
import type { TranslatedRecord } from "@transllm/tcot";
import { findProtectedSpans } from "./do-not-translate.js";
import { maskText, prose, unmaskText } from "./mask-text.js";
import type { MaskedText } from "./mask-text.js";
import { runOrderedJob } from "./ordered-job.js";
import { mergeRankOutputs } from "./rank-merge.js";
import { RemoteError } from "./retry.js";
import { segmentForTranslation } from "./segment-text.js";
import type { TranslationBackend } from "./translation-backend.js";

/**
 * One line of the translation step's output: a recovery-KD pair and its translation, what @transllm/tcot builds
 * TCOT, recovery-KD and translation instances from (its `TranslatedRecord`), plus flags when something is off.
 */
export interface TranslatedKdRecord extends TranslatedRecord {
	/**
	 * Findings, kept with the record (never dropped): the generation step's flags (`empty`, `truncated`), and
	 * `mask_fallback` (masks lost: the text was translated around its protected spans), `translation_truncated`,
	 * `empty_translation`, `lang_mismatch_query`, `lang_mismatch_response`.
	 */
	flags?: string[];
	/** The language check's verdict for each mismatched field. */
	lang_check?: Record<string, string>;
}

/** One input record: the generation step's output (extra fields are ignored). */
interface KdPair {
	id: string | number;
	query_en: string;
	response_en: string;
	flags?: string[];
}

export interface TranslateRecoveryKdOptions {
	/** Output of `kd generate` (`{id, query_en, response_en, …}` JSONL). */
	input: string;
	out: string;
	/** Target language (`th`). */
	lang: string;
	backend: TranslationBackend;
	resume?: boolean;
	overwrite?: boolean;
	/** This process's share (datatrove's tasks): records r, r+W, … of the input; merge the parts with the merge function. */
	rank?: number;
	worldSize?: number;
	onBadRecord?: BadRecordPolicy;
	/** Skip the language check of translated fields. */
	checkLanguage?: boolean;
	/** Minimum share of letters in the target script for the language check (core's default 0.5). */
	minScriptRatio?: number;
	progress?: NodeJS.WritableStream | false;
	signal?: AbortSignal;
}

export interface TranslateRecoveryKdSummary {
	out: string;
	manifest: string;
	records: number;
	translated: number;
	resumed: number;
	rejected: number;
	flagged: Record<string, number>;
	retries: number;
}

interface FieldPlan {
	units: { text: string; masked?: MaskedText }[];
}

function planField(text: string, backend: TranslationBackend): FieldPlan {
	return {
		units: segmentForTranslation(text, backend.granularity).map((unit) =>
			// A unit whose letters are all inside protected spans (a line of inline code) has nothing to translate.
			unit.translate && /\p{L}/u.test(prose(unit.text)) ? { text: unit.text, masked: maskText(unit.text, backend.maskStyle) } : { text: unit.text },
		),
	};
}

/** Splits a unit at its protected spans: pieces to translate (with letters) and spans kept as they are. */
function splitAtSpans(text: string): { text: string; translate: boolean }[] {
	const pieces: { text: string; translate: boolean }[] = [];
	let at = 0;
	for (const span of findProtectedSpans(text)) {
		if (span.start > at) pieces.push({ text: text.slice(at, span.start), translate: true });
		pieces.push({ text: text.slice(span.start, span.end), translate: false });
		at = span.end;
	}
	if (at < text.length) pieces.push({ text: text.slice(at), translate: true });
	return pieces.map((piece) => {
		if (!piece.translate) return piece;
		// Spaces around a piece stay outside it, so the reassembled text keeps its spacing.
		return { text: piece.text, translate: /\p{L}/u.test(piece.text) };
	});
}

/**
 * Translates one text unit whose masks did not survive: retried once as it is, then translated piece by piece
 * around its protected spans (which then cannot be lost).
 */
async function translateLostUnit(masked: MaskedText, source: string, backend: TranslationBackend, lang: string, signal?: AbortSignal): Promise<{ text: string; fallback: boolean; truncated: boolean }> {
	const [again] = await backend.translate([masked.text], { source: "en", target: lang, signal });
	const restored = again ? unmaskText(again.text, masked) : undefined;
	if (restored?.ok) return { text: restored.text, fallback: false, truncated: Boolean(again?.truncated) };
	const pieces = splitAtSpans(source);
	const jobs = pieces.filter((p) => p.translate).map((p) => {
		const lead = /^\s*/u.exec(p.text)?.[0] ?? "";
		const trail = /\s*$/u.exec(p.text)?.[0] ?? "";
		return { lead, trail, masked: maskText(p.text.trim(), backend.maskStyle) };
	});
	const outputs = jobs.length ? await backend.translate(jobs.map((j) => j.masked.text), { source: "en", target: lang, signal }) : [];
	let k = 0;
	let truncated = false;
	const text = pieces
		.map((piece) => {
			if (!piece.translate) return piece.text;
			const job = jobs[k];
			const output = outputs[k++];
			truncated ||= Boolean(output?.truncated);
			const restoredPiece = job && output ? unmaskText(output.text, job.masked) : undefined;
			return `${job?.lead ?? ""}${restoredPiece?.ok ? restoredPiece.text.trim() : piece.text.trim()}${job?.trail ?? ""}`;
		})
		.join("");
	return { text, fallback: true, truncated };
}

/** Translates one recovery-KD pair into `lang` (the pipeline of `translateRecoveryKd` for one record). */
export async function translateKdPair(
	pair: { id: string; query_en: string; response_en: string; flags?: string[] },
	backend: TranslationBackend,
	lang: string,
	options: { checkLanguage?: boolean; minScriptRatio?: number; signal?: AbortSignal } = {},
): Promise<TranslatedKdRecord> {
	const fields = { query: planField(pair.query_en, backend), response: planField(pair.response_en, backend) };
	const jobs = [...fields.query.units, ...fields.response.units].filter((u) => u.masked !== undefined);
	const outputs = jobs.length ? await backend.translate(jobs.map((u) => (u.masked as MaskedText).text), { source: "en", target: lang, signal: options.signal }) : [];
	const flags = new Set<string>(pair.flags ?? []);
	const translatedOf = new Map<object, string>();
	for (let i = 0; i < jobs.length; i++) {
		const unit = jobs[i] as FieldPlan["units"][number];
		const masked = unit.masked as MaskedText;
		const output = outputs[i];
		if (!output) throw new RemoteError(`translation backend returned ${outputs.length} texts for ${jobs.length}`, { retryable: false });
		const restored = unmaskText(output.text, masked);
		let text: string;
		let truncated = Boolean(output.truncated);
		if (restored.ok) text = restored.text;
		else {
			const redone = await translateLostUnit(masked, unit.text, backend, lang, options.signal);
			text = redone.text;
			truncated ||= redone.truncated;
			if (redone.fallback) flags.add("mask_fallback");
		}
		if (truncated) flags.add("translation_truncated");
		if (text.trim() === "") flags.add("empty_translation");
		translatedOf.set(unit, text);
	}
	const join = (plan: FieldPlan): string => plan.units.map((u) => translatedOf.get(u) ?? u.text).join("");
	const record: TranslatedKdRecord = { id: pair.id, query_en: pair.query_en, response_en: pair.response_en, query_t: join(fields.query), response_t: join(fields.response), lang };
	const checks: Record<string, string> = {};
	if (options.checkLanguage !== false) {
		for (const [field, plan] of Object.entries(fields)) {
			const translatedProse = plan.units.filter((u) => u.masked).map((u) => prose(translatedOf.get(u) ?? "")).join("\n");
			const sourceProse = plan.units.filter((u) => u.masked).map((u) => prose(u.text)).join("\n");
			if (!/\p{L}/u.test(sourceProse)) continue; // nothing to translate: numbers, code
			const verdict = checkLanguage(translatedProse, lang, { minScriptRatio: options.minScriptRatio });
			if (!verdict.ok) {
				flags.add(`lang_mismatch_${field}`);
				checks[field] = verdict.reason ?? `identified as ${verdict.detected}`;
			}
		}
	}
	if (flags.size) record.flags = [...flags];
	if (Object.keys(checks).length) record.lang_check = checks;
	return record;
}

function validatePair(value: Record<string, unknown>): string | undefined {
	if (typeof value.id !== "string" && typeof value.id !== "number") return 'field "id" must be a string or a number';
	if (typeof value.query_en !== "string") return 'field "query_en" must be a string';
	if (typeof value.response_en !== "string") return 'field "response_en" must be a string';
	if (value.flags !== undefined && (!Array.isArray(value.flags) || value.flags.some((f) => typeof f !== "string"))) return 'field "flags" must be a list of strings';
	return undefined;
}

/** The KD pairs of the input in order, ids unique (a duplicate is an error naming both lines). */
async function* readPairs(input: string, onBadRecord: BadRecordPolicy | undefined, rejects: RejectsWriter): AsyncGenerator<{ id: string; value: KdPair & { id: string }; file: string; line: number }> {
	const seen = new Map<string, number>();
	for await (const record of readJsonl<KdPair>(input, { onBadRecord, rejects, validate: validatePair })) {
		const id = String(record.value.id);
		const first = seen.get(id);
		if (first !== undefined) throw new InputError(`duplicate id "${id}" (first on line ${first})`, { file: record.file, line: record.line, field: "id" });
		seen.set(id, record.line);
		yield { id, value: { ...record.value, id }, file: record.file, line: record.line };
	}
}

/**
 * The translation step (paper Sec. 2.2.3, "TCOT Data"): every recovery-KD pair (q_en, a_en) is machine-translated
 * into (q_t, a_t). Code blocks never reach the engine; inline code, URLs, e-mails, LaTeX, placeholders and
 * identifiers are masked and restored; each translated field's language is checked. Flagged records are kept
 * and listed in the manifest's report. Resumable like the generation step, in input order.
 */
export async function translateRecoveryKd(options: TranslateRecoveryKdOptions): Promise<TranslateRecoveryKdSummary> {
	const { backend } = options;
	const lang = getLanguage(options.lang).code;
	const { produced, ...summary } = await runOrderedJob<KdPair & { id: string }, TranslatedKdRecord>({
		step: "translate",
		paper: "TransLLM (../shared/papers/000_1ce36f3811662daf.txt) Sec. 2.2.3 TCOT and translation data from machine-translated recovery KD; Sec. 3.1 Google Translate, do-not-translate spans",
		input: options.input,
		out: options.out,
		settings: {
			backend: backend.kind,
			location: backend.location,
			model: backend.model ?? null,
			lang,
			maskStyle: backend.maskStyle,
			granularity: backend.granularity,
			checkLanguage: options.checkLanguage ?? true,
			minScriptRatio: options.minScriptRatio ?? null,
			concurrency: backend.concurrency,
		},
		label: `kd translate → ${lang}`,
		concurrency: backend.concurrency,
		retries: () => backend.retries,
		read: (rejects) => readPairs(options.input, options.onBadRecord, rejects),
		run: (item) => translateKdPair(item.value, backend, lang, { checkLanguage: options.checkLanguage, minScriptRatio: options.minScriptRatio, signal: options.signal }),
		failure: "translation failed",
		rank: options.rank,
		worldSize: options.worldSize,
		resume: options.resume,
		overwrite: options.overwrite,
		progress: options.progress,
		signal: options.signal,
	});
	return { ...summary, translated: produced };
}

/**
 * Merges the parts written by ranks 0…W-1 of `translateRecoveryKd` (same input and policy; `parts` in rank order)
 * into one output, byte-identical to an unsharded run's.
 */
export async function mergeTranslatedKdRanks(options: { input: string; parts: readonly string[]; out: string; onBadRecord?: BadRecordPolicy }): Promise<{ out: string; records: number }> {
	const rejects = await RejectsWriter.open(options.out);
	try {
		async function* ids(): AsyncGenerator<string> {
			for await (const pair of readPairs(options.input, options.onBadRecord, rejects)) yield pair.id;
		}
		return await mergeRankOutputs({ ids: ids(), parts: options.parts, out: options.out });
	} finally {
		await rejects.close();
	}
}
