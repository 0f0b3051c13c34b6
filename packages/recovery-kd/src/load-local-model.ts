import { basename, resolve } from "node:path";
import type { GenerativeModel } from "./generative-model.js";

/** A local model loaded with @transllm/runtime, as the CLI uses it. */
export interface LoadedLocalModel {
	model: GenerativeModel;
	/** The directory's name: what records and /v1/models call the model unless told otherwise. */
	name: string;
	location: string;
	dispose(): Promise<void>;
}

/** Loads a model directory (config.json, tokenizer files, model.onnx) through @transllm/runtime's loadModel. */
export async function loadLocalModel(dir: string, options: { executionProvider?: "auto" | "cpu" | "cuda"; maxBatch?: number } = {}): Promise<LoadedLocalModel> {
	// Loaded on demand: a remote-only run never loads onnxruntime's native binaries.
	const { loadModel } = await import("@transllm/runtime");
	const model = await loadModel(dir, { executionProvider: options.executionProvider ?? "auto", ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}) });
	return { model, name: basename(resolve(dir)), location: resolve(dir), dispose: () => model.dispose() };
}
