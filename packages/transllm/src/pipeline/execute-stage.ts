import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { TransllmError, writeJsonAtomic } from "@transllm/core";
import type { PipelineConfig } from "./config.js";
import { faultPoint } from "./fault-point.js";
import { loadHashCache, saveHashCache } from "./hash-cache.js";
import { readLockFile, updateLockFile } from "./lock-file.js";
import type { StageRecord } from "./lock-file.js";
import { WaitingForTraining } from "./stage.js";
import type { Stage, StageContext } from "./stage.js";
import { WAITING_FILE, cliPath, finishedRanks, prepareStageDir, rankMarker, stageDir, stageLogPath } from "./stage-dir.js";
import { hashWithCache, stageKey } from "./stage-key.js";

/** A stage that failed: its name, the reason and its log. */
export class StageError extends TransllmError {
	constructor(
		readonly stage: string,
		readonly reason: string,
		readonly log: string,
	) {
		super("E_CHECK_FAILED", `stage ${stage} failed: ${reason} (log: ${log})`);
		this.name = "StageError";
	}
}

/** The lock records of a stage's upstream stages; every one must have finished. */
async function upstreamRecords(config: PipelineConfig, stage: Stage, deps: readonly string[]): Promise<Record<string, StageRecord>> {
	const lock = await readLockFile(config.workdir);
	const upstream: Record<string, StageRecord> = {};
	for (const dep of deps) {
		const record = lock.stages[dep];
		if (!record) throw new StageError(stage.name, `upstream stage ${dep} has not finished`, stageLogPath(config.workdir, stage.name));
		upstream[dep] = record;
	}
	return upstream;
}

async function openLog(path: string): Promise<NodeJS.WritableStream & { close(): Promise<void> }> {
	await mkdir(dirname(path), { recursive: true });
	const stream = createWriteStream(path, { flags: "a" });
	return Object.assign(stream, { close: () => new Promise<void>((done) => stream.end(done)) });
}

async function contextFor(config: PipelineConfig, stage: Stage, deps: readonly string[], log: NodeJS.WritableStream, fresh = false): Promise<{ context: StageContext; key: Awaited<ReturnType<typeof stageKey>> }> {
	const upstream = await upstreamRecords(config, stage, deps);
	const cache = await loadHashCache(config.workdir);
	const key = await stageKey(config, stage, upstream, cache);
	await saveHashCache(config.workdir, cache);
	const { resume } = await prepareStageDir(config.workdir, stage.name, key.key, fresh);
	const progress = process.stderr.isTTY ? process.stderr : log;
	return { context: { config, workdir: config.workdir, dir: stageDir(config.workdir, stage.name), resume, log, progress, upstream }, key };
}

/**
 * One rank of a sharded stage (a worker process or a Slurm array task): skipped when its completion marker is
 * there, else `runRank`, then the marker.
 */
