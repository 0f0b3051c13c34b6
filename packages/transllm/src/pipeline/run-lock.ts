import { hostname } from "node:os";
import { open, readFile, rm } from "node:fs/promises";
import { ConfigError } from "@transllm/core";

interface Holder {
	pid: number;
	host: string;
	started: string;
	command?: string;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
}

async function holderOf(path: string): Promise<Holder | undefined> {
	try {
		return JSON.parse(await readFile(path, "utf8")) as Holder;
	} catch {
		return undefined;
	}
}

/** Creates the lock file exclusively; a lock left by a dead process of this host is taken over. */
async function tryAcquire(path: string, command: string): Promise<Holder | undefined> {
	for (let attempt = 0; attempt < 3; attempt++) {
		try {
			const handle = await open(path, "wx");
			await handle.writeFile(`${JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString(), command })}\n`);
			await handle.close();
			return undefined;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
		}
		let holder = await holderOf(path);
		if (!holder) {
			// Being written by its creator this instant, or left empty by a crash: look once more before taking it.
			await new Promise((done) => setTimeout(done, 100));
			holder = await holderOf(path);
		}
		// A holder killed with -9 on this host leaves its file behind: its pid is gone, so the lock is free.
		if (holder && (holder.host !== hostname() || alive(holder.pid))) return holder;
		await rm(path, { force: true });
	}
	return holderOf(path);
}

/**
 * The run lock of a work dir: a second `transllm run` on it refuses, naming the holder's pid and host. Returns
 * the release function.
 */
export async function acquireRunLock(path: string, command = "transllm run"): Promise<() => Promise<void>> {
	const holder = await tryAcquire(path, command);
	if (holder) {
		throw new ConfigError(
			`another ${holder.command ?? "transllm run"} holds this work dir: pid ${holder.pid} on ${holder.host} since ${holder.started} (${path}). Wait for it to finish; if that process is gone, delete the lock file.`,
		);
	}
	return () => rm(path, { force: true });
}

/** Runs `body` holding a short-lived file lock (waits for it; takes over a lock whose holder died). */
export async function withFileLock<T>(path: string, body: () => Promise<T>): Promise<T> {
	const deadline = Date.now() + 120_000;
	for (;;) {
		const holder = await tryAcquire(path, "lock file update");
		if (!holder) break;
		if (Date.now() > deadline) throw new ConfigError(`timed out waiting for ${path} (held by pid ${holder.pid} on ${holder.host})`);
		await new Promise((done) => setTimeout(done, 50));
	}
	try {
		return await body();
	} finally {
		await rm(path, { force: true });
	}
}
