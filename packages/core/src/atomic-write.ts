import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/** fsyncs a directory so that a rename inside it survives a crash (a no-op where the platform refuses). */
export async function fsyncDirectory(directory: string): Promise<void> {
	let handle;
	try {
		handle = await open(directory, "r");
		await handle.sync();
	} catch {
		// Some filesystems and platforms cannot fsync directories; the rename is still atomic.
	} finally {
		await handle?.close();
	}
}

/**
 * Writes a whole file atomically: a temp file beside the target, fsync, rename, fsync of the directory.
 * A reader sees either the old file or the new one, never a half-written one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
	await mkdir(dirname(path), { recursive: true });
	const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
	const handle = await open(temporary, "w");
	try {
		await handle.writeFile(data);
		await handle.sync();
	} catch (error) {
		await handle.close();
		await rm(temporary, { force: true });
		throw error;
	}
	await handle.close();
	await rename(temporary, path);
	await fsyncDirectory(dirname(path));
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
	await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
