import { escapeSpecialTokens, findSpecialToken, guardedSpecialTokens, readJsonl, specialTokenProblem } from "@transllm/core";
import type { ReadStats, RejectsWriter } from "@transllm/core";
import type { DedupConfig } from "./dedup-config.js";
import { murmur3Bytes } from "./murmur3.js";

/** One input document as the stages see it. */
export interface InputDocument {
	record: Record<string, unknown>;
	text: string;
	id: string;
	/** Keep priority: higher wins; ties go to the earlier document. */
	priority: number;
}

/** The files rank `rank` of `worldSize` reads (datatrove's `files[rank::world_size]`). */
export function filesOfRank(inputs: readonly string[], rank: number, worldSize: number): string[] {
	return inputs.filter((_, index) => index % worldSize === rank);
}

function idHash(id: string): number {
	const bytes = Buffer.from(id, "utf8");
	return murmur3Bytes(bytes, 0, bytes.length, 1) * 2097152 + (murmur3Bytes(bytes, 0, bytes.length, 2) >>> 11);
}

/**
 * Streams the documents of a rank with every check of the core reader policy: invalid UTF-8 or JSON, a missing
 * or non-string text field, a text over `maxDocumentBytes`, a missing, non-numeric keep field, a duplicate
 * id and, under the default special-token policy, a text holding a special token are bad records (error naming file:line, or skipped to the rejects file). The same input always yields
 * the same sequence, so the signatures and filter stages agree on document numbers.
 */
export async function* readDocuments(params: {
	files: readonly string[];
	config: DedupConfig;
	onBadRecord: "error" | "skip";
	rejects?: RejectsWriter;
	stats?: ReadStats;
}): AsyncGenerator<InputDocument> {
	const { config } = params;
	const { textField, idField, keep, maxDocumentBytes } = config;
	// Runs written before the policy existed read as its default.
	const specialTokens = config.specialTokens ?? "error";
	const guarded = guardedSpecialTokens();
	// 53-bit hashes of ids seen: 8 bytes per document instead of the id strings.
	const seenIds = idField === undefined ? undefined : new Set<number>();
	const validate = (value: Record<string, unknown>): string | undefined => {
		const text = value[textField];
		if (typeof text !== "string") return `field "${textField}" must be a string, got ${text === null ? "null" : typeof text}`;
		if (text.length > maxDocumentBytes / 3 && Buffer.byteLength(text) > maxDocumentBytes) {
			return `field "${textField}" is longer than ${maxDocumentBytes} bytes (maxDocumentBytes)`;
		}
		const special = specialTokens === "error" ? specialTokenProblem(value, [textField], guarded) : undefined;
		if (special !== undefined) return special;
		if (typeof keep === "object") {
			const score = value[keep.field];
			if (typeof score !== "number" || !Number.isFinite(score)) return `keep field "${keep.field}" must be a finite number`;
		}
		if (idField !== undefined && seenIds) {
			const id = value[idField];
			if (typeof id !== "string" && typeof id !== "number") return `field "${idField}" must be a string or number`;
			const hash = idHash(String(id));
			if (seenIds.has(hash)) return `duplicate id "${String(id)}" in field "${idField}"`;
			seenIds.add(hash);
		}
		return undefined;
	};
	for await (const { value, file, line } of readJsonl(params.files, {
		onBadRecord: params.onBadRecord,
		rejects: params.rejects,
		required: [textField],
		validate,
		stats: params.stats,
	})) {
		let text = value[textField] as string;
		if (specialTokens === "escape" && findSpecialToken(text, guarded) !== undefined) {
			text = escapeSpecialTokens(text, guarded);
			value[textField] = text;
		}
		const id = idField === undefined ? `${file}:${line}` : String(value[idField]);
		const priority = keep === "first" ? 0 : keep === "longest" ? text.length : (value[keep.field] as number);
		yield { record: value, text, id, priority };
	}
}
