import { stat } from "node:fs/promises";
import { relative } from "node:path";
import type { PipelineConfig } from "./config.js";
import { hashPath, sha256, stableJson } from "./hashing.js";
import type { StageRecord } from "./lock-file.js";
import { codeVersion } from "./stage.js";
import type { Stage } from "./stage.js";

/** A file's hash with the size and mtime it was taken at (DVC's cache: unchanged size + mtime, no rehash). */
export interface HashedPath {
	sha256: string;
	size: number;
	mtimeMs: number;
}

export interface StageKey {
	key: string;
	settingsHash: string;
	codeVersion: string;
	inputs: Record<string, string>;
}

/** Hashes a file or folder, reusing `known` when its size and mtime are unchanged. */
export async function hashWithCache(path: string, known?: HashedPath): Promise<HashedPath> {
	const info = await stat(path);
	const size = info.isDirectory() ? -1 : info.size;
	if (known && !info.isDirectory() && known.size === size && known.mtimeMs === info.mtimeMs) return known;
	return { sha256: await hashPath(path), size, mtimeMs: info.mtimeMs };
}

/** Input paths as recorded: relative to the work dir when inside it, else absolute. */
export const recordedPath = (workdir: string, path: string): string => {
	const inside = relative(workdir, path);
	return inside.startsWith("..") || inside === "" ? path : inside;
};

/**
 * The key of a stage (make/DVC): sha256 over the hash of its settings, its code version and its inputs' content
 * hashes. Secrets never enter it: the config names env variables, and only the names are settings.
 */
export async function stageKey(config: PipelineConfig, stage: Stage, upstream: Record<string, StageRecord>, cache: Map<string, HashedPath>): Promise<StageKey> {
	const settingsHash = sha256(stableJson(stage.settings(config)));
	const version = codeVersion(stage);
	const inputs: Record<string, string> = {};
	for (const path of [...new Set(stage.inputs(config, upstream))].sort()) {
		const hashed = await hashWithCache(path, cache.get(path));
		cache.set(path, hashed);
		inputs[recordedPath(config.workdir, path)] = hashed.sha256;
	}
	return { key: sha256(stableJson({ settingsHash, codeVersion: version, inputs })), settingsHash, codeVersion: version, inputs };
}

/** Why a recorded stage is not up to date for `key` (undefined: it is). */
export function staleReason(record: StageRecord | undefined, key: StageKey): string | undefined {
	if (!record) return "never ran";
	if (record.key === key.key) return undefined;
	if (record.settingsHash !== key.settingsHash) return "settings changed";
	if (record.codeVersion !== key.codeVersion) {
		// Name only the packages whose version or content hash differ.
		const before = new Set(record.codeVersion.split(" "));
		const after = new Set(key.codeVersion.split(" "));
		const changed = [...after].filter((entry) => !before.has(entry)).map((entry) => {
			const name = entry.slice(0, entry.lastIndexOf("@"));
			const old = [...before].find((other) => other.startsWith(`${name}@`));
			return old ? `${name} ${old.slice(name.length + 1)} → ${entry.slice(name.length + 1)}` : entry;
		});
		return `code version changed (${changed.join(", ") || `${record.codeVersion} → ${key.codeVersion}`})`;
	}
	const changed = Object.keys({ ...record.inputs, ...key.inputs }).filter((path) => record.inputs[path] !== key.inputs[path]);
	return `input changed: ${changed.slice(0, 3).join(", ")}${changed.length > 3 ? ` and ${changed.length - 3} more` : ""}`;
}
