import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "@transllm/core";
import { withFileLock } from "./run-lock.js";

/** What the lock file records of a finished stage (make/DVC-style: rerun when `key` changes). */
export interface StageRecord {
	/** sha256 of the settings hash, the code version and the input hashes. */
	key: string;
	settingsHash: string;
	codeVersion: string;
	/** Input content hashes by path. */
	inputs: Record<string, string>;
	/** The stage's final output files (relative to the work dir) and their sha256. */
	outputs: Record<string, string>;
	/** Key figures shown by `status` and the report. */
	figures: Record<string, unknown>;
	seconds: number;
	finishedAt: string;
}

export interface LockFile {
	version: 1;
	stages: Record<string, StageRecord>;
}

export const LOCK_FILE = "transllm.lock.json";

export async function readLockFile(workdir: string): Promise<LockFile> {
	try {
		return JSON.parse(await readFile(join(workdir, LOCK_FILE), "utf8")) as LockFile;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, stages: {} };
		throw error;
	}
}

/**
 * Records (or, with undefined, forgets) one stage: an atomic read-modify-write under a file lock, because stages
 * of a Slurm run finish in jobs of their own.
 */
export async function updateLockFile(workdir: string, stage: string, record: StageRecord | undefined): Promise<void> {
	await withFileLock(join(workdir, `${LOCK_FILE}.lock`), async () => {
		const lock = await readLockFile(workdir);
		if (record === undefined) delete lock.stages[stage];
		else lock.stages[stage] = record;
		await writeJsonAtomic(join(workdir, LOCK_FILE), lock);
	});
}
