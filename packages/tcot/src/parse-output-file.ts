import { InputError, JsonlWriter, RejectsWriter, createProgress, readJsonl } from "@transllm/core";
import type { BadRecordPolicy } from "@transllm/core";
import { parseTcotOutput } from "./tcot-stream-parser.js";
import { normalizeLanguage } from "./special-tokens.js";

export interface ParseOutputFileOptions {
	/** JSONL of model outputs. */
	input: string | readonly string[];
	/** JSONL with the three parts per record. */
	output: string;
	/**
	 * Field holding the generated text (default: `response`, the field `transllm generate` writes, else `text`), so
	 * that the output of `generate` parses as it is.
	 */
	field?: string;
	/** Target language (default: each record's `lang` field, else any language-ID token). */
	lang?: string;
	onBadRecord?: BadRecordPolicy;
	resume?: boolean;
	force?: boolean;
	progress?: NodeJS.WritableStream | null;
}

/** One parsed record: the input's other fields plus the three parts (null where missing), named as in TranslatedRecord. */
export interface ParsedOutputRecord {
	query_en: string | null;
	response_en: string | null;
	response_t: string | null;
	lang: string | null;
	mode: string;
	missing: string[];
	complete: boolean;
	ended_with_eos: boolean;
	irregular: boolean;
	fallback: string | null;
	[field: string]: unknown;
}

/**
 * `transllm tcot parse`: splits every generated output into English query, English response and target response
 * (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.3), keeping the record's other fields.
 */
export async function parseOutputFile(options: ParseOutputFileOptions): Promise<{ records: number; complete: number; rejected: number; output: string }> {
	const fieldOf = (record: Record<string, unknown>): string => options.field ?? (record.response !== undefined ? "response" : "text");
	const policy = options.onBadRecord ?? "error";
	// A bad --lang is a usage error, not a bad record on every line.
	const fixedLang = options.lang !== undefined ? normalizeLanguage(options.lang) : undefined;
	const langOf = (record: Record<string, unknown>) => fixedLang ?? (typeof record.lang === "string" ? record.lang : undefined);
	const rejects = policy === "skip" ? await RejectsWriter.open(options.output, { resume: options.resume }) : undefined;
	const writer = await JsonlWriter.open<ParsedOutputRecord>(options.output, { resume: options.resume, overwrite: options.force });
	const progress = createProgress({ label: "tcot parse", unit: "records", silent: options.progress === null, stream: options.progress ?? undefined, initial: writer.count });
	let complete = 0;
	if (!writer.alreadyComplete) {
		const records = readJsonl<Record<string, unknown>>(options.input, {
			onBadRecord: policy,
			rejects,
			validate: (record) => {
				const field = fieldOf(record);
				if (record[field] === undefined || record[field] === null) return `missing required field "${field}"${options.field === undefined ? ' (looked for "response", then "text"; choose one with --field)' : ""}`;
				if (typeof record[field] !== "string") return `field "${field}" must be a string`;
				// Under skip the reader sets aside a record with an unknown language code, so that a resumed run's count of
				// records read (skipRecords) stays equal to the records written.
				const lang = langOf(record);
				if (policy === "skip" && lang !== undefined) {
					try {
						normalizeLanguage(lang);
					} catch (error) {
						return `field "lang": ${(error as Error).message}`;
					}
				}
				return undefined;
			},
			skipRecords: writer.resumedCount,
		});
		try {
			for await (const { value, file, line } of records) {
				const lang = langOf(value);
				const field = fieldOf(value);
				let result;
				try {
					result = parseTcotOutput(value[field] as string, { lang });
				} catch (error) {
					// An unknown language code in the record (under skip the reader has already set it aside).
					throw new InputError((error as Error).message, { file, line, field: "lang" }, { cause: error });
				}
				const { [field]: _text, ...rest } = value;
				if (result.complete) complete += 1;
				await writer.write({
					...rest,
					query_en: result.queryEn ?? null,
					response_en: result.responseEn ?? null,
					response_t: result.responseTarget ?? null,
					lang: result.lang ?? lang ?? null,
					mode: result.mode,
					missing: result.missing,
					complete: result.complete,
					ended_with_eos: result.endedWithEos,
					irregular: result.irregular,
					fallback: result.fallback?.append ?? null,
				});
				progress.tick();
			}
		} catch (error) {
			await writer.close();
			await rejects?.close();
			throw error;
		}
	}
	const records = await writer.finish();
	await rejects?.close();
	progress.done();
	return { records, complete, rejected: rejects?.count ?? 0, output: options.output };
}
