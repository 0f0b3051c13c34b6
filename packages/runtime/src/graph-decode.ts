import { Tensor } from "onnxruntime-node";
import type { InferenceSession } from "onnxruntime-node";
import type { ResolvedSampling } from "./sampling.js";
import { decoderFeeds, presentCache } from "./host-decode.js";
import type { ModelInfo } from "./model-info.js";
import type { SequenceState } from "./sequence-state.js";
import { int64Tensor, leftPad } from "./tensors.js";

/**
 * Generation with the decode loop inside the graph (wrapDecoderInLoop): each run() decodes `chunkSteps` tokens
 * with the KV cache kept in the session, and returns the chosen tokens plus the inputs of the next chunk. The host
 * only checks stops between chunks, so a sequence's tokens are the host loop's (the chunk's surplus after a stop is
 * dropped): greedy, or — with `sampling` (a loop built with sampling "seeded") — sampled with each sequence's own
 * draws, one per step, as the host loop draws them.
 */
export async function decodeInGraph(loop: InferenceSession, info: ModelInfo, sequences: readonly SequenceState[], padId: number, chunkSteps: number, sampling?: ResolvedSampling): Promise<void> {
	const padded = leftPad(
		sequences.map((s) => s.promptIds),
		padId,
	);
	const batch = padded.batch;
	let inputs = { inputIds: padded.inputIds, attentionMask: padded.attentionMask, positionIds: padded.positionIds };
	let past: Tensor[] | undefined;
	for (;;) {
		const feeds = decoderFeeds(info, inputs, past, batch);
		if (sampling) {
			feeds.temperature = new Tensor("float32", new Float32Array([sampling.temperature]), []);
			feeds.top_k = new Tensor("int64", new BigInt64Array([BigInt(sampling.topK)]), []);
			feeds.top_p = new Tensor("float32", new Float32Array([sampling.topP]), []);
			feeds.uniforms = new Tensor("float32", Float32Array.from(sequences.flatMap((s) => s.draws(chunkSteps))), [batch, chunkSteps]);
		}
		const outputs = await loop.run(feeds);
		const tokens = outputs.tokens as Tensor;
		const steps = tokens.dims[1] as number;
		const data = tokens.data as BigInt64Array;
		for (let row = 0; row < batch; row++) {
			const sequence = sequences[row] as SequenceState;
			for (let step = 0; step < steps && !sequence.done; step++) sequence.accept(Number(data[row * steps + step]));
		}
		if (sequences.every((s) => s.done)) return;
		const last: number[] = [];
		for (let row = 0; row < batch; row++) last.push(Number(data[row * steps + steps - 1]));
		inputs = { inputIds: int64Tensor(last, [batch, 1]), attentionMask: outputs.next_attention_mask as Tensor, positionIds: outputs.next_position_ids as Tensor };
		past = presentCache(info, outputs);
	}
}
