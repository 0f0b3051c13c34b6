import { InputError, TransllmError } from "@transllm/core";
import type { TransllmErrorCode } from "@transllm/core";

/** The engine operations a worker serves. */
export type EngineMethod = "generate" | "score" | "hiddenStates" | "logitLens";

/** Main thread → worker. */
export type WorkerRequest =
	| { type: "call"; id: number; method: EngineMethod; params: unknown }
	| { type: "dispose"; id: number }
	/** A continuously batched generation (Engine.submit), served at once, not after queued calls. */
	| { type: "submit"; id: number; params: unknown }
	| { type: "cancel"; id: number };

/** Worker → main thread. `token` streams generated text while a `generate` call runs. */
export type WorkerReply =
	| { type: "ready"; description: unknown }
	| { type: "result"; id: number; value: unknown }
	| { type: "error"; id: number; error: SerializedError }
	| { type: "token"; id: number; index: number; text: string };

export interface SerializedError {
	name: string;
	message: string;
	code?: TransllmErrorCode;
	stack?: string;
	/** An InputError's location and reason (the CLI sets that record aside by them). */
	input?: { file?: string; line?: number; field?: string; reason: string; excerpt?: string };
}

/** Errors cross the thread boundary as plain data; transllm errors keep their code, input errors their location. */
export function serializeError(error: unknown): SerializedError {
	if (error instanceof InputError) {
		return { name: error.name, message: error.message, code: error.code, stack: error.stack, input: { file: error.file, line: error.line, field: error.field, reason: error.reason, excerpt: error.excerpt } };
	}
	if (TransllmError.isInstance(error)) return { name: error.name, message: error.message, code: error.code, stack: error.stack };
	if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
	return { name: "Error", message: String(error) };
}

export function reviveError(serialized: SerializedError): Error {
	const { input } = serialized;
	const error = input
		? new InputError(input.reason, { file: input.file, line: input.line, field: input.field, excerpt: input.excerpt })
		: serialized.code
			? new TransllmError(serialized.code, serialized.message)
			: new Error(serialized.message);
	error.name = serialized.name;
	if (serialized.stack) error.stack = serialized.stack;
	return error;
}

/**
 * The ArrayBuffers of every typed array in a result (hidden states, per-token log-probs), so postMessage moves
 * them to the main thread instead of copying them.
 */
export function transferablesOf(value: unknown, into: Set<ArrayBuffer> = new Set()): ArrayBuffer[] {
	if (ArrayBuffer.isView(value)) {
		if (value.buffer instanceof ArrayBuffer) into.add(value.buffer);
	} else if (Array.isArray(value)) {
		for (const item of value) transferablesOf(item, into);
	} else if (value !== null && typeof value === "object") {
		for (const item of Object.values(value)) transferablesOf(item, into);
	}
	return [...into];
}
