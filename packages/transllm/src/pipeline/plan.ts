import { join } from "node:path";
import type { PipelineConfig } from "./config.js";
import { dependencies, selectStages } from "./dag.js";
import type { Selection } from "./dag.js";
import type { HashedPath } from "./stage-key.js";
import { hashWithCache, staleReason, stageKey } from "./stage-key.js";
import type { LockFile, StageRecord } from "./lock-file.js";
import type { Stage } from "./stage.js";

export type PlanAction = "run" | "up to date" | "disabled" | "not selected" | "blocked";

export interface PlanStep {
	stage: Stage;
	action: PlanAction;
	reason: string;
	deps: string[];
}

/** Checks a record's outputs still exist unchanged (size + mtime, else their hash). */
async function outputsProblem(workdir: string, record: StageRecord, cache: Map<string, HashedPath>): Promise<string | undefined> {
	for (const [path, sha] of Object.entries(record.outputs)) {
		const absolute = join(workdir, path);
		const hashed = await hashWithCache(absolute, cache.get(absolute)).catch(() => undefined);
		if (!hashed) return `output missing: ${path}`;
		cache.set(absolute, hashed);
		if (hashed.sha256 !== sha) return `output changed: ${path}`;
	}
	return undefined;
}

/**
 * Decides one stage against the lock file: runs when forced, when an upstream stage reruns in this run, when its
 * key (settings, code, input hashes) differs from the recorded one, or when a recorded output is gone or changed.
 */
export async function decide(
	config: PipelineConfig,
	stage: Stage,
	deps: string[],
	lock: LockFile,
	context: { selected: Set<string>; forced: boolean; rerun: Set<string>; cache: Map<string, HashedPath> },
): Promise<{ action: PlanAction; reason: string }> {
	const off = stage.disabled(config);
	if (off !== undefined) return { action: "disabled", reason: off };
	if (!context.selected.has(stage.name)) return { action: "not selected", reason: "outside --only/--from/--to" };
	const rerunning = deps.filter((dep) => context.rerun.has(dep));
	if (context.forced) return { action: "run", reason: "forced (--force)" };
	if (rerunning.length > 0) return { action: "run", reason: `upstream ${rerunning.join(", ")} reruns` };
	const missing = deps.filter((dep) => !lock.stages[dep]);
	if (missing.length > 0) return { action: "blocked", reason: `upstream ${missing.join(", ")} has not run (select it too)` };
	const upstream = Object.fromEntries(deps.map((dep) => [dep, lock.stages[dep] as StageRecord]));
	const key = await stageKey(config, stage, upstream, context.cache).catch((error: Error) => error);
	if (key instanceof Error) return { action: "run", reason: `inputs cannot be hashed: ${key.message}` };
	const record = lock.stages[stage.name];
	const stale = staleReason(record, key);
	if (stale !== undefined) return { action: "run", reason: stale };
	const broken = await outputsProblem(config.workdir, record as StageRecord, context.cache);
	if (broken !== undefined) return { action: "run", reason: broken };
	return { action: "up to date", reason: `finished ${record?.finishedAt ?? ""}` };
}

/** The whole plan of a run as `--dry-run` prints it: every stage, what would happen and why. */
export async function planRun(config: PipelineConfig, stages: readonly Stage[], lock: LockFile, selection: Selection, cache: Map<string, HashedPath>): Promise<PlanStep[]> {
	const deps = dependencies(stages, config);
	const selected = selectStages(stages, selection);
	const rerun = new Set<string>();
	const steps: PlanStep[] = [];
	for (const stage of stages) {
		const stageDeps = deps.get(stage.name) ?? [];
		const forced = (selection.force ?? []).some((name) => name === stage.name || name === "all");
		const decision = await decide(config, stage, stageDeps, lock, { selected, forced, rerun, cache });
		if (decision.action === "run") rerun.add(stage.name);
		steps.push({ stage, deps: stageDeps, ...decision });
	}
	return steps;
}
