import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { Engine } from "./engine.js";
import type { EngineOptions, GenerateParams, SubmitParams } from "./engine.js";
import { serializeError, transferablesOf } from "./worker-protocol.js";
import type { WorkerReply, WorkerRequest } from "./worker-protocol.js";

/**
 * The worker thread of loadModel: owns the engine, so onnxruntime's blocking `run()` never stalls the
 * caller's event loop. Calls are served one at a time, in order; results move back as transferables.
 */
function requirePort(): MessagePort {
	if (!parentPort) throw new Error("@transllm/runtime worker started outside a worker thread");
	return parentPort;
}
const port = requirePort();
const { dir, options } = workerData as { dir: string; options: EngineOptions };
const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

let queue: Promise<unknown> = Promise.resolve();

// No top-level await: the worker is also built as CommonJS.
function serve(engine: Engine): void {
	port.on("message", (request: WorkerRequest) => {
		if (request.type === "cancel") return engine.cancel(request.id);
		if (request.type === "submit") {
			const { stream, ...params } = request.params as SubmitParams & { stream?: boolean };
			if (stream) params.onToken = (text) => post({ type: "token", id: request.id, index: 0, text });
			engine.submit(params, request.id).then(
				(value) => post({ type: "result", id: request.id, value }),
				(error: unknown) => post({ type: "error", id: request.id, error: serializeError(error) }),
			);
			return;
		}
		queue = queue.then(async () => {
			try {
				if (request.type === "dispose") {
					await engine.dispose();
					post({ type: "result", id: request.id, value: null });
					port.close();
					return;
				}
				let value: unknown;
				if (request.method === "generate") {
					// Functions cannot cross threads: the caller sends `stream` and gets `token` messages instead.
					const { stream, ...params } = request.params as GenerateParams & { stream?: boolean };
					if (stream) params.onToken = (index, text) => post({ type: "token", id: request.id, index, text });
					value = await engine.generate(params);
				} else {
					value = await (engine[request.method] as (params: unknown) => Promise<unknown>).call(engine, request.params);
				}
				post({ type: "result", id: request.id, value }, transferablesOf(value));
			} catch (error) {
				post({ type: "error", id: request.id, error: serializeError(error) });
			}
		});
	});
	post({ type: "ready", description: engine.description });
}

Engine.open(dir, options).then(serve, (error: unknown) => post({ type: "error", id: 0, error: serializeError(error) }));
