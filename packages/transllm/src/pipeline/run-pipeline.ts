import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, writeJsonAtomic } from "@transllm/core";
import type { PipelineConfig } from "./config.js";
import { dependencies, selectStages } from "./dag.js";
import type { Selection } from "./dag.js";
import { StageError, executeStage } from "./execute-stage.js";
import { figuresLine } from "./figures-line.js";
import { loadHashCache, saveHashCache } from "./hash-cache.js";
import { loadConfig } from "./load-config.js";
import { readLockFile } from "./lock-file.js";
import { decide, planRun } from "./plan.js";
import type { PlanStep } from "./plan.js";
import { writeReport } from "./report.js";
import { acquireRunLock } from "./run-lock.js";
import { submitToSlurm, waitForSlurm } from "./slurm-executor.js";
import { WAITING_FILE, stageLogPath } from "./stage-dir.js";
import { WaitingForTraining } from "./stage.js";
import type { Stage } from "./stage.js";
import { STAGES } from "./stages/index.js";

export interface RunOptions extends Selection {
	/** Print the plan and why each stage would run; run nothing. */
	dryRun?: boolean;
	/** Only the pre-flight checks. */
	checkOnly?: boolean;
	/** After a failed stage, still run the stages that do not depend on it. */
	keepGoing?: boolean;
	/** Slurm: submit and return without waiting for the jobs. */
	detach?: boolean;
	stages?: readonly Stage[];
	stdout?: NodeJS.WritableStream;
}

export interface RunOutcome {
	ok: boolean;
	/** Stages stopped in state `waiting for training` (and the stages after them). */
	waiting?: string[];
	failed: string[];
	ran: string[];
	report?: string;
}

export const RUN_LOCK = "transllm.run.lock";

/** Pre-flight: every problem of the stages that would run, before any work starts (missing files, endpoints …). */
export async function preflight(config: PipelineConfig, stages: readonly Stage[]): Promise<string[]> {
	const problems: string[] = [];
	for (const stage of stages) if (stage.check) problems.push(...(await stage.check(config)));
	return problems;
}

export function formatPlan(steps: readonly PlanStep[]): string {
	const width = Math.max(...steps.map((step) => step.stage.name.length));
	return steps.map((step) => `${step.action.padEnd(12)} ${step.stage.name.padEnd(width)}  ${step.reason}`).join("\n");
}

/**
 * `transllm run`: loads and validates the config, runs the pre-flight checks, takes the run lock, then runs every
 * selected stage that is not up to date (in DAG order; sharded stages on the executor), recording each in the
 * lock file, and writes the report.
 */
export async function runPipeline(configFile: string, options: RunOptions = {}): Promise<RunOutcome> {
	const out = options.stdout ?? process.stdout;
	const stages = options.stages ?? STAGES;
	const config = await loadConfig(configFile);
	const lock0 = await readLockFile(config.workdir);
	const cache = await loadHashCache(config.workdir);
	const plan = await planRun(config, stages, lock0, options, cache);
	if (options.dryRun) {
		out.write(`${formatPlan(plan)}\n`);
		return { ok: true, failed: [], ran: [] };
	}
	const candidates = plan.filter((step) => step.action === "run" || step.action === "blocked").map((step) => step.stage);
	const problems = await preflight(config, candidates);
	if (problems.length > 0) throw new ConfigError(`pre-flight found ${problems.length} problem(s); nothing was run:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
	if (options.checkOnly) {
		out.write(`pre-flight ok: ${candidates.length} stage(s) would run (${candidates.map((s) => s.name).join(", ") || "none"})\n`);
		return { ok: true, failed: [], ran: [] };
	}
	await mkdir(config.workdir, { recursive: true });
	const release = await acquireRunLock(join(config.workdir, RUN_LOCK));
	try {
		if (config.executor.type === "slurm") {
			const jobs = await submitToSlurm(config, plan, out);
			if (options.detach) {
				out.write("submitted; `transllm status` shows the jobs' states\n");
				return { ok: true, failed: [], ran: Object.keys(jobs) };
			}
			const failed = await waitForSlurm(config, jobs, out);
			const report = await writeReport(config, stages);
			out.write(`report: ${report}\n`);
			return { ok: failed.length === 0, failed, ran: Object.keys(jobs), report };
		}
		return await runLocal(config, stages, options, out);
	} finally {
		await release();
	}
}

async function runLocal(config: PipelineConfig, stages: readonly Stage[], options: RunOptions, out: NodeJS.WritableStream): Promise<RunOutcome> {
	const deps = dependencies(stages, config);
	const selected = selectStages(stages, options);
	// Upstream stages that ran are in the lock file by now: a stage reruns when their outputs' hashes changed.
	const rerun = new Set<string>();
	const failed: string[] = [];
	const ran: string[] = [];
	const waiting: string[] = [];
	for (const stage of stages) {
		if (failed.length > 0 && !options.keepGoing) break;
		const stageDeps = deps.get(stage.name) ?? [];
		const paused = stageDeps.filter((dep) => waiting.includes(dep));
		if (paused.length > 0) {
			waiting.push(stage.name);
			out.write(`- ${stage.name}: after training (${paused.join(", ")} waiting)\n`);
			continue;
		}
		const broken = stageDeps.filter((dep) => failed.includes(dep));
		if (broken.length > 0) {
			failed.push(stage.name);
			out.write(`- ${stage.name}: skipped, upstream ${broken.join(", ")} failed\n`);
			continue;
		}
		const forced = (options.force ?? []).some((name) => name === stage.name || name === "all");
		const lock = await readLockFile(config.workdir);
		const cache = await loadHashCache(config.workdir);
		const decision = await decide(config, stage, stageDeps, lock, { selected, forced, rerun, cache });
		await saveHashCache(config.workdir, cache);
		if (decision.action === "up to date") {
			out.write(`= ${stage.name}: up to date\n`);
			continue;
		}
		if (decision.action === "blocked") {
			failed.push(stage.name);
			out.write(`✗ ${stage.name}: ${decision.reason}\n`);
			continue;
		}
		if (decision.action !== "run") continue;
		out.write(`▶ ${stage.name}: ${stage.title} (${decision.reason})\n`);
		try {
			const record = await executeStage(config, stage, stageDeps, { localRanks: true, fresh: forced });
			ran.push(stage.name);
			out.write(`✓ ${stage.name} in ${record.seconds} s — ${figuresLine(record.figures)}\n`);
		} catch (error) {
			if (error instanceof WaitingForTraining) {
				waiting.push(stage.name);
				await writeJsonAtomic(join(config.workdir, stage.name, WAITING_FILE), { commands: error.commands, output: error.output, why: error.why });
				out.write(`⏸ ${stage.name}: waiting for training — ${error.why}. Run:\n${error.commands.map((c) => `    ${c}`).join("\n")}\n  then \`transllm run ${config.file}\` picks up ${error.output}\n`);
				continue;
			}
			failed.push(stage.name);
			const reason = error instanceof StageError ? error.reason : (error as Error).message;
			out.write(`✗ ${stage.name} failed: ${reason}\n  log: ${stageLogPath(config.workdir, stage.name)}\n`);
		}
	}
	const report = await writeReport(config, stages);
	out.write(`report: ${report}\n`);
	return { ok: failed.length === 0, failed, ran, waiting, report };
}
