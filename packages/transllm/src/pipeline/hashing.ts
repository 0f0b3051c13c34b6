import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";

/** JSON with sorted keys: the same settings hash the same whatever order they were written in. */
export function stableJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
	if (value !== null && typeof value === "object") {
		return `{${Object.keys(value)
			.filter((key) => (value as Record<string, unknown>)[key] !== undefined)
			.sort()
			.map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`)
			.join(",")}}`;
	}
	return JSON.stringify(value);
}

export function sha256(text: string | Uint8Array): string {
	return createHash("sha256").update(text).digest("hex");
}

/** sha256 of a file's bytes, streamed. */
export function hashFile(path: string): Promise<string> {
	return new Promise((resolveHash, reject) => {
		const hash = createHash("sha256");
		createReadStream(path)
			.on("data", (chunk) => hash.update(chunk))
			.on("error", reject)
			.on("end", () => resolveHash(hash.digest("hex")));
	});
}

/** Every file under a folder, sorted, as paths relative to it (symbolic links followed by stat). */
export async function listFiles(root: string): Promise<string[]> {
	const out: string[] = [];
	const walk = async (dir: string): Promise<void> => {
		for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
			const path = join(dir, entry.name);
			if (entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path)).isDirectory())) await walk(path);
			else out.push(relative(root, path));
		}
	};
	await walk(root);
	return out;
}

/** The content hash of a file or a folder (a folder: its files' relative paths and hashes). */
export async function hashPath(path: string): Promise<string> {
	const info = await stat(path);
	if (!info.isDirectory()) return hashFile(path);
	const lines: string[] = [];
	for (const file of await listFiles(path)) lines.push(`${file}\t${await hashFile(join(path, file))}`);
	return sha256(lines.join("\n"));
}
