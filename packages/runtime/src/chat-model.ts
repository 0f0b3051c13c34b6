import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { TransllmError } from "@transllm/core";
import { Engine } from "./engine.js";
import type { EngineOptions, GenerateParams, GenerationResult, ModelDescription, SubmitParams } from "./engine.js";
import type { ExecutionProviderChoice } from "./execution-provider.js";
import type { ModelInfo } from "./model-info.js";
import type { HiddenStatesParams, LogitLensParams, LogitLensResult, ScoreParams, ScoreResult } from "./engine.js";
import { loadTokenizer } from "./tokenizer.js";
import type { ChatTokenizer } from "./tokenizer.js";
import { reviveError } from "./worker-protocol.js";
import type { EngineMethod, WorkerReply, WorkerRequest } from "./worker-protocol.js";

/** Where calls go: an engine on this thread, or the worker thread that holds it. */
interface Backend {
	call(method: EngineMethod, params: unknown, onToken?: (index: number, text: string) => void): Promise<unknown>;
	submit(params: Omit<SubmitParams, "onToken">, onToken?: (text: string) => void): GenerationHandle;
	dispose(): Promise<void>;
}

/** A submitted generation: its result, and cancel() to end it early (the result then holds the text so far). */
export interface GenerationHandle {
	result: Promise<GenerationResult>;
	cancel(): void;
}

/**
 * A loaded chat model: generation, scoring, hidden states and the logit lens. Every result names the
 * execution provider that produced it and why it was chosen.
 */
export class ChatModel {
	private disposed = false;

	constructor(
		private readonly description: ModelDescription,
		/** The model's tokenizer (tokenizer.json), on the caller's thread. */
		readonly tokenizer: ChatTokenizer,
		private readonly backend: Backend,
	) {}

	get info(): ModelInfo {
		return this.description.info;
	}
	get executionProvider(): ExecutionProviderChoice {
		return this.description.executionProvider;
	}
	get chatTemplate(): string | undefined {
		return this.description.chatTemplate;
	}
	get tokenizerConfig(): Record<string, unknown> {
		return this.description.tokenizerConfig;
	}
	/** EOS token ids (config.json, generation_config.json and tokenizer_config.json together). */
	get eosTokenIds(): readonly number[] {
		return this.description.eosTokenIds;
	}
	/** Whether generation computes the last position's logits only (the graph edited by lastTokenLogits) or all, with the reason. */
	get logits(): ModelDescription["logits"] {
		return this.description.logits;
	}
	/** "shared": one session (one copy of the weights) serves generate, score, hiddenStates and logitLens; else why not. */
	get sessions(): ModelDescription["sessions"] {
		return this.description.sessions;
	}
	/** "in-place": the host decode loop's KV cache stays in buffers the session reads in place; "fetched": copied out and back each step. */
	get hostKvCache(): ModelDescription["hostKvCache"] {
		return this.description.hostKvCache;
	}
	/** The model directory's resolved files. */
	get files(): ModelDescription["files"] {
		return this.description.files;
	}

	private call<T>(method: EngineMethod, params: unknown, onToken?: (index: number, text: string) => void): Promise<T> {
		if (this.disposed) return Promise.reject(new TransllmError("E_MODEL", "the model was disposed"));
		return this.backend.call(method, params, onToken) as Promise<T>;
	}

	/** Generates a continuation of every prompt (batched, left-padded). */
	generate(params: GenerateParams): Promise<GenerationResult[]> {
		const { onToken, ...rest } = params;
		return this.call("generate", rest, onToken);
	}

	/**
	 * Generates one prompt with continuous batching: it joins the sequences already decoding at their next step and
	 * leaves when done, so concurrent callers (a server) share forward passes without waiting for each other.
	 * Same tokens as generate() of that prompt alone.
	 */
	submit(params: SubmitParams): GenerationHandle {
		if (this.disposed) return { result: Promise.reject(new TransllmError("E_MODEL", "the model was disposed")), cancel: () => {} };
		const { onToken, ...rest } = params;
		return this.backend.submit(rest, onToken);
	}

	/** log P(response | prompt) per pair: sum, mean and per-token log-probabilities, computed in the graph. */
	score(params: ScoreParams): Promise<ScoreResult[]> {
		return this.call("score", params);
	}

	/** The last position's residual stream after every decoder layer, per prompt: [prompt][layer] → Float32Array(hidden). */
	hiddenStates(params: HiddenStatesParams): Promise<Float32Array[][]> {
		return this.call("hiddenStates", params);
	}

	/** The logit lens at the last position: per layer, the probability mass of each token set and the entropy. */
	logitLens(params: LogitLensParams): Promise<LogitLensResult> {
		return this.call("logitLens", params);
	}

