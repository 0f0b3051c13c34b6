import { execFile } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ConfigError, writeFileAtomic, writeJsonAtomic } from "@transllm/core";
import type { PipelineConfig } from "./config.js";
import { loadHashCache } from "./hash-cache.js";
import { readLockFile } from "./lock-file.js";
import type { StageRecord } from "./lock-file.js";
import type { PlanStep } from "./plan.js";
import { cliPath, finishedRanks, stageDir, stageLogPath } from "./stage-dir.js";
import { stageKey } from "./stage-key.js";

const run = promisify(execFile);

/** The jobs of one stage: the rank array (sharded stages) and the job that finishes (or is) the stage. */
export interface StageJobs {
	array?: string;
	ranks?: number[];
	job: string;
	submittedAt: string;
}

export const SLURM_JOBS_FILE = "slurm-jobs.json";

const quote = (text: string): string => `'${text.replace(/'/g, "'\\''")}'`;

/** An sbatch script running one entry point of the built CLI (config options as #SBATCH lines). */
function batchScript(config: PipelineConfig, name: string, output: string, command: string[]): string {
	const s = config.executor.slurm;
	const lines = ["#!/bin/bash", `#SBATCH --job-name=${name}`, `#SBATCH --output=${output}`, `#SBATCH --chdir=${config.workdir}`, `#SBATCH --cpus-per-task=${s?.cpus_per_task ?? 1}`];
	if (s?.partition) lines.push(`#SBATCH --partition=${s.partition}`);
	if (s?.time) lines.push(`#SBATCH --time=${s.time}`);
	if (s?.mem) lines.push(`#SBATCH --mem=${s.mem}`);
	for (const line of s?.sbatch_lines ?? []) lines.push(line.startsWith("#SBATCH") ? line : `#SBATCH ${line}`);
	// The rank comes from SLURM_ARRAY_TASK_ID inside `stage-rank`; keys come from the environment sbatch exports.
	lines.push(`exec ${command.map(quote).join(" ")}`);
	return `${lines.join("\n")}\n`;
}

async function sbatch(script: string, args: string[]): Promise<string> {
	try {
		const { stdout } = await run("sbatch", ["--parsable", "--kill-on-invalid-dep=yes", ...args, script]);
		return stdout.trim().split(";")[0] as string;
	} catch (error) {
		throw new ConfigError(`sbatch ${args.join(" ")} ${script} failed: ${((error as { stderr?: string }).stderr ?? (error as Error).message).trim()}`);
	}
}

/** Ranks still to run when the stage's inputs are already final (no upstream job): those without a marker. */
async function pendingRanks(config: PipelineConfig, step: PlanStep, upstreamSubmitted: boolean): Promise<number[]> {
	const all = Array.from({ length: config.executor.world_size }, (_, rank) => rank);
	if (upstreamSubmitted) return all;
	const lock = await readLockFile(config.workdir);
	const upstream = Object.fromEntries(step.deps.map((dep) => [dep, lock.stages[dep] as StageRecord]));
	const key = await stageKey(config, step.stage, upstream, await loadHashCache(config.workdir));
	const marker = await readFile(join(stageDir(config.workdir, step.stage.name), ".transllm-stage.json"), "utf8").then(
		(text) => (JSON.parse(text) as { key: string }).key,
		() => undefined,
	);
	if (marker !== key.key) return all;
	const done = await finishedRanks(config.workdir, step.stage.name);
	return all.filter((rank) => !done.has(rank));
}

/**
 * executor slurm (datatrove's SlurmPipelineExecutor): each stage to run becomes jobs of the same entry points the
 * local executor uses — a sharded stage an `sbatch --array=<ranks>%<workers>` job of `transllm stage-rank` (only
 * the ranks without a completion marker) plus a `transllm stage-run` job that merges and records it; dependent
 * stages chain with `--dependency=afterok:<id>`. Logs land in <workdir>/logs/slurm/.
 */
