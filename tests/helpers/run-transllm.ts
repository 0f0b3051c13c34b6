import { Writable } from "node:stream";
import { runCli } from "@transllm/core";
import { commands } from "transllm";

/** Runs `transllm <args>` in this process through the umbrella command table and collects its output. */
export async function transllm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	let stdout = "";
	let stderr = "";
	const sink = (append: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (append(String(chunk)), done()) });
	const code = await runCli("transllm", commands, args, { context: { stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)) } });
	return { code, stdout, stderr };
}
