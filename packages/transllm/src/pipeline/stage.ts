import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { access } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, relative } from "node:path";
import type { PipelineConfig } from "./config.js";
import type { StageRecord } from "./lock-file.js";

/** What a stage's run gets: its folder, its log, the finished upstream stages and whether to resume. */
export interface StageContext {
	config: PipelineConfig;
	workdir: string;
	/** `<workdir>/<stage>/`. */
	dir: string;
	/** The folder holds an interrupted run of this stage with the same key: continue it through the stage's resume. */
	resume: boolean;
	/** The stage's log file: progress lines and messages of the packages. */
	log: NodeJS.WritableStream;
	/** Where the packages' progress goes: the terminal (their bars) when stderr is one, else the log. */
	progress: NodeJS.WritableStream;
	/** Lock records of the finished upstream stages (their outputs are this stage's inputs). */
	upstream: Record<string, StageRecord>;
}

/** What a finished stage reports: its final outputs (relative to the work dir) and its key figures. */
export interface StageResult {
	outputs: string[];
	figures: Record<string, unknown>;
}

/**
 * A stage spread over ranks (datatrove's tasks): the executor runs `runRank` for ranks 0…W-1 (worker processes or
 * a Slurm job array), then `run` finishes the stage (merges, dedup, summary) in one process.
 */
export interface ShardedStage {
	runRank(context: StageContext, rank: number, worldSize: number): Promise<void>;
}

/**
 * Thrown by a training stage whose engine is not on this machine: the run stops the stage in state `waiting for
 * training`, prints the commands, and the next run picks the checkpoint up once they have run.
 */
export class WaitingForTraining extends Error {
	constructor(
		readonly stage: string,
		readonly commands: string[],
		readonly output: string,
		/** Why the engine cannot run here. */
		readonly why: string,
	) {
		super(`${stage} is waiting for training (${why}): run ${commands.join(" && ")} (it writes ${output}), then transllm run again`);
		this.name = "WaitingForTraining";
	}
}

/** One stage of the pipeline: one small module in stages/, calling one package's public API. */
export interface Stage {
	name: string;
	/** A line for the plan, the status table and the report. */
	title: string;
	/** Where the stage comes from in the papers. */
	paper: string;
	/** The packages whose code decides the output (their versions are part of the stage's key). */
	packages: string[];
	/** Upstream stages (edges of the DAG); a disabled upstream stage is skipped over. */
	after: string[];
	/** Why the stage is off for this config, or undefined when it runs. */
	disabled(config: PipelineConfig): string | undefined;
	/** Everything besides the inputs that decides the outputs (no secrets: env variables by name only). */
	settings(config: PipelineConfig): unknown;
	/** Input files and folders whose content is hashed into the key (upstream outputs included). */
	inputs(config: PipelineConfig, upstream: Record<string, StageRecord>): string[];
	/** Pre-flight: problems that would stop the stage, found before any work starts. */
	check?(config: PipelineConfig): Promise<string[]>;
	sharded?: ShardedStage;
	run(context: StageContext): Promise<StageResult>;
}

const require = createRequire(import.meta.url);

/** Files of a package that are code, not its documentation or types: read for the content hash. */
const isCode = (name: string): boolean => !/\.(d\.c?ts|map)$/.test(name) && !/^README/i.test(name);

const packageHashes = new Map<string, string>();

/**
 * `<version>+<hash>` of the package in `root`: its version and a content hash of what it ships and runs — the
 * entries of its `files` (built dist/, data such as the TRL script or the CLO recipes), not src/, types, maps or
 * READMEs — so that a code change within one version reruns the stages that call it.
 */
export function packageCodeVersion(root: string): string {
	const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string; files?: string[] };
	const hash = createHash("sha256");
	const add = (path: string): void => {
		if (!existsSync(path)) return;
		if (statSync(path).isDirectory()) {
			for (const entry of readdirSync(path).sort()) add(join(path, entry));
		} else if (isCode(basename(path))) hash.update(`${relative(root, path)}\0`).update(readFileSync(path)).update("\0");
	};
	for (const entry of (manifest.files ?? ["dist"]).filter((entry) => entry !== "src").sort()) add(join(root, entry));
	return `${manifest.version}+${hash.digest("hex").slice(0, 12)}`;
}

/** Once per process and package (a few MB to read). */
function installedCodeVersion(name: string): string {
	let version = packageHashes.get(name);
	if (version === undefined) {
		version = packageCodeVersion(dirname(require.resolve(`${name}/package.json`)));
		packageHashes.set(name, version);
	}
	return version;
}

/** `transllm@0.1.0+3f2a… @transllm/corpus@0.1.0+9c41… …`: the code version part of a stage's key. */
export function codeVersion(stage: Stage): string {
	return ["transllm", ...stage.packages].map((name) => `${name}@${installedCodeVersion(name)}`).join(" ");
}

/** Absolute paths of an upstream stage's recorded outputs that match `test`. */
export function upstreamOutputs(workdir: string, upstream: Record<string, StageRecord>, stage: string, test: (path: string) => boolean = () => true): string[] {
	return Object.keys(upstream[stage]?.outputs ?? {})
		.filter(test)
		.map((path) => join(workdir, path));
}

/** Pre-flight: one problem per path that cannot be read. */
export async function missingPaths(paths: readonly (string | undefined)[], where: string): Promise<string[]> {
	const problems: string[] = [];
	for (const path of paths) if (path !== undefined) await access(path).catch(() => problems.push(`${where}: not found: ${path}`));
	return problems;
}

/** The languages of a config, in the order written. */
export const languagesOf = (config: PipelineConfig): string[] => Object.keys(config.languages);