export async function submitToSlurm(config: PipelineConfig, plan: readonly PlanStep[], out: NodeJS.WritableStream): Promise<Record<string, StageJobs>> {
	const blocked = plan.filter((step) => step.action === "blocked");
	if (blocked.length > 0) throw new ConfigError(blocked.map((step) => `${step.stage.name}: ${step.reason}`).join("; "));
	const jobs: Record<string, StageJobs> = {};
	const scripts = join(config.workdir, "slurm");
	const logs = join(config.workdir, "logs", "slurm");
	await mkdir(scripts, { recursive: true });
	await mkdir(logs, { recursive: true });
	const cli = cliPath();
	for (const step of plan) {
		if (step.action !== "run") continue;
		const name = step.stage.name;
		const upstreamJobs = step.deps.flatMap((dep) => (jobs[dep] ? [jobs[dep].job] : []));
		const after = (ids: string[]) => (ids.length > 0 ? [`--dependency=afterok:${ids.join(":")}`] : []);
		const entry: StageJobs = { job: "", submittedAt: new Date().toISOString() };
		const finishDeps = [...upstreamJobs];
		if (step.stage.sharded && config.executor.world_size > 1) {
			const ranks = await pendingRanks(config, step, upstreamJobs.length > 0);
			if (ranks.length > 0) {
				const script = join(scripts, `${name}.ranks.sh`);
				await writeFileAtomic(script, batchScript(config, `transllm-${name}-ranks`, join(logs, `${name}-rank-%a-%A.log`), [process.execPath, cli, "stage-rank", config.file, "--stage", name]));
				entry.array = await sbatch(script, [`--array=${ranks.join(",")}%${config.executor.workers}`, ...after(upstreamJobs)]);
				entry.ranks = ranks;
				finishDeps.push(entry.array);
			}
		}
		const script = join(scripts, `${name}.sh`);
		await writeFileAtomic(script, batchScript(config, `transllm-${name}`, join(logs, `${name}-%j.log`), [process.execPath, cli, "stage-run", config.file, "--stage", name, ...(step.reason.startsWith("forced") ? ["--fresh"] : [])]));
		entry.job = await sbatch(script, after(finishDeps));
		jobs[name] = entry;
		out.write(`▶ ${name}: submitted job ${entry.job}${entry.array ? ` after array ${entry.array} (ranks ${entry.ranks?.join(",")})` : ""} (${step.reason})\n`);
	}
	await writeJsonAtomic(join(config.workdir, SLURM_JOBS_FILE), jobs);
	return jobs;
}

export interface JobState {
	id: string;
	state: string;
}

export const TERMINAL_STATES: ReadonlySet<string> = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE"]);

/** States of jobs (array tasks included) as squeue knows them, finished ones too while slurmctld keeps them. */
export async function jobStates(ids: readonly string[]): Promise<Map<string, JobState[]>> {
	const states = new Map<string, JobState[]>(ids.map((id) => [id, []]));
	if (ids.length === 0) return states;
	const { stdout } = await run("squeue", ["-h", "-t", "all", "-o", "%A|%F|%i|%T", "-j", ids.join(",")]).catch(() => ({ stdout: "" }));
	for (const line of stdout.split("\n").filter(Boolean)) {
		const [jobId, arrayId, shown, state] = line.split("|") as [string, string, string, string];
		const owner = ids.find((id) => id === arrayId || id === jobId);
		if (owner) states.get(owner)?.push({ id: shown, state });
	}
	return states;
}

/** Waits until every submitted job has left the queue; returns the stages that did not record a result. */
export async function waitForSlurm(config: PipelineConfig, jobs: Record<string, StageJobs>, out: NodeJS.WritableStream): Promise<string[]> {
	const ids = Object.values(jobs).flatMap((entry) => [entry.job, ...(entry.array ? [entry.array] : [])]);
	const seen = new Map<string, string>();
	const poll = (config.executor.slurm?.poll_seconds ?? 2) * 1000;
	for (;;) {
		const states = await jobStates(ids);
		let active = false;
		for (const [stage, entry] of Object.entries(jobs)) {
			for (const id of [entry.array, entry.job].filter((x): x is string => x !== undefined)) {
				for (const job of states.get(id) ?? []) {
					if (!TERMINAL_STATES.has(job.state)) active = true;
					if (seen.get(job.id) !== job.state) {
						seen.set(job.id, job.state);
						out.write(`  ${stage}: job ${job.id} ${job.state}\n`);
					}
				}
			}
		}
		if (!active) break;
		await new Promise((done) => setTimeout(done, poll));
	}
	const lock = await readLockFile(config.workdir);
	const failed: string[] = [];
	for (const [stage, entry] of Object.entries(jobs)) {
		const record = lock.stages[stage];
		if (record && record.finishedAt >= entry.submittedAt) out.write(`✓ ${stage} in ${record.seconds} s\n`);
		else {
			failed.push(stage);
			out.write(`✗ ${stage} did not finish (log: ${stageLogPath(config.workdir, stage)}; Slurm logs in ${join(config.workdir, "logs", "slurm")})\n`);
		}
	}
	return failed;
}

/** The recorded jobs of the last Slurm submission in a work dir. */
export async function readSlurmJobs(workdir: string): Promise<Record<string, StageJobs>> {
	return readFile(join(workdir, SLURM_JOBS_FILE), "utf8").then(
		(text) => JSON.parse(text) as Record<string, StageJobs>,
		() => ({}),
	);
}
