import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
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
 * Writes a file atomically by streaming into it: `write` gets the handle of a temp file beside the target; then
 * fsync, rename into place and fsync of the directory. On failure the temp file is removed and the target is
 * untouched, so a reader sees either the old file or the new one, never a half-written one.
 */
export async function writeFileAtomicWith<T>(path: string, write: (handle: FileHandle) => Promise<T>): Promise<T> {
	await mkdir(dirname(path), { recursive: true });
	const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
	const handle = await open(temporary, "w");
	let result: T;
	try {
		result = await write(handle);
		await handle.sync();
	} catch (error) {
		await handle.close();
		await rm(temporary, { force: true });
		throw error;
	}
	await handle.close();
	await rename(temporary, path);
	await fsyncDirectory(dirname(path));
	return result;
}

/** Writes a whole file atomically (see writeFileAtomicWith). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
	await writeFileAtomicWith(path, (handle) => handle.writeFile(data));
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
	await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
