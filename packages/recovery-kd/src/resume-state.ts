import { readFile } from "node:fs/promises";
import { readJsonl, readLines, rejectsPathFor } from "@transllm/core";

/** `file:line` of every input record already set aside in `<output>.rejects.jsonl` (skipped on resume). */
export async function rejectedInputLines(outputPath: string): Promise<Set<string>> {
	const keys = new Set<string>();
	const text = await readFile(rejectsPathFor(outputPath), "utf8").catch(() => "");
	for (const line of text.slice(0, text.lastIndexOf("\n") + 1).split("\n")) {
		if (!line) continue;
		try {
			const entry = JSON.parse(line) as { file?: unknown; line?: unknown };
			if (typeof entry.file === "string" && typeof entry.line === "number") keys.add(`${entry.file}:${entry.line}`);
		} catch {
			// A torn last entry: that record is redone.
		}
	}
	return keys;
}

/** Counts the records of a finished output per flag, with their ids (the manifest's report). */
export async function flagReport(outputPath: string): Promise<{ records: number; flagged: Record<string, number>; report: Record<string, string[]> }> {
	const flagged: Record<string, number> = {};
	const report: Record<string, string[]> = {};
	let records = 0;
	for await (const { value } of readJsonl<{ id: string; flags?: string[] }>(outputPath)) {
		records += 1;
		for (const flag of value.flags ?? []) {
			flagged[flag] = (flagged[flag] ?? 0) + 1;
			(report[flag] ??= []).push(value.id);
		}
	}
	return { records, flagged, report };
}

/** Non-blank lines of a (plain or gzip) JSONL file: the total shown by the progress bar. */
export async function countRecords(path: string, limit?: number): Promise<number> {
	let n = 0;
	for await (const { bytes } of readLines(path)) {
		if (bytes.toString("utf8").trim() === "") continue;
		n += 1;
		if (limit !== undefined && n >= limit) break;
	}
	return n;
}
