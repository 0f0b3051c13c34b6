import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { dependencies } from "./dag.js";
import { figuresLine } from "./figures-line.js";
import { loadHashCache } from "./hash-cache.js";
import { loadConfig } from "./load-config.js";
import { readLockFile } from "./lock-file.js";
import { planRun } from "./plan.js";
import { RUN_LOCK } from "./run-pipeline.js";
import { WAITING_FILE } from "./stage-dir.js";
import { TERMINAL_STATES, jobStates, readSlurmJobs } from "./slurm-executor.js";
import type { JobState } from "./slurm-executor.js";
import type { Stage } from "./stage.js";
import { STAGES } from "./stages/index.js";

export interface StatusRow {
	stage: string;
	state: string;
	figures: string;
	outputs: string;
}

/** A plain text table, columns padded (the last column is not). */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
	const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
	const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
	return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** `transllm status`: per stage its state (up to date, stale and why, not run, off, Slurm job states), figures, outputs. */
export async function pipelineStatus(configFile: string, stages: readonly Stage[] = STAGES): Promise<{ rows: StatusRow[]; running?: string; workdir: string }> {
	const config = await loadConfig(configFile);
	const lock = await readLockFile(config.workdir);
	const plan = await planRun(config, stages, lock, {}, await loadHashCache(config.workdir));
	const jobs = await readSlurmJobs(config.workdir);
	const ids = Object.values(jobs).flatMap((entry) => [entry.job, ...(entry.array ? [entry.array] : [])]);
	const states = ids.length > 0 ? await jobStates(ids) : new Map();
	const deps = dependencies(stages, config);
	// Stages waiting for training, and the stages after them (which wait too).
	const waiting = new Set<string>();
	const rows = plan.map((step): StatusRow => {
		const record = lock.stages[step.stage.name];
		let state: string;
		if (step.action === "up to date") state = "up to date";
		else if (step.action === "disabled") state = `off (${step.reason})`;
		else if (step.action === "blocked") state = "waiting for upstream";
		else state = step.reason === "never ran" ? "not run" : `stale (${step.reason})`;
		if (step.action !== "up to date" && existsSync(join(config.workdir, step.stage.name, WAITING_FILE))) {
			state = "waiting for training";
			waiting.add(step.stage.name);
		} else if (step.action !== "up to date" && step.action !== "disabled") {
			const paused = (deps.get(step.stage.name) ?? []).filter((dep) => waiting.has(dep));
			if (paused.length > 0) {
				state = `after training (${paused.join(", ")} waiting)`;
				waiting.add(step.stage.name);
			}
		}
		// Jobs still queued or running, and the jobs of a stage that did not finish (failed, cancelled …).
		const entry = jobs[step.stage.name];
		if (entry) {
			const list = [entry.array, entry.job].flatMap((id) => (id ? (states.get(id) ?? []) : [])) as JobState[];
			if (list.length > 0 && (step.action !== "up to date" || list.some((job) => !TERMINAL_STATES.has(job.state)))) state = `slurm ${list.map((job) => `${job.id} ${job.state}`).join(", ")}`;
		}
		const outputs = record ? Object.keys(record.outputs) : [];
		return {
			stage: step.stage.name,
			state,
			figures: record ? clip(figuresLine(record.figures, 5), 90) : "",
			outputs: outputs.length === 0 ? "" : outputs.length === 1 ? (outputs[0] as string) : `${outputs[0]} (+${outputs.length - 1})`,
		};
	});
	const running = await readFile(join(config.workdir, RUN_LOCK), "utf8").then(
		(text) => {
			const holder = JSON.parse(text) as { pid: number; host: string; started: string };
			return `a run holds the work dir: pid ${holder.pid} on ${holder.host} since ${holder.started}`;
		},
		() => undefined,
	);
	return { rows, running, workdir: config.workdir };
}
