import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const ENTRY = fileURLToPath(new URL("./fixtures/kd-cli.ts", import.meta.url));

export interface CliRun {
	child: ChildProcess;
	/** What the child printed to stdout so far. */
	stdout(): string;
	done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Runs `transllm <args>` (the kd and serve command tables) in a child process, from the sources. */
export function runKdCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
	const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", ENTRY, ...args], {
		cwd: ROOT,
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let stdout = "";
	let stderr = "";
	child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
	child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
	const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
		child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
	});
	return { child, stdout: () => stdout, done };
}

/** Lines in a file now (0 when it does not exist). */
export async function lineCount(path: string): Promise<number> {
	const text = await readFile(path, "utf8").catch(() => "");
	return text.split("\n").length - 1;
}

/** Waits until `check` is true, polling every 20 ms. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
	const start = Date.now();
	while (!(await check())) {
		if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}
