import { TransllmError } from "@transllm/core";
import type { GenerationBackend, GenerationParams, GenerationResult, KdChatMessage } from "./generation-backend.js";
import { openAiFinishReason } from "./generative-model.js";
import type { GenerativeModel } from "./generative-model.js";
import { MicroBatcher } from "./micro-batcher.js";

export interface LocalBackendOptions {
	/** A loaded @transllm/runtime ChatModel (`loadModel(dir)`). */
	model: GenerativeModel;
	/** Name written into records (default: the directory's last part). */
	modelName: string;
	/** Model directory, for the manifest. */
	location: string;
	/** Queries per forward pass (default 8). */
	batchSize?: number;
	/** Dispose the model on close (when this backend loaded it). */
	dispose?: () => Promise<void>;
}

interface LocalRequest {
	messages: KdChatMessage[];
	params: GenerationParams;
}

/**
 * Generation with a local @transllm/runtime model: the model's own chat template is applied (through
 * @transllm/tcot's renderChat inside the runtime) and concurrent queries are batched into one forward pass.
 */
export function createLocalGenerationBackend(options: LocalBackendOptions): GenerationBackend {
	const batchSize = options.batchSize ?? 8;
	const batcher = new MicroBatcher<LocalRequest, GenerationResult>(
		async (batch) => {
			const params = (batch[0] as LocalRequest).params;
			let results;
			try {
				results = await options.model.generate({
					prompts: batch.map((request) => request.messages),
					maxNewTokens: params.max_tokens,
					temperature: params.temperature,
					...(params.top_p !== undefined ? { topP: params.top_p } : {}),
					...(params.seed !== undefined ? { seed: params.seed } : {}),
					batchSize,
				});
			} catch (error) {
				throw TransllmError.isInstance(error) ? error : new TransllmError("E_MODEL", `local generation failed: ${(error as Error).message}`, { cause: error });
			}
			return results.map((result) => ({ text: result.text, finishReason: openAiFinishReason(result.finishReason) }));
		},
		{ maxBatch: batchSize, keyOf: (request) => JSON.stringify(request.params) },
	);
	return {
		kind: "local",
		model: options.modelName,
		// Twice the batch, so that the next batch is queued while one runs.
		concurrency: batchSize * 2,
		location: options.location,
		retries: 0,
		generate: (messages, params) => batcher.submit({ messages, params }),
		close: async () => {
			await options.dispose?.();
		},
	};
}
