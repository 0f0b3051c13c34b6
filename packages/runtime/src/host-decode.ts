import { Tensor } from "onnxruntime-node";
import type { InferenceSession } from "onnxruntime-node";
import type { ModelInfo } from "./model-info.js";
import type { SequenceState } from "./sequence-state.js";
import { KvCacheBuffers } from "./kv-cache-buffers.js";
import { emptyCache, floatData, int64Tensor, leftPad } from "./tensors.js";

/** A shared decoder's output of greedy search's next token per row (sharedDecoder). */
const GREEDY_TOKEN_IDS = "greedy_token_ids";

/**
 * What a decode run fetches to choose the next tokens: a shared decoder's `greedy_token_ids` ([batch, 1], argmax of
 * the last position in the graph) when every sequence is greedy, else the logits.
 */
export function scoresOutput(session: InferenceSession, info: ModelInfo, sequences: Iterable<SequenceState>): { name: string; greedy: boolean } {
	let greedy = session.outputNames.includes(GREEDY_TOKEN_IDS);
	if (greedy) for (const sequence of sequences) if (!sequence.done && !sequence.greedy) greedy = false;
	return { name: greedy ? GREEDY_TOKEN_IDS : info.ioNames.logits, greedy };
}

/** The next token of row `row` from a run's scores output (see scoresOutput). */
export function chooseNext(sequence: SequenceState, scored: Tensor, row: number, greedy: boolean, vocabSize: number): number {
	if (greedy) return Number((scored.data as BigInt64Array)[row]);
	const [, steps = 1, vocab = vocabSize] = scored.dims;
	return sequence.choose(floatData(scored, (row * steps + steps - 1) * vocab, vocab));
}

/** Feeds a decoder graph takes besides Optimum's (a shared decoder's idle heads), for a batch of this size. */
export type ExtraFeeds = (batch: number) => Record<string, Tensor>;
export const noExtraFeeds: ExtraFeeds = () => ({});

/** The outputs a generation step needs: the logits and the KV cache (a shared decoder has more, left unfetched). */
export function generationFetches(info: ModelInfo): string[] {
	return [info.ioNames.logits, ...presentNames(info)];
}

/** present.{i}.key|value in decoderFeeds' order. */
function presentNames(info: ModelInfo): string[] {
	return Array.from({ length: info.layers }, (_, layer) => [info.ioNames.presentKeys[layer] as string, info.ioNames.presentValues[layer] as string]).flat();
}

/** present_step.{i}.key|value (addStepCacheOutputs) in decoderFeeds' order. */
export function stepCacheNames(info: ModelInfo): string[] {
	return presentNames(info).map((name) => name.replace(/^present\./, "present_step."));
}

/** The feeds of a decoder run: token ids, mask, positions and the KV cache of the previous run. */
export function decoderFeeds(info: ModelInfo, inputs: { inputIds: Tensor; attentionMask: Tensor; positionIds: Tensor }, past: Tensor[] | undefined, batch: number, extra: ExtraFeeds = noExtraFeeds): Record<string, Tensor> {
	const io = info.ioNames;
	const feeds: Record<string, Tensor> = { ...extra(batch), [io.inputIds]: inputs.inputIds, [io.attentionMask]: inputs.attentionMask };
	if (io.positionIds) feeds[io.positionIds] = inputs.positionIds;
	if (io.useCacheBranch) feeds[io.useCacheBranch] = new Tensor("bool", new Uint8Array([past ? 1 : 0]), [1]);
	for (let layer = 0; layer < info.layers; layer++) {
		feeds[io.pastKeys[layer] as string] = past?.[2 * layer] ?? emptyCache(info.dtype, batch, info.kvHeads, info.headDim);
		feeds[io.pastValues[layer] as string] = past?.[2 * layer + 1] ?? emptyCache(info.dtype, batch, info.kvHeads, info.headDim);
	}
	return feeds;
}

