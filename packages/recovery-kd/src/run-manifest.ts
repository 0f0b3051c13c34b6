import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { TransllmError, assertSameSettings, writeJsonAtomic } from "@transllm/core";

/** One start of a job (a resumed job has several). */
export interface ManifestRun {
	startedAt: string;
	finishedAt?: string;
	/** Records found in the output when this run started (kept, not redone). */
	resumedRecords: number;
	/** Records this run produced. */
	producedRecords: number;
	/** Remote retries this run made. */
	retries: number;
	status: "running" | "complete" | "interrupted" | "failed";
	error?: string;
}

/** `<output>.manifest.json`: what produced an output, from what, and how each run of it went. */
export interface RunManifest {
	/** The package that ran the job (`@transllm/recovery-kd`, `@transllm/eval` …). */
	tool: string;
	/** `generate`, `translate`, or another package's step (`eval answer` …). */
	step: string;
	/** The paper section the step implements. */
	paper: string;
	input: { path: string; sha256: string };
	output: { path: string; records?: number; rejected?: number; flagged?: Record<string, number> };
	/** Backend, model, parameters: never a key (keys come from the environment and are not recorded). */
	settings: Record<string, unknown>;
	status: "running" | "complete" | "interrupted" | "failed";
	runs: ManifestRun[];
	/** Per-record findings worth a look (language mismatches, lost masks): ids by kind. */
	report?: Record<string, string[]>;
}

export function manifestPathFor(outputPath: string): string {
	return `${outputPath.replace(/\.gz$/, "")}.manifest.json`;
}

/** SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
	const hash = createHash("sha256");
	for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
	return hash.digest("hex");
}

export async function readManifest(path: string): Promise<RunManifest | undefined> {
	try {
		return JSON.parse(await readFile(path, "utf8")) as RunManifest;
	} catch {
		return undefined;
	}
}

/** Settings free to change between runs of one output: they change neither which records are made nor how. */
const FREE_SETTINGS = ["location", "concurrency", "limit"];

/**
 * Refuses to resume an output over an input that changed (another SHA-256 than the manifest recorded) or with other
 * settings (another model, language, temperature, system prompt …): either would mix two datasets in one output.
 * Called before anything is opened.
 */
export async function assertResumable(manifestPath: string, input: { path: string; sha256: string }, settings: Record<string, unknown>, outputPath: string): Promise<void> {
	const previous = await readManifest(manifestPath);
	if (previous && previous.input.sha256 !== input.sha256) {
		throw new TransllmError(
			"E_INPUT",
			`cannot resume ${outputPath}: its input ${previous.input.path} had SHA-256 ${previous.input.sha256.slice(0, 12)}…, ${input.path} has ${input.sha256.slice(0, 12)}…; start a new output instead`,
		);
	}
	assertSameSettings(previous?.settings, settings, { output: outputPath, ignore: FREE_SETTINGS });
}

/** Starts a run in the manifest; on resume, the earlier runs are kept. */
export async function startManifestRun(
	path: string,
	base: Omit<RunManifest, "status" | "runs">,
	resume: { resumedRecords: number; resuming: boolean },
): Promise<RunManifest> {
	const previous = resume.resuming ? await readManifest(path) : undefined;
	const manifest: RunManifest = {
		...base,
		status: "running",
		runs: [
			...(previous?.runs ?? []),
			{ startedAt: new Date().toISOString(), resumedRecords: resume.resumedRecords, producedRecords: 0, retries: 0, status: "running" },
		],
	};
	await writeJsonAtomic(path, manifest);
	return manifest;
}

/** Closes the current run of the manifest and writes it. */
export async function finishManifestRun(
	path: string,
	manifest: RunManifest,
	update: { status: RunManifest["status"]; producedRecords: number; retries: number; error?: string; output?: RunManifest["output"]; report?: RunManifest["report"] },
): Promise<void> {
	const run = manifest.runs[manifest.runs.length - 1];
	if (run) {
		run.finishedAt = new Date().toISOString();
		run.status = update.status;
		run.producedRecords = update.producedRecords;
		run.retries = update.retries;
		if (update.error !== undefined) run.error = update.error;
	}
	manifest.status = update.status;
	if (update.output) manifest.output = update.output;
	if (update.report) manifest.report = update.report;
	await writeJsonAtomic(path, manifest);
}
