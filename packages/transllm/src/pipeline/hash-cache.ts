import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "@transllm/core";
import type { HashedPath } from "./stage-key.js";

const FILE = ".transllm-hashes.json";

/** The hashes of inputs and outputs by path, so that an unchanged file (size, mtime) is not read again. */
export async function loadHashCache(workdir: string): Promise<Map<string, HashedPath>> {
	try {
		return new Map(Object.entries(JSON.parse(await readFile(join(workdir, FILE), "utf8")) as Record<string, HashedPath>));
	} catch {
		return new Map();
	}
}

/** Saves the cache (merged with what other processes saved meanwhile; it is only a cache). */
export async function saveHashCache(workdir: string, cache: Map<string, HashedPath>): Promise<void> {
	const merged = await loadHashCache(workdir);
	for (const [path, hashed] of cache) merged.set(path, hashed);
	await writeJsonAtomic(join(workdir, FILE), Object.fromEntries([...merged].sort(([a], [b]) => (a < b ? -1 : 1))));
}
