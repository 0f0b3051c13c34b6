import { access } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@transllm/core";
import { createLocalGenerationBackend, createOpenAiGenerationBackend, loadLocalModel } from "@transllm/recovery-kd";
import type { GenerationBackend } from "@transllm/recovery-kd";
import type { PipelineConfig } from "../config.js";

/**
 * An API key from the environment variable the config names (never from the config itself, so it reaches no
 * lock file, log, report or output). Undefined when the config names none.
 */
export function secretFromEnv(variable: string | undefined, where: string): string | undefined {
	if (variable === undefined) return undefined;
	const value = process.env[variable];
	if (value === undefined || value === "") throw new ConfigError(`${where}.api_key_env names ${variable}, which is not set in the environment`);
	return value;
}

/** The base model on this machine (@transllm/runtime through recovery-kd's loader). */
export async function localBackend(config: PipelineConfig, batchSize: number): Promise<GenerationBackend> {
	const loaded = await loadLocalModel(config.base_model.model, { executionProvider: "auto" });
	return createLocalGenerationBackend({ model: loaded.model, modelName: config.base_model.name ?? loaded.name, location: loaded.location, batchSize, dispose: loaded.dispose });
}

/** An OpenAI-compatible endpoint (vLLM, TGI, `transllm serve`). */
export function endpointBackend(options: { endpoint?: string; model_name?: string; api_key_env?: string; concurrency: number }, where: string): GenerationBackend {
	if (!options.endpoint || !options.model_name) throw new ConfigError(`${where}: backend endpoint needs endpoint and model_name`);
	return createOpenAiGenerationBackend({ endpoint: options.endpoint, model: options.model_name, apiKey: secretFromEnv(options.api_key_env, where), concurrency: options.concurrency });
}

/** Pre-flight of an endpoint: GET <base>/models answers (any HTTP status means the server is there). */
export async function reachable(endpoint: string, where: string): Promise<string[]> {
	const url = `${endpoint.replace(/\/+$/, "")}/models`;
	try {
		await fetch(url, { signal: AbortSignal.timeout(5000) });
		return [];
	} catch (error) {
		return [`${where}: endpoint ${endpoint} is unreachable (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`];
	}
}

/** Pre-flight of a local model directory: the files @transllm/runtime loads. */
export async function modelFilesProblems(dir: string, where: string): Promise<string[]> {
	const problems: string[] = [];
	for (const file of ["config.json", "tokenizer.json", "model.onnx"]) await access(join(dir, file)).catch(() => problems.push(`${where}: the model directory ${dir} has no ${file}`));
	return problems;
}
