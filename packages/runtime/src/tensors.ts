import { Tensor } from "onnxruntime-node";
import type { ModelDtype } from "./model-info.js";
import { float16ToFloat32 } from "./onnx/index.js";

/** An int64 tensor from JS numbers. */
export function int64Tensor(values: ArrayLike<number>, dims: readonly number[]): Tensor {
	const data = new BigInt64Array(values.length);
	for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] as number);
	return new Tensor("int64", data, dims);
}

/** An empty KV-cache tensor [batch, kv_heads, 0, head_dim] for the first step. */
export function emptyCache(dtype: ModelDtype, batch: number, kvHeads: number, headDim: number): Tensor {
	return dtype === "fp16" ? new Tensor("float16", new Uint16Array(0), [batch, kvHeads, 0, headDim]) : new Tensor("float32", new Float32Array(0), [batch, kvHeads, 0, headDim]);
}

/** A float32 view (fp32) or converted copy (fp16) of part of a float tensor's data: [start, start + length). */
export function floatData(tensor: Tensor, start = 0, length = tensor.size - start): Float32Array {
	if (tensor.type === "float32") return (tensor.data as Float32Array).subarray(start, start + length);
	if (tensor.type === "float16") {
		return float16ToFloat32((tensor.data as Uint16Array).subarray(start, start + length));
	}
	throw new TypeError(`expected a float tensor, got ${tensor.type}`);
}

/** Left-padded batch inputs: Llama generates after the prompt's last token, so every row ends at the same column. */
export interface PaddedBatch {
	batch: number;
	length: number;
	inputIds: Tensor;
	attentionMask: Tensor;
	positionIds: Tensor;
	/** Per row: the attention mask as numbers, to extend step by step. */
	mask: number[][];
	/** Per row: the position of its last token. */
	lastPosition: number[];
}

/**
 * Pads token sequences on the left. position_ids are the mask's cumulative sum minus one, with padding set to 1,
 * exactly as transformers' `prepare_inputs_for_generation` computes them, so a padded row sees the same
 * positions (and RoPE angles) as the unpadded prompt.
 */
export function leftPad(sequences: readonly (readonly number[])[], padId: number): PaddedBatch {
	const batch = sequences.length;
	const length = Math.max(1, ...sequences.map((s) => s.length));
	const ids: number[] = [];
	const maskFlat: number[] = [];
	const positions: number[] = [];
	const mask: number[][] = [];
	const lastPosition: number[] = [];
	for (const sequence of sequences) {
		const pad = length - sequence.length;
		const row: number[] = [];
		for (let i = 0; i < length; i++) {
			const real = i >= pad;
			ids.push(real ? (sequence[i - pad] as number) : padId);
			row.push(real ? 1 : 0);
			maskFlat.push(real ? 1 : 0);
			positions.push(real ? i - pad : 1);
		}
		mask.push(row);
		lastPosition.push(sequence.length - 1);
	}
	return {
		batch,
		length,
		inputIds: int64Tensor(ids, [batch, length]),
		attentionMask: int64Tensor(maskFlat, [batch, length]),
		positionIds: int64Tensor(positions, [batch, length]),
		mask,
		lastPosition,
	};
}
