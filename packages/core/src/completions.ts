import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "./atomic-write.js";

/**
 * Completion markers of a multi-stage, multi-rank job (datatrove's `completions/`): each finished unit of
 * work writes `completions/<name>.json`; a rerun skips the units that have one, so a job killed at any moment
 * resumes at the first unfinished unit.
 */
export class Completions {
	constructor(readonly directory: string) {}

	private path(name: string): string {
		return join(this.directory, "completions", `${name.replace(/[^A-Za-z0-9._-]/g, "_")}.json`);
	}

	async isDone(name: string): Promise<boolean> {
		return (await this.read(name)) !== undefined;
	}

	/** The info recorded when the unit finished, or undefined. */
	async read<T = unknown>(name: string): Promise<T | undefined> {
		try {
			return JSON.parse(await readFile(this.path(name), "utf8")) as T;
		} catch {
			return undefined;
		}
	}

	async markDone(name: string, info: unknown = {}): Promise<void> {
		await writeJsonAtomic(this.path(name), info);
	}

	async clear(name: string): Promise<void> {
		await rm(this.path(name), { force: true });
	}
}
