import type { InferenceSession, Tensor } from "onnxruntime-node";
import { decoderFeeds, presentCache } from "./host-decode.js";
import type { ModelInfo } from "./model-info.js";
import type { SequenceState } from "./sequence-state.js";
import { int64Tensor, leftPad } from "./tensors.js";

/**
 * Greedy generation with the decode loop inside the graph (wrapDecoderInLoop): each run() decodes `chunkSteps`
 * tokens with the KV cache kept in the session, and returns the chosen tokens plus the inputs of the next
 * chunk. The host only checks stops between chunks, so a sequence's tokens are exactly the host loop's
 * greedy tokens (the chunk's surplus after a stop is dropped).
 */
export async function decodeInGraph(loop: InferenceSession, info: ModelInfo, sequences: readonly SequenceState[], padId: number): Promise<void> {
	const padded = leftPad(
		sequences.map((s) => s.promptIds),
		padId,
	);
	const batch = padded.batch;
	let inputs = { inputIds: padded.inputIds, attentionMask: padded.attentionMask, positionIds: padded.positionIds };
	let past: Tensor[] | undefined;
	for (;;) {
		const outputs = await loop.run(decoderFeeds(info, inputs, past, batch));
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
