import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { ConfigError } from "@transllm/core";
import { chatTemplateVariables } from "./render-chat.js";
import type { ChatMessage } from "./render-chat.js";

/** Bounds of the trial render of a model's chat template (see checkChatTemplate). */
export const CHAT_TEMPLATE_LIMITS = { timeoutMs: 5_000, heapMb: 256, outputChars: 1 << 20 } as const;

// Conversations tried in turn: some templates refuse a system turn (Gemma, Mistral) and raise on it.
const SAMPLES: ChatMessage[][] = [
	[
		{ role: "system", content: "You are a helpful assistant." },
		{ role: "user", content: "Hello!" },
		{ role: "assistant", content: "Hi. How can I help?" },
		{ role: "user", content: "Name three colours." },
	],
	[
		{ role: "user", content: "Hello!" },
		{ role: "assistant", content: "Hi. How can I help?" },
		{ role: "user", content: "Name three colours." },
	],
];

// The worker renders with the same @huggingface/jinja as renderChat, resolved from this package.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { Template } = require(workerData.jinja);
let outcome = { ok: false, message: "" };
for (const messages of workerData.samples) {
	try {
		const text = new Template(workerData.source).render({ ...workerData.variables, messages });
		outcome = { ok: true, chars: text.length };
		break;
	} catch (error) {
		outcome = { ok: false, message: error && error.message ? error.message : String(error) };
	}
}
parentPort.postMessage(outcome);`;

/**
 * Renders a model's chat template once on a short conversation in a worker thread with a heap limit and a time limit,
 * before any prompt is rendered with it: a template from a downloaded tokenizer_config.json is code, and one that loops
 * a hundred million times or builds a gigabyte string would otherwise hang or kill the process. Past a limit, or when
 * the template fails, a ConfigError names `file`.
 */
export async function checkChatTemplate(source: string, tokenizerConfig: Record<string, unknown>, file: string, limits: Partial<typeof CHAT_TEMPLATE_LIMITS> = {}): Promise<void> {
	const { timeoutMs, heapMb, outputChars } = { ...CHAT_TEMPLATE_LIMITS, ...limits };
	const jinja = createRequire(import.meta.url).resolve("@huggingface/jinja");
	const worker = new Worker(WORKER, {
		eval: true,
		workerData: { jinja, source, samples: SAMPLES, variables: { add_generation_prompt: true, ...chatTemplateVariables(tokenizerConfig) } },
		resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32 },
		stderr: true,
	});
	type Outcome = { ok: true; chars: number } | { ok: false; message: string; bounded?: true };
	const outcome = await new Promise<Outcome>((resolve) => {
		const timer = setTimeout(() => resolve({ ok: false, bounded: true, message: `rendering a short conversation took over ${timeoutMs / 1000} s` }), timeoutMs);
		worker.once("message", (message: Outcome) => (clearTimeout(timer), resolve(message)));
		worker.once("error", (error: Error & { code?: string }) => {
			clearTimeout(timer);
			resolve({ ok: false, bounded: true, message: error.code === "ERR_WORKER_OUT_OF_MEMORY" ? `rendering a short conversation used over ${heapMb} MB` : error.message });
		});
		worker.once("exit", (code) => (clearTimeout(timer), resolve({ ok: false, bounded: true, message: `the renderer exited (code ${code})` })));
	});
	await worker.terminate();
	// A template that raises on both samples may still render what it is given: renderChat names the file then.
	if (!outcome.ok && outcome.bounded) throw new ConfigError(`${file}: the chat template cannot be used: ${outcome.message}`);
	if (outcome.ok && outcome.chars > outputChars) throw new ConfigError(`${file}: the chat template renders a short conversation to ${outcome.chars} characters (limit ${outputChars})`);
}
