import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeJsonAtomic } from "@transllm/core";
import { withFileLock } from "./run-lock.js";

/** The marker of the key a stage folder's contents belong to. */
const MARKER = ".transllm-stage.json";
/** In a training stage's folder while it waits for training: the commands to run. */
export const WAITING_FILE = ".waiting-for-training.json";

export const stageDir = (workdir: string, stage: string): string => join(workdir, stage);
export const rankMarker = (workdir: string, stage: string, rank: number): string => join(workdir, stage, ".ranks", `${rank}.json`);
export const stageLogPath = (workdir: string, stage: string, rank?: number): string => join(workdir, "logs", rank === undefined ? `${stage}.log` : join(stage, `rank-${rank}.log`));

/**
 * Makes `<workdir>/<stage>/` ready for a run of `key`: a folder holding an interrupted run of the same key is kept
 * (resume = true, through the stage's own resume); one of another key, or none, starts empty. Ranks arriving at
 * once (worker processes, a Slurm array) agree under a file lock: the first one clears, the others find the key.
 * `fresh` (--force) clears whatever the folder holds.
 */
export async function prepareStageDir(workdir: string, stage: string, key: string, fresh = false): Promise<{ resume: boolean }> {
	const dir = stageDir(workdir, stage);
	await mkdir(workdir, { recursive: true });
	return withFileLock(join(workdir, `.${stage}.prepare.lock`), async () => {
		const current = await readFile(join(dir, MARKER), "utf8").then(
			(text) => (JSON.parse(text) as { key: string }).key,
			() => undefined,
		);
		if (current === key && !fresh) return { resume: true };
		await rm(dir, { recursive: true, force: true });
		await mkdir(dir, { recursive: true });
		await rm(join(workdir, "logs", stage), { recursive: true, force: true });
		await writeJsonAtomic(join(dir, MARKER), { key });
		return { resume: false };
	});
}

/** Ranks of a stage whose completion markers are there. */
export async function finishedRanks(workdir: string, stage: string): Promise<Set<number>> {
	const names = await readdir(join(workdir, stage, ".ranks")).catch(() => [] as string[]);
	return new Set(names.filter((name) => /^\d+\.json$/.test(name)).map((name) => Number(name.slice(0, -5))));
}

/** The built CLI (dist/cli.js of this package), which worker processes and Slurm jobs run. */
export function cliPath(): string {
	let dir = dirname(fileURLToPath(import.meta.url));
	while (!existsSync(join(dir, "package.json"))) {
		const parent = dirname(dir);
		if (parent === dir) throw new Error("cannot find the transllm package folder");
		dir = parent;
	}
	const cli = join(dir, "dist", "cli.js");
	if (!existsSync(cli)) throw new Error(`${cli} is missing: build transllm first (pnpm build)`);
	return cli;
}