export async function executeRank(config: PipelineConfig, stage: Stage, deps: readonly string[], rank: number): Promise<void> {
	if (!stage.sharded) throw new StageError(stage.name, "the stage is not sharded", stageLogPath(config.workdir, stage.name));
	const worldSize = config.executor.world_size;
	if (!(Number.isInteger(rank) && rank >= 0 && rank < worldSize)) throw new StageError(stage.name, `rank ${rank} is outside 0…${worldSize - 1}`, "");
	// The log opens after the stage folder is ready: the first rank of a new key clears the old ranks' logs.
	const { context } = await contextFor(config, stage, deps, process.stderr);
	const log = await openLog(stageLogPath(config.workdir, stage.name, rank));
	context.log = log;
	context.progress = log;
	try {
		if ((await finishedRanks(config.workdir, stage.name)).has(rank)) {
			log.write(`rank ${rank}/${worldSize}: already finished\n`);
			return;
		}
		const started = Date.now();
		log.write(`rank ${rank}/${worldSize}: started ${new Date().toISOString()} on pid ${process.pid}\n`);
		await stage.sharded.runRank(context, rank, worldSize);
		await writeJsonAtomic(rankMarker(config.workdir, stage.name, rank), { rank, worldSize, seconds: (Date.now() - started) / 1000 });
		log.write(`rank ${rank}/${worldSize}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
	} catch (error) {
		log.write(`rank ${rank}/${worldSize}: failed: ${(error as Error).stack ?? String(error)}\n`);
		throw error;
	} finally {
		await log.close();
	}
}

/** Runs ranks as worker processes of the built CLI (`transllm stage-rank`), `workers` at a time. */
async function runLocalRanks(config: PipelineConfig, stage: Stage, ranks: readonly number[]): Promise<void> {
	const queue = [...ranks];
	const failures: string[] = [];
	const worker = async (): Promise<void> => {
		for (let rank = queue.shift(); rank !== undefined; rank = queue.shift()) {
			const code = await new Promise<number | null>((resolveCode) => {
				const child = spawn(process.execPath, [cliPath(), "stage-rank", config.file, "--stage", stage.name, "--rank", String(rank)], {
					stdio: ["ignore", "ignore", "ignore"],
					env: { ...process.env, TRANSLLM_PARENT_PID: String(process.pid) },
				});
				child.on("error", () => resolveCode(-1));
				child.on("close", (exit) => resolveCode(exit));
			});
			if (code !== 0) failures.push(`rank ${rank} exited with ${code} (log: ${stageLogPath(config.workdir, stage.name, rank)})`);
			else faultPoint(`ranks:${stage.name}`);
		}
	};
	await Promise.all(Array.from({ length: Math.min(config.executor.workers, ranks.length) }, worker));
	if (failures.length > 0) throw new Error(failures.join("; "));
}

/**
 * Runs a whole stage in this process (its ranks first, as worker processes, when `localRanks`), hashes its
 * outputs and records it in the lock file. A Slurm finishing job calls it with `localRanks` false: the array ran
 * the ranks.
 */
export async function executeStage(config: PipelineConfig, stage: Stage, deps: readonly string[], options: { localRanks: boolean; fresh?: boolean }): Promise<StageRecord> {
	const logPath = stageLogPath(config.workdir, stage.name);
	const log = await openLog(logPath);
	const started = Date.now();
	try {
		const { context, key } = await contextFor(config, stage, deps, log, options.fresh);
		log.write(`== ${stage.name}: started ${new Date().toISOString()} (${context.resume ? "resuming an interrupted run" : "fresh"}); key ${key.key}\n`);
		if (!context.resume) await updateLockFile(config.workdir, stage.name, undefined);
		const worldSize = config.executor.world_size;
		if (stage.sharded && worldSize > 1) {
			const done = await finishedRanks(config.workdir, stage.name);
			const pending = Array.from({ length: worldSize }, (_, rank) => rank).filter((rank) => !done.has(rank));
			if (pending.length > 0) {
				if (!options.localRanks) throw new Error(`ranks ${pending.join(", ")} have not finished`);
				log.write(`running ranks ${pending.join(", ")} of ${worldSize} in ${Math.min(config.executor.workers, pending.length)} worker process(es)\n`);
				await runLocalRanks(config, stage, pending);
			}
		}
		const result = await stage.run(context);
		const cache = await loadHashCache(config.workdir);
		const outputs: Record<string, string> = {};
		for (const path of [...new Set(result.outputs)].sort()) {
			const hashed = await hashWithCache(join(config.workdir, path), cache.get(join(config.workdir, path)));
			cache.set(join(config.workdir, path), hashed);
			outputs[path] = hashed.sha256;
		}
		await saveHashCache(config.workdir, cache);
		const record: StageRecord = { ...key, outputs, figures: result.figures, seconds: Math.round((Date.now() - started) / 100) / 10, finishedAt: new Date().toISOString() };
		await updateLockFile(config.workdir, stage.name, record);
		await rm(join(context.dir, WAITING_FILE), { force: true });
		log.write(`== ${stage.name}: done in ${record.seconds} s\n`);
		faultPoint(`after:${stage.name}`);
		return record;
	} catch (error) {
		if (error instanceof WaitingForTraining) {
			log.write(`== ${stage.name}: ${error.message}\n`);
			throw error;
		}
		log.write(`== ${stage.name}: failed: ${(error as Error).stack ?? String(error)}\n`);
		if (error instanceof StageError) throw error;
		throw new StageError(stage.name, (error as Error).message.split("\n")[0] ?? String(error), logPath);
	} finally {
		await log.close();
	}
}
