import { readFile, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { assertSameSettings, writeJsonAtomic } from "@transllm/core";
import type { ExtensionPlan } from "./extend-tokenizer.js";

/** What a learned plan depends on: if any of it changes, the plan is learned again. */
export interface PlanKey {
	base: string;
	corpus: string;
	corpusBytes: number;
	corpusModifiedMs: number;
	lang: string;
	newTokens: number;
	minFrequency: number;
	patchPreTokenizer: boolean;
	maxLines: number;
	seed: string;
}

/** Where `extend` keeps the learned plan until the output is written: `<out>.plan.json`. */
export function planCachePath(outDir: string): string {
	return `${resolve(outDir)}.plan.json`;
}

/** The key of a run: absolute paths, the corpus file's size and modification time, and the options. */
export async function planKey(params: Omit<PlanKey, "corpusBytes" | "corpusModifiedMs">): Promise<PlanKey> {
	const info = await stat(params.corpus);
	return { ...params, base: resolve(params.base), corpus: resolve(params.corpus), corpusBytes: info.size, corpusModifiedMs: Math.floor(info.mtimeMs) };
}

/**
 * The plan saved by an earlier run, for `--resume` (a damaged one is ignored). A plan learned with another key is
 * refused, naming each changed setting: resuming it would build a tokenizer from other settings than asked.
 */
export async function readCachedPlan(path: string, key: PlanKey, output: string): Promise<ExtensionPlan | undefined> {
	let saved: { key: PlanKey; plan: ExtensionPlan };
	try {
		saved = JSON.parse(await readFile(path, "utf8")) as { key: PlanKey; plan: ExtensionPlan };
	} catch {
		return undefined;
	}
	assertSameSettings(saved.key, key, { output });
	return saved.plan;
}

/** Saves a plan atomically, so that a run stopped or refused after learning can `--resume` without relearning. */
export async function writeCachedPlan(path: string, key: PlanKey, plan: ExtensionPlan): Promise<void> {
	await writeJsonAtomic(path, { key, plan });
}

export async function removeCachedPlan(path: string): Promise<void> {
	await rm(path, { force: true });
}
