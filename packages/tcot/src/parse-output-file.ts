import { InputError, JsonlWriter, RejectsWriter, createProgress, readJsonl } from "@transllm/core";
import type { BadRecordPolicy } from "@transllm/core";
import { parseTcotOutput } from "./tcot-stream-parser.js";

export interface ParseOutputFileOptions {
	/** JSONL of model outputs. */
	input: string | readonly string[];
	/** JSONL with the three parts per record. */
	output: string;
	/** Field holding the generated text (default `text`). */
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
	const field = options.field ?? "text";
	const policy = options.onBadRecord ?? "error";
	const rejects = policy === "skip" ? await RejectsWriter.open(options.output, { resume: options.resume }) : undefined;
	const writer = await JsonlWriter.open<ParsedOutputRecord>(options.output, { resume: options.resume, overwrite: options.force });
	const progress = createProgress({ label: "tcot parse", unit: "records", silent: options.progress === null, stream: options.progress ?? undefined, initial: writer.count });
	let complete = 0;
	if (!writer.alreadyComplete) {
		const records = readJsonl<Record<string, unknown>>(options.input, {
			onBadRecord: policy,
			rejects,
			required: [field],
			validate: (record) => (typeof record[field] === "string" ? undefined : `field "${field}" must be a string`),
			skipRecords: writer.resumedCount,
		});
		try {
			for await (const { value, file, line } of records) {
				const lang = options.lang ?? (typeof value.lang === "string" ? value.lang : undefined);
				let result;
				try {
					result = parseTcotOutput(value[field] as string, { lang });
				} catch (error) {
					// An unknown language code in the record: a bad record like any other.
					if (policy === "error") throw new InputError((error as Error).message, { file, line, field: "lang" }, { cause: error });
					await rejects?.reject({ file, line, reason: (error as Error).message, raw: JSON.stringify(value) });
					continue;
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
