import { JsonlWriter, RejectsWriter, Stats, createProgress, setSegmentationProgress } from "@transllm/core";
import type { BadRecordPolicy, StatsJson } from "@transllm/core";
import type { CorpusDocument } from "./document.js";
import type { Filter } from "./filter.js";
import { applyFilters } from "./filter.js";
import { FilterAudit } from "./filter-audit.js";
import type { ReadDocumentsParams } from "./read-documents.js";
import { readDocuments } from "./read-documents.js";

/** One record of a cleaned shard: the source record's other fields, then `id` and `text`. */
export interface CleanRecord {
	id: string;
	text: string;
	[field: string]: unknown;
}

/** How the clean pipeline reads its inputs (structured-cloneable: it is sent to filter workers as is). */
export interface ShardReadOptions extends Omit<ReadDocumentsParams, "paths" | "rejects" | "onBadRecord"> {
	/** Unreadable records: `error` (default) stops naming file:line; `skip` keeps them in `<shard>.rejects.jsonl`. */
	onBadRecord?: BadRecordPolicy;
	/** Continue an interrupted run in `outDir` (finished shards are skipped, a partial one continues). */
	resume?: boolean;
}

/** One input file of the clean pipeline and where its filtered shard and audit files go. */
export interface ShardJob {
	index: number;
	input: string;
	/** `filtered/<shard>.jsonl`. */
	outPath: string;
	/** `audit/<shard>/`. */
	auditDir: string;
	/** Show the progress of each long document (over `LONG_DOCUMENT` characters) through word segmentation. */
	progress?: boolean;
}

/** A document this long (UTF-16 units) gets its own progress line while the filters segment it. */
export const LONG_DOCUMENT = 1 << 20;

/** What a filtered shard leaves in its completion marker. */
export interface ShardResult {
	stats: StatsJson;
	audits: string[];
}

/**
 * Filters one input file into its shard: read → filters (drops audited) → `filtered/<shard>.jsonl`. With
 * `resume`, the shard is re-filtered from its start and only the records missing from its `.partial` output and
 * audit files are written. The same function runs in this thread or in a filter worker, so both write the same
 * files. `onDocuments` hears of documents read, for progress.
 */
export async function filterShard(job: ShardJob, read: ShardReadOptions, filters: readonly Filter<CorpusDocument>[], onDocuments: (n: number) => void): Promise<ShardResult> {
	const stats = new Stats();
	const writer = await JsonlWriter.open<CleanRecord>(job.outPath, { resume: read.resume, overwrite: true });
	const audit = new FilterAudit<CorpusDocument>(job.auditDir, { resume: read.resume });
	const rejects = read.onBadRecord === "skip" ? await RejectsWriter.open(job.outPath, { resume: read.resume }) : undefined;
	let skip = writer.resumedCount;
	try {
		const documents = readDocuments({
			paths: [job.input],
			format: read.format,
			textField: read.textField,
			idField: read.idField,
			metadataFields: read.metadataFields,
			textMode: read.textMode,
			onBadRecord: read.onBadRecord,
			rejects,
			specialTokens: read.specialTokens,
		});
		const counted = (async function* () {
			for await (const document of documents) {
				stats.count("read/documents");
				onDocuments(1);
				if (!job.progress || document.text.length <= LONG_DOCUMENT) {
					yield document;
					continue;
				}
				// The filters run on it before the next one is asked for: until then, segmentation reports here.
				const progress = createProgress({ label: `clean: ${document.file}:${document.line}`, unit: "chars", total: document.text.length });
				const previous = setSegmentationProgress((units) => progress.tick(units));
				try {
					yield document;
				} finally {
					setSegmentationProgress(previous);
					progress.done();
				}
			}
		})();
		for await (const document of applyFilters(counted, filters, { stats, audit })) {
			stats.count("filtered/documents");
			if (skip > 0) {
				skip -= 1;
				continue;
			}
			if (!writer.alreadyComplete) await writer.write({ ...document.metadata, id: document.id, text: document.text });
		}
		await writer.finish();
		await audit.finish();
	} catch (error) {
		await writer.close();
		await audit.close();
		throw error;
	} finally {
		await rejects?.close();
	}
	if (rejects && rejects.count > 0) stats.count("rejected/records", rejects.count);
	const audits = filters.filter((filter) => Object.keys(stats.counters).some((key) => key.startsWith(`${filter.name}/dropped_`))).map((filter) => audit.pathOf(filter.name));
	return { stats: stats.toJSON(), audits };
}

