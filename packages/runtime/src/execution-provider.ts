import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { TransllmError } from "@transllm/core";
import { InferenceSession } from "onnxruntime-node";

/** What the caller asks for: `auto` tries CUDA and falls back to CPU; `cuda` fails when CUDA cannot run. */
export type ExecutionProviderRequest = "auto" | "cpu" | "cuda";

/** The provider a model runs on and why: part of every result, so a silent CPU fallback cannot go unnoticed. */
export interface ExecutionProviderChoice {
	name: "cpu" | "cuda";
	reason: string;
}

export interface CreateSessionOptions {
	executionProvider: ExecutionProviderRequest;
	/** Folder of the external-data file when the graph is given as bytes (ORT resolves it relative to this). */
	externalDataDir?: string;
	/** Intra-op threads (default: onnxruntime's choice, all physical cores). */
	threads?: number;
}

/** How to get the CUDA provider: onnxruntime-node's install script fetches it when asked (pnpm leaves that script off). */
export const CUDA_INSTALL_HINT =
	"fetch onnxruntime-node's CUDA 12 binaries with ONNXRUNTIME_NODE_INSTALL=cuda12 (npm install runs its install script; under pnpm run `ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install` inside node_modules/onnxruntime-node) on a machine with an NVIDIA driver and CUDA 12";

function firstLine(error: unknown): string {
	// ORT's messages carry ANSI colours and the full provider-bridge trace; the first line says what failed.
	const text = (error instanceof Error ? error.message : String(error)).replace(/\x1b\[[0-9;]*m/g, "");
	const cut = text.search(/\n|\[ONNXRuntimeError\]|\d{4}-\d\d-\d\d \d\d:/);
	return (cut > 0 ? text.slice(0, cut) : text).trim();
}

/**
 * The CUDA provider library onnxruntime-node loads (bin/napi-v6/<platform>/<arch>/), when it is missing: the
 * CPU-only install lacks it, and trying CUDA then only logs a provider-bridge error before throwing.
 */
export function missingCudaProviderLibrary(): string | undefined {
	if (process.platform !== "linux" && process.platform !== "win32") return `the CUDA provider is not built for ${process.platform}`;
	let root: string;
	try {
		root = dirname(dirname(createRequire(import.meta.url).resolve("onnxruntime-node")));
	} catch {
		return undefined; // an unusual layout: let session creation decide
	}
	const name = process.platform === "win32" ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
	const path = join(root, "bin", "napi-v6", process.platform, process.arch, name);
	return existsSync(path) ? undefined : `provider library ${path} is not installed`;
}

function sessionOptions(provider: "cpu" | "cuda", options: CreateSessionOptions, quiet: boolean): InferenceSession.SessionOptions {
	const result: InferenceSession.SessionOptions = {
		executionProviders: [provider],
		graphOptimizationLevel: "all",
		// A failed CUDA probe logs a red provider-bridge error; the fallback reason says it better.
		logSeverityLevel: quiet ? 4 : 3,
	};
	if (options.threads !== undefined) result.intraOpNumThreads = options.threads;
	if (options.externalDataDir !== undefined) {
		result.extra = { session: { model_external_initializers_file_folder_path: options.externalDataDir } };
	}
	return result;
}

function open(model: string | Uint8Array, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
	return typeof model === "string" ? InferenceSession.create(model, options) : InferenceSession.create(model, options);
}

/**
 * Creates an onnxruntime-node session on the requested provider. onnxruntime-node 1.30 throws at session
 * creation when the CUDA provider library is missing (it does not fall back by itself): `auto` catches that and
 * runs on CPU with the reason; `cuda` turns it into an error that says how to install the CUDA binaries.
 */
export async function createSession(model: string | Uint8Array, options: CreateSessionOptions): Promise<{ session: InferenceSession; executionProvider: ExecutionProviderChoice }> {
	const request = options.executionProvider;
	if (request === "cpu") {
		return { session: await open(model, sessionOptions("cpu", options, false)), executionProvider: { name: "cpu", reason: "CPU requested" } };
	}
	const missing = missingCudaProviderLibrary();
	if (missing !== undefined) {
		if (request === "cuda") throw new TransllmError("E_MODEL", `CUDA execution provider requested but unavailable: ${missing}. To use it, ${CUDA_INSTALL_HINT}; or pass executionProvider "auto"/"cpu".`);
		const session = await open(model, sessionOptions("cpu", options, false));
		return { session, executionProvider: { name: "cpu", reason: `auto: CUDA unavailable (${missing}); running on CPU. To use a GPU, ${CUDA_INSTALL_HINT}` } };
	}
	try {
		const session = await open(model, sessionOptions("cuda", options, request === "auto"));
		return { session, executionProvider: { name: "cuda", reason: `${request === "auto" ? "auto: " : ""}CUDA requested and available` } };
	} catch (error) {
		const why = firstLine(error);
		if (request === "cuda") {
			throw new TransllmError("E_MODEL", `CUDA execution provider requested but unavailable: ${why}. To use it, ${CUDA_INSTALL_HINT}; or pass executionProvider "auto"/"cpu".`, { cause: error });
		}
		const session = await open(model, sessionOptions("cpu", options, false));
		return { session, executionProvider: { name: "cpu", reason: `auto: CUDA unavailable (${why}); running on CPU. To use a GPU, ${CUDA_INSTALL_HINT}` } };
	}
}
