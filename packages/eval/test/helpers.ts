import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFaultInjectingProxy, startOpenAiCompatibleServer } from "@transllm/recovery-kd";
import type { FaultInjectingProxy, FaultPlan, GenerativeModel, KdChatMessage, OpenAiCompatibleServer } from "@transllm/recovery-kd";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const ENTRY = fileURLToPath(new URL("./fixtures/eval-cli.ts", import.meta.url));

export const tempDir = (name: string): Promise<string> => mkdtemp(join(tmpdir(), `eval-${name}-`));

/** What a scripted model answers to one prompt (chat messages, or raw text from /v1/completions). */
export type Responder = (prompt: string | readonly KdChatMessage[]) => string;

/**
 * A deterministic model behind recovery-kd's real OpenAI-compatible HTTP server (and, with latency or faults, its
 * fault-injecting proxy): the answering and judge servers of these tests. Token counts are words, for `usage`.
 */
export async function startScriptedServer(respond: Responder, options: { name?: string; latencyMs?: number; faults?: Partial<FaultPlan> } = {}): Promise<{ baseUrl: string; server: OpenAiCompatibleServer; proxy?: FaultInjectingProxy; prompts: (string | readonly KdChatMessage[])[]; close(): Promise<void> }> {
	const prompts: (string | readonly KdChatMessage[])[] = [];
	const model: GenerativeModel = {
		async generate(params) {
			return params.prompts.map((prompt) => {
				prompts.push(prompt);
				const text = respond(prompt);
				const words = (typeof prompt === "string" ? prompt : prompt.map((m) => m.content).join(" ")).split(/\s+/).length;
				return { text, tokenIds: text.split(/\s+/).filter(Boolean).map((_, i) => i), finishReason: "eos", promptTokens: words };
			});
		},
	};
	const server = await startOpenAiCompatibleServer({ model, modelName: options.name ?? "scripted", maxBatch: 64 });
	const proxy = options.latencyMs || options.faults ? await startFaultInjectingProxy({ target: server.url, latencyMs: options.latencyMs, faults: options.faults }) : undefined;
	return {
		baseUrl: proxy ? `${proxy.url}/v1` : server.baseUrl,
		server,
		proxy,
		prompts,
		close: async () => {
			await proxy?.close();
			await server.close();
		},
	};
}

export interface CliRun {
	child: ChildProcess;
	done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Runs `transllm eval <args>` in a child process, from the sources. */
export function runEvalCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
	const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", ENTRY, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
	let stdout = "";
	let stderr = "";
	child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
	child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
	const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
	return { child, done };
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

/** The last user turn of a prompt. */
export function lastUser(prompt: string | readonly KdChatMessage[]): string {
	if (typeof prompt === "string") return prompt;
	return [...prompt].reverse().find((m) => m.role === "user")?.content ?? "";
}