/** present.{i}.key|value of a run, in the order decoderFeeds takes them back. */
export function presentCache(info: ModelInfo, outputs: InferenceSession.OnnxValueMapType): Tensor[] {
	const cache: Tensor[] = [];
	for (let layer = 0; layer < info.layers; layer++) {
		cache.push(outputs[info.ioNames.presentKeys[layer] as string] as Tensor, outputs[info.ioNames.presentValues[layer] as string] as Tensor);
	}
	return cache;
}

/**
 * Generates a batch with the decode loop on the host: one prefill run over the left-padded prompts, then one
 * run per new token, feeding each run's `present.*` back as `past_key_values.*`. Finished rows keep receiving
 * the pad token (their output is ignored) until every row is done.
 */
export async function decodeOnHost(session: InferenceSession, info: ModelInfo, sequences: readonly SequenceState[], padId: number, extra: ExtraFeeds = noExtraFeeds, stepCache = false): Promise<void> {
	const padded = leftPad(
		sequences.map((s) => s.promptIds),
		padId,
	);
	const batch = padded.batch;
	const positions = [...padded.lastPosition];
	let maskLength = padded.length;
	let maskWritten = 0;
	let inputs = { inputIds: padded.inputIds, attentionMask: padded.attentionMask, positionIds: padded.positionIds };
	let past: Tensor[] | undefined;
	const prompts = padded.mask;
	// With step outputs the cache stays in buffers the session reads in place; only the new positions come out.
	const cache = stepCache ? new KvCacheBuffers(info, batch) : undefined;
	const stepNames = stepCacheNames(info);
	// Greedy search takes the graph's argmax (a shared decoder's greedy_token_ids): [batch, 1] ids leave the session, not the logits.
	const { name: scores, greedy } = scoresOutput(session, info, sequences);
	const fetches = cache ? [scores, ...stepNames] : [scores, ...generationFetches(info).slice(1)];
	while (sequences.some((s) => !s.done)) {
		const outputs = await session.run(decoderFeeds(info, inputs, past, batch, extra), fetches);
		const next: number[] = [];
		const scored = outputs[scores] as Tensor; // ids [batch, 1] (greedy) or logits [batch, steps, vocab]
		for (let row = 0; row < batch; row++) {
			const sequence = sequences[row] as SequenceState;
			if (sequence.done) {
				next.push(padId);
				continue;
			}
			const id = chooseNext(sequence, scored, row, greedy, info.vocabSize);
			sequence.accept(id);
			next.push(id);
		}
		if (sequences.every((s) => s.done)) break;
		if (cache) {
			cache.append(stepNames.map((name) => outputs[name] as Tensor));
			past = cache.past();
			maskLength = cache.capacity + 1;
		} else {
			past = presentCache(info, outputs);
			maskLength += 1;
		}
		// The prompt's mask, ones for the generated tokens, zeros for cache columns not written yet, one for the new
		// token; while its width stays (the cache kept in place between growths), a step only sets the columns just written.
		const written = cache ? cache.length : maskLength - 1;
		if (inputs.attentionMask.dims[1] !== maskLength || !cache) {
			const mask = new BigInt64Array(batch * maskLength);
			for (let row = 0; row < batch; row++) {
				const prompt = prompts[row] as number[];
				for (let i = 0; i < written; i++) mask[row * maskLength + i] = i < prompt.length && prompt[i] === 0 ? 0n : 1n;
				mask[row * maskLength + maskLength - 1] = 1n;
			}
			inputs.attentionMask = new Tensor("int64", mask, [batch, maskLength]);
		} else {
			const mask = inputs.attentionMask.data as BigInt64Array;
			for (let row = 0; row < batch; row++) for (let i = maskWritten; i < written; i++) mask[row * maskLength + i] = 1n;
		}
		maskWritten = written;
		for (let row = 0; row < batch; row++) positions[row] = (positions[row] as number) + 1;
		inputs = { inputIds: int64Tensor(next, [batch, 1]), attentionMask: inputs.attentionMask, positionIds: int64Tensor(positions, [batch, 1]) };
	}
}