	/** Releases the sessions (and stops the worker). */
	async dispose(): Promise<void> {
		if (this.disposed) return;
		this.disposed = true;
		await this.backend.dispose();
	}
}

let localHandles = 0;

function localBackend(engine: Engine): Backend {
	return {
		submit: (params, onToken) => {
			const handle = ++localHandles;
			return { result: engine.submit({ ...params, ...(onToken ? { onToken } : {}) }, handle), cancel: () => engine.cancel(handle) };
		},
		call: (method, params, onToken) => {
			if (method === "generate") return engine.generate({ ...(params as GenerateParams), ...(onToken ? { onToken } : {}) });
			return (engine[method] as (p: unknown) => Promise<unknown>).call(engine, params);
		},
		dispose: () => engine.dispose(),
	};
}

/**
 * Starts the worker: worker.js beside the built index, or, from the TypeScript sources (tests, tsx), a small
 * bootstrap that loads worker.ts through tsx's API (worker threads ignore `--import` loaders in Node 20).
 */
function startWorker(workerData: unknown): Worker {
	const here = import.meta.url;
	const extension = here.endsWith(".ts") ? ".ts" : here.endsWith(".cjs") ? ".cjs" : ".js";
	const entry = new URL(`./worker${extension}`, here);
	if (extension !== ".ts") return new Worker(entry, { workerData });
	const tsxApi = pathToFileURL(createRequire(here).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
	const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(here)}))`;
	return new Worker(bootstrap, { eval: true, workerData, execArgv: ["--conditions=source"] });
}

async function workerBackend(dir: string, options: EngineOptions): Promise<{ backend: Backend; description: ModelDescription }> {
	const worker = startWorker({ dir, options });
	let nextId = 1;
	const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; onToken?: (index: number, text: string) => void }>();
	let failure: Error | undefined;
	const description = await new Promise<ModelDescription>((resolve, reject) => {
		worker.on("message", (reply: WorkerReply) => {
			if (reply.type === "ready") return resolve(reply.description as ModelDescription);
			if (reply.type === "error" && reply.id === 0) {
				void worker.terminate();
				return reject(reviveError(reply.error));
			}
			const call = pending.get(reply.id);
			if (!call) return;
			if (reply.type === "token") return call.onToken?.(reply.index, reply.text);
			pending.delete(reply.id);
			if (pending.size === 0) worker.unref();
			if (reply.type === "result") call.resolve(reply.value);
			else call.reject(reviveError(reply.error));
		});
		const fail = (error: Error): void => {
			failure = error;
			reject(error);
			for (const call of pending.values()) call.reject(error);
			pending.clear();
		};
		worker.on("error", fail);
		worker.on("exit", (code) => fail(new TransllmError("E_MODEL", `the runtime worker exited (code ${code})`)));
	});
	worker.unref();
	const send = (request: WorkerRequest, onToken?: (index: number, text: string) => void): Promise<unknown> =>
		new Promise((resolve, reject) => {
			if (failure) return reject(failure);
			// An idle worker does not keep the process alive (a forgotten dispose() cannot hang a CLI).
			if (pending.size === 0) worker.ref();
			pending.set(request.id, { resolve, reject, ...(onToken ? { onToken } : {}) });
			worker.postMessage(request);
		});
	return {
		description,
		backend: {
			call: (method, params, onToken) => send({ type: "call", id: nextId++, method, params: method === "generate" ? { ...(params as object), stream: Boolean(onToken) } : params }, onToken),
			submit: (params, onToken) => {
				const id = nextId++;
				const result = send({ type: "submit", id, params: { ...params, stream: Boolean(onToken) } }, onToken ? (_index, text) => onToken(text) : undefined) as Promise<GenerationResult>;
				return { result, cancel: () => worker.postMessage({ type: "cancel", id } satisfies WorkerRequest) };
			},
			dispose: async () => {
				await send({ type: "dispose", id: nextId++ });
				await worker.terminate();
			},
		},
	};
}

export interface LoadModelOptions extends EngineOptions {
	/** Run the sessions in a worker thread (default true), so the event loop stays free while models run. */
	worker?: boolean;
}

/**
 * Loads a model directory (config.json, tokenizer.json, tokenizer_config.json, model.onnx or onnx/model.onnx
 * with optional external data) exported with Optimum's `text-generation-with-past` signature.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<ChatModel> {
	const { worker = true, ...engineOptions } = options;
	if (!worker) {
		const engine = await Engine.open(dir, engineOptions);
		return new ChatModel(engine.description, engine.tokenizer, localBackend(engine));
	}
	const { backend, description } = await workerBackend(dir, engineOptions);
	try {
		const { tokenizer } = await loadTokenizer(description.files);
		return new ChatModel(description, tokenizer, backend);
	} catch (error) {
		await backend.dispose();
		throw error;
	}
}
